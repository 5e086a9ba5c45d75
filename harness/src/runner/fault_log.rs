//! [`FaultLog`]: what a run's faults did and when (the fault steps in
//! `faults.rs` write it; the checks that time them read it).

use std::collections::BTreeMap;
use std::time::Instant;

use crate::contender::Runtime;
use crate::fault_figures::{FaultKind, FaultStats};

/// What a run's faults did and when: the state the fault steps and the
/// checks that time them share.
#[derive(Debug, Default)]
pub(super) struct FaultLog {
    /// What the run's faults did.
    pub(super) stats: FaultStats,
    /// The last fault on each contender, and when it was injected.
    pub(super) faulted: BTreeMap<String, (FaultKind, Instant)>,
    /// A holder's death whose waiters the next settle times.
    pub(super) holder_died: Option<(FaultKind, Runtime, Instant)>,
    /// When the last reply arrived (stamped by the contender's thread).
    pub(super) last_reply_at: Option<Instant>,
}
