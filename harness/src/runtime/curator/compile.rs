//! Compiling the adapter's Java sources with `javac`, once per content hash.

use std::fs;
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{SystemTime, UNIX_EPOCH};

use super::error::InitError;
use super::jvm::INSTALL_JDK;
use super::paths::java_source_dir;

pub(super) fn java_sources(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            java_sources(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "java") {
            out.push(path);
        }
    }
    Ok(())
}

/// Compiles the adapter unless an up-to-date compilation exists; returns the classes directory.
pub(super) fn compile_adapter(javac: &Path, jars: &[PathBuf]) -> Result<PathBuf, InitError> {
    let source_dir = &java_source_dir()?;
    let mut sources = Vec::new();
    java_sources(source_dir, &mut sources).map_err(|e| {
        InitError::Failed(format!("cannot read the Curator adapter sources in {}: {e}", source_dir.display()))
    })?;
    sources.sort();
    if sources.is_empty() {
        return Err(InitError::Failed(format!("no Java sources under {}", source_dir.display())));
    }
    // Content hash of the sources and the classpath (FNV-1a, stable across builds).
    let mut hash = crate::assets::Fnv::new();
    for source in &sources {
        let text = fs::read(source).map_err(|e| InitError::Failed(format!("cannot read {}: {e}", source.display())))?;
        hash.write(source.strip_prefix(source_dir).unwrap_or(source).to_string_lossy().as_bytes());
        hash.write(&[0]);
        hash.write(&text);
        hash.write(&[0]);
    }
    for jar in jars {
        hash.write(jar.to_string_lossy().as_bytes());
        hash.write(&[0]);
    }
    hash.write(javac.to_string_lossy().as_bytes());
    let base = crate::assets::cache_dir().join("zkurator-java");
    let classes = base.join(format!("classes-{:016x}", hash.finish()));
    let stamp = classes.join(".complete");
    if stamp.is_file() {
        return Ok(classes);
    }

    fs::create_dir_all(&base).map_err(|e| InitError::Failed(format!("cannot create {}: {e}", base.display())))?;
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let tmp = base.join(format!("tmp-{}-{nanos}", std::process::id()));
    fs::create_dir_all(&tmp).map_err(|e| InitError::Failed(format!("cannot create {}: {e}", tmp.display())))?;
    let classpath = jars.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":");
    let output = Process::new(javac)
        .arg("-d")
        .arg(&tmp)
        .arg("-cp")
        .arg(&classpath)
        .args(["-encoding", "UTF-8", "-nowarn", "-Xlint:none", "-g"])
        .args(&sources)
        .output();
    let output = match output {
        Ok(o) => o,
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            return Err(InitError::missing("javac", format!("running {} failed: {e}", javac.display()), INSTALL_JDK));
        }
    };
    if !output.status.success() {
        let _ = fs::remove_dir_all(&tmp);
        return Err(InitError::Failed(format!(
            "javac failed to compile the Curator adapter ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    fs::write(tmp.join(".complete"), b"")
        .map_err(|e| InitError::Failed(format!("cannot write in {}: {e}", tmp.display())))?;
    if let Err(e) = fs::rename(&tmp, &classes) {
        let _ = fs::remove_dir_all(&tmp);
        // Another process may have finished the same compilation first.
        if !stamp.is_file() {
            return Err(InitError::Failed(format!("cannot move compiled classes to {}: {e}", classes.display())));
        }
    }
    Ok(classes)
}
