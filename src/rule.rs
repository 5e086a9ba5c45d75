//! [`Rule`]: how an attempt decides, from the sorted children, whether it
//! holds: the recipe's predicate, pure.

use crate::driver::{self, Decision};

/// How an attempt decides whether it holds the lock.
#[derive(Clone, Debug)]
pub(crate) enum Rule {
    /// Mutex, lease lock or write side: the first `max_leases` nodes hold it.
    Exclusive { max_leases: u32 },
    /// Read side; `downgrade_from` is the sequence of the write node this handle
    /// holds, if any: then the read node is created non-sequential with that
    /// sequence as suffix (Curator 5.5, CURATOR-621) and holds at once.
    Read { downgrade_from: Option<String> },
    /// A lease of Curator's `InterProcessSemaphoreV2`: held while the lock
    /// directory has at most `max_leases` children; waits on the directory.
    Count { max_leases: u32 },
}

impl Rule {
    /// The rule applied to the sorted children: does `ours` hold?
    pub(crate) fn decide<S: AsRef<str>>(&self, sorted: &[S], ours: &str) -> Decision {
        match self {
            Rule::Exclusive { max_leases } => driver::decide_exclusive(sorted, ours, *max_leases),
            Rule::Read { downgrade_from } => driver::decide_read(sorted, ours, downgrade_from.is_some()),
            Rule::Count { max_leases } => driver::decide_count(sorted, ours, *max_leases),
        }
    }
}
