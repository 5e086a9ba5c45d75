//! A complete checker beside the sound interval ones: is the history
//! linearizable at all? The lock object (a mutex of `n` leases or a
//! read/write lock, [`specs`]) and the workloads' counter register are
//! checked apart (P-compositionality: each object alone), each by the
//! Wing–Gong search with memoization ([`search`]) over the operations
//! [`ops`] reads from the history.
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

use crate::checkers::Violation;
use crate::history::Event;
use crate::protocol::LockKind;
use search::{Operation, Outcome, Verdict};
use specs::{Acquired, LockOp, LockSpec, RegisterOp, RegisterSpec};

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
    /// The lock's search.
    pub lock: Outcome,
    /// Operations on the counter register (0: no workload).
    pub register_ops: usize,
    /// The register's search, if the run had a workload.
    pub register: Option<Outcome>,
    /// Everything not linearizable (or given up on).
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
    let timed = ops::lock_ops(events, ids);
    let lock_ops: Vec<Operation<LockOp>> = timed.iter().map(|(op, _)| op.clone()).collect();
    let lock = search::check(&lock_spec(kind, ids.len()), &lock_ops, BUDGET);
    let mut findings = Vec::new();
    let name = |who: usize| ids.get(who).map_or("the runner", |id| *id).to_owned();
    if let Some(f) = finding(&lock, &timed, "lock", &|op| describe_lock(op, &name)) {
        findings.push(Finding { contender: name(f.1), ..f.0 });
    }
    let timed_register = ops::register_ops(events, ids, final_value);
    let register = (!timed_register.is_empty()).then(|| {
        let ops: Vec<Operation<RegisterOp>> = timed_register.iter().map(|(op, _)| op.clone()).collect();
        search::check(&RegisterSpec, &ops, BUDGET)
    });
    if let Some(outcome) = &register {
        if let Some(f) = finding(outcome, &timed_register, "counter", &|op| describe_register(op, &name)) {
            findings.push(Finding { contender: name(f.1), ..f.0 });
        }
    }
    Report { lock_ops: lock_ops.len(), lock, register_ops: timed_register.len(), register, findings }
}

/// The finding of an outcome that is not linearizable, with its contender index.
fn finding<O>(
    outcome: &Outcome,
    ops: &[ops::Timed<O>],
    object: &str,
    describe: &dyn Fn(&ops::Timed<O>) -> String,
) -> Option<(Finding, usize)> {
    let empty = || Finding {
        violation: Violation { checker: "", message: String::new() },
        contender: String::new(),
        at: Duration::ZERO,
    };
    match outcome.verdict {
        Verdict::Linearizable => None,
        Verdict::GaveUp { steps } => Some((
            Finding {
                violation: Violation {
                    checker: "linearizability",
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
            Some((Finding { violation: Violation { checker: "linearizability", message }, at, ..empty() }, op.1))
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

fn describe_lock((op, _): &ops::Timed<LockOp>, name: &dyn Fn(usize) -> String) -> String {
    match op.op {
        LockOp::Acquire { who, side, result } => {
            let result = match result {
                Acquired::Granted => "granted",
                Acquired::NotGranted => "not granted",
                Acquired::Unknown => "unknown",
            };
            format!("{}'s {side:?} acquire ({result}, {})", name(who), span(op))
        }
        LockOp::Release { who, side } => format!("{}'s {side:?} release ({})", name(who), span(op)),
        LockOp::Drop { who, side } => format!("the revocation of {}'s {side:?} ({})", name(who), span(op)),
        LockOp::End { who } => format!("the end of {}'s holds ({})", name(who), span(op)),
    }
}

fn describe_register((op, who): &ops::Timed<RegisterOp>, name: &dyn Fn(usize) -> String) -> String {
    match op.op {
        RegisterOp::Read(v) => format!("{}'s read of {v} ({})", name(*who), span(op)),
        RegisterOp::Write(v) => format!("{}'s write of {v} ({})", name(*who), span(op)),
        RegisterOp::MaybeWrite(v) => format!("{}'s write of {v}, outcome unknown ({})", name(*who), span(op)),
    }
}

/// The violations of a report (for a run's list of violations).
pub fn violations(report: &Report) -> Vec<Violation> {
    report.findings.iter().map(|f| f.violation.clone()).collect()
}

#[cfg(test)]
mod tests;
