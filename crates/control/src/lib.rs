//! What netcp and netcu share: the control protocol ([`protocol`]), the configuration model of the
//! master server with its validation ([`config`]), and source-address access lists
//! ([`access`]) over `wire`'s IP prefixes.
//!
//! netcu knows netcp only through these types; `netcu check` validates a configuration directory
//! with exactly the code netcp uses to load it.

pub mod access;
pub mod config;
pub mod kernel;
pub mod localtime;
pub mod protocol;
pub mod span;

pub use access::{AccessAction, AccessList, AccessRule};
