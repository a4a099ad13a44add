//! `synctl init`: a commented starter spec that validates as written.

use std::io::Write as _;

use super::{Failure, Global, status};

/// The starter spec.
pub(crate) const STARTER: &str = include_str!("../../templates/starter-fleet.yaml");

/// Writes the starter spec to `-f` (default `./fleet.yaml`); refuses to overwrite.
///
/// # Errors
/// [`Failure::Usage`] when the file exists or cannot be written.
pub(crate) fn run(g: &Global) -> Result<(), Failure> {
    let path = &g.file;
    // `init -f gitops/fleet.yaml` in a fresh repository: the spec's folder is made for it.
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Failure::Usage(format!("cannot create `{}`: {e}", parent.display())))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Failure::Usage(format!(
                "`{}` already exists; synctl init never overwrites a spec (remove it or pass -f NEW_FILE)",
                path.display()
            )),
            _ => Failure::Usage(format!("cannot create `{}`: {e}", path.display())),
        })?;
    // Inside a Git work tree, say where this folder sits in it (every generated path starts
    // there).
    let starter = match crate::repo::location(&g.out_root()) {
        Some((rel, _)) if !rel.is_empty() => STARTER.replacen(
            "    path: ./                       #",
            &format!("    path: ./{rel:<23}#"),
            1,
        ),
        _ => STARTER.to_owned(),
    };
    // The editor schema the modeline names, beside the spec (a user's file is kept).
    let schema = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(
            || std::path::PathBuf::from("fleet.schema.json"),
            |p| p.join("fleet.schema.json"),
        );
    if !schema.exists() {
        std::fs::write(&schema, crate::spec::schema::SCHEMA)
            .map_err(|e| Failure::Usage(format!("cannot write `{}`: {e}", schema.display())))?;
    }
    file.write_all(starter.as_bytes())
        .map_err(|e| Failure::Usage(format!("cannot write `{}`: {e}", path.display())))?;
    {
        status(
            g,
            &format!(
                "wrote {} and fleet.schema.json (for editors); next: edit it, then `synctl validate -f {0}` and `synctl generate -f {0}`\n",
                path.display()
            ),
        );
    }
    Ok(())
}
