//! Deliberately broken lock rules, for negative controls: a harness that lets
//! one of these through is not checking anything. They can only be switched on
//! per handle, and only in builds with `--cfg zkurator_harness` (this
//! repository's harness); never in production.

/// A way to break the lock on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NegativeControl {
    /// The read side holds as soon as its node exists, ignoring queued writers.
    ReadIgnoresWriters,
    /// Exclusive sides count only other write (or mutex) nodes, ignoring readers.
    WriteIgnoresReaders,
    /// Holds belong to the handle, not to the caller: an acquire while any
    /// caller of the handle holds that side re-enters that hold (zkurator
    /// before per-caller holds), so tasks sharing a handle do not exclude
    /// each other.
    SharedHold,
    /// A semaphore lease taker that ignores the count: it holds a lease as
    /// soon as its node exists, however many leases are out.
    LeaseIgnoresCount,
}

impl NegativeControl {
    /// The broken decision for `rule`, or `None` where this control leaves
    /// the rule alone.
    pub(crate) fn decide<S: AsRef<str>>(
        self,
        rule: &crate::rule::Rule,
        sorted: &[S],
        ours: &str,
    ) -> Option<crate::driver::Decision> {
        use crate::driver;
        use crate::rule::Rule;
        match (rule, self) {
            (Rule::Read { .. }, NegativeControl::ReadIgnoresWriters) => Some(driver::decide_read(sorted, ours, true)),
            (Rule::Exclusive { max_leases }, NegativeControl::WriteIgnoresReaders) => {
                let others: Vec<&str> =
                    sorted.iter().map(AsRef::as_ref).filter(|c| !c.contains(crate::names::READ_LOCK_NAME)).collect();
                Some(driver::decide_exclusive(&others, ours, *max_leases))
            }
            (Rule::Count { .. }, NegativeControl::LeaseIgnoresCount) => {
                Some(driver::decide_count(sorted, ours, u32::MAX))
            }
            _ => None,
        }
    }
}
