//! The `rust` and `rust-tasks` runtimes: zkurator's own locks.
//!
//! A `rust` contender owns a tokio runtime, a session source and one lock
//! handle. The `rust-tasks` contenders of one run (one lock path) share all
//! three, the way tokio code shares a lock handle in its app state: each is a
//! task of its own on the shared runtime, and they must exclude each other
//! as separate processes do. A `rust-tasks` crash aborts the contender's task
//! and drops its guards (outside any runtime, from the runner's thread), so
//! its holds end without touching the other tasks' session.

use std::sync::{Arc, Mutex as StdMutex, Weak};
use std::time::Duration;

use zkurator::negative::NegativeControl;
use zkurator::{LockError, MultiLock, Mutex, ReadWriteLock, Semaphore};

use super::rust_guards::{self, Guards, Handle};
use super::session::Session;
use crate::contender::{
    Command, Contender, ContenderSpec, Crasher, ErrorKind, LockKind, Reply, Runtime, Side, StartError, Status,
};

/// What the zkurator contenders started by one set of peers share: the
/// deliberately broken rule they use, if any (a negative control: the
/// harness must catch it), and the handles `rust-tasks` contenders share,
/// one per lock path.
#[derive(Clone, Debug, Default)]
pub struct RustSetup {
    control: Option<NegativeControl>,
    groups: Arc<StdMutex<Groups>>,
}

/// The handles of `rust-tasks` contenders by server and lock path, kept while
/// a contender uses them.
type Groups = Vec<(String, Weak<Group>)>;

impl RustSetup {
    /// Contenders whose locks are broken by `control` (`None`: the real lock).
    pub fn new(control: Option<NegativeControl>) -> RustSetup {
        RustSetup { control, groups: Arc::default() }
    }
}

pub(crate) fn error_reply(error: LockError) -> Reply {
    let kind = match &error {
        LockError::Timeout(_) | LockError::WouldBlock => ErrorKind::Timeout,
        LockError::Upgrade => ErrorKind::Upgrade,
        LockError::SessionLost(_) | LockError::Lost(_) => ErrorKind::SessionLost,
        LockError::NoAuth { .. } => ErrorKind::NoAuth,
        _ => ErrorKind::Other,
    };
    Reply::Error { kind, message: error.to_string() }
}

fn unsupported(what: &str) -> Reply {
    Reply::Error { kind: ErrorKind::Unsupported, message: what.to_owned() }
}

/// A runtime, session source and lock handle: a `rust` contender's own, or
/// shared by the `rust-tasks` contenders of one lock path.
struct Group {
    session: Session,
    handle: Handle,
}

impl Group {
    fn open(runtime: Runtime, spec: &ContenderSpec, control: Option<NegativeControl>) -> Result<Group, StartError> {
        let workers = if runtime == Runtime::RustTasks { 2 } else { 1 };
        let session = Session::open(runtime.clone(), spec, workers, true)?;
        let failed =
            |e: LockError| StartError::Failed { runtime: runtime.clone(), id: spec.id.clone(), message: e.to_string() };
        let source = &session.source;
        let handle = match spec.kind {
            LockKind::Mutex { max_leases } => {
                let mut builder = Mutex::builder(source, &spec.lock_path).max_leases(max_leases).revocable(true);
                if let Some(data) = &spec.lock_data {
                    builder = builder.data(data.clone());
                }
                if let Some(control) = control {
                    builder = builder.negative_control(control);
                }
                Handle::Mutex(builder.build().map_err(failed)?)
            }
            LockKind::ReadWrite => {
                let mut builder = ReadWriteLock::builder(source, &spec.lock_path).revocable(true);
                if let Some(data) = &spec.lock_data {
                    builder = builder.data(data.clone());
                }
                if let Some(control) = control {
                    builder = builder.negative_control(control);
                }
                Handle::ReadWrite(builder.build().map_err(failed)?)
            }
            LockKind::Semaphore { max_leases } => {
                let mut builder = Semaphore::builder(source, &spec.lock_path, max_leases);
                if let Some(data) = &spec.lock_data {
                    builder = builder.data(data.clone());
                }
                if let Some(control) = control {
                    builder = builder.negative_control(control);
                }
                match max_leases {
                    1 => Handle::SemaphoreMutex(builder.build_mutex().map_err(failed)?),
                    _ => Handle::Semaphore(builder.build().map_err(failed)?),
                }
            }
            LockKind::Multi { .. } => {
                let mut members = Vec::new();
                for dir in spec.kind.node_dirs() {
                    let mut builder = Mutex::builder(source, &format!("{}/{dir}", spec.lock_path));
                    if let Some(data) = &spec.lock_data {
                        builder = builder.data(data.clone());
                    }
                    if let Some(control) = control {
                        builder = builder.negative_control(control);
                    }
                    members.push(builder.build().map_err(failed)?.into());
                }
                Handle::Multi(MultiLock::of(members).map_err(failed)?)
            }
        };
        Ok(Group { session, handle })
    }

    /// The group of the `rust-tasks` contenders on `spec`'s lock path.
    fn shared(spec: &ContenderSpec, setup: &RustSetup) -> Result<Arc<Group>, StartError> {
        let key = format!("{}|{}", spec.connect, spec.lock_path);
        let mut groups = setup.groups.lock().unwrap_or_else(|p| p.into_inner());
        groups.retain(|(_, group)| group.strong_count() > 0);
        if let Some(group) = groups.iter().find(|(k, _)| *k == key).and_then(|(_, g)| g.upgrade()) {
            return Ok(group);
        }
        let group = Arc::new(Group::open(Runtime::RustTasks, spec, setup.control)?);
        groups.push((key, Arc::downgrade(&group)));
        Ok(group)
    }

    /// Runs `work` as a task of its own on the group's runtime and waits for
    /// it; `running` lets a crash abort it.
    fn run<T: Send + 'static>(
        &self,
        running: &StdMutex<Option<tokio::task::AbortHandle>>,
        work: impl std::future::Future<Output = T> + Send + 'static,
    ) -> Result<T, Reply> {
        let task = self.session.runtime.spawn(work);
        *running.lock().unwrap_or_else(|p| p.into_inner()) = Some(task.abort_handle());
        let result = self.session.runtime.block_on(task);
        running.lock().unwrap_or_else(|p| p.into_inner()).take();
        result.map_err(|e| Reply::Error { kind: ErrorKind::Other, message: format!("contender task ended: {e}") })
    }
}

/// A zkurator contender (`rust` or `rust-tasks`).
pub struct RustContender {
    runtime: Runtime,
    group: Arc<Group>,
    guards: Arc<StdMutex<Guards>>,
    running: Arc<StdMutex<Option<tokio::task::AbortHandle>>>,
    revocable: Vec<Side>,
    /// The lost-update workload's data client and last read.
    data: super::rust_data::Data,
}

impl RustContender {
    /// Starts a `rust` contender (own session and handle) or a `rust-tasks`
    /// contender (the lock path's handle shared within `setup`).
    pub fn start(runtime: Runtime, spec: &ContenderSpec, setup: &RustSetup) -> Result<RustContender, StartError> {
        let group = match runtime {
            Runtime::RustTasks => Group::shared(spec, setup)?,
            _ => Arc::new(Group::open(Runtime::Rust, spec, setup.control)?),
        };
        let data = super::rust_data::Data::new(&spec.connect);
        Ok(RustContender {
            runtime,
            group,
            guards: Arc::default(),
            running: Arc::default(),
            revocable: Vec::new(),
            data,
        })
    }

    fn guards(&self) -> std::sync::MutexGuard<'_, Guards> {
        self.guards.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn release(&mut self, side: Side) -> Reply {
        let Some(guard) = self.guards().pop(side) else {
            return Reply::Error { kind: ErrorKind::NotHeld, message: format!("{side:?} is not held") };
        };
        match self.group.run(&self.running, guard.release()) {
            Ok(Ok(())) => Reply::Ok,
            Ok(Err(e)) => error_reply(e),
            Err(reply) => reply,
        }
    }

    /// Releases sides whose holders were asked to let go; returns them.
    fn honour_revocations(&mut self) -> Vec<Side> {
        let mut revoked = Vec::new();
        for side in self.revocable.clone() {
            let asked = self.guards().get(side).is_some_and(|guard| {
                self.group.session.runtime.block_on(async {
                    tokio::time::timeout(Duration::ZERO, guard.revocation_requested()).await.is_ok()
                })
            });
            if asked {
                while self.guards().get(side).is_some() {
                    self.release(side);
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
        self.runtime.clone()
    }

    fn session_id(&self) -> Option<String> {
        Some(format!("0x{:x}", self.group.session.client.session_id().0))
    }

    fn execute(&mut self, command: Command) -> Reply {
        let handle = self.group.handle.clone();
        match command {
            Command::Acquire { side, .. } if !handle.fits(side) => unsupported("side does not fit the lock kind"),
            Command::Acquire { side, timeout } => {
                let guards = self.guards.clone();
                let work = async move { rust_guards::acquire(&handle, &guards, side, timeout).await };
                match self.group.run(&self.running, work) {
                    Ok(Ok(node)) => Reply::Granted { node },
                    Ok(Err(e)) => error_reply(e),
                    Err(reply) => reply,
                }
            }
            Command::Release { side } => self.release(side),
            Command::Participants => {
                match self.group.run(&self.running, async move { handle.participant_nodes().await }) {
                    Ok(Ok(nodes)) => Reply::Participants { nodes },
                    Ok(Err(e)) => error_reply(e),
                    Err(reply) => reply,
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
                let source = self.group.session.source.clone();
                let work = async move { zkurator::revoke(&source.client().await?, &node).await };
                match self.group.run(&self.running, work) {
                    Ok(Ok(_)) => Reply::Ok,
                    Ok(Err(e)) => error_reply(e),
                    Err(reply) => reply,
                }
            }
            Command::Status => {
                let revoked = self.honour_revocations();
                let _entered = self.group.session.runtime.enter();
                let guards = self.guards();
                let (held, nodes) = guards.held();
                Reply::Status(Status { held, nodes, revoked, lost: guards.lost_sides(), connection_lost: false })
            }
            Command::ReadValue { counter } => {
                let data = self.data.clone();
                self.group.run(&self.running, async move { data.read(&counter).await }).unwrap_or_else(|r| r)
            }
            Command::WriteValue { counter, side, protection } => {
                let (data, guards) = (self.data.clone(), self.guards.clone());
                let work = async move { data.write(&guards, &counter, side, protection).await };
                self.group.run(&self.running, work).unwrap_or_else(|r| r)
            }
            Command::Close => {
                let guards = self.guards().drain();
                for guard in guards {
                    let _ = self.group.run(&self.running, guard.release());
                }
                Reply::Ok
            }
        }
    }

    fn crasher(&self) -> Crasher {
        let (guards, running) = (self.guards.clone(), self.running.clone());
        if self.runtime != Runtime::RustTasks {
            // The session ends as an expiry ends it (see `Session::expirer`);
            // the command in flight is abandoned first, so that an acquire does
            // not carry on with a renewed session. The runner does not talk to
            // a crashed contender again.
            let expire = self.group.session.expirer();
            return Box::new(move || {
                if let Some(task) = running.lock().unwrap_or_else(|p| p.into_inner()).take() {
                    task.abort();
                }
                expire();
            });
        }
        Box::new(move || {
            if let Some(task) = running.lock().unwrap_or_else(|p| p.into_inner()).take() {
                task.abort();
            }
            // Dropped here, outside any runtime: each hold deletes its node on
            // the runtime it was acquired on.
            drop(guards.lock().unwrap_or_else(|p| p.into_inner()).drain());
        })
    }

    fn expirer(&self) -> Option<Crasher> {
        // The tasks of a group share one session: one task cannot lose it alone.
        (self.runtime != Runtime::RustTasks).then(|| self.group.session.expirer())
    }
}

impl Drop for RustContender {
    fn drop(&mut self) {
        // Guards release in the background on drop, on the group's runtime.
        let _entered = self.group.session.runtime.enter();
        drop(self.guards().drain());
    }
}

/// Runs `rust` and `rust-tasks` contenders in this process: nothing to
/// prepare; its contenders share a [`RustSetup`].
#[derive(Debug, Default)]
pub struct RustAdapter {
    setup: RustSetup,
}

impl RustAdapter {
    /// An adapter whose contenders' locks are broken by `control` (`None`: the real lock).
    pub fn new(control: Option<NegativeControl>) -> RustAdapter {
        RustAdapter { setup: RustSetup::new(control) }
    }
}

impl super::adapter::Adapter for RustAdapter {
    fn runs(&self, runtime: &Runtime) -> bool {
        matches!(runtime, Runtime::Rust | Runtime::RustTasks)
    }

    fn prepare(&self) -> Result<(), StartError> {
        Ok(())
    }

    fn starter(&self, runtime: &Runtime) -> Result<super::adapter::Starter, StartError> {
        let (runtime, setup) = (runtime.clone(), self.setup.clone());
        Ok(Box::new(move |spec| super::adapter::boxed(RustContender::start(runtime, spec, &setup))))
    }

    fn release(&self) -> Option<String> {
        Some(env!("CARGO_PKG_VERSION").to_owned())
    }

    fn describe(&self) -> (String, Result<String, StartError>) {
        ("zkurator".into(), Ok(env!("CARGO_PKG_VERSION").into()))
    }
}
