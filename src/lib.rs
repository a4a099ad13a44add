//! synctl — a GitOps repository compiler.
//!
//! The pipeline, one module per stage, driven by [`pipeline`]:
//! [`spec`] (read, YAML with spans, JSON Schema, raw serde mirror) →
//! [`model`] (defaults, resolved references) → [`graph`] (order, sync waves, cycles) →
//! [`check`] (the validation rules) → [`layout`] (every file and object, and who owns it) →
//! [`render`] (the text of each file) → [`output`] (the tree on disk: header, digest, atomic
//! writes, pruning) → [`git`]. [`commands`] are the commands over the driver; [`cli`] parses
//! the command line.

pub mod check;
pub mod cli;
pub mod commands;
pub mod diag;
pub mod duration;
pub mod folders;
pub mod git;
pub mod graph;
pub mod hashing;
pub mod layout;
pub mod model;
pub mod output;
pub mod par;
pub mod pipeline;
pub mod render;
pub mod repo;
pub mod source;
pub mod spec;
pub mod subst;
pub mod suggest;
pub mod synthetic;
#[cfg(test)]
mod testing;
pub mod timing;
