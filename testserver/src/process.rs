//! Running ZooKeeper JVMs as child processes.
//!
//! The JVMs are direct children of this process, so their exit is observed exactly
//! (`try_wait`) and `stop` kills the JVM itself, not a wrapper. A [`Watchdog`] per
//! temporary directory makes sure they never outlive this process.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::ServerError;
use crate::fourlw::{four_letter, server_mode, Mode};
use crate::locate::{java_binary, zookeeper_classpath};
use crate::watchdog::Watchdog;

/// Main class of a standalone server.
pub(crate) const STANDALONE_MAIN: &str = "org.apache.zookeeper.server.ZooKeeperServerMain";
/// Main class of an ensemble member.
pub(crate) const QUORUM_MAIN: &str = "org.apache.zookeeper.server.quorum.QuorumPeerMain";

/// JVM options: the heap `zkServer.sh` uses, quiet SLF4J (warnings and errors still reach
/// the log file), no hsperfdata files, IPv4 loopback only.
const JVM_ARGS: &[&str] = &[
    "-Xmx1000m",
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:-UsePerfData",
    "-Djava.net.preferIPv4Stack=true",
    "-Djava.awt.headless=true",
    "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
    "-Dzookeeper.jmx.log4j.disable=true",
];

/// How many lines of the server log go into startup errors.
const LOG_TAIL_LINES: usize = 40;
/// Pause between readiness probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(100);
/// Time allowed for one readiness probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The `java` executable and the server classpath, looked up once per server/ensemble.
#[derive(Debug, Clone)]
pub(crate) struct Runtime {
    java: PathBuf,
    classpath: OsString,
    properties: Vec<String>,
}

impl Runtime {
    /// Looks up `java` and the ZooKeeper jars (those of `settings`, else
    /// from the environment); `settings` gives the JVM system properties.
    pub(crate) fn locate(settings: &crate::config::Settings) -> Result<Self, ServerError> {
        let java = java_binary()?;
        let jars = match &settings.classpath {
            Some(jars) => jars.clone(),
            None => zookeeper_classpath()?,
        };
        let classpath = std::env::join_paths(&jars)
            .map_err(|e| ServerError::InvalidConfig(format!("cannot join the classpath {jars:?}: {e}")))?;
        let container_ms = settings.container_check_interval.as_millis().max(1);
        let properties = vec![format!("-Dznode.container.checkIntervalMs={container_ms}")];
        Ok(Runtime { java, classpath, properties })
    }
}

/// How far along a starting server must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ready {
    /// Answers `ruok` with `imok` (the process is up; an ensemble member may still lack a
    /// quorum).
    Answering,
    /// Answers `srvr` with a `Mode:` line, i.e. serves client requests.
    Serving,
}

/// One ZooKeeper server: its files and, while it runs, its JVM.
#[derive(Debug)]
pub(crate) struct Node {
    /// The client port on 127.0.0.1.
    pub(crate) port: u16,
    /// `127.0.0.1:<client port>`.
    pub(crate) addr: String,
    /// The `zoo.cfg` it runs with.
    pub(crate) config: PathBuf,
    /// Its `dataDir`.
    pub(crate) data_dir: PathBuf,
    /// Where its stdout and stderr go.
    pub(crate) log: PathBuf,
    main_class: &'static str,
    child: Option<Child>,
}

impl Node {
    /// A node whose files live in `dir` (`zoo.cfg`, `zookeeper.log`, `data/`).
    pub(crate) fn new(dir: &Path, client_port: u16, main_class: &'static str) -> Self {
        Node {
            port: client_port,
            addr: format!("127.0.0.1:{client_port}"),
            config: dir.join("zoo.cfg"),
            data_dir: dir.join("data"),
            log: dir.join("zookeeper.log"),
            main_class,
            child: None,
        }
    }

    /// Starts the JVM unless it is already running. Does not wait for readiness.
    pub(crate) fn spawn(&mut self, rt: &Runtime, wd: &mut Watchdog) -> Result<(), ServerError> {
        if self.is_running(wd) {
            return Ok(());
        }
        let workdir = self.config.parent().unwrap_or(Path::new("/"));
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| ServerError::io(format!("opening {}", self.log.display()), e))?;
        let _ = writeln!(log, "==== zkurator-testserver: starting {} for {} ====", self.main_class, self.addr);
        let stderr = log.try_clone().map_err(|e| ServerError::io(format!("duplicating {}", self.log.display()), e))?;
        let child = Command::new(&rt.java)
            .args(JVM_ARGS)
            .args(&rt.properties)
            .arg("-cp")
            .arg(&rt.classpath)
            .arg(self.main_class)
            .arg(&self.config)
            .current_dir(workdir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            .spawn()
            .map_err(|source| ServerError::Spawn { program: rt.java.clone(), source })?;
        wd.watch(child.id());
        tracing::debug!(pid = child.id(), addr = %self.addr, main = self.main_class, "started ZooKeeper JVM");
        self.child = Some(child);
        Ok(())
    }

    /// Reaps the JVM if it has exited; returns its status then.
    fn reap(&mut self, wd: &mut Watchdog) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        match child.try_wait() {
            Ok(Some(status)) => {
                wd.forget(child.id());
                self.child = None;
                Some(status)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, addr = %self.addr, "cannot poll ZooKeeper JVM");
                None
            }
        }
    }

    /// The JVM's process id, if it is running.
    pub(crate) fn pid(&mut self, wd: &mut Watchdog) -> Option<u32> {
        self.reap(wd);
        self.child.as_ref().map(Child::id)
    }

    /// Whether the JVM is running.
    pub(crate) fn is_running(&mut self, wd: &mut Watchdog) -> bool {
        if let Some(status) = self.reap(wd) {
            tracing::debug!(addr = %self.addr, %status, "ZooKeeper JVM had exited");
        }
        self.child.is_some()
    }

    /// SIGKILLs the JVM (if running) and reaps it. Files are kept.
    pub(crate) fn stop(&mut self, wd: &mut Watchdog) {
        if let Some(mut child) = self.child.take() {
            let pid = child.id();
            let _ = child.kill();
            match child.wait() {
                Ok(status) => {
                    tracing::debug!(pid, addr = %self.addr, %status, "stopped ZooKeeper JVM");
                }
                Err(e) => tracing::warn!(pid, error = %e, "cannot reap ZooKeeper JVM"),
            }
            wd.forget(pid);
        }
    }

    fn exited_error(&mut self, wd: &mut Watchdog) -> Option<ServerError> {
        let status = match self.reap(wd) {
            Some(status) => status.to_string(),
            None if self.child.is_none() => "not started".to_owned(),
            None => return None,
        };
        Some(ServerError::Exited {
            addr: self.addr.clone(),
            status,
            log: self.log.clone(),
            log_tail: log_tail(&self.log),
        })
    }

    /// One readiness probe.
    fn probe(&self, ready: Ready) -> bool {
        match four_letter(&self.addr, "ruok", PROBE_TIMEOUT) {
            Ok(answer) if answer.trim() == "imok" => {}
            _ => return false,
        }
        ready == Ready::Answering || matches!(server_mode(&self.addr, PROBE_TIMEOUT), Ok(Mode::Serving(_)))
    }

    /// Whether the server reports `mode` (e.g. `leader`) right now.
    pub(crate) fn has_mode(&self, mode: &str, timeout: Duration) -> bool {
        matches!(server_mode(&self.addr, timeout), Ok(Mode::Serving(m)) if m == mode)
    }
}

/// Waits until every node in `nodes` is `ready`. Fails as soon as one of them exits
/// ([`ServerError::Exited`]), or when `deadline` passes ([`ServerError::StartTimeout`],
/// naming a node that was not ready). JVMs are left running on failure.
pub(crate) fn wait_ready(
    nodes: &mut [Node],
    wd: &mut Watchdog,
    ready: Ready,
    started: Instant,
    deadline: Instant,
) -> Result<(), ServerError> {
    let mut done = vec![false; nodes.len()];
    loop {
        for (node, done) in nodes.iter_mut().zip(done.iter_mut()) {
            if let Some(err) = node.exited_error(wd) {
                return Err(err);
            }
            if !*done && node.probe(ready) {
                tracing::debug!(addr = %node.addr, elapsed = ?started.elapsed(), ?ready, "ZooKeeper ready");
                *done = true;
            }
        }
        let Some(waiting) = done.iter().position(|d| !d) else {
            return Ok(());
        };
        let now = Instant::now();
        if now >= deadline {
            let node = &nodes[waiting];
            return Err(ServerError::StartTimeout {
                addr: node.addr.clone(),
                timeout: deadline.saturating_duration_since(started),
                log: node.log.clone(),
                log_tail: log_tail(&node.log),
            });
        }
        thread::sleep(PROBE_INTERVAL.min(deadline - now));
    }
}

/// Whether a startup failure was the client, peer or election port being taken (by some
/// other process, between our probe bind and the server's bind): worth a retry on fresh
/// ports.
pub(crate) fn is_port_clash(err: &ServerError) -> bool {
    matches!(err, ServerError::Exited { log_tail, .. }
        if log_tail.contains("Address already in use") || log_tail.contains("BindException"))
}

/// Writes `contents` to `path`.
pub(crate) fn write_file(path: &Path, contents: &str) -> Result<(), ServerError> {
    fs::write(path, contents).map_err(|e| ServerError::io(format!("writing {}", path.display()), e))
}

/// Creates `path` and its parents.
pub(crate) fn create_dir(path: &Path) -> Result<(), ServerError> {
    fs::create_dir_all(path).map_err(|e| ServerError::io(format!("creating {}", path.display()), e))
}

/// The last lines of the log at `path` (or a note saying why there are none).
pub(crate) fn log_tail(path: &Path) -> String {
    match read_tail(path, 16 * 1024) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(LOG_TAIL_LINES);
            lines[start..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

fn read_tail(path: &Path, max: u64) -> io::Result<String> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let from = len.saturating_sub(max);
    file.seek(SeekFrom::Start(from))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if from > 0 {
        // Drop the partial first line.
        if let Some(newline) = text.find('\n') {
            text.drain(..=newline);
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_clash_is_recognised_from_the_log() {
        let exited = |tail: &str| ServerError::Exited {
            addr: "127.0.0.1:1".to_owned(),
            status: "exit status: 1".to_owned(),
            log: PathBuf::from("/x"),
            log_tail: tail.to_owned(),
        };
        assert!(is_port_clash(&exited("ERROR ... exiting abnormally\njava.net.BindException: Address already in use")));
        assert!(!is_port_clash(&exited("Could not find or load main class")));
        assert!(!is_port_clash(&ServerError::InvalidConfig("Address already in use".to_owned())));
    }

    #[test]
    fn log_tail_keeps_the_last_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let text: String = (0..5000).map(|i| format!("line {i}\n")).collect();
        fs::write(&log, text).unwrap();
        let tail = log_tail(&log);
        let lines: Vec<&str> = tail.lines().collect();
        assert_eq!(lines.len(), LOG_TAIL_LINES);
        assert_eq!(lines.last(), Some(&"line 4999"));
        assert!(log_tail(&dir.path().join("missing")).contains("cannot read"));
    }

    #[test]
    fn servers_can_be_shared_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<crate::ZkServer>();
        send_sync::<crate::ZkEnsemble>();
        send_sync::<ServerError>();
    }
}
