//! The one error type of the library.

use std::time::Duration;

use crate::monitor::LossReason;
use crate::path::PathProblem;

/// Everything a lock operation can fail with.
///
/// ```no_run
/// # async fn demo(mutex: zkurator::Mutex) {
/// use std::time::Duration;
/// use zkurator::LockError;
/// match mutex.lock_timeout(Duration::from_secs(2)).await {
///     Ok(guard) => drop(guard),
///     Err(LockError::Timeout(waited)) => eprintln!("still taken after {waited:?}"),
///     Err(LockError::SessionLost(e)) => eprintln!("session gone ({e}): rebuild the client"),
///     Err(other) => eprintln!("{other}"),
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// The lock path was rejected before any request was sent.
    #[error("invalid lock path {path:?}: {problem}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        problem: PathProblem,
    },
    /// An acquire with a timeout above zero did not get the lock in time;
    /// its node was deleted.
    #[error("timed out after {0:?} waiting for the lock")]
    Timeout(Duration),
    /// A try (`try_lock`, `try_read`, `try_write`, `try_acquire`, or any
    /// acquire with a zero timeout: one meaning, one error) found the lock
    /// taken; its node was deleted.
    #[error("the lock is held by another contender")]
    WouldBlock,
    /// A guard was asked to re-enter or extend a hold that is already lost.
    #[error("the hold is lost ({0:?}): acquire the lock again")]
    Lost(LossReason),
    /// The holder of the read side asked for the write side. Curator waits on
    /// itself forever here; zkurator refuses at once.
    #[error("upgrade from read to write lock is not supported: release the read lock first")]
    Upgrade,
    /// A semaphore was asked for no lease, or for more leases than it has
    /// (Curator's `acquire(qty)` would wait forever); no request was sent.
    #[error("cannot take {requested} lease(s) of a semaphore with {max_leases}")]
    LeaseCount {
        /// Leases asked for.
        requested: u32,
        /// The semaphore's lease count.
        max_leases: u32,
    },
    /// A [`MultiLock`](crate::MultiLock) was given no member.
    #[error("a multi-lock needs at least one member")]
    NoMembers,
    /// A [`MultiLock`](crate::MultiLock) was given two different kinds of
    /// lock on one path, which would wait on each other; no request was sent.
    #[error("a multi-lock cannot take both a {first} and a {second} on {path}: they would wait on each other")]
    ConflictingMembers {
        /// The lock path given twice.
        path: String,
        /// What the first member takes there.
        first: String,
        /// What the later member takes there.
        second: String,
    },
    /// Lock-node data, or a guarded write, would not fit in one ZooKeeper
    /// request; refused before any request is sent (a larger request would
    /// make the server drop the connection, failing every request in flight).
    #[error("{len} bytes do not fit in a ZooKeeper request of at most {limit} bytes (the server's jute.maxbuffer; raise it with max_request_bytes if the server allows more)")]
    DataTooLarge {
        /// Bytes of the request: the lock data, or the guarded write's
        /// operations with their paths.
        len: usize,
        /// The request size limit in bytes.
        limit: usize,
    },
    /// A renewing [`SessionSource`](crate::SessionSource) could not make a new session.
    #[error("cannot connect a new ZooKeeper session: {0}")]
    Connect(zookeeper_client::Error),
    /// The ZooKeeper session expired, failed authentication or was closed.
    #[error("ZooKeeper session lost: {0}")]
    SessionLost(zookeeper_client::Error),
    /// ZooKeeper denied the request by ACL.
    #[error("ZooKeeper denied access to {path} (NoAuth): add credentials with Connector::with_auth")]
    NoAuth {
        /// The node the request was for.
        path: String,
    },
    /// A guarded write ([`Hold::guarded`](crate::Hold::guarded)) was refused
    /// because the caller's lock node is gone: the lock is no longer held and
    /// nothing of the write was applied.
    #[error("guarded write refused: the lock node {node} is gone (the lock is no longer held); nothing was written")]
    NotHeld {
        /// The lock node the write was guarded by.
        node: String,
    },
    /// Any other ZooKeeper failure.
    #[error("ZooKeeper {operation} on {path} failed: {source}")]
    ZooKeeper {
        /// What was being done (create, list, delete...).
        operation: &'static str,
        /// The node the request was for.
        path: String,
        /// The client's error.
        source: zookeeper_client::Error,
    },
}

impl LockError {
    /// True when the request's reply was lost with the connection: the
    /// server may or may not have applied it. Read back before retrying a
    /// write that must not happen twice.
    ///
    /// ```
    /// let error = zkurator::LockError::NotHeld { node: "/locks/a/_c_x-lock-0000000001".into() };
    /// assert!(!error.is_outcome_unknown()); // refused: definitely not written
    /// ```
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, LockError::ZooKeeper { source: zookeeper_client::Error::ConnectionLoss, .. })
    }

    /// The error of an acquire that gave up at its deadline: a zero timeout
    /// is a try ([`LockError::WouldBlock`]), any other is [`LockError::Timeout`].
    pub(crate) fn gave_up(timeout: Option<Duration>) -> LockError {
        match timeout {
            Some(Duration::ZERO) => LockError::WouldBlock,
            other => LockError::Timeout(other.unwrap_or_default()),
        }
    }

    /// Classifies a client error from `operation` on `path`.
    pub(crate) fn from_zk(operation: &'static str, path: &str, error: zookeeper_client::Error) -> Self {
        use zookeeper_client::Error as Zk;
        match error {
            Zk::SessionExpired | Zk::ClientClosed | Zk::AuthFailed => LockError::SessionLost(error),
            Zk::NoAuth => LockError::NoAuth { path: path.to_owned() },
            source => LockError::ZooKeeper { operation, path: path.to_owned(), source },
        }
    }
}

/// Shorthand for results of this crate.
///
/// ```no_run
/// fn open(client: &zkurator::zookeeper_client::Client) -> zkurator::Result<zkurator::Mutex> {
///     zkurator::Mutex::new(client, "/locks/orders")
/// }
/// ```
pub type Result<T, E = LockError> = std::result::Result<T, E>;
