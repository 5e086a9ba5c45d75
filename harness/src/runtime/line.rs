//! The client side of the contender protocol (`docs/contender-protocol.md`):
//! one child process per contender, JSON lines on its stdin and stdout.
//!
//! Every process runtime whose contender is a program of its own goes through
//! [`LineProcess::start`]: kazurator and kazoo-native (`contender.py`), go-zk
//! (`go/`) and the runtimes added with `--runtime NAME=COMMAND`.

use std::ffi::OsString;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command as Process, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::child::{self, lock, StderrTail};
use crate::capabilities::Capabilities;
use crate::contender::{Command, Contender, ContenderSpec, Crasher, ErrorKind, Reply, Runtime, StartError};
use crate::nemesis::SessionCredentials;

/// The protocol version this harness speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The value of a hello line's `hello` field.
pub const HELLO_MARK: &str = "zkurator-contender";

/// The first line a contender process writes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Hello {
    /// Always [`HELLO_MARK`].
    pub hello: String,
    /// The protocol version.
    pub protocol: u32,
    /// What the implementation calls itself.
    #[serde(default)]
    pub runtime: String,
    /// Library name to version.
    #[serde(default)]
    pub versions: std::collections::BTreeMap<String, String>,
    /// What it can do.
    #[serde(default)]
    pub capabilities: Capabilities,
}

impl Hello {
    /// Reads a hello line, or says why it is not one.
    pub fn parse(line: &str) -> Result<Hello, String> {
        // serde quotes a wrong value whole: its message is cut as the line is.
        let hello: Hello = serde_json::from_str(line).map_err(|e| {
            let why = crate::limits::clip_to(e.to_string(), crate::limits::QUOTE_CHARS);
            format!("the first line is not a hello ({why}): {}", crate::limits::quote(line))
        })?;
        if hello.hello != HELLO_MARK {
            return Err(format!(
                "the first line's \"hello\" is {}, not {HELLO_MARK:?}",
                crate::limits::quote(&hello.hello)
            ));
        }
        if hello.protocol != PROTOCOL_VERSION {
            return Err(format!("protocol {} is not {PROTOCOL_VERSION}, the one this harness speaks", hello.protocol));
        }
        Ok(hello)
    }
}

/// The ready line.
#[derive(Debug, Default, Deserialize)]
struct Ready {
    ready: bool,
    #[serde(default)]
    unsupported: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    lock_data: Option<bool>,
    #[serde(default)]
    session_id: Option<String>,
    #[serde(default)]
    session_timeout_ms: Option<u64>,
    #[serde(default)]
    session_password: Option<String>,
}

/// How to run a contender program.
#[derive(Clone, Debug)]
pub struct LineProcess {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Extra environment.
    pub envs: Vec<(OsString, OsString)>,
    /// The capabilities the hello must declare (a built-in runtime's table
    /// entry); `None` takes what the hello says.
    pub expected: Option<Capabilities>,
    /// A crash is a SIGKILL only (the session stays until it times out), as
    /// kazurator's always was; otherwise the session is also closed at once.
    pub crash_is_kill: bool,
}

impl LineProcess {
    /// A program with arguments, taking the capabilities its hello declares.
    pub fn new(program: impl Into<PathBuf>, args: impl IntoIterator<Item = impl Into<OsString>>) -> LineProcess {
        LineProcess {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            envs: Vec::new(),
            expected: None,
            crash_is_kill: false,
        }
    }

    fn command(&self) -> Process {
        let mut command = Process::new(&self.program);
        command.args(&self.args).envs(self.envs.iter().map(|(k, v)| (k, v)));
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        // Its own process group, which the harness (or its reaper) kills at
        // the end: also what a wrapper script forked.
        crate::reaper::own_group(&mut command);
        command
    }

    /// Starts the program once, reads its hello and ends it (stdin closed,
    /// killed after `limit`): what `--runtime` registration and `doctor` use.
    pub fn hello(&self, limit: Duration) -> Result<Hello, String> {
        let mut command = self.command();
        child::die_with_parent(&mut command, true);
        let mut process = command.spawn().map_err(|e| format!("cannot run {}: {e}", self.program.display()))?;
        let pid = process.id();
        crate::reaper::adopt_group(pid);
        let stdout = process.stdout.take().expect("piped stdout");
        let stderr = StderrTail::spawn(process.stderr.take().expect("piped stderr"), "hello", |_| false);
        let process = Arc::new(Mutex::new(process));
        let guard = child::StartLimit::arm(&process, limit);
        let line = child::read_line(&mut BufReader::new(stdout));
        let timed_out = guard.fired();
        drop(guard);
        lock(&process).stdin.take();
        child::wait_or_kill(&process, Duration::from_secs(1));
        crate::reaper::kill_group(pid);
        let line = line.map_err(|why| {
            stderr.wait_closed(Duration::from_secs(1));
            let why = if timed_out {
                format!("no hello within {limit:?} (killed)")
            } else {
                format!("{why} before its hello")
            };
            format!("{why}; stderr tail:\n{}", stderr.text())
        })?;
        Hello::parse(&line)
    }

    /// Starts one contender of `runtime`: hello, spec, ready. Kills the
    /// process if it is not ready within `limit`.
    pub fn start(&self, runtime: Runtime, spec: &ContenderSpec, limit: Duration) -> Result<LineContender, StartError> {
        let failed = |message: String| StartError::Failed { runtime: runtime.clone(), id: spec.id.clone(), message };
        let started = Instant::now();
        let mut first_line = serde_json::to_value(spec).map_err(|e| failed(e.to_string()))?;
        first_line["runtime"] = serde_json::Value::String(runtime.name().into());
        let mut command = self.command();
        // SIGTERM: the adapter closes its session, then exits.
        child::die_with_parent(&mut command, false);
        let mut process = command.spawn().map_err(|e| failed(format!("cannot run {}: {e}", self.program.display())))?;
        crate::reaper::adopt_group(process.id());
        let stdin = process.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(process.stdout.take().expect("piped stdout"));
        let session = Arc::new(Mutex::new(None));
        let announced = Arc::clone(&session);
        let stderr = StderrTail::spawn(process.stderr.take().expect("piped stderr"), &spec.id, move |line| {
            let credentials = session_announcement(line);
            let found = credentials.is_some();
            if found {
                *lock(&announced) = credentials;
            }
            found
        });
        let mut contender = LineContender {
            runtime: runtime.clone(),
            id: spec.id.clone(),
            pid: process.id(),
            child: Arc::new(Mutex::new(process)),
            stdin: Arc::new(Mutex::new(Some(stdin))),
            stdout,
            stderr,
            hello: Hello::default(),
            ready: Ready::default(),
            ended: None,
            connect: spec.connect.clone(),
            session,
            crash_is_kill: self.crash_is_kill,
        };
        let limit_guard = child::StartLimit::arm(&contender.child, limit);
        let hello = contender.read_line().and_then(|line| Hello::parse(&line));
        let ready_line = hello.and_then(|hello| {
            contender.hello = hello;
            contender.write_line(&first_line.to_string())?;
            contender.read_line()
        });
        let timed_out = limit_guard.fired();
        drop(limit_guard);
        let line = ready_line.map_err(|why| {
            let why = if timed_out { format!("not ready within {limit:?} (killed; {why})") } else { why };
            failed(contender.died(&why))
        })?;
        if let Some(expected) = &self.expected {
            let differences = contender.hello.capabilities.differences(expected);
            if !differences.is_empty() {
                return Err(failed(format!(
                    "its hello disagrees with the capability table: {}",
                    differences.join("; ")
                )));
            }
        }
        let ready: Ready = serde_json::from_str(&line)
            .map_err(|e| failed(format!("bad ready line {}: {e}", crate::limits::quote(&line))))?;
        if !ready.ready {
            let error = crate::limits::clip(ready.error.clone().unwrap_or_default());
            return Err(failed(if ready.unsupported { format!("unsupported: {error}") } else { error }));
        }
        tracing::debug!(
            id = %spec.id,
            %runtime,
            session = ready.session_id.as_deref().unwrap_or("?"),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "contender process ready"
        );
        if let (Some(id), Some(password)) = (&ready.session_id, &ready.session_password) {
            match SessionCredentials::from_hex(id, password) {
                Ok(creds) => *lock(&contender.session) = Some(creds),
                Err(e) => tracing::warn!(id = %spec.id, "unreadable session credentials: {e}"),
            }
        }
        contender.ready = ready;
        Ok(contender)
    }
}

/// One contender process.
///
/// [`Contender::execute`] writes one command line and blocks until the reply
/// line; if the process is gone it answers `Error { kind: SessionLost }` with
/// the end of the process's stderr. Dropping the contender closes its stdin
/// (the process then closes its session) and kills it if it has not exited
/// within a second.
pub struct LineContender {
    runtime: Runtime,
    id: String,
    pid: u32,
    /// Shared with crashers; its pipes are taken out, so killing never waits
    /// for a thread blocked on stdout.
    child: Arc<Mutex<Child>>,
    /// Shared with out-of-band senders.
    stdin: Arc<Mutex<Option<ChildStdin>>>,
    stdout: BufReader<ChildStdout>,
    stderr: Arc<StderrTail>,
    hello: Hello,
    ready: Ready,
    /// Why the contender can take no more commands, once it cannot.
    ended: Option<String>,
    /// The ZooKeeper connect string, for the expirer.
    connect: String,
    /// The current session's credentials: from the ready line, then from the
    /// process's announcements of every new session on stderr.
    session: Arc<Mutex<Option<SessionCredentials>>>,
    crash_is_kill: bool,
}

impl LineContender {
    /// The contender id from its spec.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The version of `library` its hello named (empty if none).
    pub fn version_of(&self, library: &str) -> String {
        self.hello.versions.get(library).cloned().unwrap_or_default()
    }

    /// Whether the runtime stores the spec's `lock_data` in its lock nodes.
    pub fn stores_lock_data(&self) -> bool {
        self.ready.lock_data.unwrap_or(self.hello.capabilities.lock_data)
    }

    /// The ZooKeeper session id, as `0x...`.
    pub fn session_id(&self) -> Option<&str> {
        self.ready.session_id.as_deref()
    }

    /// The session timeout the server granted.
    pub fn session_timeout(&self) -> Option<Duration> {
        self.ready.session_timeout_ms.map(Duration::from_millis)
    }

    fn write_line(&mut self, line: &str) -> Result<(), String> {
        child::write_line(lock(&self.stdin).as_mut().ok_or("stdin closed")?, line)
    }

    fn read_line(&mut self) -> Result<String, String> {
        child::read_line(&mut self.stdout)
    }

    /// Describes a dead (or dying) process: exit status and stderr tail.
    fn died(&mut self, why: &str) -> String {
        lock(&self.stdin).take();
        // The stderr pipe ends when the process does; give it a moment so the
        // tail holds the last words.
        self.stderr.wait_closed(Duration::from_secs(2));
        format!(
            "{} contender {} (pid {}): {why}; exit status: {}; stderr tail:\n{}",
            self.runtime,
            self.id,
            self.pid,
            child::exit_status(&self.child, Duration::from_millis(500)),
            self.stderr.text()
        )
    }

    /// Waits up to `grace` for the process to exit, then kills it.
    fn finish(&mut self, grace: Duration) {
        lock(&self.stdin).take();
        child::wait_or_kill(&self.child, grace);
        crate::reaper::kill_group(self.pid);
    }

    /// Sends an out-of-band line, if the contender reads them.
    fn oob_sender(&self, what: &'static str) -> Option<Crasher> {
        if !self.hello.capabilities.oob {
            return None;
        }
        let stdin = Arc::clone(&self.stdin);
        Some(Box::new(move || {
            if let Some(stdin) = lock(&stdin).as_mut() {
                let _ = child::write_line(stdin, &format!("{{\"oob\":\"{what}\"}}"));
            }
        }))
    }

    fn session_expirer(&self) -> Crasher {
        let session = Arc::clone(&self.session);
        let connect = self.connect.clone();
        let id = self.id.clone();
        Box::new(move || {
            let Some(creds) = lock(&session).clone() else {
                tracing::warn!(id = %id, "expire: the process never told its session credentials");
                return;
            };
            if let Err(e) = crate::nemesis::expire_session(&connect, &creds, Duration::from_secs(10)) {
                tracing::warn!(id = %id, "expire: {e}");
            }
        })
    }

    fn kill(&self) -> Crasher {
        let child = Arc::clone(&self.child);
        let pid = self.pid;
        Box::new(move || {
            let mut child = lock(&child);
            // SIGKILL of the group (what a wrapper forked goes too): the
            // session stays until the server expires it.
            crate::reaper::signal_group(pid, false);
            let _ = child.kill();
            let _ = child.wait();
        })
    }
}

impl Contender for LineContender {
    fn runtime(&self) -> Runtime {
        self.runtime.clone()
    }

    fn session_id(&self) -> Option<String> {
        self.ready.session_id.as_deref().map(|id| format!("0x{}", id.trim_start_matches("0x")))
    }

    fn execute(&mut self, command: Command) -> Reply {
        if let Some(why) = &self.ended {
            return Reply::Error { kind: ErrorKind::SessionLost, message: why.clone() };
        }
        let is_close = matches!(command, Command::Close);
        let line = match serde_json::to_string(&command) {
            Ok(line) => line,
            Err(e) => {
                return Reply::Error { kind: ErrorKind::Other, message: format!("cannot encode {command:?}: {e}") }
            }
        };
        let reply_line = match self.write_line(&line).and_then(|()| self.read_line()) {
            Ok(reply_line) => reply_line,
            Err(why) => {
                let message = self.died(&why);
                self.ended = Some(message.clone());
                return Reply::Error { kind: ErrorKind::SessionLost, message };
            }
        };
        let reply = match serde_json::from_str(&reply_line) {
            Ok(Reply::Error { kind, message }) => Reply::Error { kind, message: crate::limits::clip(message) },
            Ok(reply) => reply,
            Err(e) => Reply::Error {
                kind: ErrorKind::Other,
                message: format!("bad reply line {}: {e}", crate::limits::quote(&reply_line)),
            },
        };
        if is_close {
            self.ended = Some(format!("{} contender {} was closed", self.runtime, self.id));
            self.finish(Duration::from_secs(5));
        }
        reply
    }

    /// Out of band where declared; else a SIGKILL, with the session closed
    /// at once from a second connection unless the crash is a kill only.
    fn crasher(&self) -> Crasher {
        if let Some(oob) = self.oob_sender("crash") {
            return oob;
        }
        let kill = self.kill();
        if self.crash_is_kill || lock(&self.session).is_none() {
            return kill;
        }
        let close = self.session_expirer();
        Box::new(move || {
            kill();
            close();
        })
    }

    fn expirer(&self) -> Option<Crasher> {
        self.oob_sender("expire").or_else(|| Some(self.session_expirer()))
    }

    /// SIGSTOP, then SIGCONT: a pause (GC, VM stall) of the whole process.
    fn pauser(&self) -> Option<crate::contender::Pauser> {
        Some(crate::contender::process_pauser(self.pid))
    }

    fn killer(&self) -> Option<Crasher> {
        Some(self.kill())
    }
}

impl Drop for LineContender {
    fn drop(&mut self) {
        self.finish(Duration::from_secs(1));
    }
}

impl std::fmt::Debug for LineContender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineContender")
            .field("runtime", &self.runtime)
            .field("id", &self.id)
            .field("pid", &self.pid)
            .field("session_id", &self.ready.session_id)
            .finish()
    }
}

/// The credentials in a `ZKURATOR-SESSION <id> <password>` stderr line
/// (printed whenever the process gets a new session).
fn session_announcement(line: &str) -> Option<SessionCredentials> {
    let mut words = line.split_whitespace();
    if words.next()? != "ZKURATOR-SESSION" {
        return None;
    }
    SessionCredentials::from_hex(words.next()?, words.next()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_announcements_are_recognised() {
        let creds = session_announcement("ZKURATOR-SESSION 0x1000a2b 00ff").unwrap();
        assert_eq!((creds.id, creds.password), (0x1000a2b, vec![0, 255]));
        assert!(session_announcement("2024 INFO zkurator: ZKURATOR-SESSION 0x1 00").is_none());
        assert!(session_announcement("ZKURATOR-SESSION 0x1").is_none());
        assert!(session_announcement("").is_none());
    }

    #[test]
    fn hellos_are_checked() {
        let hello = Hello::parse(
            r#"{"hello":"zkurator-contender","protocol":1,"runtime":"go-zk","versions":{"go":"go1.26"},"capabilities":{"kinds":["mutex"]}}"#,
        )
        .unwrap();
        assert_eq!(hello.versions["go"], "go1.26");
        assert!(hello.capabilities.has_kind(crate::contender::LockKind::Mutex { max_leases: 1 }));
        assert!(Hello::parse(r#"{"ready":true}"#).unwrap_err().contains("not a hello"));
        assert!(Hello::parse(r#"{"hello":"x","protocol":1}"#).unwrap_err().contains("not \"zkurator-contender\""));
        assert!(Hello::parse(r#"{"hello":"zkurator-contender","protocol":2}"#).unwrap_err().contains("protocol 2"));
    }
}
