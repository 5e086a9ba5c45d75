//! Apache Curator compatible ZooKeeper locks for async Rust.
//!
//! A [`Mutex`] or [`ReadWriteLock`] from this crate and a Curator
//! `InterProcessMutex` / `InterProcessReadWriteLock` or a kazurator
//! `Mutex` / `ReadWriteLock` on the same lock path exclude each other: same
//! node names, same ordering, same blocking rules (the guide's
//! [library](https://github.com/zkurator/zkurator/blob/main/docs/guide/library.md)
//! and [compatibility](https://github.com/zkurator/zkurator/blob/main/docs/guide/compatibility.md)
//! pages, and the harness that proves it). On top of that: cancellation-safe acquires, lock-loss signalling,
//! fencing tokens ([`FencingToken`]), guarded writes ([`Hold::guarded`]:
//! a write ZooKeeper applies only while the caller's lock node exists) and a downgrade that a queued writer cannot break.
//!
//! Every `lock()`, `read()` and `write()` call is a contender of its own, so
//! tokio tasks sharing a handle exclude each other as Curator's threads do.
//! Holds are owned by typed guards ([`MutexGuard`], [`ReadGuard`],
//! [`WriteGuard`]); Curator's per-thread reentrancy is explicit through them
//! ([`MutexGuard::reenter`], [`WriteGuard::read`], [`WriteGuard::downgrade`]).
//! A handle built over a renewing [`SessionSource`] carries on after its
//! session expires.
//!
//! Curator's other lock recipes are here on the same wire too: [`Semaphore`]
//! (`InterProcessSemaphoreV2`), [`SemaphoreMutex`]
//! (`InterProcessSemaphoreMutex`) and [`MultiLock`] (`InterProcessMultiLock`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = zookeeper_client::Client::connect("127.0.0.1:2181").await?;
//! let mutex = zkurator::Mutex::new(&client, "/locks/orders")?;
//! let guard = mutex.lock().await?;
//! tokio::select! {
//!     reason = guard.lost() => eprintln!("lock lost ({reason:?}): stop writing"),
//!     _ = async { /* protected work */ } => {}
//! }
//! guard.release().await?;
//! # Ok(()) }
//! ```
//!
//! # Observability
//!
//! Every acquire runs in a `zkurator.acquire` span (lock path, kind, node once
//! granted, place in the queue; its closing debug event has the outcome and
//! the wait) and every hold in a `zkurator.hold` span until it ends, at debug
//! level. With the `metrics` feature the library records, through the
//! [`metrics`](https://docs.rs/metrics) facade, into whatever recorder the
//! service installs:
//!
//! | metric | kind | labels |
//! | --- | --- | --- |
//! | `zkurator_acquire_seconds` | histogram | `kind` (mutex, read, write, lease), `outcome` (acquired, timeout, would_block, error) |
//! | `zkurator_waiters` | gauge | `kind`: acquires waiting now |
//! | `zkurator_holders` | gauge | `kind`: holds live now |
//! | `zkurator_holds_lost_total` | counter | `reason` (session_ended, disconnected_too_long, node_deleted) |
//! | `zkurator_guarded_writes_refused_total` | counter | `reason` (not_held, too_large, session_lost) |
//! | `zkurator_loss_watchers_started_total` | counter | |
//! | `zkurator_sessions_renewed_total` | counter | |
//!
//! # Features
//!
//! - `metrics`: the figures above. Nothing else is optional: `TCP_NODELAY`
//!   ([`connect`], [`keep_nodelay`]) is on by default on Linux.

// The pure protocol core and the deliberately broken rules are the harness's
// business (differential tests, negative controls), not the public API: they
// are public only with `--cfg zkurator_harness`, which this workspace's
// `.cargo/config.toml` sets and no dependent crate can switch on.
#[cfg(zkurator_harness)]
pub mod driver;
#[cfg(not(zkurator_harness))]
mod driver;
#[cfg(zkurator_harness)]
pub mod names;
#[cfg(not(zkurator_harness))]
mod names;
#[cfg(zkurator_harness)]
pub mod negative;

mod cleanup;
mod connect;
mod error;
mod fencing;
mod guarded;
mod hold;
mod internals;
mod monitor;
mod multi;
mod mutex;
mod node_watch;
mod nodelay;
mod observe;
mod options;
mod path;
mod read_guard;
mod registry;
mod retry;
mod revoke;
mod rule;
mod rwlock;
mod semaphore;
mod semaphore_mutex;
mod session;
mod share;
mod shared;
mod shares;
mod write_guard;

pub use connect::connect;
pub use error::{LockError, Result};
pub use fencing::FencingToken;
pub use guarded::{GuardedResult, GuardedWrite};
pub use hold::Hold;
pub use monitor::{HoldStatus, LossReason};
pub use multi::{Member, MultiGuard, MultiLock};
pub use mutex::{Mutex, MutexBuilder, MutexGuard};
pub use nodelay::{keep_nodelay, NodelayError};
pub use path::{validate_lock_path, PathProblem};
pub use read_guard::ReadGuard;
pub use revoke::revoke;
pub use rwlock::{ReadWriteLock, ReadWriteLockBuilder};
pub use semaphore::{LeaseGuard, Semaphore, SemaphoreBuilder};
pub use semaphore_mutex::SemaphoreMutex;
pub use session::SessionSource;
pub use write_guard::WriteGuard;
/// The ZooKeeper client crate this library is built on, for its `Client`.
pub use zookeeper_client;

/// The README's code samples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The guide's code samples (docs/guide/), compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/guide/library.md")]
struct GuideLibrary;

#[cfg(doctest)]
#[doc = include_str!("../docs/guide/recipes.md")]
struct GuideRecipes;

#[cfg(doctest)]
#[doc = include_str!("../docs/guide/observability.md")]
struct GuideObservability;

#[cfg(doctest)]
#[doc = include_str!("../docs/guide/examples.md")]
struct GuideExamples;

#[cfg(doctest)]
#[doc = include_str!("../docs/guide/compatibility.md")]
struct GuideCompatibility;
