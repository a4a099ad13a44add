//! One module per command; each takes the global flags and returns a [`crate::cli::Failure`]
//! on error.

pub mod add_env;
pub mod explain;
pub mod generate;
pub mod graph;
pub mod init;
pub mod validate;
