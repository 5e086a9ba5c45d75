//! Finding the JDK: the Java home (with its `libjvm`) and its programs.

use std::fs;
use std::path::{Path, PathBuf};

use super::error::InitError;

pub(super) const INSTALL_JDK: &str = "apt-get install -y default-jdk-headless";

/// `$JAVA_HOME`, or the installation the `java` on PATH belongs to, checked to
/// contain a `libjvm` (what j4rs loads).
pub(super) fn locate_java_home() -> Result<PathBuf, InitError> {
    let home = match std::env::var_os("JAVA_HOME").filter(|h| !h.is_empty()) {
        Some(home) => PathBuf::from(home),
        None => {
            let java = find_program("java")
                .ok_or_else(|| InitError::missing("java", "no java on PATH and JAVA_HOME is unset", INSTALL_JDK))?;
            let real = fs::canonicalize(&java).unwrap_or(java);
            // <home>/bin/java
            real.parent()
                .and_then(Path::parent)
                .map(Path::to_path_buf)
                .ok_or_else(|| InitError::missing("java", format!("odd java path {}", real.display()), INSTALL_JDK))?
        }
    };
    if find_file(&home, "libjvm.so", 6).is_none() {
        return Err(InitError::missing(
            "libjvm",
            format!("no libjvm.so under the Java home {}", home.display()),
            INSTALL_JDK,
        ));
    }
    Ok(home)
}

pub(super) fn find_file(dir: &Path, name: &str, depth: usize) -> Option<PathBuf> {
    let entries = fs::read_dir(dir).ok()?;
    let mut subdirs = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name() == name {
            return Some(path);
        }
        if depth > 0 && entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            subdirs.push(path);
        }
    }
    subdirs.iter().find_map(|d| find_file(d, name, depth - 1))
}

/// `$JAVA_HOME/bin/<name>` when JAVA_HOME is set, else `<name>` on PATH.
pub(super) fn find_program(name: &str) -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("JAVA_HOME").filter(|h| !h.is_empty()) {
        let p = PathBuf::from(home).join("bin").join(name);
        if p.is_file() {
            return Some(p);
        }
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|p| p.is_file())
}
