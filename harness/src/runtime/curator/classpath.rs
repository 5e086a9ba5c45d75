//! The jars on the JVM's classpath: Curator's (`CURATOR_CLASSPATH` or the
//! Debian packages') and j4rs's own.

use std::fs;
use std::path::{Path, PathBuf};

use crate::contender::StartError;

use super::error::InitError;

pub(super) const INSTALL_CURATOR: &str = "apt-get install -y libcurator-recipes-java";

/// Where the Debian packages put their jars.
pub(super) const DEBIAN_JAR_DIR: &str = "/usr/share/java";
/// The Debian jars the adapter needs, in classpath order. The first four are
/// required; the rest are taken when present.
pub(super) const DEBIAN_JARS: &[&str] = &[
    "curator-client.jar",
    "curator-framework.jar",
    "curator-recipes.jar",
    "zookeeper.jar",
    "zookeeper-jute.jar",
    "guava.jar",
    "failureaccess.jar",
    "slf4j-api.jar",
    "slf4j-nop.jar",
];
pub(super) const REQUIRED_DEBIAN_JARS: usize = 4;

/// The jars Curator needs: those of `asked` (a colon-separated list) or the
/// Debian packages' jars.
pub(super) fn curator_classpath(asked: Option<&std::ffi::OsStr>) -> Result<Vec<PathBuf>, InitError> {
    find_jars(asked, Path::new(DEBIAN_JAR_DIR))
}

/// Pure form of the Curator jar lookup: `curator_classpath` is the value of
/// `CURATOR_CLASSPATH` (every entry must exist), else `jar_dir` (normally
/// `/usr/share/java`) must hold curator-client, -framework, -recipes and
/// zookeeper jars. Errors are [`StartError::Missing`] naming the file and the fix.
pub fn find_curator_jars(
    curator_classpath: Option<&std::ffi::OsStr>,
    jar_dir: &Path,
) -> Result<Vec<PathBuf>, StartError> {
    find_jars(curator_classpath, jar_dir).map_err(|e| e.to_start_error())
}

pub(super) fn find_jars(
    curator_classpath: Option<&std::ffi::OsStr>,
    jar_dir: &Path,
) -> Result<Vec<PathBuf>, InitError> {
    if let Some(cp) = curator_classpath.filter(|c| !c.is_empty()) {
        let entries: Vec<PathBuf> = std::env::split_paths(&cp).filter(|p| !p.as_os_str().is_empty()).collect();
        if let Some(missing) = entries.iter().find(|p| !p.exists()) {
            return Err(InitError::missing(
                "Curator classpath entry",
                format!("CURATOR_CLASSPATH names {}, which does not exist", missing.display()),
                "fix CURATOR_CLASSPATH, or unset it to use the Debian packages' jars",
            ));
        }
        return Ok(entries);
    }
    let dir = jar_dir;
    let mut jars = Vec::new();
    for (i, name) in DEBIAN_JARS.iter().enumerate() {
        let path = dir.join(name);
        if path.is_file() {
            jars.push(path);
        } else if i < REQUIRED_DEBIAN_JARS {
            return Err(InitError::missing(
                "Apache Curator jars",
                format!("{} does not exist (set CURATOR_CLASSPATH to use jars from elsewhere)", path.display()),
                INSTALL_CURATOR,
            ));
        }
    }
    Ok(jars)
}

/// j4rs's jar, found as j4rs finds it: the `jassets` directory next to (or
/// above) the running executable, where j4rs's build script copies it
/// (`target/<profile>/jassets/j4rs-<version>-jar-with-dependencies.jar`).
pub(super) fn find_j4rs_jar() -> Result<PathBuf, InitError> {
    let exe = std::env::current_exe()
        .and_then(fs::canonicalize)
        .map_err(|e| InitError::Failed(format!("cannot find the running executable: {e}")))?;
    let mut searched = Vec::new();
    let mut dir = exe.parent();
    while let Some(d) = dir {
        let jassets = d.join("jassets");
        if jassets.is_dir() {
            let mut jars: Vec<PathBuf> = fs::read_dir(&jassets)
                .map_err(|e| InitError::Failed(format!("cannot read {}: {e}", jassets.display())))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("j4rs-") && n.ends_with("-jar-with-dependencies.jar"))
                })
                .collect();
            jars.sort();
            if let Some(jar) = jars.pop() {
                return Ok(jar);
            }
            searched.push(jassets.display().to_string());
        }
        dir = d.parent();
    }
    Err(InitError::missing(
        "j4rs jar",
        format!(
            "no j4rs-*-jar-with-dependencies.jar in a jassets directory above {} (searched: {})",
            exe.display(),
            if searched.is_empty() { "none found".to_string() } else { searched.join(", ") }
        ),
        "cargo build (j4rs's build script copies its jar to target/<profile>/jassets)",
    ))
}
