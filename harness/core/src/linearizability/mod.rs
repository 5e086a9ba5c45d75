//! A complete checker beside the sound interval ones: is the history
//! linearizable at all? The lock object (a mutex of `n` leases or a
//! read/write lock, [`specs`]), with the workloads' counter register it
//! protects (a write takes effect only while its writer holds the lock), is
//! checked by the Wing–Gong search with memoization ([`search`]) over the
//! operations [`ops`] reads from the history.
//!
//! The interval checkers report an overlap the observed intervals prove; this
//! one reports that no order of the operations consistent with their real
//! time explains what every contender saw, and also accepts what it can
//! explain with operations of unknown outcome. Reads of the register assume
//! ZooKeeper's answers are linearizable, which holds on one server (the
//! corpus's) but not for reads served by a lagging follower of an ensemble.

pub mod ops;
pub mod search;
pub mod specs;

use std::time::Duration;

use crate::checker::Checker;
use crate::checkers::Violation;
use crate::history::Event;
use crate::protocol::LockKind;
use search::{Operation, Outcome, Verdict};
use specs::{Acquired, DataOp, GuardedSpec, LockOp, LockSpec, Op};

/// Search steps after which a check gives up (a few seconds at worst).
pub const BUDGET: u64 = 20_000_000;

/// A finding with where to draw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The checker's words.
    pub violation: Violation,
    /// The contender of the operation that could not be placed.
    pub contender: String,
    /// When that operation returned (or was invoked, if pending).
    pub at: Duration,
}

/// What the checker found for one run, with its cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Operations on the lock.
    pub lock_ops: usize,
    /// Operations on the counter (0: no workload).
    pub data_ops: usize,
    /// The search.
    pub outcome: Outcome,
    /// What is not linearizable (or given up on).
    pub findings: Vec<Finding>,
}

/// The lock spec of `kind` for `contenders` contenders.
pub fn lock_spec(kind: LockKind, contenders: usize) -> LockSpec {
    let leases = match kind {
        LockKind::Mutex { max_leases } | LockKind::Semaphore { max_leases } => max_leases,
        LockKind::Multi { .. } | LockKind::ReadWrite => 1,
    };
    LockSpec { contenders, read_write: kind == LockKind::ReadWrite, leases }
}

/// Checks the lock and the counter of one run (`ids`: the contenders, in
/// scenario order; `final_value`: the counter's value after the run).
pub fn check_run(events: &[Event], kind: LockKind, ids: &[&str], final_value: Option<u64>) -> Report {
    let lock = ops::lock_ops(events, ids);
    let data = ops::data_ops(events, ids, final_value);
    let (lock_ops, data_ops) = (lock.len(), data.len());
    let timed: Vec<ops::Timed<Op>> = lock
        .into_iter()
        .map(|(o, who)| (Operation { call: o.call, ret: o.ret, op: Op::Lock(o.op) }, who))
        .chain(data.into_iter().map(|(o, who)| (Operation { call: o.call, ret: o.ret, op: Op::Data(o.op) }, who)))
        .collect();
    let all: Vec<Operation<Op>> = timed.iter().map(|(op, _)| op.clone()).collect();
    let spec = GuardedSpec { lock: lock_spec(kind, ids.len()) };
    let outcome = search::check(&spec, &all, BUDGET);
    let name = |who: usize| ids.get(who).map_or("the runner", |id| *id).to_owned();
    let object = if data_ops == 0 { "lock" } else { "lock and counter" };
    let findings = finding(&outcome, &timed, object, &|op| describe(op, &name))
        .map(|(f, who)| Finding { contender: name(who), ..f })
        .into_iter()
        .collect();
    Report { lock_ops, data_ops, outcome, findings }
}

/// The finding of an outcome that is not linearizable, with its contender index.
fn finding<O>(
    outcome: &Outcome,
    ops: &[ops::Timed<O>],
    object: &str,
    describe: &dyn Fn(&ops::Timed<O>) -> String,
) -> Option<(Finding, usize)> {
    let empty = || Finding {
        violation: Violation { checker: Checker::Linearizability, message: String::new() },
        contender: String::new(),
        at: Duration::ZERO,
    };
    match outcome.verdict {
        Verdict::Linearizable => None,
        Verdict::GaveUp { steps } => Some((
            Finding {
                violation: Violation {
                    checker: Checker::Linearizability,
                    message: format!("the {object}'s {} operations: gave up after {steps} search steps", ops.len()),
                },
                ..empty()
            },
            usize::MAX,
        )),
        Verdict::NotLinearizable { longest, stuck } => {
            let op = &ops[stuck];
            let at = Duration::from_micros(op.0.ret.unwrap_or(op.0.call));
            let message = format!(
                "the {object}'s {} operations are not linearizable: at most {longest} fit one order; {} cannot be placed after them",
                ops.len(),
                describe(op)
            );
            Some((Finding { violation: Violation { checker: Checker::Linearizability, message }, at, ..empty() }, op.1))
        }
    }
}

fn span(op: &Operation<impl Sized>) -> String {
    let ms = |us: u64| Duration::from_micros(us);
    match op.ret {
        Some(ret) => format!("{:?}..{:?}", ms(op.call), ms(ret)),
        None => format!("{:?}.. (no reply)", ms(op.call)),
    }
}

fn describe((op, who): &ops::Timed<Op>, name: &dyn Fn(usize) -> String) -> String {
    match op.op {
        Op::Lock(LockOp::Acquire { who, side, result }) => {
            let result = match result {
                Acquired::Granted => "granted",
                Acquired::NotGranted => "not granted",
                Acquired::Unknown => "unknown",
            };
            format!("{}'s {side:?} acquire ({result}, {})", name(who), span(op))
        }
        Op::Lock(LockOp::Release { who, side }) => format!("{}'s {side:?} release ({})", name(who), span(op)),
        Op::Lock(LockOp::Drop { who, side }) => format!("the revocation of {}'s {side:?} ({})", name(who), span(op)),
        Op::Lock(LockOp::End { who }) => format!("the end of {}'s holds ({})", name(who), span(op)),
        Op::Data(DataOp::Read(v)) => format!("{}'s read of {v} ({})", name(*who), span(op)),
        Op::Data(DataOp::Write { value, applied, side, .. }) => format!(
            "{}'s write of {value} under its {side:?} hold{} ({})",
            name(*who),
            if applied { "" } else { ", outcome unknown" },
            span(op)
        ),
    }
}

/// The violations of a report (for a run's list of violations).
pub fn violations(report: &Report) -> Vec<Violation> {
    report.findings.iter().map(|f| f.violation.clone()).collect()
}

#[cfg(test)]
mod tests;
