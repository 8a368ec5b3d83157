#![doc = include_str!("../README.md")]

mod conf;
mod dconf;
mod error;

pub use crate::conf::{
    ClusterConf, DATABASE_COMPONENTS, DEFAULT_LOCAL_BACKUP_DIR, DatabaseBackups, MachineGroup,
    PackageStore, Placement,
};
pub use crate::dconf::{
    Entry as DconfEntry, ParseError as DconfError, Position, Value as DconfValue, is_secret_key,
    parse as parse_dconf,
};
pub use crate::error::{Error, Result};
