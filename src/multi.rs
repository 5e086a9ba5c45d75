//! [`MultiLock`]: Curator's `InterProcessMultiLock`, several locks taken as
//! one, all or none, with [`MultiGuard`] owning every member's hold.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{LockError, Result};
use crate::hold::Hold;
use crate::monitor::LossReason;
use crate::mutex::{Mutex, MutexGuard};
use crate::read_guard::ReadGuard;
use crate::rwlock::ReadWriteLock;
use crate::semaphore::LeaseGuard;
use crate::semaphore_mutex::SemaphoreMutex;
use crate::session::SessionSource;
use crate::write_guard::WriteGuard;

/// One lock of a [`MultiLock`]: any exclusive or shared side this crate has.
///
/// ```no_run
/// # fn demo(client: &zkurator::zookeeper_client::Client) -> zkurator::Result<()> {
/// use zkurator::{Member, MultiLock, ReadWriteLock, Semaphore};
/// let catalog = ReadWriteLock::new(client, "/locks/catalog")?;
/// let slot = Semaphore::builder(client, "/semaphores/slot", 1).build_mutex()?;
/// let both = MultiLock::of(vec![Member::Read(catalog), Member::SemaphoreMutex(slot)])?;
/// # let _ = both; Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Member {
    /// A [`Mutex`] (Curator `InterProcessMutex`, or leases).
    Mutex(Mutex),
    /// A [`SemaphoreMutex`] (Curator `InterProcessSemaphoreMutex`).
    SemaphoreMutex(SemaphoreMutex),
    /// The read side of a [`ReadWriteLock`].
    Read(ReadWriteLock),
    /// The write side of a [`ReadWriteLock`].
    Write(ReadWriteLock),
}

impl From<Mutex> for Member {
    fn from(mutex: Mutex) -> Member {
        Member::Mutex(mutex)
    }
}

impl From<SemaphoreMutex> for Member {
    fn from(mutex: SemaphoreMutex) -> Member {
        Member::SemaphoreMutex(mutex)
    }
}

impl Member {
    /// The lock path and what is taken there: equal for members that are
    /// the same lock.
    fn identity(&self) -> (&str, String) {
        match self {
            Member::Mutex(m) => (m.lock_path(), format!("mutex of {} lease(s)", m.max_leases())),
            Member::SemaphoreMutex(m) => (m.path(), "semaphore mutex".to_owned()),
            Member::Read(rw) => (rw.lock_path(), "read lock".to_owned()),
            Member::Write(rw) => (rw.lock_path(), "write lock".to_owned()),
        }
    }

    async fn acquire(&self, timeout: Option<Duration>) -> Result<MemberGuard> {
        Ok(match (self, timeout) {
            (Member::Mutex(m), None) => MemberGuard::Mutex(m.lock().await?),
            (Member::Mutex(m), Some(t)) => MemberGuard::Mutex(m.lock_timeout(t).await?),
            (Member::SemaphoreMutex(m), None) => MemberGuard::Lease(m.lock().await?),
            (Member::SemaphoreMutex(m), Some(t)) => MemberGuard::Lease(m.lock_timeout(t).await?),
            (Member::Read(rw), None) => MemberGuard::Read(rw.read().await?),
            (Member::Read(rw), Some(t)) => MemberGuard::Read(rw.read_timeout(t).await?),
            (Member::Write(rw), None) => MemberGuard::Write(rw.write().await?),
            (Member::Write(rw), Some(t)) => MemberGuard::Write(rw.write_timeout(t).await?),
        })
    }
}

/// The guard of one member.
#[derive(Debug)]
enum MemberGuard {
    Mutex(MutexGuard),
    Lease(LeaseGuard),
    Read(ReadGuard),
    Write(WriteGuard),
}

impl MemberGuard {
    fn hold(&self) -> &Hold {
        match self {
            MemberGuard::Mutex(g) => g,
            MemberGuard::Lease(g) => g,
            MemberGuard::Read(g) => g,
            MemberGuard::Write(g) => g,
        }
    }

    async fn release(self) -> Result<()> {
        match self {
            MemberGuard::Mutex(g) => g.release().await,
            MemberGuard::Lease(g) => g.release().await,
            MemberGuard::Read(g) => g.release().await,
            MemberGuard::Write(g) => g.release().await,
        }
    }
}

/// Several locks taken as one: Curator's `InterProcessMultiLock`. An acquire
/// takes the members in order, each as a contender of its own; if one cannot
/// be had (timeout, error, cancellation) the ones already taken are released
/// in reverse order, so the caller holds all or none.
///
/// Take the same members in the same order everywhere (as with Curator):
/// two multi-locks taking shared members in different orders can each hold a
/// part and wait for the other until a timeout.
///
/// ```no_run
/// # async fn demo(client: zookeeper_client::Client) -> Result<(), zkurator::LockError> {
/// use zkurator::{Member, MultiLock, ReadWriteLock};
/// let both = MultiLock::new(&client, &["/locks/accounts/1", "/locks/accounts/2"])?;
/// let guard = both.lock_timeout(std::time::Duration::from_secs(5)).await?;
/// println!("tokens {:?}", guard.fencing_tokens());
/// guard.release().await?; // every member, even if one release fails
///
/// let catalog = ReadWriteLock::new(&client, "/locks/catalog")?;
/// let mixed = MultiLock::of(vec![Member::Read(catalog), zkurator::Mutex::new(&client, "/locks/job")?.into()])?;
/// drop(mixed.lock().await?);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct MultiLock {
    members: Vec<Member>,
}

impl MultiLock {
    /// A multi-lock of one [`Mutex`] per path (Curator's
    /// `InterProcessMultiLock(client, paths)`), on `source`.
    /// [`LockError::InvalidPath`] for a bad path; [`LockError::NoMembers`]
    /// for none.
    pub fn new(source: impl Into<SessionSource>, paths: &[&str]) -> Result<MultiLock> {
        let source = source.into();
        let members = paths.iter().map(|path| Mutex::new(source.clone(), path).map(Member::Mutex));
        MultiLock::of(members.collect::<Result<Vec<_>>>()?)
    }

    /// A multi-lock of the given members, taken in this order.
    /// [`LockError::NoMembers`] for an empty list.
    ///
    /// A member given twice (the same lock path and kind: a transfer from an
    /// account to itself) is one member, taken once, as Curator's reentrancy
    /// takes it. Two different kinds on one path (a read and a write lock, a
    /// mutex and a read/write lock) would wait on each other:
    /// [`LockError::ConflictingMembers`], before any request.
    pub fn of(members: Vec<Member>) -> Result<MultiLock> {
        if members.is_empty() {
            return Err(LockError::NoMembers);
        }
        let mut kept: Vec<Member> = Vec::with_capacity(members.len());
        for member in members {
            let (path, kind) = member.identity();
            match kept.iter().map(Member::identity).find(|(p, _)| *p == path) {
                Some((_, taken)) if taken == kind => continue,
                Some((_, taken)) => {
                    return Err(LockError::ConflictingMembers { path: path.to_owned(), first: taken, second: kind })
                }
                None => kept.push(member),
            }
        }
        Ok(MultiLock { members: kept })
    }

    /// The members, in acquire order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// Waits until every member is held. Cancellation safe: dropping the
    /// future releases what was taken and leaves no node behind.
    pub async fn lock(&self) -> Result<MultiGuard> {
        self.acquire(None).await
    }

    /// Waits at most `timeout` in all; [`LockError::Timeout`] after it, with
    /// the members taken so far released.
    pub async fn lock_timeout(&self, timeout: Duration) -> Result<MultiGuard> {
        self.acquire(Some(timeout)).await
    }

    /// Takes every member if all are free now; [`LockError::WouldBlock`]
    /// otherwise, with nothing held.
    pub async fn try_lock(&self) -> Result<MultiGuard> {
        self.acquire(Some(Duration::ZERO)).await
    }

    async fn acquire(&self, timeout: Option<Duration>) -> Result<MultiGuard> {
        let deadline = crate::internals::deadline_after(timeout);
        let mut guard = MultiGuard { guards: Vec::with_capacity(self.members.len()) };
        for member in &self.members {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            match member.acquire(left).await {
                Ok(taken) => guard.guards.push(taken),
                Err(error) => {
                    let _ = guard.release().await;
                    return Err(match error {
                        LockError::Timeout(_) | LockError::WouldBlock => LockError::gave_up(timeout),
                        other => other,
                    });
                }
            }
        }
        Ok(guard)
    }
}

/// Proof that every member of a [`MultiLock`] is held: one hold per member,
/// in acquire order. Released by [`release`](Self::release) or drop (in the
/// background), in reverse order.
///
/// ```no_run
/// # async fn demo(client: zkurator::zookeeper_client::Client) -> zkurator::Result<()> {
/// let accounts = zkurator::MultiLock::new(&client, &["/locks/accounts/1", "/locks/accounts/2"])?;
/// let guard = accounts.lock().await?;
/// for hold in guard.holds() {
///     println!("{} token {}", hold.node_path(), hold.fencing_token());
/// }
/// guard.release().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "dropping the guard releases every member"]
pub struct MultiGuard {
    guards: Vec<MemberGuard>,
}

impl MultiGuard {
    /// The members' holds, in acquire order (status, node, fencing token).
    pub fn holds(&self) -> impl Iterator<Item = &Hold> + '_ {
        self.guards.iter().map(MemberGuard::hold)
    }

    /// Each member's fencing token, in acquire order.
    pub fn fencing_tokens(&self) -> Vec<crate::FencingToken> {
        self.holds().map(Hold::fencing_token).collect()
    }

    /// Resolves when any member's hold is lost (the first loss, with its reason).
    pub async fn lost(&self) -> LossReason {
        let mut losses: Vec<Pin<Box<dyn Future<Output = LossReason> + Send + '_>>> = self
            .holds()
            .map(|hold| Box::pin(hold.lost()) as Pin<Box<dyn Future<Output = LossReason> + Send + '_>>)
            .collect();
        std::future::poll_fn(|cx| {
            for loss in &mut losses {
                if let Poll::Ready(reason) = loss.as_mut().poll(cx) {
                    return Poll::Ready(reason);
                }
            }
            Poll::Pending
        })
        .await
    }

    /// Releases every member, the last taken first, and waits for the
    /// deletes. Every member is released even when one fails (Curator's
    /// `release` does the same); the first failure is returned.
    pub async fn release(mut self) -> Result<()> {
        let mut first_failure = None;
        while let Some(guard) = self.guards.pop() {
            if let Err(error) = guard.release().await {
                first_failure.get_or_insert(error);
            }
        }
        first_failure.map_or(Ok(()), Err)
    }
}

impl Drop for MultiGuard {
    fn drop(&mut self) {
        // Reverse order; each hold deletes its node in the background.
        while let Some(guard) = self.guards.pop() {
            drop(guard);
        }
    }
}
