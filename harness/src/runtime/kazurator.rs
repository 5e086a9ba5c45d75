//! Python runtimes: kazurator (Curator compatible) and kazoo's own locks.
//!
//! Each contender is one Python process running `harness/python/contender.py`
//! with one kazoo session. The process speaks JSON lines whose shapes are
//! serde_json's rendering of [`ContenderSpec`], [`Command`] and [`Reply`], so the
//! Rust types stay the single source of truth:
//!
//! - stdin line 1: the [`ContenderSpec`] with an extra `"runtime"` field
//!   (`"kazurator"` or `"kazoo-native"`);
//! - stdout line 1: `{"ready":true,"kazurator":"0.2.0","kazoo":"2.11.0",...}` or
//!   `{"ready":false,"unsupported":bool,"error":"..."}`;
//! - then one [`Command`] per stdin line, one [`Reply`] per stdout line.
//!
//! Python logs go to stderr, which is forwarded to `tracing` (target
//! `zkurator_harness::python`) and kept as a short tail for error messages.
//!
//! The interpreter is a virtualenv at `<target dir>/zkurator-venv` holding
//! kazurator [`KAZURATOR_VERSION`] and kazoo [`KAZOO_VERSION`], created on first
//! use, or the interpreter named by the `ZKURATOR_PYTHON` environment variable.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command as Process, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use super::child::{self, lock, StderrTail};
use crate::contender::{Command, Contender, ContenderSpec, Crasher, ErrorKind, Reply, Runtime, StartError};
use crate::nemesis::SessionCredentials;

/// The kazurator release the venv gets.
pub const KAZURATOR_VERSION: &str = "0.2.0";
/// The kazoo release the venv gets (kazurator 0.2.0 asks for `kazoo>=2.0.0`).
pub const KAZOO_VERSION: &str = "2.11.0";
/// Environment variable naming a Python interpreter that already has kazurator
/// and kazoo; when set, no venv is created.
pub const PYTHON_ENV: &str = "ZKURATOR_PYTHON";

/// Environment variable naming the kazurator release the venv gets
/// (`--kazurator`; default [`KAZURATOR_VERSION`]). Each release has a venv of its own.
pub const KAZURATOR_RELEASE_ENV: &str = "ZKURATOR_KAZURATOR";

/// Every kazurator release the harness can select (`--kazurator all`).
pub const KAZURATOR_RELEASES: [&str; 2] = ["0.1.1", "0.2.0"];

const PIP_INSTALL: &str = "pip install kazurator==0.2.0 kazoo==2.11.0";

/// The kazurator release wanted: `ZKURATOR_KAZURATOR`, else [`KAZURATOR_VERSION`].
fn wanted_release() -> String {
    std::env::var(KAZURATOR_RELEASE_ENV).ok().filter(|v| !v.trim().is_empty()).unwrap_or(KAZURATOR_VERSION.into())
}

/// The venv of the wanted release: `zkurator-venv` for the default, else
/// `zkurator-venv-<release>`.
fn venv_dir() -> PathBuf {
    match wanted_release().as_str() {
        KAZURATOR_VERSION => target_dir().join("zkurator-venv"),
        other => target_dir().join(format!("zkurator-venv-{other}")),
    }
}
const APT_PYTHON: &str = "apt-get install -y python3 python3-venv";

/// The Python runtimes: a resolved interpreter with kazurator and kazoo.
#[derive(Clone, Debug)]
pub struct KazuratorRuntime {
    python: PathBuf,
    script: PathBuf,
    kazurator: String,
    kazoo: String,
}

/// The interpreter found or built once per process (see [`KazuratorRuntime::new`]).
#[derive(Clone, Debug)]
struct Interpreter {
    python: PathBuf,
    kazurator: String,
    kazoo: String,
}

/// A [`StartError::Missing`] that can be cached and handed out repeatedly.
#[derive(Clone, Debug)]
struct Missing {
    what: String,
    detail: String,
    install: String,
}

impl Missing {
    fn new(what: &str, detail: impl Into<String>, install: &str) -> Self {
        Missing { what: what.into(), detail: detail.into(), install: install.into() }
    }
}

impl From<Missing> for StartError {
    fn from(m: Missing) -> Self {
        StartError::Missing { what: m.what, detail: m.detail, install: m.install }
    }
}

impl KazuratorRuntime {
    /// Finds the interpreter: `ZKURATOR_PYTHON` if set, else the venv at
    /// `<target dir>/zkurator-venv`, creating it (python3 -m venv, pip install
    /// kazurator and kazoo) when missing or broken.
    ///
    /// The lookup runs once per process; concurrent callers wait for it. Two
    /// processes building at once each build a private directory and rename it
    /// into place, so neither sees a half-built venv.
    pub fn new() -> Result<Self, StartError> {
        static INTERPRETER: OnceLock<Result<Interpreter, Missing>> = OnceLock::new();
        let interpreter = INTERPRETER.get_or_init(find_or_build_interpreter).clone()?;
        let script = crate::assets::unpack("python")?.join("contender.py");
        if !script.is_file() {
            return Err(StartError::Missing {
                what: "contender.py".into(),
                detail: format!("{} does not exist", script.display()),
                install: "restore harness/python/contender.py from the repository".into(),
            });
        }
        Ok(KazuratorRuntime {
            python: interpreter.python,
            script,
            kazurator: interpreter.kazurator,
            kazoo: interpreter.kazoo,
        })
    }

    /// The installed (kazurator, kazoo) versions.
    pub fn versions(&self) -> (String, String) {
        (self.kazurator.clone(), self.kazoo.clone())
    }

    /// The Python interpreter contenders run in.
    pub fn python(&self) -> &Path {
        &self.python
    }

    /// Starts one contender process of `runtime` ([`Runtime::Kazurator`] or
    /// [`Runtime::KazooNative`]) and waits until its session is connected and
    /// its lock handle exists.
    ///
    /// kazoo-native has no multi-lease mutex: `max_leases > 1` fails with a
    /// [`StartError::Failed`] whose message starts with `unsupported:`.
    pub fn start_contender(&self, runtime: Runtime, spec: &ContenderSpec) -> Result<PythonContender, StartError> {
        self.start_contender_within(runtime, spec, child::START_LIMIT)
    }

    /// [`Self::start_contender`], killing the process if it is not ready within `limit`.
    pub fn start_contender_within(
        &self,
        runtime: Runtime,
        spec: &ContenderSpec,
        limit: Duration,
    ) -> Result<PythonContender, StartError> {
        let failed = |message: String| StartError::Failed { runtime, id: spec.id.clone(), message };
        if !matches!(runtime, Runtime::Kazurator | Runtime::KazooNative) {
            return Err(failed(format!("the Python runtime cannot run {runtime} contenders")));
        }
        let started = Instant::now();
        let mut first_line = serde_json::to_value(spec).map_err(|e| failed(e.to_string()))?;
        first_line["runtime"] = serde_json::to_value(runtime).map_err(|e| failed(e.to_string()))?;

        let mut command = Process::new(&self.python);
        command
            .arg("-u")
            .arg(&self.script)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SIGTERM: the adapter closes its session, then exits.
        child::die_with_parent(&mut command, false);
        let mut child = command.spawn().map_err(|e| failed(format!("cannot run {}: {e}", self.python.display())))?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let session = Arc::new(Mutex::new(None));
        let announced = Arc::clone(&session);
        let stderr = StderrTail::spawn(child.stderr.take().expect("piped stderr"), &spec.id, move |line| {
            let credentials = session_announcement(line);
            let found = credentials.is_some();
            if found {
                *lock(&announced) = credentials;
            }
            found
        });
        let mut contender = PythonContender {
            runtime,
            id: spec.id.clone(),
            pid: child.id(),
            child: Arc::new(Mutex::new(child)),
            stdin: Some(stdin),
            stdout,
            stderr,
            ready: Ready::default(),
            ended: None,
            connect: spec.connect.clone(),
            session,
        };

        let limit_guard = child::StartLimit::arm(&contender.child, limit);
        let ready_line = contender.write_line(&first_line.to_string()).and_then(|()| contender.read_line());
        drop(limit_guard);
        let line = match ready_line {
            Ok(line) => line,
            Err(why) => return Err(failed(contender.died(&why))),
        };
        let ready: Ready = serde_json::from_str(&line).map_err(|e| failed(format!("bad ready line {line:?}: {e}")))?;
        if !ready.ready {
            let error = ready.error.unwrap_or_default();
            let message = if ready.unsupported { format!("unsupported: {error}") } else { error };
            return Err(failed(message));
        }
        if spec.lock_data.is_some() && !ready.lock_data {
            tracing::warn!(id = %spec.id, %runtime, "lock data given but {runtime} cannot store it");
        }
        tracing::debug!(
            id = %spec.id,
            %runtime,
            session = ready.session_id.as_deref().unwrap_or("?"),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "python contender ready"
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

/// The ready line of a contender process.
#[derive(Debug, Default, Deserialize)]
struct Ready {
    ready: bool,
    #[serde(default)]
    unsupported: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    kazurator: Option<String>,
    #[serde(default)]
    kazoo: Option<String>,
    #[serde(default)]
    lock_data: bool,
    #[serde(default)]
    session_id: Option<String>,
    #[serde(default)]
    session_timeout_ms: Option<u64>,
    #[serde(default)]
    session_password: Option<String>,
}

/// One Python contender process (kazurator or kazoo-native).
///
/// [`Contender::execute`] writes one command line and blocks until the reply
/// line; if the process is gone it answers `Error { kind: SessionLost }` with
/// the end of the process's stderr. Dropping the contender closes its stdin
/// (the process then closes its session) and kills it if it has not exited
/// within a second.
pub struct PythonContender {
    runtime: Runtime,
    id: String,
    pid: u32,
    /// Shared with crashers; its pipes are taken out, so killing never waits
    /// for a thread blocked on stdout.
    child: Arc<Mutex<Child>>,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    stderr: Arc<StderrTail>,
    /// The ZooKeeper connect string, for the expirer.
    connect: String,
    /// The current session's credentials: from the ready line, then from the
    /// process's announcements of every new session on stderr.
    session: Arc<Mutex<Option<SessionCredentials>>>,
    ready: Ready,
    /// Why the contender can take no more commands, once it cannot.
    ended: Option<String>,
}

impl PythonContender {
    /// The contender id from its spec.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The process id of the Python process.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The (kazurator, kazoo) versions the process imported; kazurator is
    /// empty if the interpreter lacks it (possible with kazoo-native only).
    pub fn versions(&self) -> (String, String) {
        (self.ready.kazurator.clone().unwrap_or_default(), self.ready.kazoo.clone().unwrap_or_default())
    }

    /// Whether the runtime stores the spec's `lock_data` in its lock nodes
    /// (kazurator: never; kazoo-native: as UTF-8 text).
    pub fn stores_lock_data(&self) -> bool {
        self.ready.lock_data
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
        child::write_line(self.stdin.as_mut().ok_or("stdin closed")?, line)
    }

    fn read_line(&mut self) -> Result<String, String> {
        child::read_line(&mut self.stdout)
    }

    /// Describes a dead (or dying) process: exit status and stderr tail.
    fn died(&mut self, why: &str) -> String {
        self.stdin = None;
        // The stderr pipe ends when the process does; give it a moment so the
        // tail holds the last words.
        self.stderr.wait_closed(Duration::from_secs(2));
        format!(
            "python contender {} (pid {}): {why}; exit status: {}; stderr tail:\n{}",
            self.id,
            self.pid,
            child::exit_status(&self.child),
            self.stderr.text()
        )
    }

    /// Waits up to `grace` for the process to exit, then kills it.
    fn finish(&mut self, grace: Duration) {
        self.stdin = None;
        child::wait_or_kill(&self.child, grace);
    }
}

impl Contender for PythonContender {
    fn runtime(&self) -> Runtime {
        self.runtime
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
        let answer = self.write_line(&line).and_then(|()| self.read_line());
        let reply_line = match answer {
            Ok(reply_line) => reply_line,
            Err(why) => {
                let message = self.died(&why);
                self.ended = Some(message.clone());
                return Reply::Error { kind: ErrorKind::SessionLost, message };
            }
        };
        let reply = serde_json::from_str(&reply_line).unwrap_or_else(|e| Reply::Error {
            kind: ErrorKind::Other,
            message: format!("bad reply line {reply_line:?}: {e}"),
        });
        if is_close {
            self.ended = Some(format!("python contender {} was closed", self.id));
            self.finish(Duration::from_secs(5));
        }
        reply
    }

    fn crasher(&self) -> Crasher {
        let child = Arc::clone(&self.child);
        Box::new(move || {
            let mut child = lock(&child);
            // SIGKILL: the session stays until the server expires it.
            let _ = child.kill();
            let _ = child.wait();
        })
    }

    fn expirer(&self) -> Option<Crasher> {
        let session = Arc::clone(&self.session);
        let connect = self.connect.clone();
        let id = self.id.clone();
        Some(Box::new(move || {
            let Some(creds) = lock(&session).clone() else {
                tracing::warn!(id = %id, "expire: the process never told its session credentials");
                return;
            };
            if let Err(e) = crate::nemesis::expire_session(&connect, &creds, Duration::from_secs(10)) {
                tracing::warn!(id = %id, "expire: {e}");
            }
        }))
    }

    /// SIGSTOP, then SIGCONT: a pause (GC, VM stall) of the whole process.
    fn pauser(&self) -> Option<crate::contender::Pauser> {
        Some(crate::contender::process_pauser(self.pid))
    }

    fn killer(&self) -> Option<Crasher> {
        Some(self.crasher())
    }
}

impl Drop for PythonContender {
    fn drop(&mut self) {
        self.finish(Duration::from_secs(1));
    }
}

impl std::fmt::Debug for PythonContender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PythonContender")
            .field("runtime", &self.runtime)
            .field("id", &self.id)
            .field("pid", &self.pid)
            .field("session_id", &self.ready.session_id)
            .finish()
    }
}

/// The credentials in a `ZKURATOR-SESSION <id> <password>` stderr line of
/// `contender.py` (printed whenever the process gets a session).
fn session_announcement(line: &str) -> Option<SessionCredentials> {
    let mut words = line.split_whitespace();
    if words.next()? != "ZKURATOR-SESSION" {
        return None;
    }
    SessionCredentials::from_hex(words.next()?, words.next()?).ok()
}

/// The cache directory ([`crate::assets::cache_dir`]): the target dir in a checkout.
fn target_dir() -> PathBuf {
    crate::assets::cache_dir()
}

fn find_or_build_interpreter() -> Result<Interpreter, Missing> {
    if let Some(python) = std::env::var_os(PYTHON_ENV).filter(|p| !p.is_empty()) {
        let python = PathBuf::from(python);
        return probe(&python).map_err(|detail| {
            Missing::new(
                &format!("kazurator and kazoo for {PYTHON_ENV}={}", python.display()),
                detail,
                &format!("{} -m {PIP_INSTALL}", python.display()),
            )
        });
    }
    let venv = venv_dir();
    let python = venv.join("bin").join("python");
    if let Ok(found) = probe(&python) {
        if found.kazurator == wanted_release() && found.kazoo == KAZOO_VERSION {
            return Ok(found);
        }
        tracing::info!(
            venv = %venv.display(),
            kazurator = %found.kazurator,
            kazoo = %found.kazoo,
            "venv has other versions; rebuilding it"
        );
    }
    build_venv(&venv)
}

/// Checks that `python` runs and imports kazurator and kazoo (the check the
/// `ZKURATOR_PYTHON` override gets); returns their (kazurator, kazoo) versions,
/// or a [`StartError::Missing`] saying what failed and how to install it.
pub fn check_interpreter(python: &Path) -> Result<(String, String), StartError> {
    probe(python).map(|found| (found.kazurator, found.kazoo)).map_err(|detail| StartError::Missing {
        what: format!("kazurator and kazoo for {}", python.display()),
        detail,
        install: format!("{} -m {PIP_INSTALL}", python.display()),
    })
}

/// Runs `python` and asks for the installed kazurator and kazoo versions.
fn probe(python: &Path) -> Result<Interpreter, String> {
    const SCRIPT: &str = "import kazurator, kazoo.client\n\
                          from importlib.metadata import version\n\
                          print(version('kazurator'))\n\
                          print(version('kazoo'))";
    let out = Process::new(python)
        .args(["-c", SCRIPT])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} cannot import kazurator and kazoo: {}",
            python.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines().map(str::trim);
    match (lines.next(), lines.next()) {
        (Some(kazurator), Some(kazoo)) => {
            Ok(Interpreter { python: python.to_path_buf(), kazurator: kazurator.to_string(), kazoo: kazoo.to_string() })
        }
        _ => Err(format!("unexpected version output {text:?}")),
    }
}

fn build_venv(venv: &Path) -> Result<Interpreter, Missing> {
    let started = Instant::now();
    let parent = venv.parent().expect("venv has a parent");
    std::fs::create_dir_all(parent)
        .map_err(|e| Missing::new("a writable target directory", format!("{}: {e}", parent.display()), APT_PYTHON))?;
    let nonce = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let name = venv.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let building = parent.join(format!("{name}.building-{}-{nonce}", std::process::id()));
    let result = build_venv_in(&building);
    if let Err(missing) = result {
        let _ = std::fs::remove_dir_all(&building);
        return Err(missing);
    }
    // Publish atomically. A directory already there is another process's
    // finished venv (keep it if it works) or a broken one (move it aside).
    if std::fs::rename(&building, venv).is_err() {
        if probe(&venv.join("bin").join("python"))
            .is_ok_and(|found| found.kazurator == wanted_release() && found.kazoo == KAZOO_VERSION)
        {
            let _ = std::fs::remove_dir_all(&building);
        } else {
            let trash = parent.join(format!("{name}.old-{}-{nonce}", std::process::id()));
            let _ = std::fs::rename(venv, &trash);
            let renamed = std::fs::rename(&building, venv);
            let _ = std::fs::remove_dir_all(&trash);
            if let Err(e) = renamed {
                let _ = std::fs::remove_dir_all(&building);
                return Err(Missing::new(
                    "a usable venv",
                    format!("cannot move the new venv to {}: {e}", venv.display()),
                    PIP_INSTALL,
                ));
            }
        }
    }
    let found = probe(&venv.join("bin").join("python"))
        .map_err(|detail| Missing::new("kazurator and kazoo", detail, PIP_INSTALL))?;
    tracing::info!(
        venv = %venv.display(),
        kazurator = %found.kazurator,
        kazoo = %found.kazoo,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "python venv ready"
    );
    Ok(found)
}

fn build_venv_in(dir: &Path) -> Result<(), Missing> {
    let python3 = Process::new("python3").args(["-m", "venv"]).arg(dir).stdin(Stdio::null()).output();
    let out = match python3 {
        Err(e) => return Err(Missing::new("python3", format!("cannot run python3: {e}"), APT_PYTHON)),
        Ok(out) => out,
    };
    if !out.status.success() {
        return Err(Missing::new(
            "python3 venv module",
            format!("python3 -m venv {} failed: {}", dir.display(), String::from_utf8_lossy(&out.stderr).trim()),
            APT_PYTHON,
        ));
    }
    let kazurator = format!("kazurator=={}", wanted_release());
    let kazoo = format!("kazoo=={KAZOO_VERSION}");
    let out = Process::new(dir.join("bin").join("python"))
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
        .args([&kazurator, &kazoo])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Missing::new("pip", format!("cannot run pip: {e}"), PIP_INSTALL))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(10).collect();
        return Err(Missing::new(
            "kazurator and kazoo",
            format!(
                "pip install {kazurator} {kazoo} failed: {}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ),
            PIP_INSTALL,
        ));
    }
    Ok(())
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
}
