//! [`Shares`]: the explicit count of the guards of one hold, which alone
//! decides which guard is the last (and so deletes the node).
//!
//! The count is not the hold's `Arc` strong count: `is_held()` and
//! `leases_held()` upgrade the registry's `Weak` references for a moment, so a
//! guard that asked "am I the only `Arc`?" could be told no while it is the
//! last guard, return from `release()` and leave the delete to whoever drops
//! the borrowed `Arc` later. The interleavings of release, re-entry and
//! registry reads are searched by the loom test below
//! (`ZKURATOR_LOOM=1 cargo test -p zkurator --lib loom`).

#[cfg(not(zkurator_loom))]
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[cfg(zkurator_loom)]
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The guards of one hold and whether the hold has ended.
#[derive(Debug)]
pub(crate) struct Shares {
    guards: AtomicUsize,
    ended: AtomicBool,
}

impl Shares {
    /// One guard: the one the acquire hands out.
    pub(crate) fn one() -> Shares {
        Shares { guards: AtomicUsize::new(1), ended: AtomicBool::new(false) }
    }

    /// One more guard, made from a guard the caller holds (so the count is
    /// at least one and cannot reach zero meanwhile).
    pub(crate) fn join(&self) {
        self.guards.fetch_add(1, Ordering::Relaxed);
    }

    /// One guard goes; true for the last one, which must end the hold.
    pub(crate) fn leave(&self) -> bool {
        self.guards.fetch_sub(1, Ordering::AcqRel) == 1
    }

    /// Marks the hold ended; true only for the first caller, who deletes the node.
    pub(crate) fn end(&self) -> bool {
        !self.ended.swap(true, Ordering::AcqRel)
    }

    /// Whether the hold has ended (released, or its last guard gone).
    pub(crate) fn ended(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }
}

#[cfg(all(test, zkurator_loom))]
mod loom_tests {
    //! Every interleaving loom can reach of: the last guard's release, a
    //! re-entered guard's release on another thread, and a registry reader
    //! (`is_held`) taking a temporary reference to the hold. The node must be
    //! deleted exactly once, by the guard whose release returns last, before
    //! that release returns; a reader never sees a released hold as live
    //! after the release returned.
    use loom::sync::atomic::AtomicUsize;
    use loom::sync::Arc;
    use loom::thread;

    use super::*;

    /// A hold as the registry and the guards see it.
    struct Hold {
        shares: Shares,
        deletes: AtomicUsize,
    }

    impl Hold {
        fn new() -> Arc<Hold> {
            Arc::new(Hold { shares: Shares::one(), deletes: AtomicUsize::new(0) })
        }

        /// What `Share::release` does: the last guard ends the hold and deletes.
        fn release(&self) -> bool {
            if self.shares.leave() && self.shares.end() {
                self.deletes.fetch_add(1, Ordering::SeqCst);
                return true;
            }
            false
        }

        /// What `Hold`'s own drop does when no release ended it.
        fn drop_last(&self) {
            if self.shares.end() {
                self.deletes.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    /// The rule before: "last" meant being the only `Arc` (`Arc::into_inner`).
    fn release_by_arc_count(hold: Arc<Hold>) -> bool {
        match Arc::try_unwrap(hold) {
            Ok(hold) => hold.release(),
            Err(_) => false,
        }
    }

    #[test]
    fn the_last_release_deletes_before_it_returns_whatever_a_reader_does() {
        loom::model(|| {
            let hold = Hold::new();
            let reader = {
                let hold = hold.clone();
                thread::spawn(move || {
                    let live = !hold.shares.ended();
                    drop(hold);
                    live
                })
            };
            let deleted_by_release = hold.release();
            assert!(deleted_by_release, "the last guard's release returned without deleting");
            assert_eq!(hold.deletes.load(Ordering::SeqCst), 1);
            reader.join().unwrap();
            hold.drop_last();
            assert_eq!(hold.deletes.load(Ordering::SeqCst), 1, "deleted twice");
        });
    }

    #[test]
    fn of_two_guards_released_at_once_exactly_one_deletes() {
        loom::model(|| {
            let hold = Hold::new();
            hold.shares.join();
            let other = {
                let hold = hold.clone();
                thread::spawn(move || hold.release())
            };
            let mine = hold.release();
            let theirs = other.join().unwrap();
            assert!(mine ^ theirs, "both or neither guard deleted the node");
            assert_eq!(hold.deletes.load(Ordering::SeqCst), 1);
            assert!(hold.shares.ended());
        });
    }

    #[test]
    fn a_reentered_guard_keeps_the_node_while_the_first_is_released() {
        loom::model(|| {
            let hold = Hold::new();
            hold.shares.join();
            let first = {
                let hold = hold.clone();
                thread::spawn(move || hold.release())
            };
            let deleted_first = first.join().unwrap();
            assert!(!deleted_first, "the first guard's release deleted a node a re-entered guard still holds");
            assert!(!hold.shares.ended());
            assert!(hold.release());
        });
    }

    /// The negative control: the old rule, searched the same way, must be
    /// caught (a reader's temporary reference makes the last release skip
    /// its delete). Counted, not asserted: a panic inside a loom model with
    /// live threads aborts the process.
    #[test]
    fn the_arc_count_rule_is_caught() {
        static SKIPPED_DELETE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        loom::model(|| {
            let hold = Hold::new();
            let reader = {
                let hold = hold.clone();
                thread::spawn(move || drop(hold))
            };
            if !release_by_arc_count(hold) {
                SKIPPED_DELETE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            reader.join().unwrap();
        });
        assert!(
            SKIPPED_DELETE.load(std::sync::atomic::Ordering::SeqCst) > 0,
            "loom did not find the interleaving that breaks the Arc-count rule"
        );
    }
}
