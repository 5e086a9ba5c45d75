//! The harness's logs: quiet on stderr by default (warnings, and none of the
//! ZooKeeper client's: the faults expire sessions on purpose), more with `-v`
//! (info) and `-vv` (debug) or a `ZKURATOR_LOG` filter; and everything at debug
//! level (`bench`: info) appended to [`crate::assets::LOG_FILE`] in the cache
//! directory, whose path the binary prints when a command fails.

use std::fs::{File, OpenOptions};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// Environment variable with a stderr log filter (`tracing` directives), used
/// when no `-v` is given.
pub const LOG_ENV: &str = "ZKURATOR_LOG";

/// The stderr filter without `-v` or `ZKURATOR_LOG`.
pub const QUIET: &str = "warn,zookeeper_client=off";

/// What the log file gets.
pub const FILE_DEBUG: &str = "debug";

/// What the log file gets from `bench`: the ZooKeeper client and j4rs log
/// every request at debug, which would be measured.
pub const FILE_BENCH: &str = "info";

/// A log file larger than this at start is moved to `<name>.1` first.
const ROTATE_BYTES: u64 = 32 << 20;

/// The stderr filter: `-v` info, `-vv` debug, `-vvv` trace; without `-v` the
/// `ZKURATOR_LOG` directives (`env`), else [`QUIET`].
pub fn stderr_directives(verbose: u8, env: Option<&str>) -> String {
    match (verbose, env.map(str::trim).filter(|e| !e.is_empty())) {
        (0, Some(directives)) => directives.to_owned(),
        (0, None) => QUIET.to_owned(),
        (1, _) => "info,zookeeper_client=warn".to_owned(),
        (2, _) => "debug".to_owned(),
        _ => "trace".to_owned(),
    }
}

/// Installs the subscriber: stderr (colours only on a terminal) and the log
/// file in the cache directory, filtered by `file_directives` ([`FILE_DEBUG`],
/// [`FILE_BENCH`]). Returns the log file's path, or `None` when it cannot be
/// opened (then only stderr gets logs).
pub fn init(verbose: u8, file_directives: &str) -> Option<PathBuf> {
    let directives = stderr_directives(verbose, std::env::var(LOG_ENV).ok().as_deref());
    let filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new(QUIET));
    let stderr =
        fmt::layer().with_ansi(std::io::stderr().is_terminal()).with_writer(std::io::stderr).with_filter(filter);
    let opened = open_log();
    let path = opened.as_ref().map(|(_, path)| path.clone());
    let file = opened.map(|(file, _)| {
        fmt::layer().with_ansi(false).with_writer(Mutex::new(file)).with_filter(EnvFilter::new(file_directives))
    });
    let _ = tracing_subscriber::registry().with(stderr).with(file).try_init();
    path
}

/// The log file, opened for appending (several processes of one run share it).
fn open_log() -> Option<(File, PathBuf)> {
    let dir = crate::assets::cache_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(crate::assets::LOG_FILE);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > ROTATE_BYTES) {
        let _ = std::fs::rename(&path, path.with_extension("log.1"));
    }
    let file = OpenOptions::new().create(true).append(true).open(&path).ok()?;
    Some((file, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_beats_the_environment() {
        assert_eq!(stderr_directives(0, None), QUIET);
        assert_eq!(stderr_directives(0, Some(" ")), QUIET);
        assert_eq!(stderr_directives(0, Some("zkurator=debug")), "zkurator=debug");
        assert_eq!(stderr_directives(1, Some("zkurator=debug")), "info,zookeeper_client=warn");
        assert_eq!(stderr_directives(2, None), "debug");
        assert_eq!(stderr_directives(5, None), "trace");
    }
}
