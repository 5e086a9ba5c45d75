//! Runs a set of scenarios and compares the results with the expectations:
//! the code behind both `zkurator-harness run` and `cargo test --features interop`.
//!
//! Scenarios that declare `zk = "ensemble"` run on a 3-server ensemble the
//! suite starts on first need (when the given backend is one the harness
//! started); the others run on the given backend, which is also what their
//! `zk restart` steps restart.
//!
//! Independent runs overlap, [`Options::jobs`] at a time; runs whose verdict
//! is timed against a session timeout overlap only each other, a few at a
//! time, and runs that act on the servers run alone ([`schedule`]). The progress shown meanwhile is [`Progress`].

mod progress;
pub mod schedule;

use std::sync::OnceLock;
use std::time::Instant;

use crate::backend::Backend;
use crate::contender::Runtime;
use crate::expectations::Expectations;
use crate::fault_figures::RunFigures;
use crate::report::{Entry, Report, Span};
use crate::runner::{self, Peers, Timing};
use crate::scenario::Scenario;
use crate::versions::RunVersions;
pub use progress::Progress;
use progress::Tracker;
pub use schedule::{default_jobs, exclusive_reason, HostGate};

/// The environment variable that puts the slow fault scenarios (server
/// restarts, ensembles) into the default test run.
pub const SLOW_FAULTS_ENV: &str = "ZKURATOR_SLOW_FAULTS";

/// Whether `ZKURATOR_SLOW_FAULTS` asks for the slow fault scenarios (`1`, `true`, `yes`).
pub fn slow_faults_enabled() -> bool {
    slow_faults_requested(std::env::var(SLOW_FAULTS_ENV).ok().as_deref())
}

/// The decision [`slow_faults_enabled`] makes from the variable's value.
pub fn slow_faults_requested(value: Option<&str>) -> bool {
    matches!(value.map(|v| v.trim().to_ascii_lowercase()).as_deref(), Some("1" | "true" | "yes"))
}

/// How a suite runs: how many runs at a time, and what it shows meanwhile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Runs at a time (`--jobs`); 1 runs every scenario in order, one at a time.
    pub jobs: usize,
    /// What the suite shows while it runs.
    pub progress: Progress,
}

impl Options {
    /// `jobs` runs at a time, showing nothing.
    pub fn quiet(jobs: usize) -> Options {
        Options { jobs: jobs.max(1), progress: Progress::Off }
    }
}

impl Default for Options {
    /// [`default_jobs`] at a time, showing nothing.
    fn default() -> Self {
        Options::quiet(default_jobs())
    }
}

/// Runs every scenario on `backend` ([`schedule`] says which overlap); the
/// report lists them in the order of `scenarios` whatever order they end in.
pub fn run_suite(
    scenarios: &[Scenario],
    backend: &Backend,
    peers: &Peers,
    expectations: &Expectations,
    options: Options,
) -> Report {
    run_suite_detailed(scenarios, backend, peers, expectations, options).0
}

/// [`run_suite`], with the fault figures of every run.
pub fn run_suite_detailed(
    scenarios: &[Scenario],
    backend: &Backend,
    peers: &Peers,
    expectations: &Expectations,
    options: Options,
) -> (Report, Vec<RunFigures>) {
    let started = Instant::now();
    let used = crate::preflight::used(scenarios);
    let versions = peer_versions(&used, backend, peers);
    let suite = Suite {
        backend,
        peers,
        expectations: expectations.for_versions(versions.clone()),
        timing: Timing::default(),
        ensemble: OnceLock::new(),
        gate: HostGate::default(),
        started,
    };
    let mut tracker = Tracker::new(options.progress, scenarios.len());
    let mut slots: Vec<Option<(Entry, RunFigures)>> = scenarios.iter().map(|_| None).collect();
    let plan = schedule::plan(scenarios, options.jobs);
    if !plan.shared.is_empty() {
        tracker.note(format!("{} runs, {} at a time", plan.shared.len(), options.jobs));
        schedule::pool(
            &plan.shared,
            options.jobs,
            |i| suite.run_one(&scenarios[i], Gate::Enter),
            |i, done| record(&mut tracker, &mut slots, i, done),
        );
    }
    if !plan.timed.is_empty() {
        let at_once = schedule::TIMED_AT_ONCE.min(options.jobs);
        tracker.note(format!("{} timed runs, {at_once} at a time, nothing else on the host", plan.timed.len()));
        // One exclusive hold of the host gate for the whole phase: no shared
        // run, here or in another harness process, runs beside these.
        let _alone_on_the_host = suite.gate.enter(true);
        schedule::pool(
            &plan.timed,
            at_once,
            |i| suite.run_one(&scenarios[i], Gate::Held),
            |i, done| record(&mut tracker, &mut slots, i, done),
        );
    }
    for i in plan.alone {
        let scenario = &scenarios[i];
        tracker.note(scenario.label());
        let done = suite.run_one(scenario, Gate::Enter);
        record(&mut tracker, &mut slots, i, done);
    }
    tracker.finish();
    let (entries, figures) = slots.into_iter().map(|slot| slot.expect("every run was made")).unzip();
    let mut environment = environment(&used, backend, peers);
    if let Some(Ok(ensemble)) = suite.ensemble.get() {
        environment.push(("ensemble".into(), ensemble.describe()));
    }
    (Report { environment, entries, duration: started.elapsed(), versions }, figures)
}

/// Shows a finished run and keeps its result in its slot.
fn record(tracker: &mut Tracker, slots: &mut [Option<(Entry, RunFigures)>], i: usize, done: (Entry, RunFigures)) {
    tracker.finished(&done.0.result.label, &done.0.verdict, done.0.result.duration);
    slots[i] = Some(done);
}

/// What every run of one suite shares.
struct Suite<'a> {
    backend: &'a Backend,
    peers: &'a Peers,
    expectations: Expectations,
    timing: Timing,
    /// The 3-server ensemble, started on first need.
    ensemble: OnceLock<Result<Backend, String>>,
    gate: HostGate,
    started: Instant,
}

/// How a run holds the host gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gate {
    /// It enters the gate as its exclusivity says ([`HostGate::enter_for`]).
    Enter,
    /// The suite holds the gate exclusively for it (the timed phase).
    Held,
}

impl Suite<'_> {
    /// Makes one run (entering the host gate as `gate` says) and judges it.
    fn run_one(&self, scenario: &Scenario, gate: Gate) -> (Entry, RunFigures) {
        let _gate = (gate == Gate::Enter).then(|| self.gate.enter_for(schedule::exclusivity(scenario)));
        let from = self.started.elapsed();
        let backend = self.backend;
        let target = if scenario.needs_ensemble() && backend.is_local() && !backend.is_ensemble() {
            let started = self.ensemble.get_or_init(|| {
                tracing::info!("starting a 3-server ensemble");
                Backend::ensemble_with(self.peers.server_jars())
            });
            started.as_ref().map_err(Clone::clone)
        } else {
            Ok(backend)
        };
        // A run that stopped half-way may have left a server down.
        let target = target.and_then(|on| on.heal().map(|()| on).map_err(|e| e.to_string()));
        let gaps = crate::needs::gaps(scenario);
        let (result, stats) = match target {
            _ if !gaps.is_empty() => (not_run(scenario), Default::default()),
            Ok(on) => runner::run_inside_gate(scenario, &on.connect_string(), on, self.peers, &self.timing),
            Err(message) => {
                let mut result = not_run(scenario);
                result.violations.push(crate::checkers::Violation { checker: crate::outcome::SETUP, message });
                (result, Default::default())
            }
        };
        let span = Span { start: from, end: self.started.elapsed() };
        let verdict = if gaps.is_empty() {
            self.expectations.verdict(&result)
        } else {
            crate::expectations::Verdict::Skipped { reason: gaps.join(", ") }
        };
        tracing::info!(label = %result.label, verdict = verdict.cell(), "scenario done");
        let deviation = match &verdict {
            crate::expectations::Verdict::Known { reason } => Some(reason.clone()),
            _ => None,
        };
        let figures = RunFigures { label: result.label.clone(), as_expected: verdict.as_expected(), deviation, stats };
        (Entry { result, verdict, page: None, span: Some(span) }, figures)
    }
}

/// The result of a run that was not made.
fn not_run(scenario: &Scenario) -> crate::outcome::RunResult {
    crate::outcome::RunResult {
        label: scenario.label(),
        scenario: scenario.name.clone(),
        pairing: scenario.pairing.clone(),
        runtimes: scenario.contenders.iter().map(|(_, r)| r.clone()).collect(),
        violations: Vec::new(),
        duration: std::time::Duration::ZERO,
        steps_done: 0,
        evidence: None,
    }
}

/// The releases of the peers of `used` runtimes: the Curator the JVM
/// loaded, kazurator's, and the server's.
pub fn peer_versions(used: &[Runtime], backend: &Backend, peers: &Peers) -> RunVersions {
    let release = |runtimes: &[Runtime]| {
        let in_use = runtimes.iter().find(|r| used.contains(r))?;
        RunVersions::leading(&peers.adapter(in_use).ok()?.release()?)
    };
    RunVersions {
        curator: release(&[Runtime::Curator]),
        kazurator: release(&[Runtime::Kazurator, Runtime::KazooNative]),
        zookeeper: RunVersions::leading(&backend.server_version()),
    }
}

/// What the peers of this run were: the server, then each adapter in use
/// and each added runtime's command.
fn environment(used: &[Runtime], backend: &Backend, peers: &Peers) -> Vec<(String, String)> {
    let mut env = vec![("ZooKeeper".to_owned(), format!("{} ({})", backend.server_version(), backend.describe()))];
    for adapter in peers.builtin_adapters().filter(|a| used.iter().any(|r| a.runs(r))) {
        let (what, found) = adapter.describe();
        env.push((what, found.unwrap_or_else(|e| format!("unavailable: {e}"))));
    }
    for runtime in used {
        if let Runtime::External(e) = runtime {
            let versions: Vec<String> = e.versions.iter().map(|(k, v)| format!("{k} {v}")).collect();
            env.push((e.name.clone(), format!("{} ({})", e.command.join(" "), versions.join(", "))));
        }
    }
    if !env.iter().any(|(what, _)| what == "zkurator") {
        env.push(("zkurator".into(), env!("CARGO_PKG_VERSION").into()));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_faults_flag_values() {
        for yes in ["1", "true", "YES", " yes "] {
            assert!(slow_faults_requested(Some(yes)), "{yes}");
        }
        for no in [None, Some(""), Some("0"), Some("no"), Some("false")] {
            assert!(!slow_faults_requested(no), "{no:?}");
        }
    }
}
