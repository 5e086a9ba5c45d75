//! Finding the `java` executable and the ZooKeeper server jars.
//!
//! The environment-reading entry points ([`java_binary`], [`zookeeper_classpath`]) are thin
//! wrappers over pure functions ([`find_java`], [`find_zookeeper_jars`]) that take the
//! environment values as parameters, so the lookup rules can be tested without touching
//! process-wide environment variables.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::ServerError;

/// Where Debian's `zookeeper` package (and its dependencies) install their jars.
pub const DEBIAN_JAVA_DIR: &str = "/usr/share/java";

/// Jars from [`DEBIAN_JAVA_DIR`] without which the server does not start or does not serve
/// (checked by running ZooKeeper 3.8.0 with a manifest-less `zookeeper.jar`).
const DEBIAN_REQUIRED: &[&str] =
    &["zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "metrics-core.jar", "snappy-java.jar"];

/// Jars from [`DEBIAN_JAVA_DIR`] that are put on the classpath when present: the Netty
/// transport (only used with `serverCnxnFactory=...NettyServerCnxnFactory`) and the command
/// line parser. Debian's `zookeeper` package depends on all of them.
const DEBIAN_OPTIONAL: &[&str] = &[
    "netty-handler.jar",
    "netty-common.jar",
    "netty-buffer.jar",
    "netty-transport.jar",
    "netty-codec.jar",
    "netty-resolver.jar",
    "netty-transport-native-epoll.jar",
    "netty-transport-native-unix-common.jar",
    "commons-cli.jar",
];

/// SLF4J bindings, best first. `slf4j-simple` writes to stderr (the server log file) and is
/// limited to warnings by a system property, so startup failures stay visible in
/// [`ServerError::Exited`]/[`ServerError::StartTimeout`]; `slf4j-nop` discards everything.
const DEBIAN_LOG_BINDINGS: &[&str] = &["slf4j-simple.jar", "slf4j-nop.jar"];

/// Returns the `java` executable to run the server with.
///
/// Uses `$JAVA_HOME/bin/java` when `JAVA_HOME` is set (and fails if that file is missing
/// rather than silently using another JVM), otherwise the first `java` on `PATH`.
/// See [`find_java`] for the rules.
pub fn java_binary() -> Result<PathBuf, ServerError> {
    find_java(std::env::var_os("JAVA_HOME").as_deref(), std::env::var_os("PATH").as_deref())
}

/// Pure form of [`java_binary`]: `java_home` is the value of `JAVA_HOME`, `path` the value
/// of `PATH`.
///
/// A non-empty `java_home` must contain an executable `bin/java`; otherwise the
/// colon-separated `path` is searched for an executable named `java`. Failing both gives
/// [`ServerError::MissingJava`], whose message includes `apt-get install -y
/// default-jre-headless`.
pub fn find_java(java_home: Option<&OsStr>, path: Option<&OsStr>) -> Result<PathBuf, ServerError> {
    if let Some(home) = java_home.filter(|h| !h.is_empty()) {
        let candidate = Path::new(home).join("bin").join("java");
        return if is_executable(&candidate) {
            Ok(candidate)
        } else {
            Err(ServerError::MissingJava {
                detail: format!(
                    "JAVA_HOME is {} but {} is not an executable file \
                     (unset JAVA_HOME to use `java` from PATH)",
                    Path::new(home).display(),
                    candidate.display()
                ),
            })
        };
    }
    let path = path.unwrap_or_default();
    std::env::split_paths(path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join("java"))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| ServerError::MissingJava {
            detail: format!("JAVA_HOME is not set and no executable `java` is on PATH ({})", Path::new(path).display()),
        })
}

/// Returns the classpath (jars and directories) of the ZooKeeper server.
///
/// Lookup order: `ZK_CLASSPATH` (an explicit colon-separated classpath), then
/// `ZOOKEEPER_HOME` (an unpacked Apache ZooKeeper release), then Debian's
/// [`DEBIAN_JAVA_DIR`]. See [`find_zookeeper_jars`] for the rules.
pub fn zookeeper_classpath() -> Result<Vec<PathBuf>, ServerError> {
    find_zookeeper_jars(
        std::env::var_os("ZK_CLASSPATH").as_deref(),
        std::env::var_os("ZOOKEEPER_HOME").as_deref(),
        Path::new(DEBIAN_JAVA_DIR),
    )
}

/// Pure form of [`zookeeper_classpath`]: `zk_classpath` is the value of `ZK_CLASSPATH`,
/// `zookeeper_home` the value of `ZOOKEEPER_HOME`, `system_java_dir` the directory of
/// system-installed jars (normally [`DEBIAN_JAVA_DIR`]).
///
/// * A non-empty `zk_classpath` is split on `:`; every entry must exist (an entry ending in
///   `/*`, Java's directory wildcard, must name an existing directory).
/// * Else a non-empty `zookeeper_home` contributes every `*.jar` in `lib/` and in the
///   directory itself, plus `conf/` when it exists (for the release's logging
///   configuration); at least one jar must be a `zookeeper-*.jar`.
/// * Else `system_java_dir` must hold `zookeeper.jar`, `zookeeper-jute.jar`,
///   `slf4j-api.jar`, `metrics-core.jar` and `snappy-java.jar`; Netty, commons-cli and an
///   SLF4J binding (`slf4j-simple.jar`, else `slf4j-nop.jar`) are added when present.
///
/// Anything missing gives [`ServerError::MissingZooKeeper`], naming what was missing and
/// the fix (`apt-get install -y zookeeper`, `ZOOKEEPER_HOME`, `ZK_CLASSPATH`).
pub fn find_zookeeper_jars(
    zk_classpath: Option<&OsStr>,
    zookeeper_home: Option<&OsStr>,
    system_java_dir: &Path,
) -> Result<Vec<PathBuf>, ServerError> {
    if let Some(cp) = zk_classpath.filter(|v| !v.is_empty()) {
        return explicit_classpath(cp);
    }
    if let Some(home) = zookeeper_home.filter(|v| !v.is_empty()) {
        return release_classpath(Path::new(home));
    }
    system_classpath(system_java_dir)
}

fn explicit_classpath(cp: &OsStr) -> Result<Vec<PathBuf>, ServerError> {
    let entries: Vec<PathBuf> = std::env::split_paths(cp).filter(|p| !p.as_os_str().is_empty()).collect();
    let missing: Vec<String> = entries
        .iter()
        .filter(|entry| {
            let to_check = if entry.file_name() == Some(OsStr::new("*")) {
                entry.parent().unwrap_or(Path::new("."))
            } else {
                entry.as_path()
            };
            !to_check.exists()
        })
        .map(|p| p.display().to_string())
        .collect();
    if entries.is_empty() {
        return Err(ServerError::MissingZooKeeper { detail: "ZK_CLASSPATH has no entries".to_owned() });
    }
    if !missing.is_empty() {
        return Err(ServerError::MissingZooKeeper {
            detail: format!("ZK_CLASSPATH entries do not exist: {}", missing.join(", ")),
        });
    }
    Ok(entries)
}

fn release_classpath(home: &Path) -> Result<Vec<PathBuf>, ServerError> {
    let mut jars = jars_in(&home.join("lib"));
    jars.extend(jars_in(home));
    let has_server = jars.iter().any(|jar| {
        jar.file_name()
            .and_then(OsStr::to_str)
            .is_some_and(|name| name.starts_with("zookeeper-") && !name.contains("jute"))
    });
    if !has_server {
        return Err(ServerError::MissingZooKeeper {
            detail: format!("ZOOKEEPER_HOME is {} but neither it nor its lib/ holds a zookeeper-*.jar", home.display()),
        });
    }
    let conf = home.join("conf");
    if conf.is_dir() {
        jars.push(conf);
    }
    Ok(jars)
}

fn system_classpath(dir: &Path) -> Result<Vec<PathBuf>, ServerError> {
    let missing: Vec<&str> = DEBIAN_REQUIRED.iter().copied().filter(|jar| !dir.join(jar).is_file()).collect();
    if !missing.is_empty() {
        return Err(ServerError::MissingZooKeeper {
            detail: format!(
                "ZK_CLASSPATH and ZOOKEEPER_HOME are not set and {} lacks {}",
                dir.display(),
                missing.join(", ")
            ),
        });
    }
    let mut jars: Vec<PathBuf> = DEBIAN_REQUIRED.iter().map(|jar| dir.join(jar)).collect();
    jars.extend(DEBIAN_OPTIONAL.iter().map(|jar| dir.join(jar)).filter(|p| p.is_file()));
    jars.extend(DEBIAN_LOG_BINDINGS.iter().map(|jar| dir.join(jar)).find(|p| p.is_file()));
    Ok(jars)
}

/// The `*.jar` files directly in `dir`, sorted; empty if `dir` is unreadable.
fn jars_in(dir: &Path) -> Vec<PathBuf> {
    let mut jars: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.extension() == Some(OsStr::new("jar")) && p.is_file())
        .collect();
    jars.sort();
    jars
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
