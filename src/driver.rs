//! The pure decisions of the lock protocol: how children sort, whether a
//! contender holds the lock, and which node it watches otherwise.
//!
//! These functions take child names (not full paths) exactly as ZooKeeper lists
//! them and never touch the network, so they can be compared one to one with
//! Curator's `StandardLockInternalsDriver` / `InterProcessReadWriteLock` and with
//! kazurator.
//!
//! Foreign children (names without a lock name) are treated as Curator treats
//! them: they stay in the list, sort by their whole name, and count in the index
//! arithmetic of mutexes and write locks. A read lock only looks at names that
//! contain `__WRIT__`.

use crate::names::{READ_LOCK_NAME, WRITE_LOCK_NAME};

/// The lock names whose last occurrence is stripped to get a sort key.
///
/// A mutex strips `lock-`; both sides of a read/write lock strip `__READ__`, then
/// `__WRIT__`, so the two sides order on the one sequence they share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortNames {
    /// A mutex or a lease lock (`lock-`).
    Mutex,
    /// A read/write lock (`__READ__` and `__WRIT__`).
    ReadWrite,
}

/// What a contender must do after looking at the sorted children.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The contender holds the lock.
    Holds,
    /// Wait until this child (a name from the list) changes or goes away.
    Watch(String),
    /// The contender's own node is not in the list: it is gone.
    Missing,
}

/// The text a child sorts by: the text after the last occurrence of each lock
/// name in turn, or the whole name when it contains none.
///
/// ```
/// use zkurator::driver::{sort_key, SortNames};
/// assert_eq!(sort_key("_c_x-__READ__0000000007", SortNames::ReadWrite), "0000000007");
/// assert_eq!(sort_key("foreign", SortNames::Mutex), "foreign");
/// ```
pub fn sort_key(name: &str, names: SortNames) -> &str {
    match names {
        SortNames::Mutex => strip_through(name, crate::names::MUTEX_LOCK_NAME),
        SortNames::ReadWrite => strip_through(strip_through(name, READ_LOCK_NAME), WRITE_LOCK_NAME),
    }
}

fn strip_through<'a>(name: &'a str, lock_name: &str) -> &'a str {
    match name.rfind(lock_name) {
        Some(i) => &name[i + lock_name.len()..],
        None => name,
    }
}

/// Sorts children into lock order; a stable sort, so equal keys keep the
/// server's order (as Java's `Collections.sort` does).
pub fn sort_children<S: AsRef<str>>(children: &mut [S], names: SortNames) {
    children.sort_by(|a, b| sort_key(a.as_ref(), names).cmp(sort_key(b.as_ref(), names)));
}

/// Decision for an exclusive side (mutex, lease lock, write lock): it holds when
/// fewer than `max_leases` children sort before it; otherwise it watches the
/// child `max_leases` places ahead.
///
/// ```
/// use zkurator::driver::{decide_exclusive, Decision};
/// let sorted = ["a-lock-01", "b-lock-02", "c-lock-03"];
/// assert_eq!(decide_exclusive(&sorted, "b-lock-02", 2), Decision::Holds);
/// assert_eq!(decide_exclusive(&sorted, "c-lock-03", 1), Decision::Watch("b-lock-02".into()));
/// ```
pub fn decide_exclusive<S: AsRef<str>>(sorted: &[S], ours: &str, max_leases: u32) -> Decision {
    let max_leases = max_leases.max(1) as usize;
    match sorted.iter().position(|child| child.as_ref() == ours) {
        None => Decision::Missing,
        Some(index) if index < max_leases => Decision::Holds,
        Some(index) => Decision::Watch(sorted[index - max_leases].as_ref().to_owned()),
    }
}

/// Decision for the read side: it holds when no `__WRIT__` child sorts before it,
/// or when the same handle holds the write side (`owns_write`, a downgrade);
/// otherwise it watches the first `__WRIT__` child.
///
/// Unlike Curator, a missing own node is reported as [`Decision::Missing`] even
/// when the write side is held: a node that is gone never counts as held.
pub fn decide_read<S: AsRef<str>>(sorted: &[S], ours: &str, owns_write: bool) -> Decision {
    let Some(index) = sorted.iter().position(|child| child.as_ref() == ours) else {
        return Decision::Missing;
    };
    if owns_write {
        return Decision::Holds;
    }
    match sorted[..index].iter().find(|child| child.as_ref().contains(WRITE_LOCK_NAME)) {
        None => Decision::Holds,
        Some(writer) => Decision::Watch(writer.as_ref().to_owned()),
    }
}

/// Decision for a lease of a Curator `InterProcessSemaphoreV2` (the children
/// of its `leases/` directory, in any order): it holds while there are at
/// most `max_leases` children, its own included, foreign children counted as
/// Curator counts them; otherwise it waits for the children to change (the
/// returned name is its own node: Curator watches the directory, not a node).
///
/// ```
/// use zkurator::driver::{decide_count, Decision};
/// let leases = ["a-lease-01", "b-lease-02", "c-lease-03"];
/// assert_eq!(decide_count(&leases, "c-lease-03", 3), Decision::Holds);
/// assert_eq!(decide_count(&leases, "a-lease-01", 2), Decision::Watch("a-lease-01".into()));
/// assert_eq!(decide_count(&leases, "d-lease-04", 3), Decision::Missing);
/// ```
pub fn decide_count<S: AsRef<str>>(children: &[S], ours: &str, max_leases: u32) -> Decision {
    if !children.iter().any(|child| child.as_ref() == ours) {
        return Decision::Missing;
    }
    if children.len() <= max_leases.max(1) as usize {
        Decision::Holds
    } else {
        Decision::Watch(ours.to_owned())
    }
}

/// The sorted children without `gone`: what a waiter's listing becomes when
/// the node it watched is deleted and nothing else changes.
///
/// ```
/// use zkurator::driver::{decide_exclusive, without, Decision};
/// let sorted = ["a-lock-01", "b-lock-02"];
/// assert_eq!(decide_exclusive(&without(&sorted, "a-lock-01"), "b-lock-02", 1), Decision::Holds);
/// ```
pub fn without<'a, S: AsRef<str>>(sorted: &'a [S], gone: &str) -> Vec<&'a str> {
    sorted.iter().map(AsRef::as_ref).filter(|child| *child != gone).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const READ: &str = READ_LOCK_NAME;
    const WRITE: &str = WRITE_LOCK_NAME;

    fn node(owner: usize, name: &str, seq: u32) -> String {
        format!("_c_{owner:08x}-0000-4000-8000-000000000000-{name}{seq:010}")
    }

    #[test]
    fn read_write_sort_uses_shared_sequence() {
        let mut children = vec![node(1, WRITE, 3), node(2, READ, 1), "zz-foreign".into(), node(3, WRITE, 2)];
        sort_children(&mut children, SortNames::ReadWrite);
        assert_eq!(children, vec![node(2, READ, 1), node(3, WRITE, 2), node(1, WRITE, 3), "zz-foreign".to_string()]);
    }

    #[test]
    fn sort_is_stable_for_equal_keys() {
        // A downgrade read node carries its write node's sequence.
        let mut children = vec![node(1, WRITE, 5), node(1, READ, 5), node(2, READ, 4)];
        sort_children(&mut children, SortNames::ReadWrite);
        assert_eq!(children, vec![node(2, READ, 4), node(1, WRITE, 5), node(1, READ, 5)]);
    }

    #[test]
    fn foreign_children_count_for_exclusive_sides() {
        // "0000000000" has no lock name and sorts by its whole text, before every sequence.
        let mut children = vec![node(1, "lock-", 1), "0000000000".to_string()];
        sort_children(&mut children, SortNames::Mutex);
        assert_eq!(decide_exclusive(&children, &node(1, "lock-", 1), 1), Decision::Watch("0000000000".into()));
    }

    #[test]
    fn read_waits_for_earlier_writer_only() {
        let sorted = vec![node(1, READ, 1), node(2, WRITE, 2), node(3, READ, 3)];
        assert_eq!(decide_read(&sorted, &node(1, READ, 1), false), Decision::Holds);
        assert_eq!(decide_read(&sorted, &node(3, READ, 3), false), Decision::Watch(node(2, WRITE, 2)));
        assert_eq!(decide_read(&sorted, &node(3, READ, 3), true), Decision::Holds);
        assert_eq!(decide_read(&sorted, &node(9, READ, 9), true), Decision::Missing);
    }

    #[test]
    fn write_waits_for_any_earlier_node() {
        let sorted = vec![node(1, READ, 1), node(2, WRITE, 2)];
        assert_eq!(decide_exclusive(&sorted, &node(2, WRITE, 2), 1), Decision::Watch(node(1, READ, 1)));
        assert_eq!(decide_exclusive(&sorted, &node(7, WRITE, 7), 1), Decision::Missing);
    }

    #[test]
    fn a_waiter_right_behind_the_gone_node_holds() {
        let sorted = vec![node(1, "lock-", 1), node(2, "lock-", 2), node(3, "lock-", 3)];
        let after = without(&sorted, &node(1, "lock-", 1));
        assert_eq!(decide_exclusive(&after, &node(2, "lock-", 2), 1), Decision::Holds);
        assert_eq!(decide_exclusive(&after, &node(3, "lock-", 3), 1), Decision::Watch(node(2, "lock-", 2)));
        // A reader behind two writers still waits when the first goes.
        let sorted = vec![node(1, WRITE, 1), node(2, WRITE, 2), node(3, READ, 3)];
        let after = without(&sorted, &node(1, WRITE, 1));
        assert_eq!(decide_read(&after, &node(3, READ, 3), false), Decision::Watch(node(2, WRITE, 2)));
        assert_eq!(decide_read(&without(&after, &node(2, WRITE, 2)), &node(3, READ, 3), false), Decision::Holds);
    }

    #[test]
    fn zero_leases_behaves_as_one() {
        let sorted = ["a-lock-1", "b-lock-2"];
        assert_eq!(decide_exclusive(&sorted, "a-lock-1", 0), Decision::Holds);
        assert_eq!(decide_exclusive(&sorted, "b-lock-2", 0), Decision::Watch("a-lock-1".into()));
    }

    /// A contender in the reference model: a read or a write request at a
    /// distinct sequence number.
    #[derive(Clone, Debug)]
    struct Request {
        write: bool,
        seq: u32,
    }

    fn requests() -> impl Strategy<Value = Vec<Request>> {
        proptest::collection::btree_set(0u32..1_000_000, 1..12).prop_flat_map(|seqs| {
            let seqs: Vec<u32> = seqs.into_iter().collect();
            let n = seqs.len();
            (Just(seqs), proptest::collection::vec(any::<bool>(), n), Just(()))
                .prop_map(|(seqs, writes, ())| {
                    seqs.into_iter().zip(writes).map(|(seq, write)| Request { write, seq }).collect()
                })
                .prop_shuffle()
        })
    }

    proptest! {
        /// The driver agrees with the textbook statement of a FIFO read/write
        /// lock: a writer holds when nothing is queued before it, a reader
        /// holds when no writer is queued before it.
        #[test]
        fn read_write_driver_matches_reference(reqs in requests()) {
            let names: Vec<String> = reqs
                .iter()
                .enumerate()
                .map(|(i, r)| node(i, if r.write { WRITE } else { READ }, r.seq))
                .collect();
            let mut sorted = names.clone();
            sort_children(&mut sorted, SortNames::ReadWrite);
            for (req, name) in reqs.iter().zip(&names) {
                let before: Vec<&Request> = reqs.iter().filter(|o| o.seq < req.seq).collect();
                let model_holds = if req.write { before.is_empty() } else { before.iter().all(|o| !o.write) };
                let decision = if req.write {
                    decide_exclusive(&sorted, name, 1)
                } else {
                    decide_read(&sorted, name, false)
                };
                prop_assert_eq!(decision == Decision::Holds, model_holds, "{} in {:?}", name, sorted);
                if let Decision::Watch(watched) = decision {
                    let watched_seq: u32 = watched[watched.len() - 10..].parse().unwrap();
                    prop_assert!(watched_seq < req.seq, "watches a node behind it");
                    if !req.write {
                        prop_assert!(watched.contains(WRITE), "a reader watches a writer");
                    }
                }
            }
            // Safety over all holders at once.
            let holders: Vec<&Request> = reqs.iter().zip(&names).filter(|(r, n)| {
                let d = if r.write { decide_exclusive(&sorted, n, 1) } else { decide_read(&sorted, n, false) };
                d == Decision::Holds
            }).map(|(r, _)| r).collect();
            let writers = holders.iter().filter(|r| r.write).count();
            prop_assert!(writers == 0 || holders.len() == 1, "a writer shares the lock: {:?}", holders);
            prop_assert!(!holders.is_empty(), "nobody holds a non-empty lock");
        }

        /// With n leases, exactly min(n, len) contenders hold, the first ones in sequence order.
        #[test]
        fn leases_admit_the_first_n(seqs in proptest::collection::btree_set(0u32..1_000_000, 1..12), leases in 1u32..5) {
            let names: Vec<String> = seqs.iter().enumerate().map(|(i, s)| node(i, "lock-", *s)).collect();
            let mut sorted = names.clone();
            sorted.reverse();
            sort_children(&mut sorted, SortNames::Mutex);
            let holders: Vec<&String> = names.iter().filter(|n| decide_exclusive(&sorted, n, leases) == Decision::Holds).collect();
            prop_assert_eq!(holders.len(), names.len().min(leases as usize));
            prop_assert_eq!(holders, names.iter().take(leases as usize).collect::<Vec<_>>());
        }
    }
}
