//! The commands, replies and set-up every runtime understands: the shapes of
//! the contender protocol's lines (`docs/contender-protocol.md`), which the
//! in-process runtimes take as Rust values.
//!
//! A contender is one lock user: one runtime, one ZooKeeper session, one lock
//! handle. The runner sends it [`Command`]s one at a time and gets one
//! [`Reply`] per command.

use std::time::Duration;

use serde::{Deserialize, Serialize};

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
    /// The runtime's connection-state signal says the session is lost
    /// (Curator: its `ConnectionStateListener` heard LOST since the last
    /// grant), whatever the lock API says. Counts for the belief window.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub connection_lost: bool,
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
