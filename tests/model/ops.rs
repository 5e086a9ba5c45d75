//! The operations the model-based test draws: API calls, cancellations,
//! runtimes and server events over two sessions, their handles and clones.

use proptest::prelude::*;

/// Mutex paths (a multi-lock draws from these too).
pub const MUTEX_PATHS: u8 = 2;
/// Sessions (each a renewing source with one handle per lock and a clone).
pub const SESSIONS: u8 = 2;

/// What an acquire contends for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Mutex(u8),
    Read,
    Write,
    /// One lease of a two-lease semaphore.
    Lease,
}

/// How long an acquire may wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// `try_*`: one round trip.
    Try,
    /// A zero timeout (the same meaning as a try).
    Zero,
    /// A small timeout.
    Small,
    /// `Duration::MAX` (played as `Small` where the model says it would wait).
    Huge,
}

/// One step. Guard numbers index the live guards (modulo their count), so
/// every step means something whatever shrinking removed before it.
#[derive(Clone, Debug)]
pub enum Op {
    Acquire {
        session: u8,
        target: Target,
        wait: Wait,
        via_clone: bool,
    },
    /// An acquire polled for `after_ms`, then dropped (on a plain thread if `on_thread`).
    Cancel {
        session: u8,
        target: Target,
        after_ms: u8,
        on_thread: bool,
    },
    Reenter(u8),
    /// `WriteGuard::read` (the write holder's read).
    WriteRead(u8),
    Downgrade(u8),
    Upgrade(u8),
    Release(u8),
    Drop(u8),
    DropOnThread(u8),
    Status(u8),
    Guarded {
        guard: u8,
        over_limit: bool,
    },
    /// A multi-lock `try_lock` over these mutex paths (duplicates allowed).
    Multi {
        session: u8,
        paths: Vec<u8>,
    },
    /// An operator deletes a guard's node.
    OperatorDelete(u8),
    /// The session's current ZooKeeper session expires.
    Expire(u8),
    /// The session's connection is cut (it reconnects; the session lives on).
    Cut(u8),
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![(0..MUTEX_PATHS).prop_map(Target::Mutex), Just(Target::Read), Just(Target::Write), Just(Target::Lease)]
}

fn wait() -> impl Strategy<Value = Wait> {
    prop_oneof![Just(Wait::Try), Just(Wait::Zero), Just(Wait::Small), Just(Wait::Huge)]
}

/// One operation, weighted towards acquires and releases.
pub fn op() -> impl Strategy<Value = Op> {
    let session = 0..SESSIONS;
    let guard = any::<u8>();
    prop_oneof![
        6 => (session.clone(), target(), wait(), any::<bool>())
            .prop_map(|(session, target, wait, via_clone)| Op::Acquire { session, target, wait, via_clone }),
        2 => (session.clone(), target(), prop_oneof![Just(0u8), Just(1), Just(5)], any::<bool>())
            .prop_map(|(session, target, after_ms, on_thread)| Op::Cancel { session, target, after_ms, on_thread }),
        2 => guard.prop_map(Op::Reenter),
        1 => guard.prop_map(Op::WriteRead),
        1 => guard.prop_map(Op::Downgrade),
        1 => guard.prop_map(Op::Upgrade),
        3 => guard.prop_map(Op::Release),
        2 => guard.prop_map(Op::Drop),
        1 => guard.prop_map(Op::DropOnThread),
        1 => guard.prop_map(Op::Status),
        1 => (guard, any::<bool>()).prop_map(|(guard, over_limit)| Op::Guarded { guard, over_limit }),
        1 => (session.clone(), proptest::collection::vec(0..MUTEX_PATHS, 1..4))
            .prop_map(|(session, paths)| Op::Multi { session, paths }),
        1 => guard.prop_map(Op::OperatorDelete),
        1 => session.clone().prop_map(Op::Expire),
        1 => session.prop_map(Op::Cut),
    ]
}

/// A schedule: at most one expiry per session (each costs a second or two).
pub fn schedule(max_len: usize) -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(op(), 1..max_len).prop_map(|ops| {
        let mut expired = [false; SESSIONS as usize];
        ops.into_iter()
            .filter(|op| match op {
                Op::Expire(s) => !std::mem::replace(&mut expired[*s as usize], true),
                _ => true,
            })
            .collect()
    })
}
