//! The sequential specifications: the lock objects (a mutex of `n` leases,
//! which covers Curator's mutex, semaphores and the multi-lock taken as a
//! whole; a read/write lock, [`LockSpec`]) and, with the lock, the workloads'
//! data register whose writes it protects ([`GuardedSpec`]).

use super::search::Spec;
use crate::protocol::Side;

/// What an acquire returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acquired {
    /// Granted.
    Granted,
    /// Timed out or failed: no effect.
    NotGranted,
    /// No reply: granted at some point, or never.
    Unknown,
}

/// An operation on a lock, by contender index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockOp {
    /// `who` acquires `side`.
    Acquire {
        /// Contender index.
        who: usize,
        /// Side.
        side: Side,
        /// What came back.
        result: Acquired,
    },
    /// `who` releases `side` once (a successful release; failed ones have no effect).
    Release {
        /// Contender index.
        who: usize,
        /// Side.
        side: Side,
    },
    /// `who` lets go of `side` entirely (a revocation).
    Drop {
        /// Contender index.
        who: usize,
        /// Side.
        side: Side,
    },
    /// `who`'s session ended, or it closed: every hold goes.
    End {
        /// Contender index.
        who: usize,
    },
}

/// Holds per contender: (mutex, read, write) reentrancy counts.
pub type LockState = Vec<[u16; 3]>;

fn slot(side: Side) -> usize {
    match side {
        Side::Mutex => 0,
        Side::Read => 1,
        Side::Write => 2,
    }
}

/// A lock: a read/write lock when `read_write`, else a mutex of `leases`
/// holders (reentrant per contender).
#[derive(Clone, Copy, Debug)]
pub struct LockSpec {
    /// Contenders.
    pub contenders: usize,
    /// A read/write lock rather than a mutex.
    pub read_write: bool,
    /// Holders a mutex admits at once.
    pub leases: u32,
}

impl LockSpec {
    /// Whether `who` may be granted `side` in `state`.
    fn may_grant(&self, state: &LockState, who: usize, side: Side) -> bool {
        let mine = state[who];
        let others = || state.iter().enumerate().filter(move |(i, _)| *i != who).map(|(_, h)| h);
        match side {
            _ if mine[slot(side)] > 0 => true,
            Side::Mutex => state.iter().filter(|h| h[0] > 0).count() < self.leases as usize,
            Side::Read => mine[2] > 0 || others().all(|h| h[2] == 0),
            Side::Write => others().all(|h| h[1] == 0 && h[2] == 0),
        }
    }
}

impl Spec for LockSpec {
    type State = LockState;
    type Op = LockOp;

    fn init(&self) -> LockState {
        vec![[0; 3]; self.contenders]
    }

    fn step(&self, state: &LockState, op: &LockOp, next: &mut Vec<LockState>) {
        let with = |f: &dyn Fn(&mut LockState)| {
            let mut s = state.clone();
            f(&mut s);
            s
        };
        match *op {
            LockOp::Acquire { who, side, result } => {
                let granted = || with(&|s| s[who][slot(side)] += 1);
                match result {
                    Acquired::Granted if self.may_grant(state, who, side) => next.push(granted()),
                    Acquired::Granted => {}
                    Acquired::NotGranted => next.push(state.clone()),
                    Acquired::Unknown => {
                        if self.may_grant(state, who, side) {
                            next.push(granted());
                        }
                        next.push(state.clone());
                    }
                }
            }
            LockOp::Release { who, side } => next.push(with(&|s| {
                let c = &mut s[who][slot(side)];
                *c = c.saturating_sub(1);
            })),
            LockOp::Drop { who, side } => next.push(with(&|s| s[who][slot(side)] = 0)),
            LockOp::End { who } => next.push(with(&|s| s[who] = [0; 3])),
        }
    }
}

/// An operation on the workloads' counter node, a register of numbers
/// whose writes the lock protects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataOp {
    /// Somebody read `value` (no lock needed).
    Read(u64),
    /// `who` wrote `value` under its hold of `side`.
    Write {
        /// Contender index.
        who: usize,
        /// The side whose hold protects the write.
        side: Side,
        /// The value written.
        value: u64,
        /// Applied (`true`), or outcome unknown (`false`: applied or not).
        applied: bool,
    },
}

/// An operation on the lock or on the counter it protects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// On the lock.
    Lock(LockOp),
    /// On the counter.
    Data(DataOp),
}

/// The lock with the counter it protects, one object: a write may take
/// effect only while its writer holds the side it writes under (what the
/// workloads' lost-update negative controls break); the counter starts at 0
/// (the runner creates it with "0").
#[derive(Clone, Copy, Debug)]
pub struct GuardedSpec {
    /// The lock.
    pub lock: LockSpec,
}

impl Spec for GuardedSpec {
    type State = (LockState, u64);
    type Op = Op;

    fn init(&self) -> Self::State {
        (self.lock.init(), 0)
    }

    fn step(&self, state: &Self::State, op: &Op, next: &mut Vec<Self::State>) {
        let (lock, value) = state;
        match *op {
            Op::Lock(op) => {
                let mut locks = Vec::new();
                self.lock.step(lock, &op, &mut locks);
                next.extend(locks.into_iter().map(|l| (l, *value)));
            }
            Op::Data(DataOp::Read(v)) if v == *value => next.push(state.clone()),
            Op::Data(DataOp::Read(_)) => {}
            Op::Data(DataOp::Write { who, side, value: v, applied }) => {
                if lock[who][slot(side)] > 0 {
                    next.push((lock.clone(), v));
                }
                if !applied {
                    next.push(state.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(spec: &LockSpec, ops: &[LockOp]) -> Option<LockState> {
        let mut state = spec.init();
        for op in ops {
            let mut next = Vec::new();
            spec.step(&state, op, &mut next);
            state = next.into_iter().next()?;
        }
        Some(state)
    }

    fn acquire(who: usize, side: Side) -> LockOp {
        LockOp::Acquire { who, side, result: Acquired::Granted }
    }

    #[test]
    fn read_write_rules() {
        let rw = LockSpec { contenders: 2, read_write: true, leases: 1 };
        assert!(after(&rw, &[acquire(0, Side::Read), acquire(1, Side::Read)]).is_some(), "readers share");
        assert!(after(&rw, &[acquire(0, Side::Read), acquire(1, Side::Write)]).is_none());
        assert!(after(&rw, &[acquire(0, Side::Write), acquire(1, Side::Read)]).is_none());
        assert!(after(&rw, &[acquire(0, Side::Write), acquire(0, Side::Read)]).is_some(), "downgrade");
        let released =
            [acquire(0, Side::Write), LockOp::Release { who: 0, side: Side::Write }, acquire(1, Side::Write)];
        assert!(after(&rw, &released).is_some());
        assert!(after(&rw, &[acquire(0, Side::Write), LockOp::End { who: 0 }, acquire(1, Side::Read)]).is_some());
    }

    #[test]
    fn leases_and_reentrancy() {
        let two = LockSpec { contenders: 3, read_write: false, leases: 2 };
        let m = Side::Mutex;
        assert!(after(&two, &[acquire(0, m), acquire(1, m)]).is_some());
        assert!(after(&two, &[acquire(0, m), acquire(1, m), acquire(2, m)]).is_none());
        let one = LockSpec { leases: 1, ..two };
        assert!(
            after(&one, &[acquire(0, m), acquire(0, m), LockOp::Release { who: 0, side: m }, acquire(1, m)]).is_none()
        );
        assert!(after(&one, &[acquire(0, m), LockOp::Drop { who: 0, side: m }, acquire(1, m)]).is_some());
    }

    #[test]
    fn writes_need_the_hold() {
        let spec = GuardedSpec { lock: LockSpec { contenders: 2, read_write: false, leases: 1 } };
        let m = Side::Mutex;
        let write = |who, applied| Op::Data(DataOp::Write { who, side: m, value: 1, applied });
        let run = |ops: &[Op]| {
            let mut state = spec.init();
            for op in ops {
                let mut next = Vec::new();
                spec.step(&state, op, &mut next);
                state = next.into_iter().next()?;
            }
            Some(state.1)
        };
        assert_eq!(run(&[Op::Lock(acquire(0, m)), write(0, true), Op::Data(DataOp::Read(1))]), Some(1));
        assert_eq!(run(&[write(0, true)]), None, "a write without the hold");
        assert_eq!(run(&[write(0, false), Op::Data(DataOp::Read(0))]), Some(0), "an unknown write may not land");
    }
}
