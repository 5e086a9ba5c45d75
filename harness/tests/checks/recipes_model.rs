//! The model and the naming checker for Curator's semaphores and multi-lock,
//! without any I/O: lease admission, node counts as the server shows them,
//! non-reentrant leases, and node names under `locks/`, `leases/`, `m0/`.

use zkurator_harness::checkers::follows_protocol;
use zkurator_harness::contender::{LockKind, Runtime, Side};
use zkurator_harness::model::{Model, Outcome};
use zkurator_harness::scenario::Action;

const UUID: &str = "70e2a894-b29d-420a-b524-ff4ece7da046";

fn acquire(who: &str) -> Action {
    Action::Acquire { contender: who.into(), side: Side::Mutex, timeout: None }
}

fn release(who: &str) -> Action {
    Action::Release { contender: who.into(), side: Side::Mutex }
}

fn model(kind: LockKind, ids: &[&str]) -> Model {
    let contenders: Vec<(String, Runtime)> = ids.iter().map(|id| (id.to_string(), Runtime::Curator)).collect();
    Model::new(kind, &contenders)
}

#[test]
fn semaphore_admits_max_leases_and_counts_the_first_waiters_lease_node() {
    let mut m = model(LockKind::Semaphore { max_leases: 2 }, &["a", "b", "c", "d"]);
    assert_eq!(m.step(&acquire("a")).unwrap().outcome, Some(Outcome::Granted));
    assert_eq!(m.step(&acquire("b")).unwrap().outcome, Some(Outcome::Granted));
    assert_eq!(m.server_node_count(), 2);
    assert_eq!(m.step(&acquire("c")).unwrap().outcome, Some(Outcome::Blocked));
    // c holds locks/ and waits with a lease node: two lease nodes + c's two.
    assert_eq!(m.server_node_count(), 4);
    assert_eq!(m.step(&acquire("d")).unwrap().outcome, Some(Outcome::Blocked));
    assert_eq!(m.server_node_count(), 5, "d waits in locks/ only");
    assert_eq!(m.step(&release("b")).unwrap().granted, vec!["c".to_string()]);
    assert_eq!(m.server_node_count(), 4, "d is now the first waiter: locks/ node and lease node");
    assert!(m.step(&acquire("a")).is_err(), "a second lease of one contender is refused");
}

#[test]
fn a_multi_lock_holder_has_a_node_in_every_member() {
    let mut m = model(LockKind::Multi { members: 2 }, &["a", "b"]);
    m.step(&acquire("a")).unwrap();
    assert_eq!(m.server_node_count(), 2);
    assert_eq!(m.step(&acquire("b")).unwrap().outcome, Some(Outcome::Blocked));
    assert_eq!(m.server_node_count(), 3, "b waits on the first member only");
    assert_eq!(m.step(&release("a")).unwrap().granted, vec!["b".to_string()]);
    assert_eq!(m.server_node_count(), 2);
}

#[test]
fn semaphore_and_multi_lock_node_names() {
    let semaphore = LockKind::Semaphore { max_leases: 2 };
    assert!(follows_protocol(&format!("leases/_c_{UUID}-lease-0000000003"), semaphore));
    assert!(follows_protocol(&format!("locks/_c_{UUID}-lock-0000000003"), semaphore));
    assert!(!follows_protocol(&format!("leases/_c_{UUID}-lock-0000000003"), semaphore));
    assert!(!follows_protocol(&format!("_c_{UUID}-lease-0000000003"), semaphore), "outside leases/");
    assert!(!follows_protocol("leases/0f3c9a__lock__0000000001", semaphore));
    let multi = LockKind::Multi { members: 2 };
    assert!(follows_protocol(&format!("m1/_c_{UUID}-lock-0000000000"), multi));
    assert!(!follows_protocol(&format!("m2/_c_{UUID}-lock-0000000000"), multi), "no third member");
}
