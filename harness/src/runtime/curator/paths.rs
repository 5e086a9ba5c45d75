//! Where the adapter's Java sources are and where compiled classes go.

use std::fs;
use std::path::{Path, PathBuf};

/// The workspace root (compile time path of this crate's parent).
const WORKSPACE_ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// Where the adapter's Java sources live (compile time path of this crate):
/// every `*.java` file under it is compiled.
pub(crate) fn java_source_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../java"))
}

/// The target directory: `$CARGO_TARGET_DIR` (at run time, else at build time),
/// else `<workspace>/target`.
pub(crate) fn target_dir() -> PathBuf {
    let root = fs::canonicalize(WORKSPACE_ROOT).unwrap_or_else(|_| PathBuf::from(WORKSPACE_ROOT));
    let configured = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| option_env!("CARGO_TARGET_DIR").map(PathBuf::from));
    match configured {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}
