//! What one zkurator contender holds, and how the contender protocol's
//! commands map onto the library's guards: Curator's per-thread reentrancy is
//! a caller re-entering through a guard it holds, a read acquire by the write
//! holder is [`WriteGuard::read`], and a write acquire by a read holder is
//! [`ReadGuard::upgrade`] (refused at once).

use std::time::Duration;

use zkurator::{
    Hold, HoldStatus, LeaseGuard, LockError, LossReason, MultiGuard, MultiLock, Mutex, MutexGuard, ReadGuard,
    ReadWriteLock, Semaphore, SemaphoreMutex, WriteGuard,
};

use crate::contender::Side;

/// The lock handle of a zkurator contender (shared by a task group).
#[derive(Clone)]
pub(crate) enum Handle {
    Mutex(Mutex),
    ReadWrite(ReadWriteLock),
    Semaphore(Semaphore),
    SemaphoreMutex(SemaphoreMutex),
    Multi(MultiLock),
}

impl Handle {
    /// Whether `side` is a side of this lock.
    pub fn fits(&self, side: Side) -> bool {
        match self {
            Handle::ReadWrite(_) => matches!(side, Side::Read | Side::Write),
            _ => side == Side::Mutex,
        }
    }

    pub async fn participant_nodes(&self) -> Result<Vec<String>, LockError> {
        match self {
            Handle::Mutex(m) => m.participant_nodes().await,
            Handle::ReadWrite(rw) => rw.participant_nodes().await,
            Handle::Semaphore(s) => s.participant_nodes().await,
            Handle::SemaphoreMutex(m) => m.participant_nodes().await,
            // The first member's nodes: where every multi-lock contender queues.
            Handle::Multi(m) => match m.members().first() {
                Some(zkurator::Member::Mutex(first)) => first.participant_nodes().await,
                _ => Err(LockError::NoMembers),
            },
        }
    }

    /// A new hold of `side`, as a contender of its own.
    async fn fresh(&self, side: Side, timeout: Option<Duration>) -> Result<Guard, LockError> {
        Ok(match (self, side, timeout) {
            (Handle::Mutex(m), _, None) => Guard::Mutex(m.lock().await?),
            (Handle::Mutex(m), _, Some(t)) => Guard::Mutex(m.lock_timeout(t).await?),
            (Handle::ReadWrite(rw), Side::Read, None) => Guard::Read(rw.read().await?),
            (Handle::ReadWrite(rw), Side::Read, Some(t)) => Guard::Read(rw.read_timeout(t).await?),
            (Handle::ReadWrite(rw), _, None) => Guard::Write(rw.write().await?),
            (Handle::ReadWrite(rw), _, Some(t)) => Guard::Write(rw.write_timeout(t).await?),
            (Handle::Semaphore(s), _, None) => Guard::Lease(s.acquire().await?),
            (Handle::Semaphore(s), _, Some(t)) => Guard::Lease(s.acquire_timeout(t).await?),
            (Handle::SemaphoreMutex(m), _, None) => Guard::Lease(m.lock().await?),
            (Handle::SemaphoreMutex(m), _, Some(t)) => Guard::Lease(m.lock_timeout(t).await?),
            (Handle::Multi(m), _, None) => Guard::Multi(m.lock().await?),
            (Handle::Multi(m), _, Some(t)) => Guard::Multi(m.lock_timeout(t).await?),
        })
    }
}

/// One guard of any kind.
pub(crate) enum Guard {
    Mutex(MutexGuard),
    Read(ReadGuard),
    Write(WriteGuard),
    /// A semaphore lease (side `mutex`): not reentrant, a second acquire is a second lease.
    Lease(LeaseGuard),
    /// Every member of a multi-lock (side `mutex`); its first member's hold stands for it.
    Multi(MultiGuard),
}

impl Guard {
    fn side(&self) -> Side {
        match self {
            Guard::Mutex(_) | Guard::Lease(_) | Guard::Multi(_) => Side::Mutex,
            Guard::Read(_) => Side::Read,
            Guard::Write(_) => Side::Write,
        }
    }

    pub fn hold(&self) -> &Hold {
        match self {
            Guard::Mutex(g) => g,
            Guard::Read(g) => g,
            Guard::Write(g) => g,
            Guard::Lease(g) => g,
            Guard::Multi(g) => g.holds().next().expect("a multi-lock has members"),
        }
    }

    fn reenter(&self) -> Result<Guard, LockError> {
        Ok(match self {
            Guard::Mutex(g) => Guard::Mutex(g.reenter()?),
            Guard::Read(g) => Guard::Read(g.reenter()?),
            Guard::Write(g) => Guard::Write(g.reenter()?),
            Guard::Lease(_) | Guard::Multi(_) => unreachable!("not re-entered (see Guards::plan)"),
        })
    }

    pub async fn release(self) -> Result<(), LockError> {
        match self {
            Guard::Mutex(g) => g.release().await,
            Guard::Read(g) => g.release().await,
            Guard::Write(g) => g.release().await,
            Guard::Lease(g) => g.release().await,
            Guard::Multi(g) => g.release().await,
        }
    }

    /// Lost other than by its own release.
    fn is_lost(&self) -> bool {
        let lost = |hold: &Hold| matches!(hold.status(), HoldStatus::Lost(reason) if reason != LossReason::Released);
        match self {
            Guard::Multi(g) => g.holds().any(lost),
            _ => lost(self.hold()),
        }
    }

    pub fn revocation_requested(&self) -> impl std::future::Future<Output = ()> + '_ {
        self.hold().revocation_requested()
    }
}

/// What an acquire needs, given what the contender holds.
enum Plan {
    /// Granted at once: another guard of a hold the contender has.
    Granted(Guard),
    /// The read lock under the write lock (through this write guard).
    ReadUnderWrite(WriteGuard),
    /// A new hold.
    Fresh,
}

/// A contender's guards, oldest first.
#[derive(Default)]
pub(crate) struct Guards {
    guards: Vec<Guard>,
}

impl Guards {
    fn first(&self, side: Side) -> Option<&Guard> {
        self.guards.iter().find(|g| g.side() == side)
    }

    /// Drops guards of holds that are lost: the contender starts afresh
    /// (a lost hold is never re-entered).
    fn prune_lost(&mut self) {
        self.guards.retain(|g| !g.is_lost());
    }

    fn plan(&mut self, side: Side) -> Result<Plan, LockError> {
        self.prune_lost();
        match self.first(side) {
            // Curator's semaphores are not reentrant: one more lease.
            Some(Guard::Lease(_) | Guard::Multi(_)) => return Ok(Plan::Fresh),
            Some(held) => return held.reenter().map(Plan::Granted),
            None => {}
        }
        match (side, self.first(Side::Read), self.first(Side::Write)) {
            (Side::Write, Some(Guard::Read(read)), _) => read.upgrade().map(Guard::Write).map(Plan::Granted),
            (Side::Read, _, Some(Guard::Write(write))) => write.reenter().map(Plan::ReadUnderWrite),
            _ => Ok(Plan::Fresh),
        }
    }

    /// The newest guard of `side`, taken out to be released.
    pub fn pop(&mut self, side: Side) -> Option<Guard> {
        let at = self.guards.iter().rposition(|g| g.side() == side)?;
        Some(self.guards.remove(at))
    }

    /// Puts back a guard taken out with [`Guards::pop`].
    pub fn put_back(&mut self, guard: Guard) {
        self.guards.push(guard);
    }

    /// Every guard, taken out.
    pub fn drain(&mut self) -> Vec<Guard> {
        std::mem::take(&mut self.guards)
    }

    /// The first guard of `side`, if any.
    pub fn get(&self, side: Side) -> Option<&Guard> {
        self.first(side)
    }

    /// Sides held (not lost) with their guard counts, and their nodes.
    pub fn held(&self) -> (Vec<(Side, u32)>, Vec<String>) {
        let mut held = Vec::new();
        let mut nodes = Vec::new();
        for side in [Side::Mutex, Side::Read, Side::Write] {
            let live: Vec<&Guard> = self.guards.iter().filter(|g| g.side() == side && !g.is_lost()).collect();
            if let Some(first) = live.first() {
                held.push((side, live.len() as u32));
                nodes.push(first.hold().node_path().to_owned());
            }
        }
        (held, nodes)
    }

    /// Sides with a guard whose hold was lost (other than by releasing it).
    pub fn lost_sides(&self) -> Vec<Side> {
        let mut sides: Vec<Side> = self.guards.iter().filter(|g| g.is_lost()).map(Guard::side).collect();
        sides.sort();
        sides.dedup();
        sides
    }
}

/// Acquires `side` for the contender whose guards these are; returns the node.
pub(crate) async fn acquire(
    handle: &Handle,
    guards: &std::sync::Mutex<Guards>,
    side: Side,
    timeout: Option<Duration>,
) -> Result<String, LockError> {
    let plan = guards.lock().unwrap_or_else(|p| p.into_inner()).plan(side)?;
    let guard = match plan {
        Plan::Granted(guard) => guard,
        Plan::ReadUnderWrite(write) => Guard::Read(write.read().await?),
        Plan::Fresh => handle.fresh(side, timeout).await?,
    };
    let node = guard.hold().node_path().to_owned();
    guards.lock().unwrap_or_else(|p| p.into_inner()).guards.push(guard);
    Ok(node)
}
