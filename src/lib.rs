//! Apache Curator compatible ZooKeeper locks for async Rust.
//!
//! A [`Mutex`] or [`ReadWriteLock`] from this crate and a Curator
//! `InterProcessMutex` / `InterProcessReadWriteLock` or a kazurator
//! `Mutex` / `ReadWriteLock` on the same lock path exclude each other: same
//! node names, same ordering, same blocking rules (see `lock-protocol` in the
//! README). On top of that: cancellation-safe acquires, lock-loss signalling,
//! fencing tokens and a downgrade that a queued writer cannot break.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let servers = "127.0.0.1:2181";
//! let client = zookeeper_client::Client::connect(servers).await?;
//! // One round trip per acquire instead of two (see `keep_nodelay`; Linux).
//! zkurator::keep_nodelay(&client, servers).await?;
//! let mutex = zkurator::Mutex::new(&client, "/locks/orders")?;
//! let guard = mutex.lock().await?;
//! tokio::select! {
//!     reason = guard.lost() => eprintln!("lock lost ({reason:?}): stop writing"),
//!     _ = async { /* protected work */ } => {}
//! }
//! guard.release().await?;
//! # Ok(()) }
//! ```

pub mod driver;
mod error;
mod internals;
mod monitor;
mod mutex;
pub mod names;
mod negative;
mod nodelay;
mod path;
mod revoke;
mod rwlock;

pub use error::{LockError, Result};
pub use monitor::{HoldStatus, LossReason};
pub use mutex::{Mutex, MutexBuilder, MutexGuard};
pub use negative::NegativeControl;
pub use nodelay::{keep_nodelay, NodelayError};
pub use path::{validate_lock_path, PathProblem};
pub use revoke::revoke;
pub use rwlock::{ReadWriteLock, ReadWriteLockBuilder};
