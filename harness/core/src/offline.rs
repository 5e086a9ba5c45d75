//! Every check that needs only a saved history: the model replayed
//! ([`crate::replay`]), exclusion and naming ([`crate::checkers`]), lost
//! updates against the saved final value ([`crate::checkers_data`]) and the
//! linearizability checker ([`crate::linearizability`]); and the verdict they
//! come to with the violations only a live run can see (setup, cleanup,
//! participants, revocation...), which a recheck takes from `verdict.json`.

use std::time::Instant;

use crate::checker::Checker;
use crate::checkers::{self, Violation};
use crate::checkers_data;
use crate::expectations::Verdict;
use crate::linearizability::{self, search};
use crate::outcome::SETUP;
use crate::protocol::LockKind;
use crate::record::{RunRecord, SavedVerdict, SavedViolation};
use crate::replay::{replay_timed, Replay};
use crate::runtimes::Runtime;

/// The checkers whose violations are recomputed from the history alone.
pub const OFFLINE_CHECKERS: [crate::checker::Checker; 5] = crate::checker::Checker::OFFLINE;

pub use crate::record::LinSummary;

/// What the offline checks found.
#[derive(Clone, Debug)]
pub struct Checked {
    /// Violations of [`OFFLINE_CHECKERS`], in the runner's order.
    pub violations: Vec<Violation>,
    /// The model's replay (its expected states, for the timeline).
    pub replay: Replay,
    /// The linearizability checker's report.
    pub linearizability: linearizability::Report,
    /// Its summary.
    pub lin_summary: LinSummary,
}

/// Runs every offline check over `record`, whose contenders are `contenders`.
pub fn check(record: &RunRecord, contenders: &[(String, Runtime)]) -> Checked {
    let events = &record.events;
    let kind = record.header.kind;
    let session_timeout = std::time::Duration::from_millis(record.header.session_timeout_ms);
    let model = crate::model::Model::new(kind, contenders).with_session_timeout(session_timeout);
    let replay = replay_timed(model, events, contenders);
    let mut violations: Vec<Violation> = replay.violation.iter().cloned().collect();
    if let Some(value) = record.end.final_value {
        let runtime_of = |id: &str| contenders.iter().find(|(c, _)| c == id).map(|(_, r)| r.clone());
        let mut stats = checkers_data::tally(events, &runtime_of);
        let holders = match kind {
            LockKind::Mutex { max_leases } => max_leases,
            _ => 1,
        };
        violations.extend(checkers_data::lost_updates(&mut stats, value, holders));
    }
    violations.extend(checkers::exclusion(events, kind));
    violations.extend(checkers::names(events, kind, &record.end.foreign));
    let ids: Vec<&str> = contenders.iter().map(|(id, _)| id.as_str()).collect();
    let started = Instant::now();
    let lin = linearizability::check_run(events, kind, &ids, record.end.final_value);
    let micros = started.elapsed().as_micros() as u64;
    let lin_summary = summary(&lin, micros);
    Checked { violations, replay, linearizability: lin, lin_summary }
}

/// The saved form of a linearizability report that took `micros`.
pub fn summary(report: &linearizability::Report, micros: u64) -> LinSummary {
    LinSummary {
        lock_ops: report.lock_ops,
        data_ops: report.data_ops,
        linearizable: match report.outcome.verdict {
            search::Verdict::Linearizable => Some(true),
            search::Verdict::NotLinearizable { .. } => Some(false),
            search::Verdict::GaveUp { .. } => None,
        },
        steps: report.outcome.steps,
        micros,
        findings: report.findings.iter().map(|f| SavedViolation::from(&f.violation)).collect(),
    }
}

/// A run checked again.
#[derive(Clone, Debug)]
pub struct Rechecked {
    /// Live-only violations from `verdict.json`, then the recomputed ones.
    pub violations: Vec<SavedViolation>,
    /// The verdict they come to.
    pub verdict: Verdict,
    /// The offline checks.
    pub checked: Checked,
}

impl Rechecked {
    /// Whether the recheck comes to the saved verdict, by the same checkers.
    pub fn agrees_with(&self, saved: &SavedVerdict) -> bool {
        let checkers = |v: &[SavedViolation]| {
            let mut names: Vec<Checker> = v.iter().map(|v| v.checker).collect();
            names.sort();
            names.dedup();
            names
        };
        self.verdict.cell() == saved.verdict.cell() && checkers(&self.violations) == checkers(&saved.violations)
    }
}

/// Checks a saved run again: the live-only violations of `saved` with the
/// offline checks of `record`, judged with the saved known deviation.
pub fn recheck(record: &RunRecord, saved: &SavedVerdict, contenders: &[(String, Runtime)]) -> Rechecked {
    let checked = check(record, contenders);
    let mut violations: Vec<SavedViolation> =
        saved.violations.iter().filter(|v| !OFFLINE_CHECKERS.contains(&v.checker)).cloned().collect();
    violations.extend(checked.violations.iter().map(SavedViolation::from));
    let verdict = judge(saved, &violations);
    Rechecked { violations, verdict, checked }
}

/// The verdict on `violations` with the saved known deviation (the rules of
/// [`crate::expectations::Expectations::verdict`]).
pub fn judge(saved: &SavedVerdict, violations: &[SavedViolation]) -> Verdict {
    if let Verdict::Skipped { reason } = &saved.verdict {
        return Verdict::Skipped { reason: reason.clone() };
    }
    if let Some(setup) = violations.iter().find(|v| v.checker == SETUP) {
        return Verdict::Error { message: setup.message.clone() };
    }
    match (&saved.known, violations.is_empty()) {
        (None, true) => Verdict::Pass,
        (None, false) => Verdict::Fail,
        (Some(reason), false) => Verdict::Known { reason: reason.clone() },
        (Some(reason), true) => Verdict::UnexpectedPass { reason: reason.clone() },
    }
}

/// Whether the linearizability checker agrees with the others on a run
/// whose violations came from `checkers`: a run whose intervals overlap
/// (exclusion) is not linearizable, and a run every other checker passed is.
/// `Err` says how they disagree.
pub fn agreement(checkers: &[Checker], lin: &LinSummary) -> Result<(), String> {
    let overlap = checkers.contains(&Checker::Exclusion);
    match lin.linearizable {
        Some(true) if overlap => {
            Err("the exclusion checker proved an overlap the linearizability checker explains".into())
        }
        Some(false) if checkers.is_empty() => {
            Err(format!("not linearizable, though every other checker passed: {:?}", lin.findings))
        }
        None => Err(format!("the linearizability search gave up after {} steps", lin.steps)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_rules() {
        let (exclusion, model) = ([Checker::Exclusion], [Checker::Model]);
        let lin = |linearizable| LinSummary { linearizable, ..LinSummary::default() };
        assert!(agreement(&exclusion, &lin(Some(false))).is_ok());
        assert!(agreement(&exclusion, &lin(Some(true))).is_err());
        assert!(agreement(&[], &lin(Some(true))).is_ok());
        assert!(agreement(&[], &lin(Some(false))).is_err());
        assert!(agreement(&model, &lin(Some(false))).is_ok(), "complete: may see more than the intervals");
        assert!(agreement(&model, &lin(Some(true))).is_ok());
        assert!(agreement(&[], &lin(None)).is_err());
    }
}
