//! The checker on small histories it must accept or refuse, and its cost on
//! generated 10,000-operation histories.

use std::time::{Duration, Instant};

use super::*;
use crate::history::EventKind;
use crate::protocol::{Command, ErrorKind, Protection, Reply, Side};

fn ev(us: u64, who: &str, kind: EventKind) -> Event {
    Event { at: Duration::from_micros(us), contender: who.into(), kind }
}

fn acquire(us: u64, who: &str, side: Side) -> Event {
    ev(us, who, EventKind::Invoke(Command::Acquire { side, timeout: None }))
}

fn granted(us: u64, who: &str) -> Event {
    ev(us, who, EventKind::Complete(Reply::Granted { node: format!("/l/{who}-{us}") }))
}

fn release(us: u64, who: &str, side: Side) -> [Event; 2] {
    [ev(us, who, EventKind::Invoke(Command::Release { side })), ev(us + 1, who, EventKind::Complete(Reply::Ok))]
}

const MUTEX: LockKind = LockKind::Mutex { max_leases: 1 };

#[test]
fn a_hand_off_is_linearizable_and_a_double_grant_is_not() {
    let mut h = vec![acquire(0, "a", Side::Mutex), granted(1, "a"), acquire(2, "b", Side::Mutex)];
    h.extend(release(5, "a", Side::Mutex));
    h.push(granted(6, "b"));
    h.extend(release(9, "b", Side::Mutex));
    let ok = check_run(&h, MUTEX, &["a", "b"], None);
    assert_eq!(ok.outcome.verdict, Verdict::Linearizable);
    assert!(ok.findings.is_empty());
    // b granted at 4, while a holds until its release at 5.
    h[3..].sort_by_key(|e| e.at);
    h.insert(3, granted(4, "b"));
    h.retain(|e| !(e.contender == "b" && e.at == Duration::from_micros(6)));
    let bad = check_run(&h, MUTEX, &["a", "b"], None);
    assert!(matches!(bad.outcome.verdict, Verdict::NotLinearizable { .. }), "{:?}", bad.outcome);
    assert_eq!(bad.findings.len(), 1);
    assert!(bad.findings[0].violation.message.contains("not linearizable"), "{:?}", bad.findings);
    // Two leases admit it.
    assert!(check_run(&h, LockKind::Mutex { max_leases: 2 }, &["a", "b"], None).findings.is_empty());
}

#[test]
fn a_reader_during_a_writer_is_caught_and_readers_share() {
    let mut h = vec![acquire(0, "a", Side::Write), granted(1, "a"), acquire(2, "b", Side::Read), granted(3, "b")];
    h.extend(release(5, "a", Side::Write));
    let bad = check_run(&h, LockKind::ReadWrite, &["a", "b"], None);
    assert_eq!(bad.findings.len(), 1, "{bad:?}");
    assert_eq!(bad.findings[0].contender, "b");
    h[0] = acquire(0, "a", Side::Read);
    h[4] = ev(5, "a", EventKind::Invoke(Command::Release { side: Side::Read }));
    assert!(check_run(&h, LockKind::ReadWrite, &["a", "b"], None).findings.is_empty());
}

#[test]
fn a_session_end_frees_the_lock_before_the_next_command_and_a_grant_after_it_may_have_been_brief() {
    // a holds and crashes; b is granted after the crash request.
    let h = vec![
        acquire(0, "a", Side::Mutex),
        granted(1, "a"),
        acquire(2, "b", Side::Mutex),
        acquire(3, "c", Side::Mutex),
        ev(5, "a", EventKind::Crash),
        ev(6, "b", EventKind::Crash),
        granted(7, "b"),
        granted(9, "c"),
    ];
    assert!(check_run(&h, MUTEX, &["a", "b", "c"], None).findings.is_empty());
    // A pending acquire (no reply) may have been granted or not; either way
    // it does not block others.
    let h = vec![acquire(0, "a", Side::Mutex), acquire(1, "b", Side::Mutex), granted(2, "b")];
    assert!(check_run(&h, MUTEX, &["a", "b"], None).findings.is_empty());
}

#[test]
fn the_counter_with_applied_refused_unknown_and_unguarded_writes() {
    let read = |us, who: &str, value| {
        [
            ev(us, who, EventKind::Invoke(Command::ReadValue { counter: "/c".into() })),
            ev(us + 1, who, EventKind::Complete(Reply::Value { value })),
        ]
    };
    let write = |us, who: &str, reply| {
        let command = Command::WriteValue { counter: "/c".into(), side: Side::Mutex, protection: Protection::Guarded };
        [ev(us, who, EventKind::Invoke(command)), ev(us + 1, who, EventKind::Complete(reply))]
    };
    let mut h: Vec<Event> = vec![acquire(0, "a", Side::Mutex), granted(1, "a")];
    h.extend(read(2, "a", 0));
    h.extend(write(10, "a", Reply::Ok));
    h.extend(release(12, "a", Side::Mutex));
    h.extend([acquire(14, "b", Side::Mutex), granted(15, "b")]);
    h.extend(read(20, "b", 1));
    let refused = Reply::Error { kind: ErrorKind::Rejected, message: "fenced".into() };
    h.extend(write(30, "b", refused));
    let ids = ["a", "b"];
    assert!(check_run(&h, MUTEX, &ids, Some(1)).findings.is_empty());
    // The refused write of 2 landed after all.
    let landed = check_run(&h, MUTEX, &ids, Some(2));
    assert_eq!(landed.findings.len(), 1, "{landed:?}");
    assert!(landed.findings[0].violation.message.contains("counter"));
    // An unknown outcome may have landed, or not.
    let lost = Reply::Error { kind: ErrorKind::Unknown, message: "connection loss".into() };
    let n = h.len();
    h[n - 1] = ev(31, "b", EventKind::Complete(lost));
    assert!(check_run(&h, MUTEX, &ids, Some(2)).findings.is_empty());
    assert!(check_run(&h, MUTEX, &ids, Some(1)).findings.is_empty());
    assert_eq!(check_run(&h, MUTEX, &ids, Some(3)).findings.len(), 1);
    // a's write, had it come after its release, is applied without the hold.
    let mut late: Vec<Event> = vec![acquire(0, "a", Side::Mutex), granted(1, "a")];
    late.extend(read(2, "a", 0));
    late.extend(release(4, "a", Side::Mutex));
    late.extend(write(10, "a", Reply::Ok));
    let unguarded = check_run(&late, MUTEX, &ids, Some(1));
    assert_eq!(unguarded.findings.len(), 1, "{unguarded:?}");
    assert!(unguarded.findings[0].violation.message.contains("write of 1 under its Mutex hold"), "{unguarded:?}");
}

/// A generated history of `holds` grants on `kind` among `contenders`, each
/// contender asking again as soon as its release returned, so every acquire
/// overlaps the holds of the others (the search has choices at every step);
/// with `overlap`, one grant in the middle comes while the holder before it
/// still holds.
fn generated(kind: LockKind, contenders: usize, holds: usize, overlap: bool) -> (Vec<Event>, Vec<String>) {
    let ids: Vec<String> = (0..contenders).map(|i| format!("c{i}")).collect();
    let mut events = Vec::new();
    let mut seed = 7u64;
    let mut random = move |n: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let side_of = |i: usize| match kind {
        LockKind::ReadWrite if i.is_multiple_of(3) => Side::Write,
        LockKind::ReadWrite => Side::Read,
        _ => Side::Mutex,
    };
    let mut t = 10u64;
    let mut asked = vec![0u64; contenders];
    for (i, id) in ids.iter().enumerate() {
        events.push(acquire(i as u64, id, side_of(i)));
    }
    for k in 0..holds {
        let who = k % contenders;
        let side = side_of(who);
        let grant = if overlap && k == holds / 2 { t - 4 } else { t };
        events.push(granted(grant.max(asked[who] + 1), &ids[who]));
        let end = t + 2 + random(5);
        events.extend(release(end, &ids[who], side));
        asked[who] = end + 2;
        events.push(acquire(end + 2, &ids[who], side));
        t = end + 3;
    }
    events.sort_by_key(|e| e.at);
    (events, ids)
}

fn timed(kind: LockKind, contenders: usize, overlap: bool) -> (Report, Duration) {
    // 2 operations per hold: 5,000 holds make 10,000 operations.
    let (events, ids) = generated(kind, contenders, 5_000, overlap);
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let started = Instant::now();
    let report = check_run(&events, kind, &ids, None);
    let took = started.elapsed();
    eprintln!(
        "{kind:?}, {contenders} contenders, overlap {overlap}: {} ops, {:?}, {} steps, {} cached, {took:?}",
        report.lock_ops, report.outcome.verdict, report.outcome.steps, report.outcome.cached
    );
    (report, took)
}

/// The cost figure of docs/history-format.md: 10,000 operations in under a
/// second in a release build (`cargo test --release -p zkurator-harness-core
/// ten_thousand -- --nocapture`); a debug build may take up to ten times longer.
#[test]
fn ten_thousand_operations_checked_in_a_second() {
    let limit = if cfg!(debug_assertions) { Duration::from_secs(10) } else { Duration::from_secs(1) };
    for (kind, contenders) in [(MUTEX, 5), (LockKind::ReadWrite, 6), (LockKind::Mutex { max_leases: 2 }, 4)] {
        let (report, took) = timed(kind, contenders, false);
        assert!(report.lock_ops >= 10_000, "{}", report.lock_ops);
        assert_eq!(report.outcome.verdict, Verdict::Linearizable, "{kind:?}");
        assert!(took < limit, "{kind:?}: {took:?}");
    }
    let (report, took) = timed(MUTEX, 5, true);
    assert!(matches!(report.outcome.verdict, Verdict::NotLinearizable { .. }), "{:?}", report.outcome.verdict);
    assert!(took < limit, "{took:?}");
}

/// Where the search stops: `k` writes of the holder, all concurrent (each
/// invoked before any returned), each of unknown outcome, then a read of a
/// value none wrote. Every subset of the writes must be refused before the
/// answer: the cost doubles with each concurrent operation of unknown
/// outcome (memoization makes it 2^k sets, not k! orders), and the length of
/// the history alone does not matter (the 10,000-operation test above).
#[test]
fn the_search_is_exponential_in_concurrent_operations_only() {
    use super::specs::{Acquired, DataOp, GuardedSpec, LockOp, Op};
    let spec = GuardedSpec { lock: lock_spec(MUTEX, 1) };
    let mut steps = Vec::new();
    for k in [8u64, 10, 12] {
        let mut ops = vec![search::Operation {
            call: 0,
            ret: Some(1),
            op: Op::Lock(LockOp::Acquire { who: 0, side: Side::Mutex, result: Acquired::Granted }),
        }];
        for i in 0..k {
            let write = DataOp::Write { who: 0, side: Side::Mutex, value: i + 1, applied: false };
            ops.push(search::Operation { call: 10 + i, ret: Some(50), op: Op::Data(write) });
        }
        ops.push(search::Operation { call: 60, ret: Some(61), op: Op::Data(DataOp::Read(10_000)) });
        let started = Instant::now();
        let outcome = search::check(&spec, &ops, BUDGET);
        eprintln!(
            "{k} concurrent writes of unknown outcome: {:?}, {} steps, {:?}",
            outcome.verdict,
            outcome.steps,
            started.elapsed()
        );
        assert!(matches!(outcome.verdict, Verdict::NotLinearizable { .. }), "{outcome:?}");
        steps.push(outcome.steps);
    }
    assert!(steps[1] > 3 * steps[0] && steps[2] > 3 * steps[1], "{steps:?}");
}
