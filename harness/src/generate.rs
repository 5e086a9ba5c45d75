//! Generated contention schedules: proptest picks contenders, runtimes, a lock
//! kind and a sequence of choices; the lock model turns the choices into a valid
//! schedule (only steps a contender can take at that point), the runner plays
//! it against the real ZooKeeper, and a failing schedule shrinks to a minimal
//! one that is written out as a scenario file.
//!
//! The schedule is a function of the choices, so proptest's shrinking (fewer,
//! smaller choices) gives shorter schedules that are still valid.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{
    Config, FileFailurePersistence, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};

use crate::contender::{LockKind, Runtime, Side};
use crate::model::Model;
use crate::runner::{self, Peers, Timing};
use crate::scenario::{Action, Scenario, Step};

/// Session timeout of generated contenders: short, so crashed peers' sessions end soon.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(2);

/// The raw material of one schedule.
#[derive(Clone, Debug)]
pub struct Recipe {
    /// Lock kind.
    pub kind: LockKind,
    /// Runtime of each contender (`c0`, `c1`, ...).
    pub runtimes: Vec<Runtime>,
    /// Choices the model turns into steps.
    pub choices: Vec<u32>,
}

/// What schedules may contain.
#[derive(Clone, Debug)]
pub struct Space {
    /// Runtimes contenders are drawn from.
    pub runtimes: Vec<Runtime>,
    /// Lock kinds to draw from.
    pub kinds: Vec<LockKind>,
    /// Contenders per schedule (inclusive range).
    pub contenders: (usize, usize),
    /// Choices per schedule (inclusive range): at most one step each.
    pub choices: (usize, usize),
    /// Weight of a downgrade (acquire read while holding write) among a write holder's options.
    pub downgrade_weight: u32,
}

impl Space {
    /// Mixed runtimes, 2–8 contenders, 5–40 steps; mutex, read/write lock, and
    /// lease locks unless Curator or kazurator take part: their lease waiters
    /// only wake when the node `max_leases` places ahead goes, so the model's
    /// "a free lease is taken" does not hold for them (see the
    /// `mutex-lease-liveness` scenario, a recorded deviation).
    pub fn mixed(runtimes: Vec<Runtime>) -> Space {
        let mut kinds = vec![LockKind::Mutex { max_leases: 1 }, LockKind::ReadWrite];
        if runtimes.iter().all(|r| r.capabilities().leases_wake_on_any_release) {
            kinds.push(LockKind::Mutex { max_leases: 2 });
        }
        Space { runtimes, kinds, contenders: (2, 8), choices: (5, 40), downgrade_weight: 3 }
    }

    /// The proptest strategy over recipes in this space.
    pub fn strategy(&self) -> impl Strategy<Value = Recipe> {
        let runtimes = self.runtimes.clone();
        let kinds = self.kinds.clone();
        let (cmin, cmax) = self.contenders;
        let (smin, smax) = self.choices;
        (
            proptest::sample::select(kinds),
            proptest::collection::vec(proptest::sample::select(runtimes), cmin..=cmax),
            proptest::collection::vec(any::<u32>(), smin..=smax),
        )
            .prop_map(|(kind, runtimes, choices)| Recipe { kind, runtimes, choices })
    }
}

/// A weighted candidate step.
struct Candidate {
    weight: u32,
    action: Action,
}

fn sides(kind: LockKind) -> &'static [Side] {
    match kind {
        LockKind::Mutex { .. } | LockKind::Semaphore { .. } | LockKind::Multi { .. } => &[Side::Mutex],
        LockKind::ReadWrite => &[Side::Read, Side::Write],
    }
}

/// Whether a runtime takes a second hold of a side it holds without a new
/// node (semaphores and multi-locks: never, the model refuses a second hold;
/// Curator's InterProcessSemaphore takes one more lease instead).
fn reentrant(runtime: Runtime, kind: LockKind) -> bool {
    runtime.capabilities().reentrant_on(kind)
}

/// Whether a runtime has Curator's semaphores and multi-lock.
pub fn supports_recipes(runtime: Runtime) -> bool {
    let capabilities = runtime.capabilities();
    capabilities.has_kind(LockKind::Semaphore { max_leases: 1 })
        && capabilities.has_kind(LockKind::Multi { members: 2 })
}

/// A pool of runtimes the generator cannot draw schedules for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenError {
    /// The runtime lacks the plain mutex every generated schedule falls back to.
    #[error(
        "nothing can be generated for {runtime}: it declares kinds [{kinds}], and every generated schedule needs \
         at least `mutex` (the kind all runtimes share); leave it out of --runtimes"
    )]
    NoMutex {
        /// The runtime.
        runtime: Runtime,
        /// The kinds it declares.
        kinds: String,
    },
}

/// Checks that every runtime of `pool` can take part in a generated schedule:
/// a runtime without the plain mutex could only ever be skipped.
pub fn check_pool(pool: &[Runtime]) -> Result<(), GenError> {
    for runtime in pool {
        let capabilities = runtime.capabilities();
        if !capabilities.has_kind(LockKind::Mutex { max_leases: 1 }) {
            let kinds: Vec<&str> = capabilities.kinds.iter().map(|k| k.name()).collect();
            return Err(GenError::NoMutex { runtime: runtime.clone(), kinds: kinds.join(", ") });
        }
    }
    Ok(())
}

/// Turns a recipe into a schedule the model accepts.
pub fn build(recipe: &Recipe, space: &Space, name: &str) -> Scenario {
    // A kind some contender's runtime lacks (zk-client: no read/write lock;
    // zk-client, kazoo-native: no leases; kazurator: no semaphore) falls back
    // to the plain mutex every runtime has.
    let kind = if recipe.runtimes.iter().all(|r| r.capabilities().has_kind(recipe.kind)) {
        recipe.kind
    } else {
        LockKind::Mutex { max_leases: 1 }
    };
    let contenders: Vec<(String, Runtime)> =
        recipe.runtimes.iter().enumerate().map(|(i, r)| (format!("c{i}"), r.clone())).collect();
    let mut model = Model::new(kind, &contenders);
    let mut crashed: Vec<String> = Vec::new();
    let mut steps = Vec::new();
    for choice in &recipe.choices {
        let pending = model.pending();
        let active: Vec<&(String, Runtime)> =
            contenders.iter().filter(|(id, _)| !pending.contains(id) && !crashed.contains(id)).collect();
        if active.is_empty() {
            break;
        }
        let (id, runtime) = active[*choice as usize % active.len()];
        let entropy = choice / active.len() as u32;
        let options = options(&model, kind, id, runtime.clone(), active.len(), space);
        let total: u32 = options.iter().map(|o| o.weight).sum();
        let mut pick = entropy % total.max(1);
        let Some(option) = options.into_iter().find(|o| {
            if pick < o.weight {
                true
            } else {
                pick -= o.weight;
                false
            }
        }) else {
            continue;
        };
        if model.step(&option.action).is_err() {
            continue;
        }
        if matches!(option.action, Action::Crash { .. }) {
            crashed.push(id.clone());
        }
        let text = crate::steps::step_text(&option.action, None);
        steps.push(Step { line: steps.len() + 1, text, action: option.action, expect: None });
    }
    Scenario {
        name: name.to_owned(),
        file: PathBuf::from(format!("{name}.toml")),
        description: "generated contention schedule".into(),
        kind,
        lock_data: None,
        session_timeout: SESSION_TIMEOUT,
        pairing: recipe.runtimes.iter().map(|r| r.name()).collect::<Vec<_>>().join("+"),
        contenders,
        pins: Vec::new(),
        steps,
    }
}

/// The steps contender `id` can take now, weighted.
fn options(model: &Model, kind: LockKind, id: &str, runtime: Runtime, active: usize, space: &Space) -> Vec<Candidate> {
    let acquire = |side, timeout| Action::Acquire { contender: id.to_owned(), side, timeout };
    let short = Some(Duration::from_millis(150));
    let timeouts = runtime.capabilities().timeouts;
    let held: Vec<Side> = sides(kind).iter().copied().filter(|s| model.holds(id, *s)).collect();
    let mut out = Vec::new();
    for side in &held {
        out.push(Candidate { weight: 6, action: Action::Release { contender: id.to_owned(), side: *side } });
        if reentrant(runtime.clone(), kind) {
            out.push(Candidate { weight: 1, action: acquire(*side, None) });
        }
    }
    let holds = |s| held.contains(&s);
    // One critical section of the lost-update workload under an exclusive
    // side (or a lease): read the counter, write it + 1 (zkurator: guarded).
    let exclusive = held.iter().find(|s| matches!(s, Side::Mutex | Side::Write));
    if let (Some(side), Some(protection)) = (exclusive, increment_protection(&runtime)) {
        let step = crate::workload::DataStep::Increment { side: *side, pause: Duration::ZERO, protection };
        out.push(Candidate { weight: 2, action: Action::Data { contender: id.to_owned(), step } });
    }
    if kind == LockKind::ReadWrite && holds(Side::Write) && !holds(Side::Read) && runtime.capabilities().downgrade {
        out.push(Candidate { weight: space.downgrade_weight, action: acquire(Side::Read, None) });
    }
    if kind == LockKind::ReadWrite && holds(Side::Read) && !holds(Side::Write) && timeouts {
        // An upgrade attempt: refused by zkurator, waits on itself elsewhere; always with a timeout.
        out.push(Candidate { weight: 1, action: acquire(Side::Write, short) });
    }
    if held.is_empty() {
        for side in sides(kind) {
            if timeouts {
                out.push(Candidate { weight: 2, action: acquire(*side, short) });
            }
            // Blocking without a timeout only while someone else can still act.
            if active > 1 {
                out.push(Candidate { weight: 4, action: acquire(*side, None) });
            }
        }
    }
    out.push(Candidate { weight: 1, action: Action::Sleep(Duration::from_millis(50)) });
    if active > 1 {
        out.push(Candidate { weight: 1, action: Action::Crash { contender: id.to_owned() } });
        // A session lost under the contender's guards; it carries on with new
        // acquires on a new session (its old holds must never come back).
        if runtime.renews_session() {
            out.push(Candidate { weight: 1, action: Action::Expire { contender: id.to_owned() } });
        }
    }
    out
}

/// How a generated increment of `runtime` writes, if the runtime takes part
/// in the workload (zk-client and kazoo-native do not).
fn increment_protection(runtime: &Runtime) -> Option<crate::contender::Protection> {
    runtime.capabilities().increment_protection()
}

pub use crate::regression::{GenConfig, GenReport};
pub use crate::scenario::scenario_file;

/// Plays generated schedules against the ZooKeeper at `connect`.
pub fn run_generated(space: &Space, config: &GenConfig, connect: &str, peers: &Peers) -> GenReport {
    run_generated_keeping(space, config, connect, peers, &|_, _| {})
}

/// [`run_generated`], handing every run (shrinking steps and the minimal
/// schedule's rerun included) with its scenario to `keep`.
pub fn run_generated_keeping(
    space: &Space,
    config: &GenConfig,
    connect: &str,
    peers: &Peers,
    keep: &dyn Fn(&Scenario, &crate::outcome::RunResult),
) -> GenReport {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&config.seed.to_le_bytes());
    let persistence: Option<Box<dyn proptest::test_runner::FailurePersistence>> = config
        .regressions
        .as_ref()
        .map(|dir| Box::new(FileFailurePersistence::Direct(leak(dir.join("proptest-seeds.txt")))) as _);
    let proptest_config = Config {
        cases: config.cases,
        max_shrink_iters: config.max_shrink_iters,
        failure_persistence: persistence,
        source_file: Some("harness/src/generate.rs"),
        ..Config::default()
    };
    let mut test_runner = TestRunner::new_with_rng(proptest_config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let timing = Timing { grant_bound: Duration::from_secs(10), blocked_window: Duration::from_millis(200) };
    let runs = Cell::new(0usize);
    let setup_error: std::cell::RefCell<Option<String>> = std::cell::RefCell::new(None);
    let caught_at = Cell::new(None);
    let started = Instant::now();
    let first_pass_elapsed = Cell::new(None);
    let outcome = test_runner.run(&space.strategy(), |recipe| {
        // After a setup error every further case (and shrink step) is skipped.
        if setup_error.borrow().is_some() {
            return Ok(());
        }
        runs.set(runs.get() + 1);
        let scenario = build(&recipe, space, &format!("generated-{}", runs.get()));
        let result = runner::run(&scenario, connect, peers, &timing);
        keep(&scenario, &result);
        if let Some(error) = result.setup_error() {
            *setup_error.borrow_mut() = Some(error.to_owned());
            return Ok(());
        }
        if result.passed() {
            return Ok(());
        }
        if caught_at.get().is_none() {
            caught_at.set(Some(runs.get()));
            first_pass_elapsed.set(Some(started.elapsed()));
        }
        let violations: Vec<String> =
            result.violations.iter().map(|v| format!("[{}] {}", v.checker, v.message)).collect();
        Err(TestCaseError::fail(violations.join("; ")))
    });
    let cases = caught_at.get().unwrap_or(runs.get());
    let elapsed = first_pass_elapsed.get().unwrap_or_else(|| started.elapsed());
    let mut report = GenReport {
        cases,
        runs: runs.get(),
        elapsed,
        caught_at: caught_at.get(),
        failure: None,
        confirmed: false,
        written: None,
        not_written: None,
        setup_error: setup_error.into_inner(),
    };
    if report.setup_error.is_some() {
        return report;
    }
    if let Err(TestError::Fail(first, minimal)) = outcome {
        let scenario = build(&minimal, space, "minimal");
        let rerun = runner::run(&scenario, connect, peers, &timing);
        keep(&scenario, &rerun);
        crate::regression::conclude(&mut report, &first.to_string(), scenario, rerun, config);
    }
    report
}

/// proptest's `Direct` persistence wants a `&'static str`.
fn leak(path: PathBuf) -> &'static str {
    Box::leak(path.to_string_lossy().into_owned().into_boxed_str())
}

/// Where regression scenarios go in this repository.
pub fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/regressions")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;

    fn space() -> Space {
        Space::mixed(vec![Runtime::Rust, Runtime::Curator, Runtime::Kazurator, Runtime::ZkClient])
    }

    #[test]
    fn built_schedules_are_valid_and_round_trip_through_the_parser() {
        let space = space();
        let mut runner =
            TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
        let mut steps = 0;
        let mut increments = 0;
        for i in 0..300 {
            let recipe = space.strategy().new_tree(&mut runner).unwrap().current();
            let scenario = build(&recipe, &space, &format!("g{i}"));
            assert!(recipe.runtimes.len() >= 2 && recipe.runtimes.len() <= 8);
            scenario.dry_run().unwrap_or_else(|e| panic!("invalid schedule {e:?}: {scenario:?}"));
            let text = scenario_file(&scenario, "test");
            let parsed = crate::scenario::parse(Path::new("g.toml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(parsed.len(), 1);
            assert_eq!(
                parsed[0].steps.iter().map(|s| &s.action).collect::<Vec<_>>(),
                scenario.steps.iter().map(|s| &s.action).collect::<Vec<_>>()
            );
            steps += scenario.steps.len();
            increments += scenario.steps.iter().filter(|s| matches!(s.action, Action::Data { .. })).count();
            if scenario.contenders.iter().any(|(_, r)| *r == Runtime::ZkClient) {
                assert_ne!(scenario.kind, LockKind::ReadWrite);
            }
        }
        assert!(steps > 300 * 4, "schedules are too short: {steps} steps in 300");
        assert!(increments > 100, "too few increments drawn: {increments} in 300 schedules");
    }

    #[test]
    fn a_write_holder_is_offered_a_downgrade() {
        let recipe =
            Recipe { kind: LockKind::ReadWrite, runtimes: vec![Runtime::Curator, Runtime::Kazurator], choices: vec![] };
        let space = Space { downgrade_weight: 1000, ..space() };
        let mut model =
            Model::new(LockKind::ReadWrite, &[("c0".into(), Runtime::Curator), ("c1".into(), Runtime::Kazurator)]);
        model.step(&Action::Acquire { contender: "c0".into(), side: Side::Write, timeout: None }).unwrap();
        let offered = options(&model, recipe.kind, "c0", Runtime::Curator, 2, &space);
        assert!(offered.iter().any(|o| o.weight == 1000
            && o.action == Action::Acquire { contender: "c0".into(), side: Side::Read, timeout: None }));
    }

    #[test]
    fn shrinking_shortens_schedules() {
        let space = space();
        let mut runner =
            TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[3; 32]));
        let mut tree = space.strategy().new_tree(&mut runner).unwrap();
        let before = build(&tree.current(), &space, "a").steps.len();
        for _ in 0..200 {
            if !tree.simplify() {
                break;
            }
        }
        let after = build(&tree.current(), &space, "b").steps.len();
        assert!(after <= before, "{after} > {before}");
    }
}
