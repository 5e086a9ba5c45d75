//! One Curator contender: the adapter instance in the JVM, driven command
//! by command ([`CuratorContender`]).

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use j4rs::{InvocationArg, Jvm};

use crate::contender::{Command, Contender, ContenderSpec, Crasher, LockKind, Reply, Runtime, Side, StartError};
use crate::nemesis::SessionCredentials;

use super::jni::{arg, call, call_string, java_message, other, prim, GlobalRef};
use super::runtime::{CuratorRuntime, ADAPTER_CLASS};

/// How long [`CuratorRuntime::start_contender`] waits at least for the first connection.
const MIN_CONNECT_WAIT: Duration = Duration::from_secs(5);

impl CuratorRuntime {
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

    fn session_id(&self) -> Option<String> {
        self.credentials_getter()().map(|c| format!("0x{:x}", c.id))
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

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Mutex => "mutex",
        Side::Read => "read",
        Side::Write => "write",
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

/// `Contender: Send` holds for the Curator contender (j4rs `Instance`s are `Send`).
const _: fn() = || {
    fn is_send<T: Send>() {}
    is_send::<CuratorContender>();
};
