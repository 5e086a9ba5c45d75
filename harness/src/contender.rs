//! The one small command protocol every runtime speaks.
//!
//! A contender is one lock user: one runtime, one ZooKeeper session, one lock
//! handle, driven from its own thread. The runner sends it [`Command`]s one at a
//! time and gets one [`Reply`] per command. `execute` blocks until the command is
//! done (an acquire blocks until granted, timed out or failed), so the runner
//! gives every contender its own thread; Curator contenders need that anyway
//! because Curator's locks are owned by the calling Java thread.
//!
//! Faults are the out-of-band actions: a contender blocked in `acquire`
//! cannot read another command, so [`Contender::crasher`] hands out a handle that
//! ends the contender's session from any thread, without releasing anything;
//! [`Contender::expirer`] and [`Contender::killer`] do the same for a session
//! expiry and for a killed process.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which runtime a contender runs in: a built-in one, or one added at run
/// time as a command ([`Runtime::External`], see [`crate::registry`]).
///
/// Serialized as its name (`"rust"`, `"go-zk"`, an external's name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Runtime {
    /// zkurator, this repository's library.
    Rust,
    /// zkurator in a child process of its own (`zkurator-harness contender`),
    /// so that it can be killed.
    RustProcess,
    /// zkurator tasks sharing one session and one lock handle: every
    /// `rust-tasks` contender of a run is a tokio task on the same handle.
    RustTasks,
    /// Apache Curator in an embedded JVM.
    Curator,
    /// kazurator on kazoo, in a Python process.
    Kazurator,
    /// The `zookeeper-client` crate's own `Client::lock` (mutex only).
    ZkClient,
    /// kazoo's own Lock/ReadLock/WriteLock: not protocol compatible (negative control).
    KazooNative,
    /// github.com/go-zookeeper/zk's `Lock` (mutex only), in a Go process (`go/`).
    GoZk,
    /// A runtime given as a command, by its index in [`crate::registry`].
    External(u8),
}

impl Runtime {
    /// Every built-in runtime, in display order.
    pub const BUILTIN: [Runtime; 8] = [
        Runtime::Rust,
        Runtime::Curator,
        Runtime::Kazurator,
        Runtime::ZkClient,
        Runtime::KazooNative,
        Runtime::GoZk,
        Runtime::RustProcess,
        Runtime::RustTasks,
    ];

    /// The runtimes `$A`, `$B`... range over by default.
    pub const DEFAULT_PLACEHOLDER: [Runtime; 3] = [Runtime::Rust, Runtime::Curator, Runtime::Kazurator];

    /// Every runtime known to this process: the built-in ones, then the added ones.
    pub fn all() -> Vec<Runtime> {
        Runtime::BUILTIN.into_iter().chain(crate::registry::externals()).collect()
    }

    /// The runtime called `name` (built-in or added).
    pub fn named(name: &str) -> Option<Runtime> {
        Runtime::all().into_iter().find(|r| r.name() == name)
    }

    /// The name used in scenario files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Rust => "rust",
            Runtime::RustProcess => "rust-process",
            Runtime::RustTasks => "rust-tasks",
            Runtime::Curator => "curator",
            Runtime::Kazurator => "kazurator",
            Runtime::ZkClient => "zk-client",
            Runtime::KazooNative => "kazoo-native",
            Runtime::GoZk => "go-zk",
            Runtime::External(index) => crate::registry::external(index).map_or("unregistered", |e| e.name),
        }
    }

    /// What the runtime can do: the built-in table, or what an added
    /// runtime's hello declared.
    pub fn capabilities(self) -> crate::capabilities::Capabilities {
        match self {
            Runtime::External(index) => crate::registry::external(index).map(|e| e.capabilities.clone()),
            builtin => crate::capabilities::Capabilities::builtin(builtin.name()),
        }
        .unwrap_or_default()
    }

    /// zkurator in one of its built-in forms.
    pub fn is_zkurator(self) -> bool {
        matches!(self, Runtime::Rust | Runtime::RustProcess | Runtime::RustTasks)
    }

    /// Lives in the harness's own process, so it cannot be killed.
    pub fn in_harness_process(self) -> bool {
        self.capabilities().in_harness_process
    }

    /// Shares its session with other contenders, so one cannot lose it alone.
    pub fn shares_session(self) -> bool {
        self.capabilities().shares_session
    }

    /// Carries on with a new session after its session expired (zkurator
    /// handles on a renewing session source).
    pub fn renews_session(self) -> bool {
        self.capabilities().renews_session
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Runtime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Runtime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Runtime::named(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown runtime {name:?}")))
    }
}

/// The kind of lock a contender holds a handle to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockKind {
    /// Curator InterProcessMutex / kazurator Mutex layout (`lock-` nodes),
    /// held by up to `max_leases` contenders at once (1 for a plain mutex).
    Mutex {
        /// How many holders may hold it at once.
        max_leases: u32,
    },
    /// Curator InterProcessReadWriteLock / kazurator ReadWriteLock
    /// (`__READ__` and `__WRIT__` nodes). The contender has both sides.
    ReadWrite,
    /// Curator InterProcessSemaphoreV2 layout (`locks/` mutex serialising
    /// takers, `leases/_c_<uuid>-lease-<seq>`), `max_leases` leases; with one
    /// lease, Curator's InterProcessSemaphoreMutex. Side `mutex`; one lease
    /// per contender at a time (not reentrant).
    Semaphore {
        /// How many leases there are.
        max_leases: u32,
    },
    /// Curator InterProcessMultiLock over `members` InterProcessMutex
    /// members `<lock path>/m0`, `m1`...: taken in that order, all or none.
    /// Side `mutex`; not reentrant here.
    Multi {
        /// How many member mutexes (at most 4).
        members: u32,
    },
}

/// The member directories of a [`LockKind::Multi`].
const MEMBER_DIRS: [&str; 4] = ["m0", "m1", "m2", "m3"];

impl LockKind {
    /// The directories under the lock path that hold this kind's nodes
    /// (empty: the lock path itself).
    pub fn node_dirs(self) -> &'static [&'static str] {
        match self {
            LockKind::Semaphore { .. } => &["locks", "leases"],
            LockKind::Multi { members } => &MEMBER_DIRS[..(members as usize).clamp(1, MEMBER_DIRS.len())],
            _ => &[],
        }
    }
}

/// Which side of a lock an acquire or release is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// The only side of a mutex.
    Mutex,
    /// The shared side of a read/write lock.
    Read,
    /// The exclusive side of a read/write lock.
    Write,
}

/// What a contender is set up with before its first command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContenderSpec {
    /// Contender id, unique in a run (used in logs and reports).
    pub id: String,
    /// ZooKeeper connect string, `host:port[,host:port...]`.
    pub connect: String,
    /// Lock path, e.g. `/locks/orders`.
    pub lock_path: String,
    /// Lock kind.
    pub kind: LockKind,
    /// Bytes to store in the lock nodes, if the runtime supports it.
    pub lock_data: Option<Vec<u8>>,
    /// ZooKeeper session timeout.
    pub session_timeout: Duration,
}

/// One command to a contender.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Command {
    /// Acquire `side`, waiting at most `timeout` (forever when `None`).
    /// Acquiring a side already held is a reentrant acquire.
    Acquire {
        /// Side to acquire.
        side: Side,
        /// Longest wait; `None` waits forever.
        timeout: Option<Duration>,
    },
    /// Release `side` once.
    Release {
        /// Side to release.
        side: Side,
    },
    /// List the lock's participant nodes in lock order, as the runtime reports them.
    Participants,
    /// Start watching the held node for revocation requests (`__REVOKE__`);
    /// a revoked holder releases that side by itself.
    MakeRevocable {
        /// Side whose node is watched.
        side: Side,
    },
    /// Write `__REVOKE__` into the given lock node (full path).
    Revoke {
        /// Full path of the node to revoke.
        node: String,
    },
    /// Report what the runtime believes it holds, and the node paths it owns.
    Status,
    /// Lost-update workload, first half: read the shared counter node (its
    /// data is a decimal number) and remember the value.
    ReadValue {
        /// Full path of the counter node.
        counter: String,
    },
    /// Lost-update workload, second half: write the remembered value plus one
    /// into the counter, protected as asked by the hold of `side`.
    WriteValue {
        /// Full path of the counter node.
        counter: String,
        /// The side whose hold protects the write.
        side: Side,
        /// How the write is protected.
        protection: Protection,
    },
    /// Release everything and close the session cleanly.
    Close,
}

/// Why a command failed, in terms every runtime can map its errors to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The acquire's timeout elapsed.
    Timeout,
    /// Released or otherwise used a lock side the contender does not hold.
    NotHeld,
    /// A read holder asked for the write side.
    Upgrade,
    /// The session is gone (expired or closed).
    SessionLost,
    /// ZooKeeper denied access (ACL).
    NoAuth,
    /// The runtime does not support this command (e.g. zk-client read locks).
    Unsupported,
    /// A protected write was refused (lock node gone, session lost, stale
    /// fencing token): definitely not applied.
    Rejected,
    /// The reply was lost with the connection: the write may or may not have
    /// been applied.
    Unknown,
    /// Anything else; the message says what.
    Other,
}

/// How a lost-update workload's write is protected ([`Command::WriteValue`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protection {
    /// A plain set of the counter: protected only by the lock's exclusion.
    Plain,
    /// One `multi` with a check of the writer's own lock node (zkurator's
    /// `Hold::guarded`, Curator's `transaction()` with `check()`).
    Guarded,
    /// A fencing-token store: the write carries the lock node's czxid and is
    /// refused if the store saw a larger one (compare-and-set on a fence node).
    Fenced,
}

impl Protection {
    /// Every protection, in display order.
    pub const ALL: [Protection; 3] = [Protection::Guarded, Protection::Fenced, Protection::Plain];

    /// The name used in scenario files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Protection::Plain => "plain",
            Protection::Guarded => "guarded",
            Protection::Fenced => "fenced",
        }
    }
}

/// What a contender believes about itself ([`Command::Status`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Reentrancy count per side the contender believes it holds.
    pub held: Vec<(Side, u32)>,
    /// Full paths of the lock nodes this contender owns.
    pub nodes: Vec<String>,
    /// Sides released because of a revocation request since the last status.
    pub revoked: Vec<Side>,
    /// Sides still held by the handle whose hold the runtime's lock API says is
    /// lost (zkurator: `MutexGuard::status()` is `Lost`, other than released).
    #[serde(default)]
    pub lost: Vec<Side>,
}

/// The answer to one command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "kebab-case")]
pub enum Reply {
    /// The command succeeded with nothing to report.
    Ok,
    /// An acquire was granted; `node` is the full path of the lock node
    /// that carries the grant (for reentrant acquires, the existing node).
    Granted {
        /// Full path of the held node.
        node: String,
    },
    /// The participant nodes, full paths, in lock order.
    Participants {
        /// Full paths.
        nodes: Vec<String>,
    },
    /// The contender's own view ([`Command::Status`]).
    Status(Status),
    /// The counter's value, read by [`Command::ReadValue`].
    Value {
        /// The number the counter node held.
        value: u64,
    },
    /// The command failed.
    Error {
        /// Classified cause.
        kind: ErrorKind,
        /// The runtime's own message.
        message: String,
    },
}

/// Ends a contender's ZooKeeper session without releasing, from any thread.
pub type Crasher = Box<dyn Fn() + Send + Sync>;

/// Freezes a contender's process for the given time (SIGSTOP, then SIGCONT),
/// from any thread; returns once it runs again.
pub type Pauser = Box<dyn Fn(Duration) + Send + Sync>;

/// A pauser for a child process: SIGSTOP, sleep, SIGCONT.
pub fn process_pauser(pid: u32) -> Pauser {
    Box::new(move |frozen| {
        let pid = rustix::process::Pid::from_raw(pid as i32);
        if let Some(pid) = pid {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::STOP);
            std::thread::sleep(frozen);
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::CONT);
        }
    })
}

/// A started lock user of one runtime.
pub trait Contender: Send {
    /// The runtime this contender runs in.
    fn runtime(&self) -> Runtime;
    /// Runs one command to completion and reports its outcome.
    fn execute(&mut self, command: Command) -> Reply;
    /// A handle that ends this contender's session abruptly (a crash).
    fn crasher(&self) -> Crasher;
    /// A handle that makes the server expire this contender's session while
    /// the contender keeps running (it may notice, and may carry on with a new
    /// session); `None` if the runtime cannot tell its session credentials.
    fn expirer(&self) -> Option<Crasher> {
        None
    }
    /// A handle that kills the contender the way a killed process goes: its
    /// connection drops without closing the session, so the server keeps the
    /// session (and its nodes) until the session timeout. `None` when the
    /// contender lives in the harness's own process.
    fn killer(&self) -> Option<Crasher> {
        None
    }
    /// A handle that freezes the contender's process (a GC pause, SIGSTOP);
    /// `None` when the contender lives in the harness's own process.
    fn pauser(&self) -> Option<Pauser> {
        None
    }
}

/// Failure to start a contender or a runtime.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A required program (java, python3) is missing.
    #[error("{what} not found: {detail}. Install it with: {install}")]
    Missing {
        /// What is missing.
        what: String,
        /// What was looked for.
        detail: String,
        /// The command that installs it.
        install: String,
    },
    /// The runtime came up but refused the contender.
    #[error("{runtime} contender {id} failed to start: {message}")]
    Failed {
        /// Runtime name.
        runtime: Runtime,
        /// Contender id.
        id: String,
        /// What went wrong.
        message: String,
    },
}
