//! The one error type of this crate.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// The fix printed with [`ServerError::MissingJava`].
pub(crate) const JAVA_FIX: &str = "install a Java runtime with `apt-get install -y default-jre-headless`, \
     or set JAVA_HOME to a JDK/JRE directory that contains bin/java";

/// The fix printed with [`ServerError::MissingZooKeeper`].
pub(crate) const ZOOKEEPER_FIX: &str = "install the ZooKeeper server jars with `apt-get install -y zookeeper` \
     (they land in /usr/share/java), or set ZOOKEEPER_HOME to an unpacked Apache ZooKeeper \
     release, or set ZK_CLASSPATH to an explicit colon-separated classpath";

/// Everything that can go wrong while finding, starting, probing or stopping a
/// ZooKeeper server. Each message names the problem and, where there is one, the fix.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// No usable `java` executable was found.
    #[error("Java runtime not found: {detail}; fix: {fix}", fix = JAVA_FIX)]
    MissingJava {
        /// What was looked for and where.
        detail: String,
    },

    /// The ZooKeeper server jars (or one of their dependencies) were not found.
    #[error("ZooKeeper server jars not found: {detail}; fix: {fix}", fix = ZOOKEEPER_FIX)]
    MissingZooKeeper {
        /// What was looked for and where.
        detail: String,
    },

    /// A builder or method was given a value ZooKeeper cannot use.
    #[error("invalid ZooKeeper test server setting: {0}")]
    InvalidConfig(String),

    /// A local file-system or socket operation failed.
    #[error("I/O error while {action}: {source}")]
    Io {
        /// What was being done, e.g. "writing /tmp/x/zoo.cfg".
        action: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// A process (the JVM or the `/bin/sh` watchdog) could not be started.
    #[error("could not start `{program}`: {source}")]
    Spawn {
        /// The program that failed to start.
        program: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The server process exited before it became ready.
    #[error("ZooKeeper server for {addr} exited during startup ({status}); server log {log}:\n{log_tail}")]
    Exited {
        /// The client address the server was configured for.
        addr: String,
        /// The exit status, as reported by the OS.
        status: String,
        /// Path of the server's log file.
        log: PathBuf,
        /// The last lines of the server's log.
        log_tail: String,
    },

    /// The server process kept running but never answered `ruok`/`srvr` as ready.
    #[error("ZooKeeper server for {addr} was not serving within {timeout:?}; server log {log}:\n{log_tail}")]
    StartTimeout {
        /// The client address that was probed.
        addr: String,
        /// How long we waited.
        timeout: Duration,
        /// Path of the server's log file.
        log: PathBuf,
        /// The last lines of the server's log.
        log_tail: String,
    },

    /// A four-letter-word command (`ruok`, `srvr`, `mntr`, ...) could not be sent
    /// or its answer could not be read.
    #[error("four-letter command `{word}` to {addr} failed: {source}")]
    FourLetter {
        /// The server address.
        addr: String,
        /// The command.
        word: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// A server answered, but not in the expected format.
    #[error("unexpected answer to `{word}` from {addr}: {response:?}")]
    UnexpectedResponse {
        /// The server address.
        addr: String,
        /// The command.
        word: String,
        /// What the server sent.
        response: String,
    },

    /// An ensemble member index was out of range.
    #[error("no ensemble member {index}: the ensemble has {size} members (0..{size})")]
    NoSuchMember {
        /// The index asked for.
        index: usize,
        /// The ensemble's size.
        size: usize,
    },

    /// No leader was elected within the given time.
    #[error("no ensemble leader within {timeout:?} (members running: {running:?})")]
    NoLeader {
        /// How long we waited.
        timeout: Duration,
        /// Indices of the members whose processes were running.
        running: Vec<usize>,
    },
}

impl ServerError {
    /// Wraps an I/O error with a description of what was being done.
    pub(crate) fn io(action: impl Into<String>, source: io::Error) -> Self {
        ServerError::Io { action: action.into(), source }
    }
}
