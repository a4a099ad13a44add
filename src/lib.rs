//! synctl — a GitOps repository compiler.
//!
//! The pipeline, one module per stage, driven by [`pipeline`]:
//! [`spec`] (read, YAML with spans, JSON Schema, raw serde mirror) →
//! [`model`] (defaults, resolved references) → [`graph`] (order, sync waves, cycles) →
//! [`check`] (the validation rules) → [`layout`] (every file and object, and who owns it) →
//! [`render`] (the text of each file) → [`output`] (the tree on disk: header, digest, atomic
//! writes, pruning) → [`git`]. [`commands`] are the commands over the driver; [`cli`] parses
//! the command line.

pub(crate) mod check;
pub mod cli;
pub(crate) mod commands;
pub mod diag;
pub(crate) mod duration;
pub(crate) mod folders;
pub(crate) mod git;
pub(crate) mod graph;
pub(crate) mod hashing;
pub(crate) mod json;
pub(crate) mod layout;
pub(crate) mod model;
pub(crate) mod output;
pub(crate) mod par;
pub mod pipeline;
pub mod render;
pub(crate) mod repo;
pub(crate) mod source;
pub mod spec;
pub(crate) mod subst;
pub(crate) mod suggest;
pub mod synthetic;
pub(crate) mod term;
#[cfg(test)]
mod testing;
pub(crate) mod timing;
pub(crate) mod tree;
