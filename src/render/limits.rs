//! What one render may produce: objects the API server stores, files and a tree of bounded
//! size, and templates that run a bounded number of instructions. A spec value copied into
//! every Kustomization or namespace, or a template of `--templates` that loops, is refused
//! before anything is written (and before it fills the memory).

use crate::diag::{Code, Problem};

/// The largest object the API server stores: etcd's default request limit
/// (`--max-request-bytes`, 1.5 MiB). A larger one is refused when Flux or Argo CD applies it.
pub(super) const MAX_OBJECT_BYTES: usize = 3 << 19;
/// The largest generated file: 64 MiB is a tenant of 20,000 namespaces, or forty objects at
/// their largest; a file past it comes from a spec value copied into every Kustomization or
/// namespace.
pub(super) const MAX_FILE_BYTES: usize = 64 << 20;
/// The whole tree: a thousand clusters of a hundred components each is a few hundred MiB.
pub(super) const MAX_TREE_BYTES: usize = 1 << 30;

/// Instructions one template may run for one object (see `Renderer::new`): the tenant
/// template takes about a thousand per namespace.
pub(super) const TEMPLATE_FUEL: u64 = 25_000_000;

/// Where a template writes: bytes up to the largest file synctl writes, then an error that
/// stops the template (one that wrote without end filled the memory).
#[derive(Default)]
pub(super) struct Capped {
    pub(super) bytes: Vec<u8>,
    pub(super) over: bool,
    /// The size of the write refused.
    pub(super) over_by: usize,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_FILE_BYTES {
            self.over = true;
            self.over_by = buf.len();
            return Err(std::io::Error::other("the file is too large"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub(super) fn too_large(what: &str, size: usize, limit: usize) -> Problem {
    Problem::error(
        Code::Size,
        format!("{what} would be {size} bytes, more than the {limit} synctl writes"),
    )
    .help("a large value (`vars`, `values`, `namespaceMetadata`) is copied into every object that uses it: keep it small, or move it into a ConfigMap the manifests read")
}

pub(super) fn tree_too_large() -> Problem {
    Problem::error(
        Code::Size,
        format!("the generated tree would be more than {MAX_TREE_BYTES} bytes"),
    )
    .help("a large value (`vars`, `values`, `namespaceMetadata`) is copied into every object that uses it: keep it small, or move it into a ConfigMap the manifests read")
}

/// Problems of one file's rendering, located in that file where they are not located already.
pub(super) fn located(problems: Vec<Problem>, path: &str) -> Vec<Problem> {
    problems
        .into_iter()
        .map(|p| {
            if p.code == Code::Size && p.path.is_none() {
                p.in_file(path.to_owned())
            } else {
                p
            }
        })
        .collect()
}
