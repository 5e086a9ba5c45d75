//! The Wing–Gong search for a linearization, with Lowe's memoization of
//! (linearized set, state) pairs, as porcupine does it: the history's calls
//! and returns in one time-ordered list; the search takes the first call
//! whose operation the sequential spec accepts in the current state, lifts
//! it (call and return) out of the list, and starts again from the head;
//! reaching a return whose operation is not linearized yet means the last
//! choice was wrong: it is undone and the next call tried. A (set, state)
//! pair seen before is a dead end already explored, so it is skipped.
//!
//! Partial operations: an operation with no return (pending: the reply
//! never came) returns at infinity, so it may take effect at any point
//! after its call; its spec step offers both "took effect" and "did not"
//! when its outcome is unknown, which is how Knossos treats `:info`
//! operations. A spec step may offer several next states (nondeterminism);
//! the search tries each.

use std::collections::HashSet;
use std::hash::Hash;

/// A sequential specification.
pub trait Spec {
    /// The object's state.
    type State: Clone + Eq + Hash;
    /// One operation with its observed result.
    type Op;
    /// The initial state.
    fn init(&self) -> Self::State;
    /// Pushes onto `next` every state `op` may leave `state` in; none when
    /// `op` (with its observed result) cannot happen in `state`.
    fn step(&self, state: &Self::State, op: &Self::Op, next: &mut Vec<Self::State>);
}

/// An operation of a concurrent history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation<O> {
    /// When it was invoked (any monotonic unit).
    pub call: u64,
    /// When it returned; `None` when it never did (pending).
    pub ret: Option<u64>,
    /// What it was and what it returned.
    pub op: O,
}

/// What the search found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Some order of the operations, consistent with real time, is legal.
    Linearizable,
    /// None is.
    NotLinearizable {
        /// The most operations any attempt linearized.
        longest: usize,
        /// The operation whose return that deepest attempt could not pass
        /// (index into the operations).
        stuck: usize,
    },
    /// The search stopped after `budget` steps without an answer.
    GaveUp {
        /// Steps taken.
        steps: u64,
    },
}

/// The verdict with the search's cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// What was found.
    pub verdict: Verdict,
    /// Search steps (a call tried, or a choice undone).
    pub steps: u64,
    /// Distinct (set, state) pairs memoized.
    pub cached: usize,
}

const NIL: usize = usize::MAX;

/// A set of operation indices.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
}

/// The time-ordered list of calls and returns, doubly linked so that an
/// operation can be lifted out and put back in O(1).
struct Entries {
    op: Vec<usize>,
    is_call: Vec<bool>,
    /// For a call, the index of its return.
    partner: Vec<usize>,
    prev: Vec<usize>,
    next: Vec<usize>,
    head: usize,
}

impl Entries {
    fn new<O>(ops: &[Operation<O>]) -> Self {
        // (time, returns after calls at the same instant, op, is_call)
        let mut order: Vec<(u64, bool, usize, bool)> = Vec::with_capacity(ops.len() * 2);
        for (i, o) in ops.iter().enumerate() {
            order.push((o.call, false, i, true));
            order.push((o.ret.unwrap_or(u64::MAX).max(o.call), true, i, false));
        }
        order.sort_unstable();
        let n = order.len();
        let head = n;
        let mut e = Entries {
            op: order.iter().map(|x| x.2).collect(),
            is_call: order.iter().map(|x| x.3).collect(),
            partner: vec![NIL; n],
            prev: (0..=n).map(|i| if i == 0 { head } else { i - 1 }).collect(),
            next: (0..=n).map(|i| if i + 1 >= n { NIL } else { i + 1 }).collect(),
            head,
        };
        e.prev[head] = NIL;
        e.next[head] = if n == 0 { NIL } else { 0 };
        let mut return_of = vec![NIL; ops.len()];
        for (i, x) in order.iter().enumerate() {
            if !x.3 {
                return_of[x.2] = i;
            }
        }
        for i in 0..n {
            if e.is_call[i] {
                e.partner[i] = return_of[e.op[i]];
            }
        }
        e
    }

    fn unlink(&mut self, i: usize) {
        let (p, n) = (self.prev[i], self.next[i]);
        self.next[p] = n;
        if n != NIL {
            self.prev[n] = p;
        }
    }

    fn relink(&mut self, i: usize) {
        let (p, n) = (self.prev[i], self.next[i]);
        self.next[p] = i;
        if n != NIL {
            self.prev[n] = i;
        }
    }

    fn lift(&mut self, call: usize) {
        self.unlink(call);
        self.unlink(self.partner[call]);
    }

    /// Puts back what [`Entries::lift`] took out (in reverse order).
    fn unlift(&mut self, call: usize) {
        self.relink(self.partner[call]);
        self.relink(call);
    }
}

/// Searches for a linearization of `ops` under `spec`, giving up after
/// `budget` steps.
pub fn check<S: Spec>(spec: &S, ops: &[Operation<S::Op>], budget: u64) -> Outcome {
    let mut entries = Entries::new(ops);
    let mut linearized = Bits::new(ops.len());
    let mut cache: HashSet<(Bits, S::State)> = HashSet::new();
    let mut stack: Vec<(usize, S::State, usize)> = Vec::new();
    let mut state = spec.init();
    let mut entry = entries.next[entries.head];
    let mut first_alternative = 0;
    let mut next_states = Vec::new();
    let (mut steps, mut longest, mut stuck) = (0u64, 0usize, 0usize);
    while entries.next[entries.head] != NIL {
        steps += 1;
        if steps > budget {
            return Outcome { verdict: Verdict::GaveUp { steps }, steps, cached: cache.len() };
        }
        if entries.is_call[entry] {
            let op = entries.op[entry];
            next_states.clear();
            spec.step(&state, &ops[op].op, &mut next_states);
            let mut chosen = None;
            for (i, next) in next_states.iter().enumerate().skip(first_alternative) {
                let mut set = linearized.clone();
                set.set(op);
                if cache.insert((set, next.clone())) {
                    chosen = Some((i, next.clone()));
                    break;
                }
            }
            first_alternative = 0;
            match chosen {
                Some((alternative, next)) => {
                    stack.push((entry, std::mem::replace(&mut state, next), alternative));
                    linearized.set(op);
                    entries.lift(entry);
                    entry = entries.next[entries.head];
                }
                None => entry = entries.next[entry],
            }
        } else {
            if stack.len() >= longest {
                longest = stack.len();
                stuck = entries.op[entry];
            }
            let Some((call, previous, alternative)) = stack.pop() else {
                return Outcome { verdict: Verdict::NotLinearizable { longest, stuck }, steps, cached: cache.len() };
            };
            linearized.clear(entries.op[call]);
            state = previous;
            entries.unlift(call);
            entry = call;
            first_alternative = alternative + 1;
        }
    }
    Outcome { verdict: Verdict::Linearizable, steps, cached: cache.len() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A register of one number: `(write?, value)`.
    struct Register;

    impl Spec for Register {
        type State = u64;
        type Op = (bool, u64);
        fn init(&self) -> u64 {
            0
        }
        fn step(&self, state: &u64, op: &(bool, u64), next: &mut Vec<u64>) {
            match op {
                (true, v) => next.push(*v),
                (false, v) if v == state => next.push(*v),
                _ => {}
            }
        }
    }

    fn op(call: u64, ret: Option<u64>, write: bool, value: u64) -> Operation<(bool, u64)> {
        Operation { call, ret, op: (write, value) }
    }

    #[test]
    fn concurrent_write_may_be_seen_or_not() {
        // w(1) spans both reads: 0 then 1 is fine.
        let h = [op(0, Some(10), true, 1), op(1, Some(2), false, 0), op(3, Some(4), false, 1)];
        assert_eq!(check(&Register, &h, 1000).verdict, Verdict::Linearizable);
        // 1 then 0 is not: once the write is seen it stays.
        let h = [op(0, Some(10), true, 1), op(1, Some(2), false, 1), op(3, Some(4), false, 0)];
        assert!(matches!(check(&Register, &h, 1000).verdict, Verdict::NotLinearizable { stuck: 2, .. }));
    }

    #[test]
    fn a_read_after_the_write_returned_sees_it_and_pending_writes_may_land_late() {
        let h = [op(0, Some(1), true, 1), op(2, Some(3), false, 0)];
        assert!(matches!(check(&Register, &h, 1000).verdict, Verdict::NotLinearizable { .. }));
        // A pending write (no return) may take effect later than any read.
        let h = [op(0, None, true, 1), op(2, Some(3), false, 0), op(4, Some(5), false, 1)];
        assert_eq!(check(&Register, &h, 1000).verdict, Verdict::Linearizable);
    }

    #[test]
    fn gives_up_at_the_budget() {
        let h: Vec<_> = (0..30).map(|i| op(0, Some(100), true, i)).chain([op(101, Some(102), false, 99)]).collect();
        assert!(matches!(check(&Register, &h, 50).verdict, Verdict::GaveUp { .. }));
    }
}
