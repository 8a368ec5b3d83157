#![doc = include_str!("../README.md")]

mod dconf;

pub use crate::dconf::{
    Entry as DconfEntry, ParseError as DconfError, Position, Value as DconfValue, is_secret_key,
    parse as parse_dconf,
};
