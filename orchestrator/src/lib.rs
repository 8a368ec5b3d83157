#![doc = include_str!("../README.md")]

mod components;
mod conf;
mod db;
mod dconf;
mod error;
mod pg;

pub use crate::components::{
    ComponentBackupOptions, ComponentBackupReport, backup_components, default_database,
};
pub use crate::conf::{
    ClusterConf, DATABASE_COMPONENTS, DEFAULT_LOCAL_BACKUP_DIR, DatabaseBackups, MachineGroup,
    PackageStore, Placement,
};
pub use crate::db::{
    DEFAULT_DB_COMPONENT, DbBackupOptions, DbRestoreOptions, DbRestorePlan, GLOBALS_ARTIFACT,
    RestoreAction, RestoreReport, TableCheck, backup_databases, dump_artifact_name, list_databases,
    plan_database_restore, restore_database,
};
pub use crate::dconf::{
    Entry as DconfEntry, ParseError as DconfError, Position, Value as DconfValue, is_secret_key,
    parse as parse_dconf,
};
pub use crate::error::{Error, Result};
pub use crate::pg::{ChildReader, DEFAULT_PG_PORT, DatabaseInfo, PgTarget, pg_program};
