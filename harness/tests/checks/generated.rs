//! Generated contention schedules across the runtimes, and the negative
//! controls that prove the checks catch real bugs, each a test of its own
//! (the broken lock is a value of its `Peers`, so they run side by side). Part of
//! `cargo test --features interop`.
#![cfg(feature = "interop")]

use std::cell::RefCell;

use zkurator::negative::NegativeControl;
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

/// The server every search here shares (each run locks a path of its own):
/// `ZK_CONNECT`, or one local server for the test binary.
fn connect() -> String {
    zkurator_testserver::shared_connect_string().expect("a ZooKeeper server")
}

/// Plays a negative control: it must be caught within [`CONTROL_BUDGET`]
/// cases, by a lock check, and the linearizability checker must refuse some
/// of its runs without ever contradicting an overlap.
fn control_is_caught(name: &str, space: &Space, seed: u64, peers: &Peers) {
    let config = GenConfig { cases: CONTROL_BUDGET, seed, max_shrink_iters: 0, regressions: None };
    let lin = RefCell::new(LinFigures::default());
    let report = generate::run_generated_keeping(space, &config, &connect(), peers, &|scenario, result| {
        lin.borrow_mut().add(scenario, result);
    });
    let lin = lin.into_inner();
    println!("{}\n  {}", describe(name, &report), lin.describe());
    assert!(lin.not_linearizable > 0, "the linearizability checker missed the negative control {name}");
    let contradictions: Vec<&String> = lin.disagreements.iter().filter(|d| d.contains("explains")).collect();
    assert!(contradictions.is_empty(), "{name}: {contradictions:#?}");
    let Some((_, violations)) = &report.failure else {
        panic!("negative control {name} was not caught in {CONTROL_BUDGET} cases");
    };
    // Caught by a lock check, not by a run that could not start.
    let checkers: Vec<Checker> = violations.iter().map(|v| v.checker).collect();
    assert!(
        checkers.iter().any(|c| {
            [Checker::Model, Checker::Exclusion, Checker::Naming, Checker::Participants, Checker::Cleanup].contains(c)
        }),
        "negative control {name} failed for another reason: {violations:#?}"
    );
}

/// Mixed runtimes, fixed seed: every generated schedule must pass, and the
/// linearizability checker agree with every verdict.
#[test]
fn generated_schedules_over_every_runtime_pass() {
    let cases = std::env::var("ZKURATOR_GEN_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(GATE_CASES);
    let mixed =
        Space::mixed(vec![Runtime::Rust, Runtime::RustTasks, Runtime::Curator, Runtime::Kazurator, Runtime::ZkClient]);
    let config = GenConfig { cases, seed: 2026, max_shrink_iters: 8, regressions: Some(generate::regressions_dir()) };
    let lin = RefCell::new(LinFigures::default());
    let report =
        generate::run_generated_keeping(&mixed, &config, &connect(), &Peers::default(), &|scenario, result| {
            lin.borrow_mut().add(scenario, result);
        });
    let lin = lin.into_inner();
    println!("{}\n  {}", describe("mixed rust/rust-tasks/curator/kazurator/zk-client", &report), lin.describe());
    assert!(lin.disagreements.is_empty(), "{:#?}", lin.disagreements);
    if let Some((scenario, violations)) = &report.failure {
        panic!(
            "generated schedule failed ({:?}):\n{}\n{violations:#?}",
            report.written,
            scenario.steps.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join("\n"),
        );
    }
}

/// Negative control 1: a deliberately broken Rust lock, readers ignore writers.
#[test]
fn control_a_read_lock_ignoring_writers_is_caught() {
    let broken = Peers::with_negative_control(NegativeControl::ReadIgnoresWriters);
    let rw_rust = Space { kinds: vec![LockKind::ReadWrite], ..Space::mixed(vec![Runtime::Rust]) };
    control_is_caught("control 1, zkurator read lock ignoring writers", &rw_rust, 11, &broken);
}

/// Negative control 2: kazoo's own locks mixed with Curator mutexes.
#[test]
fn control_kazoo_native_locks_beside_curator_are_caught() {
    let native = Space {
        kinds: vec![LockKind::Mutex { max_leases: 1 }],
        ..Space::mixed(vec![Runtime::KazooNative, Runtime::Curator])
    };
    control_is_caught("control 2, kazoo-native with Curator", &native, 12, &Peers::default());
}

/// Negative control 3: Curator 5.4.0 / kazurator 0.2.0 downgrading with a
/// queued writer (CURATOR-621).
#[test]
fn control_an_old_downgrade_with_a_queued_writer_is_caught() {
    let downgrade = Space {
        kinds: vec![LockKind::ReadWrite],
        downgrade_weight: 30,
        ..Space::mixed(vec![Runtime::Curator, Runtime::Kazurator])
    };
    control_is_caught("control 3, Curator 5.4/kazurator downgrade", &downgrade, 13, &Peers::default());
}

/// Negative control 4: holds shared per handle (zkurator before per-caller
/// holds), so tasks on one handle let each other in.
#[test]
fn control_holds_shared_per_handle_are_caught() {
    let shared = Peers::with_negative_control(NegativeControl::SharedHold);
    let tasks = Space::mixed(vec![Runtime::RustTasks]);
    control_is_caught("control 4, zkurator holds shared per handle", &tasks, 14, &shared);
}
