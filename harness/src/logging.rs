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

/// A log file larger than this (at start, or while a command writes to it) is
/// moved to `<name>.1`, replacing the previous one, and started afresh: the two
/// files together stay under about twice this.
pub const ROTATE_BYTES: u64 = 32 << 20;

/// The log file: appends, and rotates once it grows past [`ROTATE_BYTES`]
/// (checked every [`CHECK_EVERY`] bytes this process writes, since several
/// processes of one run append to the same file).
pub struct CappedLog {
    file: File,
    path: PathBuf,
    since_check: u64,
}

/// How many bytes a process writes between two looks at the log's size.
pub const CHECK_EVERY: u64 = 1 << 20;

impl CappedLog {
    /// Opens `path` for appending, rotating it first if it is too large already.
    pub fn open(path: PathBuf) -> std::io::Result<CappedLog> {
        rotate_if_large(&path);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(CappedLog { file, path, since_check: 0 })
    }
}

fn rotate_if_large(path: &std::path::Path) -> bool {
    let large = std::fs::metadata(path).is_ok_and(|m| m.len() > ROTATE_BYTES);
    if large {
        let _ = std::fs::rename(path, path.with_extension("log.1"));
    }
    large
}

impl std::io::Write for CappedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.file.write(buf)?;
        self.since_check += written as u64;
        if self.since_check >= CHECK_EVERY {
            self.since_check = 0;
            if rotate_if_large(&self.path) {
                if let Ok(file) = OpenOptions::new().create(true).append(true).open(&self.path) {
                    self.file = file;
                }
            }
        }
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

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
fn open_log() -> Option<(CappedLog, PathBuf)> {
    let dir = crate::assets::cache_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(crate::assets::LOG_FILE);
    Some((CappedLog::open(path.clone()).ok()?, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_rotates_while_it_grows() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("zkurator-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("harness.log");
        let mut log = CappedLog::open(path.clone()).unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..(3 * ROTATE_BYTES / chunk.len() as u64) {
            log.write_all(&chunk).unwrap();
        }
        let sizes = [&path, &path.with_extension("log.1")].map(|p| std::fs::metadata(p).unwrap().len());
        assert!(sizes.iter().all(|s| *s <= ROTATE_BYTES + CHECK_EVERY), "{sizes:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

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
