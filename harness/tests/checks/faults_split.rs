//! Ensemble splits against a real 3-server ZooKeeper ensemble, in every
//! `cargo test --features interop` (the corpus's split scenarios run with the
//! slow fault scenarios, `ZKURATOR_SLOW_FAULTS=1`):
//!
//! * the cut is real: a member cut off through the harness's member proxies
//!   stops serving and stays out (no connection between members bypasses the
//!   proxies), the others keep or elect a leader, and a heal brings it back;
//! * the negative control: a split scenario played by zkurator contenders
//!   whose read lock is broken on purpose fails, with its double grants
//!   counted by the history and at the server (the broken lock is a value of
//!   its `Peers`).
//!
//! Each test starts an ensemble of its own. The negative control's runs
//! hold the host gate alone, as every run acting on servers does; the cut
//! check makes no scenario run and cuts only its own ensemble, so it does
//! not take the gate.
#![cfg(feature = "interop")]

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use zkurator::negative::NegativeControl;
use zkurator_harness::backend::Backend;
use zkurator_harness::faults::FaultKind;
use zkurator_harness::nemesis::{ServerControl, ServerOp, ServerOpError};
use zkurator_harness::runner::{self, Peers, Timing};
use zkurator_harness::scenario;
use zkurator_testserver::four_letter;

/// `Some(mode)` when the member at `addr` serves, `None` when it answers
/// that it does not.
fn mode(addr: &str) -> Option<String> {
    let answer = four_letter(addr, "srvr", Duration::from_secs(2)).expect("srvr answers");
    answer.lines().find_map(|l| l.strip_prefix("Mode: ")).map(|m| m.trim().to_owned())
}

fn modes(members: &[&str]) -> Vec<Option<String>> {
    members.iter().map(|m| mode(m)).collect()
}

#[test]
fn a_member_cut_off_stays_out_until_healed() {
    // Its own ensemble, cut through its own proxies: no run of another test
    // uses these servers, so it takes no place in the host gate (held
    // exclusively, it kept every other test's runs waiting for about a
    // minute). Its bounds (2 s per `srvr`, an 8 s watch) leave room for load.
    let backend = Backend::ensemble().expect("a routed 3-server ensemble");
    let connect = backend.connect_string();
    let members: Vec<&str> = connect.split(',').collect();
    let leader_of = |modes: &[Option<String>]| modes.iter().position(|m| m.as_deref() == Some("leader"));

    for op in [ServerOp::IsolateFollower, ServerOp::IsolateLeader] {
        let before = modes(&members);
        assert!(before.iter().all(Option::is_some), "every member serves before {op:?}: {before:?}");
        let old_leader = leader_of(&before).expect("a leader");
        let done = backend.apply(op).unwrap_or_else(|e| panic!("{op:?}: {e}"));
        println!("{op:?}: {done}");
        // Long enough for a bypassing connection to bring the member back:
        // two election rounds and more than ZooKeeper's 5 s syncLimit.
        let until = Instant::now() + Duration::from_secs(8);
        while Instant::now() < until {
            let now = modes(&members);
            let out: Vec<usize> = (0..members.len()).filter(|&i| now[i].is_none()).collect();
            assert_eq!(out.len(), 1, "exactly one member out of service after {op:?}: {now:?}");
            let leader = leader_of(&now).expect("the majority keeps a leader");
            match op {
                ServerOp::IsolateLeader => assert_eq!(out, [old_leader], "the old leader is the one out: {now:?}"),
                _ => assert_eq!(leader, old_leader, "a follower's cut keeps the leader: {now:?}"),
            }
            thread::sleep(Duration::from_millis(500));
        }
        let healed = backend.apply(ServerOp::HealMembers).expect("heal-members");
        println!("{healed}");
        let after = modes(&members);
        assert!(after.iter().all(Option::is_some), "every member serves after the heal: {after:?}");
        assert_eq!(after.iter().filter(|m| m.as_deref() == Some("leader")).count(), 1, "{after:?}");
    }
    let err = backend.apply(ServerOp::IsolateMember(3)).expect_err("no member 3");
    // The scenario's mistake, not the servers' failure.
    assert!(matches!(&err, ServerOpError::NotHere(why) if why.contains("no member 3")), "{err:?}");
}

#[test]
fn broken_readers_in_a_split_run_count_as_double_grants() {
    let text = r#"
description = "negative control: readers that ignore writers, with the writer's member cut off"
zk = "ensemble"
lock = "read-write"
session_timeout_ms = 20000
contenders = { writer = "rust", reader = "rust" }
steps = [
  "writer acquire write => granted",
  "zk isolate-member writer",
  "sleep 2s",
  "reader acquire read => blocked",
  "writer release write => ok",
  "reader release read => ok",
  "zk heal-members",
]
"#;
    let scenarios = scenario::parse(Path::new("split-negative.toml"), text).expect("the scenario parses");
    let split = &scenarios[0];
    let backend = Backend::ensemble().expect("a routed 3-server ensemble");
    let timing = Timing::default();

    let (result, stats) = runner::run_with(split, &backend.connect_string(), &backend, &Peers::default(), &timing);
    assert!(result.passed(), "the real lock passes: {:?}", result.violations);
    assert_eq!(stats.double_grants + stats.server_double_grants, 0);
    assert!(stats.injected.iter().any(|i| i.kind == FaultKind::IsolateMember));

    backend.heal().expect("the ensemble heals between runs");
    let broken = Peers::with_negative_control(NegativeControl::ReadIgnoresWriters);
    let (result, stats) = runner::run_with(split, &backend.connect_string(), &backend, &broken, &timing);
    assert!(!result.passed(), "a broken read lock passed a split scenario");
    assert!(stats.double_grants + stats.server_double_grants > 0, "no double grant counted: {:?}", result.violations);
}
