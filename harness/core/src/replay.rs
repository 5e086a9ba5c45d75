//! The lock model replayed over a saved history, with no server: the steps
//! the runner recorded (`step` events) go through [`Model`] again, and each
//! step's window (its events up to the next step) must show what the runner
//! checks live: the step's own reply as the model says, the grants the model
//! announces, no grant it does not announce. Also the model's expected
//! holders after every step, which the HTML timeline draws beside the
//! observed holds.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::checker::Checker;
use crate::checkers::Violation;
use crate::history::{Event, EventKind, FINISH};
use crate::model::{Model, Outcome};
use crate::protocol::{Command, ErrorKind, LockKind, Reply, Side};
use crate::runtimes::Runtime;
use crate::steps::{parse_step, Action, Expect};
use crate::workload::DataStep;

/// What the model expected after one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedState {
    /// When the step started.
    pub at: Duration,
    /// The step's text.
    pub text: String,
    /// Who holds what, by the model, after the step.
    pub holders: Vec<(String, Side)>,
    /// Who waits, by the model, after the step.
    pub waiting: Vec<String>,
}

/// The replay's findings.
#[derive(Clone, Debug, Default)]
pub struct Replay {
    /// The first mismatch (the runner stops a run at its first one too).
    pub violation: Option<Violation>,
    /// The model's state after every step replayed.
    pub expected: Vec<ExpectedState>,
}

/// Replays the model over `events` for contenders `contenders` of `kind`.
pub fn replay(events: &[Event], kind: LockKind, contenders: &[(String, Runtime)]) -> Replay {
    replay_timed(Model::new(kind, contenders), events, contenders)
}

/// [`replay`] from a model set up beforehand (with the run's session
/// timeout, which decides whether a partition expired a session).
pub fn replay_timed(mut model: Model, events: &[Event], contenders: &[(String, Runtime)]) -> Replay {
    let ids: Vec<&str> = contenders.iter().map(|(id, _)| id.as_str()).collect();
    let marks: Vec<usize> =
        events.iter().enumerate().filter(|(_, e)| matches!(e.kind, EventKind::Step { .. })).map(|(i, _)| i).collect();
    let mut out = Replay::default();
    let mut pending: BTreeSet<String> = BTreeSet::new();
    for (n, &at) in marks.iter().enumerate() {
        let EventKind::Step { line, text } = &events[at].kind else { continue };
        if text == FINISH {
            break;
        }
        let window = &events[at + 1..marks.get(n + 1).copied().unwrap_or(events.len())];
        let fail = |message: String| Violation {
            checker: Checker::Model,
            message: format!("line {line} `{text}`: {message}"),
        };
        let (action, expect) = match parse_step(text, &ids) {
            Ok(parsed) => parsed,
            Err((_, why)) => {
                out.violation = Some(fail(format!("the recorded step does not parse: {why}")));
                return out;
            }
        };
        let prediction = match model.step(&action) {
            Ok(p) => p,
            Err(e) => {
                out.violation = Some(Violation { checker: Checker::Scenario, message: e.0 });
                return out;
            }
        };
        out.expected.push(ExpectedState {
            at: events[at].at,
            text: text.clone(),
            holders: holders(&model, &ids),
            waiting: model.pending(),
        });
        let first_reply = |who: &str| {
            window.iter().find_map(|e| match &e.kind {
                EventKind::Complete(r) if e.contender == who => Some(r),
                _ => None,
            })
        };
        let mismatch = match &action {
            Action::Acquire { contender, .. } => {
                let expected = prediction.outcome.clone().unwrap_or(Outcome::Ok);
                if expected == Outcome::Blocked {
                    pending.insert(contender.clone());
                }
                let got = first_reply(contender);
                (!fits(&expected, got)).then(|| format!("{contender}: model says {expected:?}, got {}", seen(got)))
            }
            Action::Release { contender, .. } => {
                let expected = prediction.outcome.clone().unwrap_or(Outcome::Ok);
                let got = first_reply(contender);
                (!fits(&expected, got)).then(|| format!("{contender}: model says {expected:?}, got {}", seen(got)))
            }
            Action::Data { contender, step: DataStep::Write { .. } | DataStep::Increment { .. } } => {
                let write = window.iter().rev().find_map(|e| match &e.kind {
                    EventKind::Complete(r) if e.contender == *contender => Some(r),
                    _ => None,
                });
                match (expect, write) {
                    (Some(expect), Some(reply)) if !write_fits(expect, reply) => {
                        out.violation = Some(Violation {
                            checker: Checker::LostUpdates,
                            message: format!(
                                "line {line} `{text}`: {contender}'s write: expected {expect:?}, got {reply:?}"
                            ),
                        });
                        return out;
                    }
                    _ => None,
                }
            }
            Action::Revocable { contender, .. } | Action::Revoke { contender, .. } => {
                let got = first_reply(contender);
                (!fits(&Outcome::Ok, got)).then(|| format!("{contender}: model says Ok, got {}", seen(got)))
            }
            Action::Crash { contender } | Action::Expire { contender } | Action::Kill { contender }
                if prediction.abandoned.contains(contender) =>
            {
                matches!(first_reply(contender), Some(Reply::Granted { .. }))
                    .then(|| format!("{contender} was granted the lock after its session ended"))
            }
            _ => None,
        };
        let mismatch = mismatch.or_else(|| unanswered(window));
        if let Some(message) = mismatch {
            out.violation = Some(fail(message));
            return out;
        }
        for id in prediction.abandoned.iter() {
            pending.remove(id);
        }
        for id in &prediction.granted {
            pending.remove(id);
            if !matches!(first_reply(id), Some(Reply::Granted { .. })) {
                out.violation = Some(fail(format!(
                    "{id}: model says its waiting acquire is granted now, got {}",
                    seen(first_reply(id))
                )));
                return out;
            }
        }
        for id in &pending {
            if let Some(reply @ Reply::Granted { .. }) = first_reply(id) {
                out.violation = Some(fail(format!("{id}: model says it still waits, but it got {reply:?}")));
                return out;
            }
        }
    }
    out
}

/// A command other than an acquire that got no reply in its step's window
/// (the runner waits for each such reply within the step).
fn unanswered(window: &[Event]) -> Option<String> {
    window.iter().enumerate().find_map(|(i, e)| match &e.kind {
        EventKind::Invoke(command) if !matches!(command, Command::Acquire { .. }) => {
            let answered = window[i + 1..]
                .iter()
                .any(|later| later.contender == e.contender && matches!(later.kind, EventKind::Complete(_)));
            (!answered).then(|| format!("{}: no reply to {command:?}", e.contender))
        }
        _ => None,
    })
}

/// The model's holders, in contender order.
fn holders(model: &Model, ids: &[&str]) -> Vec<(String, Side)> {
    let mut out = Vec::new();
    for id in ids {
        for side in [Side::Mutex, Side::Read, Side::Write] {
            if model.holds(id, side) {
                out.push(((*id).to_owned(), side));
            }
        }
    }
    out
}

/// Whether a reply is what the model's outcome allows (the runner's `compare`).
fn fits(expected: &Outcome, reply: Option<&Reply>) -> bool {
    match (expected, reply) {
        (Outcome::Blocked, None) => true,
        (Outcome::Granted, Some(Reply::Granted { .. })) => true,
        (Outcome::Timeout, Some(Reply::Error { kind: ErrorKind::Timeout, .. })) => true,
        (Outcome::Error(kind), Some(Reply::Error { kind: got, .. })) => kind == got,
        (Outcome::Ok, Some(Reply::Ok)) => true,
        _ => false,
    }
}

/// Whether a workload write's reply fits the step's `=> ok | error KIND`.
fn write_fits(expect: Expect, reply: &Reply) -> bool {
    match (expect, reply) {
        (Expect::Ok, Reply::Ok) | (Expect::Denied, Reply::Error { .. }) => true,
        (Expect::Error(kind), Reply::Error { kind: got, .. }) => kind == *got,
        _ => false,
    }
}

fn seen(reply: Option<&Reply>) -> String {
    match reply {
        None => "no reply (blocked)".to_owned(),
        Some(reply) => format!("{reply:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ms: u64, who: &str, kind: EventKind) -> Event {
        Event { at: Duration::from_millis(ms), contender: who.into(), kind }
    }

    fn step(ms: u64, line: usize, text: &str) -> Event {
        ev(ms, "zk", EventKind::Step { line, text: text.into() })
    }

    fn granted(ms: u64, who: &str) -> Event {
        ev(ms, who, EventKind::Complete(Reply::Granted { node: format!("/l/{who}") }))
    }

    fn acquire(ms: u64, who: &str) -> Event {
        ev(ms, who, EventKind::Invoke(Command::Acquire { side: Side::Mutex, timeout: None }))
    }

    fn contenders() -> Vec<(String, Runtime)> {
        vec![("a".into(), Runtime::Rust), ("b".into(), Runtime::Curator)]
    }

    #[test]
    fn a_faithful_history_replays_and_a_double_grant_does_not() {
        let mutex = LockKind::Mutex { max_leases: 1 };
        let h = vec![
            step(0, 1, "a acquire mutex"),
            acquire(1, "a"),
            granted(2, "a"),
            step(3, 2, "b acquire mutex => blocked"),
            acquire(4, "b"),
            step(10, 3, "a release mutex"),
            ev(11, "a", EventKind::Invoke(Command::Release { side: Side::Mutex })),
            ev(12, "a", EventKind::Complete(Reply::Ok)),
            granted(13, "b"),
            step(20, 0, FINISH),
        ];
        let ok = replay(&h, mutex, &contenders());
        assert!(ok.violation.is_none(), "{:?}", ok.violation);
        assert_eq!(ok.expected.len(), 3);
        assert_eq!(ok.expected[1].waiting, vec!["b".to_string()]);
        assert_eq!(ok.expected[2].holders, vec![("b".to_string(), Side::Mutex)]);
        // b granted while a holds: the model said blocked.
        let mut early = h.clone();
        early.insert(5, granted(5, "b"));
        let bad = replay(&early, mutex, &contenders()).violation.expect("a mismatch");
        assert_eq!(bad.checker, Checker::Model);
        assert!(bad.message.contains("model says Blocked"), "{}", bad.message);
        // a's release never answered.
        let mut silent = h.clone();
        silent.remove(7);
        silent.remove(7);
        let bad = replay(&silent, mutex, &contenders()).violation.expect("a mismatch");
        assert!(bad.message.contains("model says Ok, got no reply"), "{}", bad.message);
    }

    #[test]
    fn a_wrong_grant_slower_than_the_blocked_window_is_still_caught() {
        // Under load a wrong grant may reply after the runner's blocked
        // window (300 ms) and be read only when a's release lets b in: the
        // stamp of its arrival, not when the runner read it, decides.
        let mutex = LockKind::Mutex { max_leases: 1 };
        let h = vec![
            step(0, 1, "a acquire mutex"),
            acquire(1, "a"),
            granted(2, "a"),
            step(3, 2, "b acquire mutex => blocked"),
            acquire(4, "b"),
            step(310, 3, "sleep 1s"),
            granted(700, "b"),
            step(1310, 4, "a release mutex"),
            ev(1311, "a", EventKind::Invoke(Command::Release { side: Side::Mutex })),
            ev(1312, "a", EventKind::Complete(Reply::Ok)),
            step(1400, 0, FINISH),
        ];
        let bad = replay(&h, mutex, &contenders()).violation.expect("the late wrong grant");
        assert!(bad.message.contains("b: model says it still waits"), "{}", bad.message);
        // The same grant after the release began is the right one.
        let mut right = h.clone();
        let grant = right.remove(6);
        right.insert(9, Event { at: Duration::from_millis(1313), ..grant });
        assert!(replay(&right, mutex, &contenders()).violation.is_none());
    }

    #[test]
    fn a_status_without_a_reply_is_a_violation() {
        let h = vec![
            step(0, 1, "a acquire mutex"),
            acquire(1, "a"),
            granted(2, "a"),
            step(3, 2, "a participants"),
            ev(4, "a", EventKind::Invoke(Command::Participants)),
            step(20, 0, FINISH),
        ];
        let bad = replay(&h, LockKind::Mutex { max_leases: 1 }, &contenders()).violation.expect("a mismatch");
        assert!(bad.message.contains("no reply to Participants"), "{}", bad.message);
    }

    #[test]
    fn a_long_partition_lets_the_waiter_in_only_with_the_runs_session_timeout() {
        let mutex = LockKind::Mutex { max_leases: 1 };
        let h = vec![
            step(0, 1, "a acquire mutex"),
            acquire(1, "a"),
            granted(2, "a"),
            step(3, 2, "b acquire mutex => blocked"),
            acquire(4, "b"),
            step(10, 3, "a partition for 5s"),
            ev(10, "a", EventKind::Crash),
            step(20, 4, "sleep 4s"),
            granted(2000, "b"),
            step(4100, 0, FINISH),
        ];
        let two = Model::new(mutex, &contenders()).with_session_timeout(Duration::from_secs(2));
        let ok = replay_timed(two, &h, &contenders());
        assert!(ok.violation.is_none(), "{:?}", ok.violation);
        assert_eq!(ok.expected.last().map(|e| e.holders.clone()), Some(vec![("b".to_string(), Side::Mutex)]));
        // With a 10 s session the 5 s partition is not long: the replay refuses it.
        let ten = Model::new(mutex, &contenders()).with_session_timeout(Duration::from_secs(10));
        assert!(replay_timed(ten, &h, &contenders()).violation.is_some());
    }
}
