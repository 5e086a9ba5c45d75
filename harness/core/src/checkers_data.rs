//! The lost-update checker: what the history says about the workload's
//! writes, compared with the counter's final value on the server. Pure.
//!
//! Every successful write stored "the value read + 1", so with exclusion
//! the final value equals the number of completed critical sections. A write
//! whose reply was lost is unknown: it may or may not have been applied, so
//! it only widens the range. Sound both ways: `final > completed + unknown`
//! means a write reported refused was applied; `final < completed` (for one
//! holder at a time) means updates were lost; with `n` leases only
//! `final * n >= completed` is required.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::checker::Checker;
use crate::checkers::Violation;
use crate::history::{Event, EventKind};
use crate::protocol::{Command, ErrorKind, Protection, Reply};
use crate::runtimes::Runtime;

/// Late writes (after the writer's hold ended between its read and its
/// write: pause, expiry, crash) of one protection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LateWrites {
    /// How the writes were protected.
    pub protection: Option<Protection>,
    /// The late writer's runtime.
    pub runtime: Option<Runtime>,
    /// Late writes attempted.
    pub attempted: usize,
    /// Of those, refused (not applied).
    pub rejected: usize,
    /// Of those, applied.
    pub applied: usize,
}

/// The workload figures of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DataStats {
    /// Completed critical sections (writes that succeeded), per runtime.
    pub critical_sections: BTreeMap<Runtime, usize>,
    /// Writes whose outcome is unknown (reply lost).
    pub unknown: usize,
    /// Writes refused by their protection.
    pub rejected: usize,
    /// The counter's value at the end of the run.
    pub final_value: Option<u64>,
    /// Updates lost: completed writes the final value does not account for.
    pub lost_updates: usize,
    /// Late writes per protection.
    pub late: Vec<LateWrites>,
}

impl DataStats {
    /// Completed critical sections of every runtime.
    pub fn completed(&self) -> usize {
        self.critical_sections.values().sum()
    }

    /// Whether the run had any workload write.
    pub fn is_empty(&self) -> bool {
        self.completed() == 0 && self.unknown == 0 && self.rejected == 0 && self.late.is_empty()
    }

    fn late_mut(&mut self, protection: Protection, runtime: Option<Runtime>) -> &mut LateWrites {
        if let Some(at) = self.late.iter().position(|l| l.protection == Some(protection) && l.runtime == runtime) {
            return &mut self.late[at];
        }
        self.late.push(LateWrites { protection: Some(protection), runtime, ..LateWrites::default() });
        self.late.last_mut().expect("just pushed")
    }
}

/// What a write's reply says about whether it was applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Applied.
    Applied,
    /// Definitely not applied (refused, unsupported, nothing held to write with).
    NotApplied,
    /// Maybe applied.
    Unknown,
}

/// Classifies a [`Command::WriteValue`] reply. Only errors a runtime gives
/// for a write that cannot have happened count as not applied; anything
/// else is unknown.
pub fn write_outcome(reply: &Reply) -> WriteOutcome {
    match reply {
        Reply::Ok => WriteOutcome::Applied,
        Reply::Error { kind: ErrorKind::Rejected | ErrorKind::Unsupported | ErrorKind::NotHeld, .. } => {
            WriteOutcome::NotApplied
        }
        _ => WriteOutcome::Unknown,
    }
}

/// Tallies the workload's writes in `events` (`runtime_of` maps contender
/// ids to runtimes). A write is late when its contender had a fault
/// (recorded as a crash event) after its last read.
pub fn tally(events: &[Event], runtime_of: &dyn Fn(&str) -> Option<Runtime>) -> DataStats {
    let mut stats = DataStats::default();
    let mut last_invoke: BTreeMap<&str, &Command> = BTreeMap::new();
    let mut faulted_since_read: BTreeMap<&str, bool> = BTreeMap::new();
    for event in events {
        let id = event.contender.as_str();
        match &event.kind {
            EventKind::Invoke(command) => {
                last_invoke.insert(id, command);
            }
            EventKind::Crash => {
                if let Some(faulted) = faulted_since_read.get_mut(id) {
                    *faulted = true;
                }
            }
            EventKind::Complete(reply) => match (last_invoke.get(id), reply) {
                (Some(Command::ReadValue { .. }), Reply::Value { .. }) => {
                    faulted_since_read.insert(id, false);
                }
                (Some(Command::WriteValue { protection, .. }), reply) => {
                    let outcome = write_outcome(reply);
                    match outcome {
                        WriteOutcome::Applied => {
                            if let Some(runtime) = runtime_of(id) {
                                *stats.critical_sections.entry(runtime).or_default() += 1;
                            }
                        }
                        WriteOutcome::NotApplied => stats.rejected += 1,
                        WriteOutcome::Unknown => stats.unknown += 1,
                    }
                    if faulted_since_read.remove(id) == Some(true) {
                        let late = stats.late_mut(*protection, runtime_of(id));
                        late.attempted += 1;
                        match outcome {
                            WriteOutcome::Applied => late.applied += 1,
                            WriteOutcome::NotApplied => late.rejected += 1,
                            WriteOutcome::Unknown => {}
                        }
                    }
                }
                _ => {}
            },
            EventKind::Listing(_) | EventKind::Step { .. } | EventKind::Server(_) => {}
        }
    }
    stats
}

/// Checks the counter's final value against the tally; `holders` is how
/// many contenders may hold the lock at once (1 for a mutex or write lock).
/// Fills in `final_value` and `lost_updates`.
pub fn lost_updates(stats: &mut DataStats, final_value: u64, holders: u32) -> Vec<Violation> {
    let completed = stats.completed() as u64;
    stats.final_value = Some(final_value);
    stats.lost_updates = completed.saturating_sub(final_value) as usize;
    let mut violations = Vec::new();
    if final_value > completed + stats.unknown as u64 {
        violations.push(Violation {
            checker: Checker::LostUpdates,
            message: format!(
                "the counter is {final_value} but only {completed} writes succeeded ({} unknown): a write reported refused was applied",
                stats.unknown
            ),
        });
    }
    let holders = u64::from(holders.max(1));
    if final_value * holders < completed {
        let message = if holders == 1 {
            format!(
                "{} lost updates: {completed} critical sections completed, the counter is {final_value}",
                stats.lost_updates
            )
        } else {
            format!(
                "the counter is {final_value} after {completed} critical sections: more lost than {holders} holders at a time can lose"
            )
        };
        violations.push(Violation { checker: Checker::LostUpdates, message });
    }
    violations
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::protocol::Side;

    fn event(ms: u64, id: &str, kind: EventKind) -> Event {
        Event { at: Duration::from_millis(ms), contender: id.into(), kind }
    }

    fn read(ms: u64, id: &str, value: u64) -> Vec<Event> {
        vec![
            event(ms, id, EventKind::Invoke(Command::ReadValue { counter: "/c".into() })),
            event(ms + 1, id, EventKind::Complete(Reply::Value { value })),
        ]
    }

    fn write(ms: u64, id: &str, protection: Protection, reply: Reply) -> Vec<Event> {
        let command = Command::WriteValue { counter: "/c".into(), side: Side::Mutex, protection };
        vec![event(ms, id, EventKind::Invoke(command)), event(ms + 1, id, EventKind::Complete(reply))]
    }

    fn rust(_: &str) -> Option<Runtime> {
        Some(Runtime::Rust)
    }

    #[test]
    fn interleaved_plain_writes_are_lost_updates() {
        let mut events = read(0, "a", 0);
        events.extend(read(10, "b", 0));
        events.extend(write(20, "a", Protection::Plain, Reply::Ok));
        events.extend(write(30, "b", Protection::Plain, Reply::Ok));
        let mut stats = tally(&events, &rust);
        assert_eq!(stats.completed(), 2);
        let violations = lost_updates(&mut stats, 1, 1);
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!(stats.lost_updates, 1);
        // Two lease holders may lose one of two.
        assert!(lost_updates(&mut stats, 1, 2).is_empty());
    }

    #[test]
    fn unknown_writes_widen_the_range_and_late_writes_are_counted() {
        let mut events = read(0, "a", 0);
        events.push(event(5, "a", EventKind::Crash));
        let rejected = Reply::Error { kind: ErrorKind::Rejected, message: "gone".into() };
        events.extend(write(20, "a", Protection::Guarded, rejected));
        events.extend(read(30, "b", 0));
        let lost = Reply::Error { kind: ErrorKind::Unknown, message: "connection loss".into() };
        events.extend(write(40, "b", Protection::Plain, lost));
        let mut stats = tally(&events, &rust);
        assert_eq!((stats.completed(), stats.unknown, stats.rejected), (0, 1, 1));
        assert_eq!(
            stats.late,
            vec![LateWrites {
                protection: Some(Protection::Guarded),
                runtime: Some(Runtime::Rust),
                attempted: 1,
                rejected: 1,
                applied: 0
            }]
        );
        assert!(lost_updates(&mut stats, 1, 1).is_empty(), "an unknown write may have landed");
        assert!(lost_updates(&mut stats, 0, 1).is_empty(), "or not");
        assert_eq!(lost_updates(&mut stats, 2, 1).len(), 1, "more than every possible write");
    }
}
