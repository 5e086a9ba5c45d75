//! The `curator` runtime: real Apache Curator in a JVM embedded in this process.
//!
//! # How it is put together
//!
//! * The Java side is one small adapter class, `zkurator.interop.CuratorContender`
//!   (`java/src/zkurator/interop/CuratorContender.java` in this repository). One
//!   instance is one contender: its own `CuratorFramework` (one ZooKeeper session)
//!   and its own lock handle (`InterProcessMutex`, the deprecated
//!   `InterProcessSemaphore` for a mutex with more than one lease, or the
//!   `InterProcessReadWriteLock` sides). Each command is one method call that
//!   returns the [`Reply`] as JSON.
//! * The adapter is compiled at run time with `javac` against the Curator jars,
//!   into `<target>/zkurator-java/classes-<hash>`, where the hash covers the Java
//!   sources and the classpath: a directory is compiled once and reused until a
//!   source (or the jar list) changes, and concurrent test processes never see a
//!   half-written directory (each compiles into a private directory and renames it).
//! * The JVM is created once per process ([`CuratorRuntime::start`]; a JVM
//!   cannot be restarted or reconfigured). Its classpath is set explicitly:
//!   Curator and ZooKeeper jars, the adapter classes, and j4rs's own jar **last**,
//!   because that jar bundles an old Guava that breaks Curator if it comes first.
//!
//! # Jars
//!
//! By default the Debian packages' jars in `/usr/share/java`
//! (`apt-get install -y libcurator-recipes-java`). `CURATOR_CLASSPATH` (a
//! `:`-separated list of jars or directories) replaces that list, to run another
//! Curator version: it must hold Curator client/framework/recipes, ZooKeeper and
//! their dependencies (Guava, SLF4J API and a binding such as slf4j-nop).
//!
//! # Threads
//!
//! Curator's mutex and read/write lock belong to the Java thread that acquired
//! them. The adapter therefore runs every lock operation of a contender on one
//! dedicated Java thread of its own; [`CuratorContender::execute`] may be called
//! from any Rust thread (each call attaches the calling thread to the JVM for the
//! duration of the call and waits for the contender's Java thread). The runner's
//! contract — `execute` for one contender always from one and the same Rust
//! thread — is thus not needed for correctness, but it is what the harness does.

use std::fmt;
use std::fs;
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use j4rs::{Instance, InvocationArg, JavaOpt, Jvm, JvmBuilder};

use crate::contender::{
    Command, Contender, ContenderSpec, Crasher, ErrorKind, LockKind, Reply, Runtime, Side, StartError,
};
use crate::nemesis::SessionCredentials;

/// The adapter class, fully qualified.
const ADAPTER_CLASS: &str = "zkurator.interop.CuratorContender";

const INSTALL_JDK: &str = "apt-get install -y default-jdk-headless";
const INSTALL_CURATOR: &str = "apt-get install -y libcurator-recipes-java";

/// Where the Debian packages put their jars.
const DEBIAN_JAR_DIR: &str = "/usr/share/java";
/// The Debian jars the adapter needs, in classpath order. The first four are
/// required; the rest are taken when present.
const DEBIAN_JARS: &[&str] = &[
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
const REQUIRED_DEBIAN_JARS: usize = 4;

/// How long [`CuratorRuntime::start_contender`] waits at least for the first connection.
const MIN_CONNECT_WAIT: Duration = Duration::from_secs(5);

/// The process-wide JVM, or why it could not be started.
static JVM: OnceLock<Result<JvmInfo, InitError>> = OnceLock::new();

#[derive(Debug)]
struct JvmInfo {
    version: String,
    location: String,
    classpath: String,
}

/// A start failure that can be cached and handed out again ([`StartError`] is not `Clone`).
#[derive(Clone, Debug)]
enum InitError {
    Missing { what: String, detail: String, install: String },
    Failed(String),
}

impl InitError {
    fn missing(what: &str, detail: impl Into<String>, install: &str) -> Self {
        InitError::Missing { what: what.to_string(), detail: detail.into(), install: install.to_string() }
    }

    fn to_start_error(&self) -> StartError {
        match self {
            InitError::Missing { what, detail, install } => {
                StartError::Missing { what: what.clone(), detail: detail.clone(), install: install.clone() }
            }
            InitError::Failed(message) => {
                StartError::Failed { runtime: Runtime::Curator, id: "(runtime)".to_string(), message: message.clone() }
            }
        }
    }
}

/// Handle to the process-wide JVM running Apache Curator.
///
/// Cheap to copy; every handle refers to the same JVM. See the module
/// documentation for the classpath, the jars and the threading model.
#[derive(Clone, Copy)]
pub struct CuratorRuntime {
    info: &'static JvmInfo,
}

impl fmt::Debug for CuratorRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CuratorRuntime")
            .field("version", &self.info.version)
            .field("location", &self.info.location)
            .finish()
    }
}

impl CuratorRuntime {
    /// Starts the process-wide JVM on first use (compiling the adapter if its
    /// sources changed) and returns a handle to it. Later calls return the same
    /// JVM, or the same error: a JVM cannot be started twice in one process.
    ///
    /// Errors: [`StartError::Missing`] when `java`/`javac` (JDK), the Curator jars
    /// or j4rs's jar cannot be found; [`StartError::Failed`] for anything else
    /// (compile errors, JVM creation failure).
    pub fn start() -> Result<CuratorRuntime, StartError> {
        match JVM.get_or_init(init_jvm) {
            Ok(info) => Ok(CuratorRuntime { info }),
            Err(e) => Err(e.to_start_error()),
        }
    }

    /// The Curator version actually loaded (from the curator-framework jar), e.g. `5.4.0`.
    pub fn version(&self) -> String {
        self.info.version.clone()
    }

    /// Where curator-framework was loaded from (a `file:` URL).
    pub fn curator_location(&self) -> &str {
        &self.info.location
    }

    /// The JVM's `java.class.path`.
    pub fn classpath(&self) -> &str {
        &self.info.classpath
    }

    /// Starts one contender: a new Curator client (session) connected to
    /// `spec.connect`, with its lock handle on `spec.lock_path`.
    ///
    /// Fails with [`StartError::Failed`] if the session cannot be established
    /// within `max(spec.session_timeout, 5 s)`, or for `lock_data` on a mutex with
    /// more than one lease (Curator's `InterProcessSemaphore` cannot store data).
    pub fn start_contender(&self, spec: &ContenderSpec) -> Result<CuratorContender, StartError> {
        let failed = |message: String| StartError::Failed { runtime: Runtime::Curator, id: spec.id.clone(), message };
        let jvm = Jvm::attach_thread().map_err(|e| failed(format!("attach to the JVM: {e}")))?;
        let (kind, max_leases) = match spec.kind {
            LockKind::Mutex { max_leases } => ("mutex", max_leases),
            LockKind::ReadWrite => ("read-write", 1),
            LockKind::Semaphore { max_leases } => ("semaphore", max_leases),
            LockKind::Multi { members } => ("multi-lock", members),
        };
        let max_leases = i32::try_from(max_leases).map_err(|_| failed(format!("max_leases {max_leases} too large")))?;
        let session_ms = i32::try_from(spec.session_timeout.as_millis())
            .map_err(|_| failed("session timeout too large".to_string()))?;
        let data_hex = spec.lock_data.as_deref().map(hex).unwrap_or_default();
        let args = [
            arg(spec.id.as_str()),
            arg(spec.connect.as_str()),
            arg(spec.lock_path.as_str()),
            arg(kind),
            prim(max_leases),
            prim(spec.lock_data.is_some()),
            arg(data_hex.as_str()),
            prim(session_ms),
        ];
        let args = args.into_iter().collect::<Result<Vec<_>, _>>().map_err(|e| failed(format!("arguments: {e}")))?;
        let adapter = jvm.create_instance(ADAPTER_CLASS, &args).map_err(|e| failed(java_message(&e)))?;
        let adapter = GlobalRef(Some(adapter));
        let wait = spec.session_timeout.max(MIN_CONNECT_WAIT);
        let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
        let reply = call(&jvm, adapter.get(), "open", [prim(wait_ms)]);
        match reply {
            Reply::Ok => {}
            Reply::Error { kind, message } => {
                return Err(failed(format!("{kind:?}: {message}")));
            }
            other => return Err(failed(format!("unexpected reply to open: {other:?}"))),
        }
        let session = call_string(&jvm, adapter.get(), "sessionId").unwrap_or_default();
        tracing::debug!(id = %spec.id, session = %session, "curator contender started");
        drop(jvm);
        Ok(CuratorContender { id: spec.id.clone(), session, connect: spec.connect.clone(), adapter, closed: false })
    }
}

/// One contender backed by Apache Curator in the embedded JVM.
///
/// It implements [`Contender`]: `execute` runs one command to completion (an
/// acquire blocks until granted, timed out or failed). All lock operations run on
/// the contender's own Java thread inside the adapter, as Curator requires; the
/// harness nevertheless calls `execute` for one contender from one and the same
/// Rust thread, which keeps the picture simple.
///
/// Runtime specifics, all real Curator behaviour passed through unchanged:
/// * a mutex with `max_leases > 1` is Curator's `InterProcessSemaphore` (v1), which
///   is not reentrant: each acquire takes one more lease (node), a release returns
///   the most recent one, and it cannot be made revocable (`Unsupported`);
/// * read→write upgrade waits on itself (Curator deadlocks); the acquire's
///   timeout decides when it ends;
/// * [`Command::MakeRevocable`] calls Curator's `makeRevocable`, which only affects
///   the *next* acquisition of that side: Curator sets the revocation watch when a
///   node is acquired and forgets the listener when the last hold is released. Send it before
///   the acquire. A revocation request then releases the side (all reentrant
///   holds) on the contender's Java thread as soon as that thread is idle, and the
///   next [`Command::Status`] lists it under `revoked`;
/// * [`Command::Participants`] on a read/write lock merges Curator's read-side and
///   write-side participant lists (each side lists only its own lock name) in lock
///   order.
///
/// Dropping a contender that was not closed closes it (releasing what it holds).
pub struct CuratorContender {
    id: String,
    session: String,
    /// The ZooKeeper connect string, for the expirer.
    connect: String,
    adapter: GlobalRef,
    closed: bool,
}

impl fmt::Debug for CuratorContender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CuratorContender")
            .field("id", &self.id)
            .field("session", &self.session)
            .field("closed", &self.closed)
            .finish()
    }
}

impl CuratorContender {
    /// The contender id from its spec.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The ZooKeeper session id (hex) the contender started with.
    pub fn session_id(&self) -> &str {
        &self.session
    }

    /// Like [`Contender::crasher`], but the way a killed process goes: the
    /// connection is dropped *without* closing the session (ZooKeeper's
    /// `Testable.injectSessionExpiration`), so the server keeps the session and its
    /// ephemeral lock nodes until the session timeout expires them. The contender
    /// itself stops at once (a blocked acquire returns `SessionLost`).
    pub fn killer(&self) -> Crasher {
        self.session_ender("kill")
    }

    /// The current session's credentials, asked from the adapter (callable while
    /// the contender's Java thread is blocked in an acquire).
    fn credentials_getter(&self) -> impl Fn() -> Option<SessionCredentials> + Send + Sync + 'static {
        let handle = Jvm::attach_thread().and_then(|jvm| jvm.clone_instance(self.adapter.get())).ok();
        let handle = Mutex::new(GlobalRef(handle));
        move || {
            let jvm = Jvm::attach_thread().ok()?;
            let guard = handle.lock().unwrap_or_else(|p| p.into_inner());
            let text = call_string(&jvm, guard.0.as_ref()?, "sessionCredentials")?;
            let (id, password) = text.split_once(' ')?;
            SessionCredentials::from_hex(id, password).ok()
        }
    }

    /// A handle that calls the adapter's `method` (`crash` or `kill`) from any thread.
    fn session_ender(&self, method: &'static str) -> Crasher {
        let handle = Jvm::attach_thread().and_then(|jvm| jvm.clone_instance(self.adapter.get())).ok();
        let handle = Mutex::new(GlobalRef(handle));
        let id = self.id.clone();
        Box::new(move || {
            let jvm = match Jvm::attach_thread() {
                Ok(jvm) => jvm,
                Err(e) => {
                    tracing::warn!(id = %id, "{method}: cannot attach to the JVM: {e}");
                    return;
                }
            };
            let guard = handle.lock().unwrap_or_else(|p| p.into_inner());
            match guard.0.as_ref() {
                Some(adapter) => {
                    if let Err(e) = jvm.invoke(adapter, method, InvocationArg::empty()) {
                        tracing::warn!(id = %id, "{method} failed: {}", java_message(&e));
                    }
                }
                None => tracing::warn!(id = %id, "{method}: no handle to the contender"),
            }
        })
    }

    /// Reads a node's data through this contender's session (not a harness
    /// command; for checks such as "the lock node carries the lock data").
    /// `Ok(None)` when the node does not exist.
    pub fn node_data(&mut self, path: &str) -> Result<Option<Vec<u8>>, String> {
        let jvm = Jvm::attach_thread().map_err(|e| format!("attach to the JVM: {e}"))?;
        match call(&jvm, self.adapter.get(), "nodeData", [arg(path)]) {
            Reply::Participants { nodes } => match nodes.first() {
                None => Ok(None),
                Some(h) => unhex(h).map(Some),
            },
            Reply::Error { kind, message } => Err(format!("{kind:?}: {message}")),
            other => Err(format!("unexpected reply {other:?}")),
        }
    }
}

impl Contender for CuratorContender {
    fn runtime(&self) -> Runtime {
        Runtime::Curator
    }

    fn execute(&mut self, command: Command) -> Reply {
        let jvm = match Jvm::attach_thread() {
            Ok(jvm) => jvm,
            Err(e) => return other(format!("attach to the JVM: {e}")),
        };
        let adapter = self.adapter.get();
        match command {
            Command::Acquire { side, timeout } => {
                let millis = match timeout {
                    None => -1,
                    Some(t) => i64::try_from(t.as_millis()).unwrap_or(i64::MAX),
                };
                call(&jvm, adapter, "acquire", [arg(side_name(side)), prim(millis)])
            }
            Command::Release { side } => call(&jvm, adapter, "release", [arg(side_name(side))]),
            Command::Participants => call(&jvm, adapter, "participants", []),
            Command::MakeRevocable { side } => call(&jvm, adapter, "makeRevocable", [arg(side_name(side))]),
            Command::Revoke { node } => call(&jvm, adapter, "revoke", [arg(node.as_str())]),
            Command::Status => call(&jvm, adapter, "status", []),
            Command::ReadValue { counter } => call(&jvm, adapter, "readValue", [arg(counter.as_str())]),
            Command::WriteValue { counter, side, protection } => {
                call(&jvm, adapter, "writeValue", [arg(counter.as_str()), arg(side_name(side)), arg(protection.name())])
            }
            Command::Close => {
                self.closed = true;
                call(&jvm, adapter, "close", [])
            }
        }
    }

    /// Ends the session without releasing anything, from any thread: the adapter
    /// closes its `CuratorFramework` (the ZooKeeper handle sends its session close,
    /// so the server deletes the contender's ephemeral lock nodes at once, and
    /// Curator cannot reconnect with a fresh session) and interrupts the
    /// contender's Java thread, so an acquire blocked at that moment returns
    /// `SessionLost` promptly. Every later command answers `SessionLost`.
    fn crasher(&self) -> Crasher {
        self.session_ender("crash")
    }

    /// A real expiry: the session is taken over and closed by a second
    /// connection ([`crate::nemesis::expire_session`]); Curator keeps running,
    /// learns that its session expired and starts a new one.
    fn expirer(&self) -> Option<Crasher> {
        let credentials = self.credentials_getter();
        let connect = self.connect.clone();
        let id = self.id.clone();
        Some(Box::new(move || match credentials() {
            None => tracing::warn!(id = %id, "expire: no session credentials from Curator"),
            Some(creds) => {
                if let Err(e) = crate::nemesis::expire_session(&connect, &creds, Duration::from_secs(10)) {
                    tracing::warn!(id = %id, "expire: {e}");
                }
            }
        }))
    }

    fn killer(&self) -> Option<Crasher> {
        Some(CuratorContender::killer(self))
    }
}

impl Drop for CuratorContender {
    fn drop(&mut self) {
        if !self.closed {
            self.closed = true;
            if let Ok(jvm) = Jvm::attach_thread() {
                let _ = call(&jvm, self.adapter.get(), "close", []);
            }
        }
    }
}

/// A j4rs [`Instance`] (a JNI global reference) that is released with the
/// current thread attached: j4rs only deletes the reference when the dropping
/// thread has a JNI environment, and would leak it otherwise.
struct GlobalRef(Option<Instance>);

impl GlobalRef {
    fn get(&self) -> &Instance {
        self.0.as_ref().expect("instance present until drop")
    }
}

impl Drop for GlobalRef {
    fn drop(&mut self) {
        if let Some(instance) = self.0.take() {
            let jvm = Jvm::attach_thread();
            drop(instance);
            drop(jvm);
        }
    }
}

fn arg(s: &str) -> j4rs::errors::Result<InvocationArg> {
    InvocationArg::try_from(s)
}

fn prim<T>(value: T) -> j4rs::errors::Result<InvocationArg>
where
    InvocationArg: TryFrom<T, Error = j4rs::errors::J4RsError>,
{
    InvocationArg::try_from(value)?.into_primitive()
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Mutex => "mutex",
        Side::Read => "read",
        Side::Write => "write",
    }
}

fn other(message: String) -> Reply {
    Reply::Error { kind: ErrorKind::Other, message }
}

/// Calls an adapter method that returns a reply as JSON.
fn call<const N: usize>(
    jvm: &Jvm,
    adapter: &Instance,
    method: &str,
    args: [j4rs::errors::Result<InvocationArg>; N],
) -> Reply {
    let mut converted = Vec::with_capacity(N);
    for a in args {
        match a {
            Ok(a) => converted.push(a),
            Err(e) => return other(format!("argument for {method}: {e}")),
        }
    }
    let json = match jvm.invoke(adapter, method, &converted).and_then(|result| jvm.to_rust::<String>(result)) {
        Ok(json) => json,
        Err(e) => return other(format!("{method}: {}", java_message(&e))),
    };
    match serde_json::from_str::<Reply>(&json) {
        Ok(reply) => reply,
        Err(e) => other(format!("{method}: unreadable reply {json:?}: {e}")),
    }
}

fn call_string(jvm: &Jvm, adapter: &Instance, method: &str) -> Option<String> {
    jvm.invoke(adapter, method, InvocationArg::empty()).and_then(|result| jvm.to_rust::<String>(result)).ok()
}

/// The first line of a j4rs error (Java errors carry the whole stack trace).
fn java_message(e: &j4rs::errors::J4RsError) -> String {
    let text = e.to_string();
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next().unwrap_or("").trim().to_string();
    // j4rs wraps the exception; the cause line says what actually happened.
    match lines.find(|l| l.trim_start().starts_with("Caused by:")) {
        Some(cause) => format!("{first} ({})", cause.trim()),
        None => first,
    }
}

fn unhex(text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) {
        return Err(format!("odd-length hex {text:?}"));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|e| format!("hex {text:?}: {e}")))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ------------------------------------------------------------------ JVM start

fn init_jvm() -> Result<JvmInfo, InitError> {
    let java_home = locate_java_home()?;
    let javac = find_program("javac").ok_or_else(|| {
        InitError::missing(
            "javac",
            "no javac in $JAVA_HOME/bin or on PATH (a JDK, not only a JRE, is needed to compile the Curator adapter)",
            INSTALL_JDK,
        )
    })?;
    let jars = curator_classpath()?;
    let classes = compile_adapter(&javac, &jars)?;
    let j4rs_jar = crate::assets::j4rs_jar().map_or_else(find_j4rs_jar, Ok)?;

    let mut entries: Vec<String> = jars.iter().map(|p| p.display().to_string()).collect();
    entries.push(classes.display().to_string());
    entries.push(j4rs_jar.display().to_string());
    let classpath = entries.join(":");
    let classpath_opt = format!("-Djava.class.path={classpath}");
    tracing::debug!(java_home = %java_home.display(), %classpath, "starting the JVM for Curator");

    // j4rs panics (instead of returning an error) when it cannot load libjvm.
    let built = std::panic::catch_unwind(|| {
        JvmBuilder::new()
            .with_no_implicit_classpath()
            // No Java->Rust callbacks are used: do not make j4rs's Java side load its
            // native library (java.library.path is not set in this mode).
            .skip_setting_native_lib()
            .java_opt(JavaOpt::new(&classpath_opt))
            .build()
    });
    let jvm = match built {
        Ok(Ok(jvm)) => jvm,
        Ok(Err(e)) => return Err(InitError::Failed(format!("JVM creation failed: {e}"))),
        Err(_) => {
            return Err(InitError::Failed(format!(
                "JVM creation panicked (could j4rs load libjvm from {}?)",
                java_home.display()
            )))
        }
    };
    let version = jvm
        .invoke_static(ADAPTER_CLASS, "curatorVersion", InvocationArg::empty())
        .and_then(|v| jvm.to_rust::<String>(v))
        .map_err(|e| {
            InitError::Failed(format!(
                "the adapter class cannot be used ({}); was a JVM already started in this \
                 process with another classpath? Classpath wanted: {classpath}",
                java_message(&e)
            ))
        })?;
    let location = jvm
        .invoke_static(ADAPTER_CLASS, "curatorLocation", InvocationArg::empty())
        .and_then(|v| jvm.to_rust::<String>(v))
        .unwrap_or_default();
    let actual_classpath = jvm
        .invoke_static(
            "java.lang.System",
            "getProperty",
            &[InvocationArg::try_from("java.class.path").map_err(|e| InitError::Failed(e.to_string()))?],
        )
        .and_then(|v| jvm.to_rust::<String>(v))
        .unwrap_or(classpath);
    drop(jvm);
    Ok(JvmInfo { version, location, classpath: actual_classpath })
}

/// `$JAVA_HOME`, or the installation the `java` on PATH belongs to, checked to
/// contain a `libjvm` (what j4rs loads).
fn locate_java_home() -> Result<PathBuf, InitError> {
    let home = match std::env::var_os("JAVA_HOME").filter(|h| !h.is_empty()) {
        Some(home) => PathBuf::from(home),
        None => {
            let java = find_program("java")
                .ok_or_else(|| InitError::missing("java", "no java on PATH and JAVA_HOME is unset", INSTALL_JDK))?;
            let real = fs::canonicalize(&java).unwrap_or(java);
            // <home>/bin/java
            real.parent()
                .and_then(Path::parent)
                .map(Path::to_path_buf)
                .ok_or_else(|| InitError::missing("java", format!("odd java path {}", real.display()), INSTALL_JDK))?
        }
    };
    if find_file(&home, "libjvm.so", 6).is_none() {
        return Err(InitError::missing(
            "libjvm",
            format!("no libjvm.so under the Java home {}", home.display()),
            INSTALL_JDK,
        ));
    }
    Ok(home)
}

fn find_file(dir: &Path, name: &str, depth: usize) -> Option<PathBuf> {
    let entries = fs::read_dir(dir).ok()?;
    let mut subdirs = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name() == name {
            return Some(path);
        }
        if depth > 0 && entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            subdirs.push(path);
        }
    }
    subdirs.iter().find_map(|d| find_file(d, name, depth - 1))
}

/// `$JAVA_HOME/bin/<name>` when JAVA_HOME is set, else `<name>` on PATH.
fn find_program(name: &str) -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("JAVA_HOME").filter(|h| !h.is_empty()) {
        let p = PathBuf::from(home).join("bin").join(name);
        if p.is_file() {
            return Some(p);
        }
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// The jars Curator needs: `CURATOR_CLASSPATH` or the Debian packages' jars.
fn curator_classpath() -> Result<Vec<PathBuf>, InitError> {
    find_jars(std::env::var_os("CURATOR_CLASSPATH").as_deref(), Path::new(DEBIAN_JAR_DIR))
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

fn find_jars(curator_classpath: Option<&std::ffi::OsStr>, jar_dir: &Path) -> Result<Vec<PathBuf>, InitError> {
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

fn java_sources(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
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
fn compile_adapter(javac: &Path, jars: &[PathBuf]) -> Result<PathBuf, InitError> {
    let source_dir = &crate::assets::unpack("java").map_err(|e| InitError::Failed(e.to_string()))?;
    let mut sources = Vec::new();
    java_sources(source_dir, &mut sources).map_err(|e| {
        InitError::Failed(format!("cannot read the Curator adapter sources in {}: {e}", source_dir.display()))
    })?;
    sources.sort();
    if sources.is_empty() {
        return Err(InitError::Failed(format!("no Java sources under {}", source_dir.display())));
    }
    // Content hash of the sources and the classpath (FNV-1a, stable across builds).
    let mut hash = Fnv::new();
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

/// j4rs's jar, found as j4rs finds it: the `jassets` directory next to (or
/// above) the running executable, where j4rs's build script copies it
/// (`target/<profile>/jassets/j4rs-<version>-jar-with-dependencies.jar`).
fn find_j4rs_jar() -> Result<PathBuf, InitError> {
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

/// 64-bit FNV-1a: a hash whose value does not change between Rust releases.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// `Contender: Send` holds for the Curator contender (j4rs `Instance`s are `Send`).
const _: fn() = || {
    fn is_send<T: Send>() {}
    is_send::<CuratorContender>();
};

/// Calls a public static `String method(String)` of a class on the JVM's
/// classpath (the adapter classes in `java/` included) and returns its result:
/// for probes that take and return JSON, such as
/// `zkurator.interop.DriverProbe.run`. `runtime` proves the JVM was started
/// ([`CuratorRuntime::start`]). Errors carry the Java exception's first line.
pub fn invoke_static_string(
    runtime: &CuratorRuntime,
    class: &str,
    method: &str,
    argument: &str,
) -> Result<String, String> {
    let _ = runtime;
    let jvm = Jvm::attach_thread().map_err(|e| format!("attach to the JVM: {e}"))?;
    let argument = arg(argument).map_err(|e| format!("argument for {class}.{method}: {e}"))?;
    jvm.invoke_static(class, method, &[argument])
        .and_then(|result| jvm.to_rust::<String>(result))
        .map_err(|e| format!("{class}.{method}: {}", java_message(&e)))
}
