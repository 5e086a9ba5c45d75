//! A model-based test of the public API against a real ZooKeeper: schedules
//! of lock, try, timeouts (zero, small, `Duration::MAX`), re-entry, the write
//! holder's read, downgrade, upgrade, leases, multi-locks over duplicate
//! paths, guarded writes under and over the request limit, release, drop
//! (inside and outside a runtime), cancelled acquires (inside and outside a
//! runtime), an operator deleting nodes and sessions expiring, over two
//! sessions with a handle and a clone each. After every step `is_held`,
//! `leases_held` and the nodes on the server are compared with a sequential
//! model ([`spec`]); every call's answer is checked as it comes.
//!
//! CI runs a fixed seed and a bounded number of cases. A longer search:
//! `ZKURATOR_MODEL_CASES=500 ZKURATOR_MODEL_SEED=7 cargo test --test model`.
//! A failing schedule is shrunk to a minimal one and printed; keep it in
//! [`regressions`] so it is played on every run.

#[path = "../common/mod.rs"]
mod common;
mod ops;
mod spec;
mod steps;
mod world;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use ops::{Op, Target, Wait};
use world::World;

/// Steps played and steps that changed the model's holds (over all cases):
/// a search that plays nothing would pass, so the test says how much it did.
static PLAYED: AtomicUsize = AtomicUsize::new(0);
static GRANTED: AtomicUsize = AtomicUsize::new(0);

/// Plays one schedule on a fresh world; `Err` names the step that disagreed.
fn play_schedule(schedule: &[Op], broken: bool) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let mut world = World::new(broken).await;
        for (i, op) in schedule.iter().enumerate() {
            let before = world.model.holds.len();
            let step = steps::play(&mut world, op).await;
            PLAYED.fetch_add(1, Ordering::Relaxed);
            GRANTED.fetch_add(world.model.holds.len() - before, Ordering::Relaxed);
            let checked = match step {
                Ok(()) => world.check().await,
                Err(e) => Err(e),
            };
            if let Err(why) = checked {
                return Err(TestCaseError::fail(format!("step {i} {op:?}: {why}")));
            }
        }
        Ok(())
    })
}

/// Plays `schedule`; once a failure has been seen (`failed_once`), a
/// schedule that passes is played up to [`REPLAYS`] more times before it
/// counts as passing. A failure may rest on timing (a cancel after 1 ms, a
/// small timeout), and under load such a shrink candidate can pass once;
/// taking that pass at its word would end the shrink on a longer schedule.
fn play_shrink_candidate(schedule: &[Op], broken: bool, failed_once: &AtomicBool) -> Result<(), TestCaseError> {
    let replays = if failed_once.load(Ordering::Relaxed) { REPLAYS } else { 0 };
    let mut result = play_schedule(schedule, broken);
    for _ in 0..replays {
        if result.is_err() {
            break;
        }
        result = play_schedule(schedule, broken);
    }
    if result.is_err() {
        failed_once.store(true, Ordering::Relaxed);
    }
    result
}

/// Extra plays of a passing shrink candidate (see [`play_shrink_candidate`]).
const REPLAYS: usize = 2;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A runner with a fixed seed (`ZKURATOR_MODEL_SEED`) and `cases` cases.
fn runner(cases: u32, max_shrink_iters: u32) -> TestRunner {
    let seed = env_number("ZKURATOR_MODEL_SEED", 2026);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config { cases, max_shrink_iters, failure_persistence: None, ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

#[test]
fn every_schedule_agrees_with_the_model() {
    let cases = env_number("ZKURATOR_MODEL_CASES", 64) as u32;
    let result = runner(cases, 256).run(&ops::schedule(20), |schedule| play_schedule(&schedule, false));
    if let Err(error) = result {
        panic!("{error}");
    }
    let (played, granted) = (PLAYED.load(Ordering::Relaxed), GRANTED.load(Ordering::Relaxed));
    eprintln!("{cases} cases: {played} steps played, {granted} holds granted");
    assert!(played >= cases as usize && granted > 0, "the search played nothing");
}

/// Schedules the search found, kept so that each is played on every run.
fn regressions() -> Vec<Vec<Op>> {
    use Op::*;
    vec![
        // Issue 18's first: a node deleted under a holder nobody asked about,
        // a rival in, then re-entry (before: is_held and reenter said held).
        vec![
            Acquire { session: 0, target: Target::Mutex(0), wait: Wait::Try, via_clone: false },
            OperatorDelete(0),
            Acquire { session: 1, target: Target::Mutex(0), wait: Wait::Try, via_clone: false },
            Reenter(0),
        ],
        // An acquire queued, then dropped on a plain thread (before: its node
        // stayed and held the lock once the holder left).
        vec![
            Acquire { session: 0, target: Target::Write, wait: Wait::Try, via_clone: false },
            Cancel { session: 1, target: Target::Write, after_ms: 5, on_thread: true },
            Release(0),
            Acquire { session: 1, target: Target::Write, wait: Wait::Huge, via_clone: true },
        ],
        // Duration::MAX on a free lock (before: a panic), a multi-lock over
        // one path twice (before: it waited on itself), a guarded write over
        // the limit (before: the connection dropped).
        vec![
            Acquire { session: 0, target: Target::Lease, wait: Wait::Huge, via_clone: false },
            Multi { session: 1, paths: vec![1, 1] },
            Guarded { guard: 0, over_limit: true },
            Guarded { guard: 1, over_limit: false },
        ],
        // Found by the search: a node deleted, then the session expired,
        // then the first status() (before: it said SessionEnded, as the
        // session's state was published before the node watch was read).
        vec![
            Acquire { session: 0, target: Target::Mutex(0), wait: Wait::Try, via_clone: false },
            OperatorDelete(0),
            Expire(0),
            Status(0),
        ],
        // A connection cut: the holds and their exists watches live on.
        vec![
            Acquire { session: 1, target: Target::Read, wait: Wait::Try, via_clone: false },
            Cut(1),
            OperatorDelete(0),
            Reenter(0),
        ],
        // A zero timeout on a taken lock is a try: WouldBlock, as try_lock.
        vec![
            Acquire { session: 0, target: Target::Mutex(1), wait: Wait::Zero, via_clone: false },
            Acquire { session: 0, target: Target::Mutex(1), wait: Wait::Zero, via_clone: true },
        ],
    ]
}

#[test]
fn the_kept_schedules_agree_with_the_model() {
    for (i, schedule) in regressions().iter().enumerate() {
        if let Err(why) = play_schedule(schedule, false) {
            panic!("kept schedule {i}: {why}");
        }
    }
}

/// The negative control: handles that share one hold among their callers
/// (zkurator before per-caller holds) must be caught, and shrunk.
#[cfg(zkurator_harness)]
#[test]
fn a_handle_sharing_its_hold_is_caught_by_the_search() {
    let failed_once = AtomicBool::new(false);
    let play = |schedule: Vec<Op>| play_shrink_candidate(&schedule, true, &failed_once);
    match runner(64, 128).run(&ops::schedule(14), play) {
        Err(TestError::Fail(why, schedule)) => {
            eprintln!("caught, shrunk to {} steps: {schedule:?}\n{why}", schedule.len());
            assert!(schedule.len() <= 6, "shrinking left {} steps", schedule.len());
        }
        other => panic!("the broken handle was not caught: {other:?}"),
    }
}
