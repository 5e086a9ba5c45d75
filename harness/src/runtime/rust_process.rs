//! The `rust-process` runtime: a zkurator contender in a child process of its
//! own, so that it can be killed like a real service (`C kill`: SIGKILL, the
//! session stays until it times out).
//!
//! The child is this crate's binary run as `zkurator-harness contender` (a
//! hidden subcommand, [`serve`]), speaking the contender protocol
//! (`docs/contender-protocol.md`; the client is [`super::line`]):
//!
//! - stdout line 1: the hello, declaring the `rust-process` (or `curator`)
//!   entry of the capability table, `oob` among them;
//! - stdin line 1: the [`ContenderSpec`];
//! - stdout line 2: `{"ready":true}` or `{"ready":false,"error":"..."}`;
//! - then one [`Command`] per stdin line, one [`Reply`] per stdout line;
//! - out of band, at any time (also while a command runs): `{"oob":"crash"}`
//!   or `{"oob":"expire"}`, which end the child's session; they have no reply.
//!
//! Inside, the child is a [`RustContender`]: the same code as the `rust`
//! runtime, so a `rust-process` contender behaves exactly like a `rust` one.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;
use zkurator::negative::NegativeControl;

use serde::{Deserialize, Serialize};

use super::child;
use super::line::{LineContender, LineProcess};
use crate::contender::{Command, Contender, ContenderSpec, Crasher, ErrorKind, Reply, Runtime, StartError};
use crate::runtime::rust::RustContender;

/// Environment variable naming the `zkurator-harness` binary to run children
/// with (default: found next to the running executable).
pub const HARNESS_BIN_ENV: &str = "ZKURATOR_HARNESS_BIN";

const BINARY_NAME: &str = "zkurator-harness";

/// Out-of-band requests to a child.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Oob {
    /// End the session at once ([`Contender::crasher`]).
    Crash,
    /// Have the server expire the session ([`Contender::expirer`]).
    Expire,
}

#[derive(Debug, Serialize, Deserialize)]
struct OobLine {
    oob: Oob,
}

/// The child's first stdout line.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Ready {
    ready: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Finds the `zkurator-harness` binary: `ZKURATOR_HARNESS_BIN`, else the
/// running executable if it is the harness, else a `zkurator-harness` next to
/// it or one directory up (test executables live in `target/<profile>/deps`).
pub fn find_binary() -> Result<PathBuf, StartError> {
    let explicit = std::env::var_os(HARNESS_BIN_ENV).filter(|v| !v.is_empty()).map(PathBuf::from);
    locate_binary(explicit, std::env::current_exe().ok())
}

/// [`find_binary`] with its inputs as parameters.
pub fn locate_binary(explicit: Option<PathBuf>, current_exe: Option<PathBuf>) -> Result<PathBuf, StartError> {
    let missing = |detail: String| StartError::Missing {
        what: format!("the {BINARY_NAME} binary (for rust-process contenders)"),
        detail,
        install: format!("cargo build -p zkurator-harness, or set {HARNESS_BIN_ENV}=<path to {BINARY_NAME}>"),
    };
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(path)
        } else {
            Err(missing(format!("{HARNESS_BIN_ENV}={} is not a file", path.display())))
        };
    }
    let Some(exe) = current_exe else { return Err(missing("the running executable is unknown".into())) };
    if exe.file_stem().is_some_and(|stem| stem == BINARY_NAME) {
        return Ok(exe);
    }
    let name = format!("{BINARY_NAME}{}", std::env::consts::EXE_SUFFIX);
    let dir = exe.parent().unwrap_or(Path::new("."));
    let candidates = [dir.join(&name), dir.parent().unwrap_or(dir).join(&name)];
    candidates.iter().find(|c| c.is_file()).cloned().ok_or_else(|| {
        let looked: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
        missing(format!("not found at {}", looked.join(" or ")))
    })
}

/// Starts `rust-process` contenders.
#[derive(Clone, Debug)]
pub struct RustProcessRuntime {
    binary: PathBuf,
}

impl RustProcessRuntime {
    /// Finds the binary ([`find_binary`]).
    pub fn new() -> Result<RustProcessRuntime, StartError> {
        Ok(RustProcessRuntime { binary: find_binary()? })
    }

    /// Children run `binary contender`.
    pub fn with_binary(binary: PathBuf) -> RustProcessRuntime {
        RustProcessRuntime { binary }
    }

    /// The binary children run.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// Starts one child and waits until its session is connected.
    pub fn start_contender(&self, spec: &ContenderSpec) -> Result<RustProcessContender, StartError> {
        self.start_worker(spec, Runtime::RustProcess, &[])
    }

    /// Starts one child serving a contender of `runtime`: zkurator
    /// (`rust-process`), or Curator with the jars on `CURATOR_CLASSPATH` in
    /// `envs` (a Curator release other than the one this process embeds).
    pub fn start_worker(
        &self,
        spec: &ContenderSpec,
        runtime: Runtime,
        envs: &[(&str, String)],
    ) -> Result<RustProcessContender, StartError> {
        self.process(runtime.clone(), envs).start(runtime, spec, child::START_LIMIT)
    }

    /// How a child of `runtime` is run: `binary contender [--serve curator]`,
    /// whose hello must declare the runtime's capability table entry.
    pub fn process(&self, runtime: Runtime, envs: &[(&str, String)]) -> LineProcess {
        let mut args = vec!["contender".to_owned()];
        if runtime == Runtime::Curator {
            args.extend(["--serve".to_owned(), "curator".to_owned()]);
        }
        LineProcess {
            envs: envs.iter().map(|(k, v)| (k.into(), v.into())).collect(),
            expected: Some(runtime.capabilities()),
            ..LineProcess::new(&self.binary, args)
        }
    }
}

/// Runs `rust-process` contenders (and Curator workers pinned to a release):
/// finds the harness binary on first use, or uses the one it was given.
#[derive(Debug, Default)]
pub struct RustProcessAdapter {
    found: std::sync::OnceLock<Result<RustProcessRuntime, StartError>>,
}

impl RustProcessAdapter {
    /// An adapter whose children run `binary` (tests pass
    /// `env!("CARGO_BIN_EXE_zkurator-harness")`).
    pub fn with_binary(binary: PathBuf) -> RustProcessAdapter {
        let adapter = RustProcessAdapter::default();
        let _ = adapter.found.set(Ok(RustProcessRuntime::with_binary(binary)));
        adapter
    }

    /// The runtime that starts the children.
    pub fn runtime(&self) -> Result<RustProcessRuntime, StartError> {
        self.found.get_or_init(RustProcessRuntime::new).clone()
    }
}

impl super::adapter::Adapter for RustProcessAdapter {
    fn runs(&self, runtime: &Runtime) -> bool {
        *runtime == Runtime::RustProcess
    }

    fn prepare(&self) -> Result<(), StartError> {
        self.runtime().map(drop)
    }

    fn starter(&self, _: &Runtime) -> Result<super::adapter::Starter, StartError> {
        let process = self.runtime()?;
        Ok(Box::new(move |spec| super::adapter::boxed(process.start_contender(spec))))
    }

    fn release(&self) -> Option<String> {
        Some(env!("CARGO_PKG_VERSION").to_owned())
    }

    fn describe(&self) -> (String, Result<String, StartError>) {
        (
            "zkurator in child processes (runtime rust-process)".into(),
            self.runtime().map(|p| p.binary().display().to_string()),
        )
    }
}

/// A zkurator (or Curator worker) contender in a child process: crash and
/// expire go to it out of band.
pub type RustProcessContender = LineContender;

/// One line from the parent, as the child's reader sees it.
#[derive(Debug, PartialEq)]
enum Incoming {
    Command(Command),
    Oob(Oob),
    Bad(String),
}

fn classify(line: &str) -> Incoming {
    if let Ok(oob) = serde_json::from_str::<OobLine>(line) {
        return Incoming::Oob(oob.oob);
    }
    match serde_json::from_str::<Command>(line) {
        Ok(command) => Incoming::Command(command),
        Err(e) => Incoming::Bad(format!("bad command line {:?}: {e}", line.trim())),
    }
}

/// The hello of a child serving `runtime`: its capability table entry.
fn hello(runtime: Runtime) -> serde_json::Value {
    serde_json::json!({
        "hello": super::line::HELLO_MARK,
        "protocol": super::line::PROTOCOL_VERSION,
        "runtime": runtime.name(),
        "versions": { "zkurator": zkurator_version() },
        "capabilities": runtime.capabilities(),
    })
}

fn zkurator_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The child: `zkurator-harness contender`. Reads a [`ContenderSpec`] line,
/// starts a [`RustContender`] (its lock broken by `control`, if given), then
/// serves commands until stdin ends (then closes the contender, releasing
/// what it holds). Returns the exit code.
pub fn serve(control: Option<NegativeControl>, input: impl BufRead + Send + 'static, output: impl Write) -> i32 {
    serve_runtime(Runtime::Rust, control, input, output)
}

/// [`serve`] for a contender of `runtime`: `rust` (zkurator) or `curator`
/// (the JVM embedded in the child, with `CURATOR_CLASSPATH`'s jars).
pub fn serve_runtime(
    runtime: Runtime,
    control: Option<NegativeControl>,
    input: impl BufRead + Send + 'static,
    mut output: impl Write,
) -> i32 {
    let served = if runtime == Runtime::Curator { Runtime::Curator } else { Runtime::RustProcess };
    if !send(&mut output, &hello(served)) {
        return 1;
    }
    let mut lines = input.lines();
    let spec: ContenderSpec = match lines.next() {
        Some(Ok(line)) => match serde_json::from_str(&line) {
            Ok(spec) => spec,
            Err(e) => {
                send(&mut output, &Ready { ready: false, error: Some(format!("bad spec line: {e}")) });
                return 1;
            }
        },
        _ => return 0,
    };
    let started: Result<Box<dyn Contender>, StartError> = match runtime {
        Runtime::Curator => crate::runtime::curator::CuratorRuntime::start()
            .and_then(|jvm| jvm.start_contender(&spec))
            .map(|c| Box::new(c) as Box<dyn Contender>),
        _ => RustContender::start(Runtime::Rust, &spec, &super::rust::RustSetup::new(control))
            .map(|c| Box::new(c) as Box<dyn Contender>),
    };
    let mut contender = match started {
        Ok(contender) => contender,
        Err(e) => {
            send(&mut output, &Ready { ready: false, error: Some(e.to_string()) });
            return 1;
        }
    };
    let crasher: Arc<Crasher> = Arc::new(contender.crasher());
    let expirer: Arc<Crasher> = Arc::new(contender.expirer().unwrap_or_else(|| contender.crasher()));
    let on_eof = Arc::clone(&crasher);
    let (commands, incoming) = mpsc::channel::<Result<Command, String>>();
    let reader = thread::spawn(move || {
        let _eof = EndOnEof(on_eof);
        for line in lines {
            let Ok(line) = line else { break };
            match classify(&line) {
                Incoming::Oob(what) => {
                    let handle = Arc::clone(if what == Oob::Crash { &crasher } else { &expirer });
                    // Ending a session takes a moment; commands keep flowing meanwhile.
                    thread::spawn(move || handle());
                }
                Incoming::Command(command) => {
                    if commands.send(Ok(command)).is_err() {
                        break;
                    }
                }
                Incoming::Bad(message) => {
                    if commands.send(Err(message)).is_err() {
                        break;
                    }
                }
            }
        }
    });
    if !send(&mut output, &Ready { ready: true, error: None }) {
        return 1;
    }
    let mut closed = false;
    while let Ok(command) = incoming.recv() {
        let reply = match command {
            Ok(command) => {
                closed |= matches!(command, Command::Close);
                contender.execute(command)
            }
            Err(message) => Reply::Error { kind: ErrorKind::Other, message },
        };
        if !send(&mut output, &reply) {
            break;
        }
    }
    if !closed {
        // The parent went away: release and close like a clean shutdown.
        let _ = contender.execute(Command::Close);
    }
    drop(contender);
    let _ = reader.join();
    0
}

/// When stdin ends (the harness closed it or died) the main loop closes the
/// contender cleanly; if it cannot, because it waits in an acquire, this
/// ends the session at once and then the process.
struct EndOnEof(Arc<Crasher>);

impl Drop for EndOnEof {
    fn drop(&mut self) {
        let crasher = Arc::clone(&self.0);
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(300));
            crasher();
            thread::sleep(Duration::from_millis(500));
            std::process::exit(0);
        });
    }
}

/// Writes one JSON line; false when the parent is gone.
fn send<T: Serialize>(output: &mut impl Write, value: &T) -> bool {
    let Ok(line) = serde_json::to_string(value) else { return false };
    writeln!(output, "{line}").and_then(|()| output.flush()).is_ok()
}

/// [`serve`] on this process's stdin and stdout.
pub fn serve_stdio(runtime: Runtime, control: Option<NegativeControl>) -> i32 {
    serve_runtime(runtime, control, BufReader::new(std::io::stdin()), std::io::stdout().lock())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contender::Side;

    #[test]
    fn lines_are_commands_oob_or_bad() {
        assert_eq!(classify(r#"{"oob":"expire"}"#), Incoming::Oob(Oob::Expire));
        assert_eq!(classify(r#"{"oob":"crash"}"#), Incoming::Oob(Oob::Crash));
        assert_eq!(
            classify(r#"{"op":"release","side":"mutex"}"#),
            Incoming::Command(Command::Release { side: Side::Mutex })
        );
        assert!(matches!(classify("{\"op\":\"fly\"}"), Incoming::Bad(m) if m.contains("bad command line")));
        assert!(matches!(classify("not json"), Incoming::Bad(_)));
    }

    #[test]
    fn binary_lookup() {
        let dir = tempfile::tempdir().unwrap();
        let deps = dir.path().join("deps");
        std::fs::create_dir(&deps).unwrap();
        let test_exe = deps.join("faults-0123");
        let harness = dir.path().join(BINARY_NAME);
        let err = locate_binary(None, Some(test_exe.clone())).unwrap_err().to_string();
        assert!(err.contains("not found") && err.contains("cargo build -p zkurator-harness"), "{err}");
        std::fs::write(&harness, b"").unwrap();
        assert_eq!(locate_binary(None, Some(test_exe)).unwrap(), harness);
        assert_eq!(locate_binary(None, Some(harness.clone())).unwrap(), harness);
        let err = locate_binary(Some(dir.path().join("nope")), None).unwrap_err().to_string();
        assert!(err.contains(HARNESS_BIN_ENV), "{err}");
    }

    #[test]
    fn a_bad_spec_line_is_refused_with_a_ready_false() {
        let mut out = Vec::new();
        let code = serve(None, std::io::Cursor::new(b"{\"id\":1}\n".to_vec()), &mut out);
        assert_eq!(code, 1);
        let text = String::from_utf8(out).unwrap();
        let (hello, ready) = text.split_once('\n').unwrap();
        let hello = super::super::line::Hello::parse(hello).unwrap();
        assert_eq!(hello.capabilities, Runtime::RustProcess.capabilities());
        let ready: Ready = serde_json::from_str(ready).unwrap();
        assert!(!ready.ready && ready.error.unwrap().contains("bad spec line"));
        let mut out = Vec::new();
        assert_eq!(serve(None, std::io::Cursor::new(Vec::new()), &mut out), 0, "no spec: nothing to do");
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 1, "only the hello");
    }
}
