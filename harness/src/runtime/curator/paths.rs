//! Where the adapter's Java sources are and where compiled classes go.

use std::path::PathBuf;

use super::error::InitError;

/// The adapter's Java sources: the embedded `java/` tree, unpacked into the
/// cache ([`crate::assets`]); every `*.java` file under it is compiled.
pub(super) fn java_source_dir() -> Result<PathBuf, InitError> {
    crate::assets::unpack("java").map_err(|e| InitError::Failed(e.to_string()))
}
