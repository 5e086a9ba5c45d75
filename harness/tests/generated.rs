//! Generated contention schedules across the runtimes, and the negative
//! controls that prove the checks catch real bugs. Part of
//! `cargo test --features interop`.
#![cfg(feature = "interop")]

use std::cell::RefCell;

use zkurator::negative::NegativeControl;
use zkurator_harness::backend::Backend;
use zkurator_harness::checkers::Checker;
use zkurator_harness::contender::{LockKind, Runtime};
use zkurator_harness::evidence::agreement::LinFigures;
use zkurator_harness::generate::{self, GenConfig, GenReport, Space};
use zkurator_harness::runner::Peers;

/// Generated schedules in the gate; `ZKURATOR_GEN_CASES` overrides.
const GATE_CASES: u32 = 12;
/// The most cases a negative control may take to be caught.
const CONTROL_BUDGET: u32 = 25;

fn describe(what: &str, report: &GenReport) -> String {
    format!(
        "{what}: {} cases in {:.1} s ({:.1}/min), caught at case {:?}",
        report.cases,
        report.elapsed.as_secs_f64(),
        report.cases_per_minute(),
        report.caught_at
    )
}

/// Plays a negative control; also counts the runs the linearizability
/// checker refuses into `lin`.
fn control(space: &Space, seed: u64, connect: &str, peers: &Peers, lin: &mut LinFigures) -> GenReport {
    let config = GenConfig { cases: CONTROL_BUDGET, seed, max_shrink_iters: 0, regressions: None };
    let figures = RefCell::new(std::mem::take(lin));
    let report = generate::run_generated_keeping(space, &config, connect, peers, &|scenario, result| {
        figures.borrow_mut().add(scenario, result);
    });
    *lin = figures.into_inner();
    report
}

/// One test, run in order: the broken-lock control flips a process-wide switch.
#[test]
fn generated_schedules_pass_and_every_negative_control_is_caught() {
    let backend = match std::env::var("ZK_CONNECT") {
        Ok(connect) if !connect.trim().is_empty() => Backend::external(&connect),
        _ => Backend::local().expect("a local ZooKeeper"),
    };
    let connect = backend.connect_string();
    let peers = Peers::default();
    let mut lines = Vec::new();

    // Mixed runtimes, fixed seed: every generated schedule must pass.
    let cases = std::env::var("ZKURATOR_GEN_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(GATE_CASES);
    let mixed =
        Space::mixed(vec![Runtime::Rust, Runtime::RustTasks, Runtime::Curator, Runtime::Kazurator, Runtime::ZkClient]);
    let config = GenConfig { cases, seed: 2026, max_shrink_iters: 8, regressions: Some(generate::regressions_dir()) };
    let mixed_lin = RefCell::new(LinFigures::default());
    let report = generate::run_generated_keeping(&mixed, &config, &connect, &peers, &|scenario, result| {
        mixed_lin.borrow_mut().add(scenario, result);
    });
    lines.push(describe("mixed rust/rust-tasks/curator/kazurator/zk-client", &report));
    let mixed_lin = mixed_lin.into_inner();
    lines.push(format!("  {}", mixed_lin.describe()));
    assert!(mixed_lin.disagreements.is_empty(), "{:#?}", mixed_lin.disagreements);
    if let Some((scenario, violations)) = &report.failure {
        panic!(
            "generated schedule failed ({:?}):\n{}\n{violations:#?}\n{}",
            report.written,
            scenario.steps.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join("\n"),
            lines.join("\n")
        );
    }

    // 1. A deliberately broken Rust lock: readers ignore writers.
    let broken_peers = Peers::with_negative_control(NegativeControl::ReadIgnoresWriters);
    let rw_rust = Space { kinds: vec![LockKind::ReadWrite], ..Space::mixed(vec![Runtime::Rust]) };
    let mut lin_broken = LinFigures::default();
    let broken = control(&rw_rust, 11, &connect, &broken_peers, &mut lin_broken);
    lines.push(describe("control 1, zkurator read lock ignoring writers", &broken));

    // 2. kazoo's own locks mixed with Curator mutexes.
    let native = Space {
        kinds: vec![LockKind::Mutex { max_leases: 1 }],
        ..Space::mixed(vec![Runtime::KazooNative, Runtime::Curator])
    };
    let mut lin_kazoo = LinFigures::default();
    let kazoo = control(&native, 12, &connect, &peers, &mut lin_kazoo);
    lines.push(describe("control 2, kazoo-native with Curator", &kazoo));

    // 3. Curator 5.4.0 / kazurator 0.2.0 downgrading with a queued writer (CURATOR-621).
    let downgrade = Space {
        kinds: vec![LockKind::ReadWrite],
        downgrade_weight: 30,
        ..Space::mixed(vec![Runtime::Curator, Runtime::Kazurator])
    };
    let mut lin_downgrade = LinFigures::default();
    let old_downgrade = control(&downgrade, 13, &connect, &peers, &mut lin_downgrade);
    lines.push(describe("control 3, Curator 5.4/kazurator downgrade", &old_downgrade));

    // 4. Holds shared per handle (zkurator before per-caller holds): tasks on one handle let each other in.
    let shared_peers = Peers::with_negative_control(NegativeControl::SharedHold);
    let tasks = Space::mixed(vec![Runtime::RustTasks]);
    let mut lin_shared = LinFigures::default();
    let shared_hold = control(&tasks, 14, &connect, &shared_peers, &mut lin_shared);
    lines.push(describe("control 4, zkurator holds shared per handle", &shared_hold));

    for (name, lin) in [("1", &lin_broken), ("2", &lin_kazoo), ("3", &lin_downgrade), ("4", &lin_shared)] {
        lines.push(format!("  control {name}: {}", lin.describe()));
    }
    println!("{}", lines.join("\n"));
    // The complete checker catches every control too, and never contradicts an overlap.
    for (name, lin) in [("1", &lin_broken), ("2", &lin_kazoo), ("3", &lin_downgrade), ("4", &lin_shared)] {
        assert!(lin.not_linearizable > 0, "the linearizability checker missed negative control {name}");
        let contradictions: Vec<&String> = lin.disagreements.iter().filter(|d| d.contains("explains")).collect();
        assert!(contradictions.is_empty(), "control {name}: {contradictions:#?}");
    }
    for (name, report) in [("1", &broken), ("2", &kazoo), ("3", &old_downgrade), ("4", &shared_hold)] {
        let Some((_, violations)) = &report.failure else {
            panic!("negative control {name} was not caught in {CONTROL_BUDGET} cases\n{}", lines.join("\n"));
        };
        // Caught by a lock check, not by a run that could not start.
        let checkers: Vec<Checker> = violations.iter().map(|v| v.checker).collect();
        assert!(
            checkers.iter().any(|c| {
                [Checker::Model, Checker::Exclusion, Checker::Naming, Checker::Participants, Checker::Cleanup]
                    .contains(c)
            }),
            "negative control {name} failed for another reason: {violations:#?}"
        );
    }
}
