//! Unit tests of [`super`].
use super::*;
use crate::steps::ServerOp;
use std::time::Duration;

fn contenders(ids: &[(&str, Runtime)]) -> Vec<(String, Runtime)> {
    ids.iter().map(|(id, r)| (id.to_string(), r.clone())).collect()
}

fn acquire(c: &str, side: Side) -> Action {
    Action::Acquire { contender: c.into(), side, timeout: None }
}

fn release(c: &str, side: Side) -> Action {
    Action::Release { contender: c.into(), side }
}

fn rw(ids: &[(&str, Runtime)]) -> Model {
    Model::new(LockKind::ReadWrite, &contenders(ids))
}

#[test]
fn reader_blocks_writer_until_release() {
    let mut m = rw(&[("a", Runtime::Rust), ("b", Runtime::Curator)]);
    assert_eq!(m.step(&acquire("a", Side::Read)).unwrap().outcome, Some(Outcome::Granted));
    assert_eq!(m.step(&acquire("b", Side::Write)).unwrap().outcome, Some(Outcome::Blocked));
    let p = m.step(&release("a", Side::Read)).unwrap();
    assert_eq!(p.granted, vec!["b".to_string()]);
    assert!(m.holds("b", Side::Write));
}

#[test]
fn timed_out_acquire_leaves_no_node() {
    let mut m = rw(&[("a", Runtime::Rust), ("b", Runtime::Rust)]);
    m.step(&acquire("a", Side::Write)).unwrap();
    let step = Action::Acquire { contender: "b".into(), side: Side::Read, timeout: Some(Duration::from_millis(5)) };
    assert_eq!(m.step(&step).unwrap().outcome, Some(Outcome::Timeout));
    assert_eq!(m.nodes().len(), 1);
}

#[test]
fn contended_downgrade_keeps_queued_writer_out() {
    let mut m = rw(&[("a", Runtime::Curator), ("b", Runtime::Kazurator)]);
    m.step(&acquire("a", Side::Write)).unwrap();
    assert_eq!(m.step(&acquire("b", Side::Write)).unwrap().outcome, Some(Outcome::Blocked));
    assert_eq!(m.step(&acquire("a", Side::Read)).unwrap().outcome, Some(Outcome::Granted));
    let p = m.step(&release("a", Side::Write)).unwrap();
    assert!(p.granted.is_empty(), "writer slipped in: {p:?}");
    let p = m.step(&release("a", Side::Read)).unwrap();
    assert_eq!(p.granted, vec!["b".to_string()]);
}

#[test]
fn upgrade_errors_in_rust_and_waits_on_itself_elsewhere() {
    let mut m = rw(&[("r", Runtime::Rust), ("c", Runtime::Curator)]);
    m.step(&acquire("r", Side::Read)).unwrap();
    assert_eq!(m.step(&acquire("r", Side::Write)).unwrap().outcome, Some(Outcome::Error(ErrorKind::Upgrade)));
    m.step(&release("r", Side::Read)).unwrap();
    m.step(&acquire("c", Side::Read)).unwrap();
    assert_eq!(m.step(&acquire("c", Side::Write)).unwrap().outcome, Some(Outcome::Blocked));
    let err = m.step(&release("c", Side::Read)).unwrap_err();
    assert!(err.0.contains("still waiting"), "{err}");
}

#[test]
fn leases_and_reentrancy() {
    let ids = [("a", Runtime::Rust), ("b", Runtime::Curator), ("c", Runtime::Kazurator)];
    let mut m = Model::new(LockKind::Mutex { max_leases: 2 }, &contenders(&ids));
    assert_eq!(m.step(&acquire("a", Side::Mutex)).unwrap().outcome, Some(Outcome::Granted));
    assert_eq!(m.step(&acquire("a", Side::Mutex)).unwrap().outcome, Some(Outcome::Granted));
    assert_eq!(m.step(&acquire("b", Side::Mutex)).unwrap().outcome, Some(Outcome::Granted));
    assert_eq!(m.step(&acquire("c", Side::Mutex)).unwrap().outcome, Some(Outcome::Blocked));
    assert!(m.step(&release("a", Side::Mutex)).unwrap().granted.is_empty(), "reentrant hold still counts");
    assert_eq!(m.step(&release("a", Side::Mutex)).unwrap().granted, vec!["c".to_string()]);
    assert_eq!(m.step(&release("a", Side::Mutex)).unwrap().outcome, Some(Outcome::Error(ErrorKind::NotHeld)));
}

#[test]
fn crash_frees_and_abandons() {
    let mut m = rw(&[("a", Runtime::Rust), ("b", Runtime::Curator)]);
    m.step(&acquire("a", Side::Write)).unwrap();
    m.step(&acquire("b", Side::Read)).unwrap();
    let p = m.step(&Action::Crash { contender: "b".into() }).unwrap();
    assert_eq!(p.abandoned, vec!["b".to_string()]);
    assert_eq!(m.nodes().len(), 1);
    let p = m.step(&Action::Crash { contender: "a".into() }).unwrap();
    assert!(p.granted.is_empty() && m.nodes().is_empty());
}

fn fault(c: &str, make: fn(String) -> Action) -> Action {
    make(c.to_owned())
}

#[test]
fn expiring_a_holder_frees_it_and_lets_it_report_the_loss_only() {
    let mut m = rw(&[("a", Runtime::Kazurator), ("b", Runtime::Rust)]);
    m.step(&acquire("a", Side::Write)).unwrap();
    m.step(&acquire("b", Side::Read)).unwrap();
    let p = m.step(&fault("a", |contender| Action::Expire { contender })).unwrap();
    assert_eq!(p.ended_holds, vec![Side::Write]);
    assert_eq!(p.granted, vec!["b".to_string()]);
    assert_eq!(m.ended("a"), Some(Ended::Expired));
    let lost = Action::ExpectLost { contender: "a".into(), side: Side::Write, within: None };
    assert_eq!(m.step(&lost).unwrap().outcome, Some(Outcome::Ok));
    let read_lost = Action::ExpectLost { contender: "a".into(), side: Side::Read, within: None };
    assert!(m.step(&read_lost).unwrap_err().0.contains("did not hold"));
    assert!(m.step(&acquire("a", Side::Write)).unwrap_err().0.contains("no more commands"));
}

#[test]
fn expired_waiters_abandon_except_curator_which_queues_again() {
    let ids = [("h", Runtime::Rust), ("k", Runtime::Kazurator), ("c", Runtime::Curator), ("n", Runtime::Rust)];
    let mut m = Model::new(LockKind::Mutex { max_leases: 1 }, &contenders(&ids));
    m.step(&acquire("h", Side::Mutex)).unwrap();
    m.step(&acquire("c", Side::Mutex)).unwrap();
    m.step(&acquire("k", Side::Mutex)).unwrap();
    m.step(&acquire("n", Side::Mutex)).unwrap();
    let p = m.step(&fault("k", |contender| Action::Expire { contender })).unwrap();
    assert_eq!((p.abandoned, p.requeued), (vec!["k".to_string()], vec![]));
    let p = m.step(&fault("c", |contender| Action::Expire { contender })).unwrap();
    assert_eq!((p.abandoned, p.requeued), (vec![], vec!["c".to_string()]));
    assert_eq!(m.nodes().len(), 3, "h, n and c's new node");
    // c queued again behind n.
    assert_eq!(m.step(&release("h", Side::Mutex)).unwrap().granted, vec!["n".to_string()]);
    assert_eq!(m.step(&release("n", Side::Mutex)).unwrap().granted, vec!["c".to_string()]);
}

#[test]
fn killing_needs_a_process_and_frees_like_a_crash() {
    let mut m = Model::new(
        LockKind::Mutex { max_leases: 1 },
        &contenders(&[("r", Runtime::Rust), ("p", Runtime::RustProcess)]),
    );
    m.step(&acquire("p", Side::Mutex)).unwrap();
    m.step(&acquire("r", Side::Mutex)).unwrap();
    let err = m.step(&fault("r", |contender| Action::Kill { contender })).unwrap_err();
    assert!(err.0.contains("rust-process"), "{err}");
    let p = m.step(&fault("p", |contender| Action::Kill { contender })).unwrap();
    assert_eq!((p.ended_holds, p.granted), (vec![Side::Mutex], vec!["r".to_string()]));
    assert_eq!(m.ended("p"), Some(Ended::Killed));
    let lost = Action::ExpectLost { contender: "p".into(), side: Side::Mutex, within: None };
    assert!(m.step(&lost).is_err(), "a killed contender cannot be asked anything");
}

#[test]
fn server_faults_change_nothing() {
    let mut m = rw(&[("a", Runtime::Rust), ("b", Runtime::Curator)]);
    m.step(&acquire("a", Side::Write)).unwrap();
    m.step(&acquire("b", Side::Write)).unwrap();
    for op in [ServerOp::Restart, ServerOp::KillLeader, ServerOp::StartAll] {
        let p = m.step(&Action::Server(op)).unwrap();
        assert_eq!(p, Prediction::default());
    }
    assert!(m.holds("a", Side::Write) && m.pending() == vec!["b".to_string()]);
}

#[test]
fn splits_change_no_hold_but_keep_a_quorum() {
    let mut m = rw(&[("a", Runtime::Rust), ("b", Runtime::Curator)]);
    m.step(&acquire("a", Side::Write)).unwrap();
    m.step(&acquire("b", Side::Write)).unwrap();
    // A waiter's member may be cut off while it waits: the step is not its own.
    let of_b = Action::IsolateMemberOf { contender: "b".into() };
    assert_eq!(m.step(&of_b).unwrap(), Prediction::default());
    let heal = Action::Server(ServerOp::HealMembers);
    for second in [Action::Server(ServerOp::IsolateLeader), Action::Server(ServerOp::KillFollower)] {
        let e = m.step(&second).unwrap_err();
        assert!(e.0.contains("cut off"), "{e}");
    }
    assert_eq!(m.step(&heal).unwrap(), Prediction::default());
    assert!(m.step(&heal).unwrap_err().0.contains("nothing to heal"));
    m.step(&Action::Server(ServerOp::KillLeader)).unwrap();
    assert!(m.step(&Action::Server(ServerOp::IsolateFollower)).unwrap_err().0.contains("start-all"));
    m.step(&Action::Server(ServerOp::StartAll)).unwrap();
    assert_eq!(m.step(&Action::Server(ServerOp::IsolateLeader)).unwrap(), Prediction::default());
    assert!(m.holds("a", Side::Write) && m.pending() == vec!["b".to_string()]);
    // A crashed contender has no member to name.
    m.step(&heal).unwrap();
    m.step(&Action::Crash { contender: "b".into() }).unwrap();
    assert!(m.step(&of_b).unwrap_err().0.contains("crash"));
}

#[test]
fn foreign_children_sort_by_name() {
    let mut m = Model::new(LockKind::Mutex { max_leases: 1 }, &contenders(&[("a", Runtime::Rust)]));
    m.step(&Action::Foreign("+first".into())).unwrap();
    assert_eq!(m.step(&acquire("a", Side::Mutex)).unwrap().outcome, Some(Outcome::Blocked));
    assert_eq!(m.step(&Action::Remove("+first".into())).unwrap().granted, vec!["a".to_string()]);
    m.step(&Action::Foreign("zzz".into())).unwrap();
    m.step(&release("a", Side::Mutex)).unwrap();
    assert_eq!(m.step(&acquire("a", Side::Mutex)).unwrap().outcome, Some(Outcome::Granted));
}

#[test]
fn readers_ignore_foreign_children() {
    let mut m = rw(&[("a", Runtime::Rust)]);
    m.step(&Action::Foreign("+x".into())).unwrap();
    assert_eq!(m.step(&acquire("a", Side::Read)).unwrap().outcome, Some(Outcome::Granted));
}

#[test]
fn expectations_match_outcomes() {
    assert!(Outcome::Blocked.satisfies(Expect::Denied));
    assert!(Outcome::Error(ErrorKind::Upgrade).satisfies(Expect::Denied));
    assert!(!Outcome::Granted.satisfies(Expect::Denied));
    assert!(Outcome::Error(ErrorKind::NotHeld).satisfies(Expect::Error(ErrorKind::NotHeld)));
    assert!(!Outcome::Ok.satisfies(Expect::Granted));
}
