//! [`Semaphore`]: Curator's `InterProcessSemaphoreV2`, with [`LeaseGuard`]
//! as the proof of one lease.
//!
//! Layout (the same as Curator's): `<path>/locks/` holds a mutex
//! (`_c_<uuid>-lock-<seq>`) that serialises takers; a taker holding it creates
//! its lease `<path>/leases/_c_<uuid>-lease-<seq>` and waits, still holding
//! the mutex, until `leases/` has at most `max_leases` children; then it lets
//! the mutex go. Both steps are the library's one acquire loop
//! ([`crate::internals`]), so protected creates, cleanup on timeout, error
//! and cancellation, and session renewal are those of the other locks.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use zookeeper_client::Client;

use crate::error::{LockError, Result};
use crate::hold::Hold;
use crate::names::{LEASE_LOCK_NAME, MUTEX_LOCK_NAME, SEMAPHORE_LEASES_DIR, SEMAPHORE_LOCKS_DIR};
use crate::options::shared_setters;
use crate::registry::Registry;
use crate::rule::Rule;
use crate::session::SessionSource;
use crate::share::Share;
use crate::shared::{Settings, Shared};

/// A counting semaphore shared across processes: Curator's
/// `InterProcessSemaphoreV2`, on the same nodes, so Rust and Curator takers
/// share one pool of `max_leases` leases.
///
/// Every acquire is a taker of its own; each lease is one node, owned by one
/// [`LeaseGuard`]. The lease count is a convention of the users of a path, as
/// in Curator without a `SharedCount`: give every handle the same number.
///
/// Unlike Curator, a taker of several leases keeps the `locks/` mutex until it
/// has them all, so two takers of several leases cannot each hold a part and
/// wait for each other; and asking for more leases than there are fails at
/// once with [`LockError::LeaseCount`] instead of waiting forever.
///
/// ```no_run
/// # async fn demo(client: zookeeper_client::Client) -> Result<(), zkurator::LockError> {
/// let pool = zkurator::Semaphore::new(&client, "/semaphores/db", 3)?;
/// let lease = pool.acquire().await?; // one of three
/// let pair = pool.acquire_many_timeout(2, std::time::Duration::from_secs(1)).await?;
/// println!("lease {} (token {})", lease.node_path(), lease.fencing_token());
/// drop(pair); // both nodes go (in the background)
/// lease.release().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Semaphore {
    shared: Arc<Shared>,
    max_leases: u32,
    /// Leases taken through this handle and its clones (for `leases_held`).
    leases: Arc<Registry>,
}

/// Options for a [`Semaphore`] (or a [`crate::SemaphoreMutex`]); start with
/// [`Semaphore::builder`].
///
/// ```no_run
/// # fn demo(client: &zkurator::zookeeper_client::Client) -> zkurator::Result<()> {
/// let pool = zkurator::Semaphore::builder(client, "/semaphores/db", 5).data("svc-a").build()?;
/// let single = zkurator::Semaphore::builder(client, "/semaphores/one", 1).build_mutex()?;
/// # let _ = (pool, single); Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct SemaphoreBuilder {
    source: SessionSource,
    path: String,
    max_leases: u32,
    settings: Settings,
}

shared_setters!(SemaphoreBuilder);

impl SemaphoreBuilder {
    /// Validates the path and the data size and makes the handle. No request is sent.
    pub fn build(self) -> Result<Semaphore> {
        let shared = Shared::new(self.source, &self.path, self.settings)?;
        Ok(Semaphore { shared, max_leases: self.max_leases, leases: Default::default() })
    }

    /// Makes a [`crate::SemaphoreMutex`] (one lease) with these options.
    pub fn build_mutex(mut self) -> Result<crate::SemaphoreMutex> {
        self.max_leases = 1;
        Ok(crate::SemaphoreMutex::from_semaphore(self.build()?))
    }
}

impl Semaphore {
    /// A semaphore of `max_leases` leases (zero counts as one) on `path`, on
    /// `source` (a `&Client` or a [`SessionSource`]).
    ///
    /// Fails with [`LockError::InvalidPath`] for a path ZooKeeper cannot use.
    pub fn new(source: impl Into<SessionSource>, path: &str, max_leases: u32) -> Result<Semaphore> {
        Semaphore::builder(source, path, max_leases).build()
    }

    /// A builder for a semaphore of `max_leases` leases (zero counts as one).
    pub fn builder(source: impl Into<SessionSource>, path: &str, max_leases: u32) -> SemaphoreBuilder {
        SemaphoreBuilder {
            source: source.into(),
            path: path.to_owned(),
            max_leases: max_leases.max(1),
            settings: Settings::default(),
        }
    }

    /// The semaphore's path (the parent of `locks/` and `leases/`).
    pub fn path(&self) -> &str {
        self.shared.lock_path()
    }

    /// Where this semaphore gets its sessions (see [`crate::Mutex::source`]).
    pub fn source(&self) -> &SessionSource {
        self.shared.source()
    }

    /// The number of leases this handle assumes.
    pub fn max_leases(&self) -> u32 {
        self.max_leases
    }

    /// Leases taken through this handle (and its clones) that are live now:
    /// not released, not known lost.
    pub fn leases_held(&self) -> usize {
        self.leases.live()
    }

    /// The lease nodes (full paths), oldest first, foreign children included:
    /// Curator's `getParticipantNodes` (which leaves them unsorted). Takers
    /// still waiting have a node here too.
    pub async fn participant_nodes(&self) -> Result<Vec<String>> {
        let client = self.shared.source().client().await?;
        let leases = format!("{}/{SEMAPHORE_LEASES_DIR}", self.path());
        let mut children = crate::retry::list_children(&client, &leases).await?;
        children.sort_by(|a, b| sequence(a).cmp(sequence(b)));
        Ok(children.into_iter().map(|child| format!("{leases}/{child}")).collect())
    }

    /// Waits until a lease is free and takes it.
    ///
    /// Cancellation safe: dropping the future leaves no node behind.
    pub async fn acquire(&self) -> Result<LeaseGuard> {
        Ok(self.take(1, None).await?.remove(0))
    }

    /// Waits at most `timeout` for a lease; [`LockError::Timeout`] after it,
    /// with this taker's nodes deleted. A zero timeout tries once
    /// ([`LockError::WouldBlock`]); `Duration::MAX` waits without end.
    pub async fn acquire_timeout(&self, timeout: Duration) -> Result<LeaseGuard> {
        Ok(self.take(1, Some(timeout)).await?.remove(0))
    }

    /// Takes a lease if one is free now and no other taker is ahead
    /// (Curator's `acquire(0, ms)`); [`LockError::WouldBlock`] otherwise.
    pub async fn try_acquire(&self) -> Result<LeaseGuard> {
        Ok(self.take(1, Some(Duration::ZERO)).await?.remove(0))
    }

    /// Waits until `n` leases are free and takes them all, or none.
    /// [`LockError::LeaseCount`] at once for zero or more than
    /// [`max_leases`](Self::max_leases).
    pub async fn acquire_many(&self, n: u32) -> Result<Vec<LeaseGuard>> {
        self.take(n, None).await
    }

    /// [`acquire_many`](Self::acquire_many) within `timeout`: on timeout the
    /// leases already taken are returned and [`LockError::Timeout`] is given.
    pub async fn acquire_many_timeout(&self, n: u32, timeout: Duration) -> Result<Vec<LeaseGuard>> {
        self.take(n, Some(timeout)).await
    }

    async fn take(&self, n: u32, timeout: Option<Duration>) -> Result<Vec<LeaseGuard>> {
        use tracing::Instrument;
        let span = crate::shared::acquire_span(self.path(), crate::observe::Kind::Lease);
        let started = std::time::Instant::now();
        let result = self.take_quietly(n, timeout).instrument(span.clone()).await;
        let _in = span.enter();
        let outcome = crate::observe::outcome(&result);
        crate::observe::acquire_ended(crate::observe::Kind::Lease, outcome, started.elapsed());
        result
    }

    async fn take_quietly(&self, n: u32, timeout: Option<Duration>) -> Result<Vec<LeaseGuard>> {
        if n == 0 || n > self.max_leases {
            return Err(LockError::LeaseCount { requested: n, max_leases: self.max_leases });
        }
        let deadline = crate::internals::deadline_after(timeout);
        loop {
            let client = self.shared.source().client().await?;
            match self.take_on(&client, n, deadline).await {
                Ok(shares) => {
                    shares.iter().for_each(|share| self.leases.add(share.hold()));
                    return Ok(shares.into_iter().map(|share| LeaseGuard { share }).collect());
                }
                Err(LockError::SessionLost(error)) if self.shared.source().renews() => {
                    tracing::debug!(%error, path = self.path(), "session ended while taking leases; again on a new one");
                }
                Err(LockError::Timeout(_) | LockError::WouldBlock) => return Err(LockError::gave_up(timeout)),
                Err(error) => return Err(error),
            }
        }
    }

    /// Takes the `locks/` mutex, then `n` leases, then lets the mutex go (its
    /// delete in the background). On any failure the leases taken are
    /// returned; a dropped future leaves the deletes to the holds' and the
    /// acquire loop's background cleanup.
    async fn take_on(&self, client: &Client, n: u32, deadline: Option<Instant>) -> Result<Vec<Share>> {
        let left = || deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let serial = Rule::Exclusive { max_leases: 1 };
        let serial = self.shared.contend_under(client, SEMAPHORE_LOCKS_DIR, MUTEX_LOCK_NAME, serial, left()).await?;
        let mut leases = Vec::with_capacity(n as usize);
        let mut failure = None;
        for _ in 0..n {
            let rule = Rule::Count { max_leases: self.max_leases };
            match self.shared.contend_under(client, SEMAPHORE_LEASES_DIR, LEASE_LOCK_NAME, rule, left()).await {
                Ok(lease) => leases.push(lease),
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        if let Some(error) = failure {
            let _ = serial.release().await;
            for lease in leases {
                let _ = lease.release().await;
            }
            return Err(error);
        }
        // The leases are taken: the `locks/` node's delete goes out now, in
        // the background (retried until done or the session ends), and the
        // caller does not wait a round trip for it. The next taker gets the
        // mutex when the delete lands, as before; nothing is let go early.
        drop(serial);
        Ok(leases)
    }
}

fn sequence(name: &str) -> &str {
    crate::names::sequence_of(name, LEASE_LOCK_NAME).unwrap_or(name)
}

/// Proof of one lease of a [`Semaphore`] (or of a [`crate::SemaphoreMutex`]).
///
/// The lease node is deleted by [`release`](Self::release), which waits for
/// the delete, or by drop, which deletes in the background (Curator's
/// `Lease.close`, guaranteed). Derefs to [`Hold`] for the status, loss signal
/// and fencing token. There is no re-entry: Curator's semaphore mutex is not
/// reentrant either.
///
/// ```no_run
/// # async fn demo(pool: zkurator::Semaphore) -> zkurator::Result<()> {
/// let lease = pool.acquire().await?;
/// println!("lease {} of {}", lease.node_path(), pool.max_leases());
/// lease.release().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "dropping the guard returns the lease"]
pub struct LeaseGuard {
    share: Share,
}

impl LeaseGuard {
    /// Returns the lease: deletes its node and waits for it (retried through
    /// connection loss until done or the session ends).
    pub async fn release(self) -> Result<()> {
        self.share.release().await
    }
}

impl Deref for LeaseGuard {
    type Target = Hold;

    fn deref(&self) -> &Hold {
        &self.share
    }
}
