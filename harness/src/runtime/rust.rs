//! The `rust` runtime (zkurator's own locks) and the `zk-client` runtime (the
//! `zookeeper-client` crate's `Client::lock`, mutex only).
//!
//! Each contender owns a single-threaded tokio runtime, a client with its own
//! session and one lock handle; `execute` blocks on the runtime.

use std::collections::HashMap;
use std::time::Duration;

use zkurator::{LockError, Mutex, MutexGuard, NegativeControl, ReadWriteLock};
use zookeeper_client::{Acls, Client, CreateMode, LockOptions, LockPrefix, OwnedLockClient};

use crate::contender::{
    Command, Contender, ContenderSpec, Crasher, ErrorKind, LockKind, Reply, Runtime, Side, StartError, Status,
};

/// The deliberately broken rule `rust` contenders start with, if any.
static NEGATIVE_CONTROL: std::sync::Mutex<Option<NegativeControl>> = std::sync::Mutex::new(None);

/// Makes every `rust` contender started from now on use a deliberately broken
/// lock (a negative control: the harness must catch it); `None` restores the
/// real lock. Process-wide: use it only in a run that wants every Rust
/// contender broken.
pub fn set_negative_control(control: Option<NegativeControl>) {
    *NEGATIVE_CONTROL.lock().unwrap_or_else(|p| p.into_inner()) = control;
}

fn negative_control() -> Option<NegativeControl> {
    *NEGATIVE_CONTROL.lock().unwrap_or_else(|p| p.into_inner())
}

/// A contender's own runtime and session.
struct Session {
    runtime: tokio::runtime::Runtime,
    client: Client,
    connect: String,
}

impl Session {
    fn open(runtime: Runtime, spec: &ContenderSpec) -> Result<Session, StartError> {
        let failed = |message: String| StartError::Failed { runtime, id: spec.id.clone(), message };
        // One worker thread keeps the session's pings going between commands.
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| failed(format!("tokio runtime: {e}")))?;
        let connect = tokio.block_on(
            Client::connector()
                .with_session_timeout(spec.session_timeout)
                .with_connection_timeout(Duration::from_secs(5))
                .connect(&spec.connect),
        );
        let client = connect.map_err(|e| failed(format!("cannot connect to ZooKeeper at {}: {e}", spec.connect)))?;
        Ok(Session { runtime: tokio, client, connect: spec.connect.clone() })
    }

    /// Expires the session from outside while the client's runtime is paused
    /// (see [`crate::nemesis::client_expirer`]).
    fn expirer(&self) -> Crasher {
        crate::nemesis::client_expirer(&self.client, self.runtime.handle().clone(), &self.connect)
    }

    /// A crash ends the session the way an expiry does (taken over and closed
    /// from a second connection while this client's runtime is frozen, so it
    /// cannot take the session back); the runner does not talk to a crashed
    /// contender again.
    fn crasher(&self) -> Crasher {
        self.expirer()
    }
}

fn error_reply(error: LockError) -> Reply {
    let kind = match &error {
        LockError::Timeout(_) => ErrorKind::Timeout,
        LockError::NotHeld(_) => ErrorKind::NotHeld,
        LockError::Upgrade => ErrorKind::Upgrade,
        LockError::SessionLost(_) => ErrorKind::SessionLost,
        LockError::NoAuth { .. } => ErrorKind::NoAuth,
        _ => ErrorKind::Other,
    };
    Reply::Error { kind, message: error.to_string() }
}

fn unsupported(what: &str) -> Reply {
    Reply::Error { kind: ErrorKind::Unsupported, message: what.to_owned() }
}

/// The lock handle of a `rust` contender.
enum Handle {
    Mutex(Mutex),
    ReadWrite(ReadWriteLock),
}

impl Drop for RustContender {
    fn drop(&mut self) {
        // Guards release in the background on drop, which needs the runtime.
        let _entered = self.session.runtime.enter();
        self.guards.clear();
    }
}

/// A zkurator contender.
pub struct RustContender {
    session: Session,
    handle: Handle,
    guards: HashMap<Side, Vec<MutexGuard>>,
    revocable: Vec<Side>,
}

impl RustContender {
    /// Connects and builds the lock handle for `spec`.
    pub fn start(spec: &ContenderSpec) -> Result<RustContender, StartError> {
        let session = Session::open(Runtime::Rust, spec)?;
        let failed =
            |e: LockError| StartError::Failed { runtime: Runtime::Rust, id: spec.id.clone(), message: e.to_string() };
        let handle = match spec.kind {
            LockKind::Mutex { max_leases } => {
                let mut builder =
                    Mutex::builder(&session.client, &spec.lock_path).max_leases(max_leases).revocable(true);
                if let Some(data) = &spec.lock_data {
                    builder = builder.data(data.clone());
                }
                if let Some(control) = negative_control() {
                    builder = builder.negative_control(control);
                }
                Handle::Mutex(builder.build().map_err(failed)?)
            }
            LockKind::ReadWrite => {
                let mut builder = ReadWriteLock::builder(&session.client, &spec.lock_path).revocable(true);
                if let Some(data) = &spec.lock_data {
                    builder = builder.data(data.clone());
                }
                if let Some(control) = negative_control() {
                    builder = builder.negative_control(control);
                }
                Handle::ReadWrite(builder.build().map_err(failed)?)
            }
        };
        Ok(RustContender { session, handle, guards: HashMap::new(), revocable: Vec::new() })
    }

    fn side(&self, side: Side) -> Option<&Mutex> {
        match (&self.handle, side) {
            (Handle::Mutex(m), Side::Mutex) => Some(m),
            (Handle::ReadWrite(rw), Side::Read) => Some(rw.read_lock()),
            (Handle::ReadWrite(rw), Side::Write) => Some(rw.write_lock()),
            _ => None,
        }
    }

    /// Sides whose guards report the hold lost (other than by releasing it).
    fn lost_sides(&self) -> Vec<Side> {
        let lost =
            |g: &MutexGuard| matches!(g.status(), zkurator::HoldStatus::Lost(r) if r != zkurator::LossReason::Released);
        let mut sides: Vec<Side> =
            self.guards.iter().filter(|(_, guards)| guards.iter().any(lost)).map(|(side, _)| *side).collect();
        sides.sort();
        sides
    }

    /// Releases sides whose holders were asked to let go; returns them.
    fn honour_revocations(&mut self) -> Vec<Side> {
        let mut revoked = Vec::new();
        for side in self.revocable.clone() {
            let asked = self.guards.get(&side).and_then(|g| g.first()).is_some_and(|guard| {
                self.session.runtime.block_on(async {
                    tokio::time::timeout(Duration::ZERO, guard.revocation_requested()).await.is_ok()
                })
            });
            if asked {
                for guard in self.guards.remove(&side).unwrap_or_default() {
                    let _ = self.session.runtime.block_on(guard.release());
                }
                self.revocable.retain(|s| *s != side);
                revoked.push(side);
            }
        }
        revoked
    }
}

impl Contender for RustContender {
    fn runtime(&self) -> Runtime {
        Runtime::Rust
    }

    fn execute(&mut self, command: Command) -> Reply {
        match command {
            Command::Acquire { side, timeout } => {
                let Some(lock) = self.side(side).cloned() else {
                    return unsupported("side does not fit the lock kind");
                };
                let result = self.session.runtime.block_on(async {
                    match timeout {
                        Some(t) => lock.lock_timeout(t).await,
                        None => lock.lock().await,
                    }
                });
                match result {
                    Ok(guard) => {
                        let node = guard.node_path().to_owned();
                        self.guards.entry(side).or_default().push(guard);
                        Reply::Granted { node }
                    }
                    Err(e) => error_reply(e),
                }
            }
            Command::Release { side } => match self.guards.get_mut(&side).and_then(Vec::pop) {
                Some(guard) => match self.session.runtime.block_on(guard.release()) {
                    Ok(()) => Reply::Ok,
                    Err(e) => error_reply(e),
                },
                None => match self.side(side).cloned() {
                    Some(lock) => match self.session.runtime.block_on(lock.release()) {
                        Ok(()) => Reply::Ok,
                        Err(e) => error_reply(e),
                    },
                    None => unsupported("side does not fit the lock kind"),
                },
            },
            Command::Participants => {
                let lock = match &self.handle {
                    Handle::Mutex(m) => m.clone(),
                    Handle::ReadWrite(rw) => rw.read_lock().clone(),
                };
                match self.session.runtime.block_on(lock.participant_nodes()) {
                    Ok(nodes) => Reply::Participants { nodes },
                    Err(e) => error_reply(e),
                }
            }
            Command::MakeRevocable { side } => {
                // Every handle here is built revocable; this picks the sides the
                // contender gives up when asked (before or after acquiring, both work).
                if !self.revocable.contains(&side) {
                    self.revocable.push(side);
                }
                Reply::Ok
            }
            Command::Revoke { node } => {
                match self.session.runtime.block_on(zkurator::revoke(&self.session.client, &node)) {
                    Ok(_) => Reply::Ok,
                    Err(e) => error_reply(e),
                }
            }
            Command::Status => {
                let revoked = self.honour_revocations();
                let mut held = Vec::new();
                let mut nodes = Vec::new();
                for side in [Side::Mutex, Side::Read, Side::Write] {
                    if let Some(lock) = self.side(side) {
                        if lock.is_held() {
                            held.push((side, lock.hold_count()));
                            nodes.extend(lock.held_node());
                        }
                    }
                }
                let lost = self.lost_sides();
                Reply::Status(Status { held, nodes, revoked, lost })
            }
            Command::Close => {
                for (_, guards) in self.guards.drain() {
                    for guard in guards {
                        let _ = self.session.runtime.block_on(guard.release());
                    }
                }
                Reply::Ok
            }
        }
    }

    fn crasher(&self) -> Crasher {
        self.session.crasher()
    }

    fn expirer(&self) -> Option<Crasher> {
        Some(self.session.expirer())
    }
}

/// A `zk-client` contender: `zookeeper_client::Client::lock` with Curator's
/// `lock-` naming. Mutex only; not reentrant (a second acquire while held is
/// refused as unsupported, since the crate would wait on itself).
pub struct ZkClientContender {
    session: Session,
    lock_path: String,
    data: Vec<u8>,
    held: Option<OwnedLockClient>,
}

impl ZkClientContender {
    /// Connects for `spec`; only plain mutexes are supported.
    pub fn start(spec: &ContenderSpec) -> Result<ZkClientContender, StartError> {
        if spec.kind != (LockKind::Mutex { max_leases: 1 }) {
            return Err(StartError::Failed {
                runtime: Runtime::ZkClient,
                id: spec.id.clone(),
                message: "zookeeper-client's Client::lock is a plain mutex: no read/write lock or leases".into(),
            });
        }
        let session = Session::open(Runtime::ZkClient, spec)?;
        let data = spec.lock_data.clone().unwrap_or_default();
        Ok(ZkClientContender { session, lock_path: spec.lock_path.clone(), data, held: None })
    }
}

impl Contender for ZkClientContender {
    fn runtime(&self) -> Runtime {
        Runtime::ZkClient
    }

    fn execute(&mut self, command: Command) -> Reply {
        let client = &self.session.client;
        match command {
            Command::Acquire { side: Side::Mutex, timeout } => {
                if self.held.is_some() {
                    return unsupported("zookeeper-client locks are not reentrant");
                }
                let result = self.session.runtime.block_on(async {
                    let prefix = LockPrefix::new_curator(&self.lock_path, "lock-")?;
                    let ancestors = CreateMode::Container.with_acls(Acls::anyone_all());
                    let options = LockOptions::new(Acls::anyone_all()).with_ancestor_options(ancestors)?;
                    let lock = client.lock(prefix, &self.data, options);
                    match timeout {
                        None => lock.await.map(|l| Some(l.into_owned())),
                        Some(t) => match tokio::time::timeout(t, lock).await {
                            Ok(result) => result.map(|l| Some(l.into_owned())),
                            Err(_) => Ok(None),
                        },
                    }
                });
                match result {
                    Ok(Some(lock)) => {
                        let node = lock.lock_path().to_owned();
                        self.held = Some(lock);
                        Reply::Granted { node }
                    }
                    Ok(None) => Reply::Error { kind: ErrorKind::Timeout, message: "timed out".into() },
                    Err(e) => Reply::Error { kind: zk_error_kind(&e), message: e.to_string() },
                }
            }
            Command::Release { side: Side::Mutex } => match self.held.take() {
                None => Reply::Error { kind: ErrorKind::NotHeld, message: "not held".into() },
                Some(lock) => {
                    let path = lock.lock_path().to_owned();
                    let deleted = self.session.runtime.block_on(client.delete(&path, None));
                    // Its drop deletes again in the background (NoNode): needs the runtime.
                    let _entered = self.session.runtime.enter();
                    drop(lock);
                    match deleted {
                        Ok(()) | Err(zookeeper_client::Error::NoNode) => Reply::Ok,
                        Err(e) => Reply::Error { kind: zk_error_kind(&e), message: e.to_string() },
                    }
                }
            },
            Command::Status => {
                let nodes: Vec<String> = self.held.iter().map(|l| l.lock_path().to_owned()).collect();
                let held = if nodes.is_empty() { Vec::new() } else { vec![(Side::Mutex, 1)] };
                Reply::Status(Status { held, nodes, revoked: Vec::new(), lost: Vec::new() })
            }
            Command::Close => {
                if let Some(lock) = self.held.take() {
                    let path = lock.lock_path().to_owned();
                    let _ = self.session.runtime.block_on(client.delete(&path, None));
                    let _entered = self.session.runtime.enter();
                    drop(lock);
                }
                Reply::Ok
            }
            other => unsupported(&format!("zk-client does not support {other:?}")),
        }
    }

    fn crasher(&self) -> Crasher {
        self.session.crasher()
    }

    fn expirer(&self) -> Option<Crasher> {
        Some(self.session.expirer())
    }
}

impl Drop for ZkClientContender {
    fn drop(&mut self) {
        let _entered = self.session.runtime.enter();
        self.held.take();
    }
}

fn zk_error_kind(error: &zookeeper_client::Error) -> ErrorKind {
    use zookeeper_client::Error as Zk;
    match error {
        Zk::SessionExpired | Zk::ClientClosed | Zk::AuthFailed => ErrorKind::SessionLost,
        Zk::NoAuth => ErrorKind::NoAuth,
        _ => ErrorKind::Other,
    }
}
