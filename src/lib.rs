//! synctl — a GitOps repository compiler.
//!
//! The pipeline, one module per stage:
//! [`spec`] (read, YAML with spans, JSON Schema, raw serde mirror) →
//! [`model`] (defaults, resolved references) → [`graph`] (order, sync waves, cycles) →
//! [`check`] (the validation rules) → `render` (Flux and Argo CD objects) →
//! `output` (the tree on disk: header, digest, atomic writes, pruning) → `git`.
//! [`cli`] ties them to commands.

pub mod check;
pub mod cli;
pub mod commands;
pub mod diag;
pub mod git;
pub mod graph;
pub mod model;
pub mod naming;
pub mod output;
pub mod pipeline;
pub mod render;
pub mod spec;
pub mod suggest;
pub mod synthetic;
