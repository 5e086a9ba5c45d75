//! Runs one scenario against a real ZooKeeper: starts the contenders (one
//! thread each), drives the steps, compares every outcome with the model,
//! records the history and runs the checkers over it. Faults (`crash`,
//! `expire`, `kill`, server ops) go through the contenders' out-of-band
//! handles and the backend's [`ServerControl`]; what they did is measured in
//! a [`FaultStats`].
//!
//! The work is split by job: [`Peers`] (peers.rs) makes the runtimes and
//! starts contenders, each on a thread seen through a driver (driver.rs); the
//! run's state and I/O (state.rs) sit under the steps (steps.rs), the checks
//! after each step (checks.rs), contender faults (faults.rs), the workload's
//! data steps (data.rs) and the end of a run (finish.rs).

mod checks;
mod data;
mod driver;
mod fault_log;
mod faults;
mod finish;
mod net;
mod network;
mod observer;
mod peers;
mod state;
mod steps;
mod stop;
mod timing;

use std::time::Instant;

use crate::checkers;
use crate::exclusivity::exclusivity;
use crate::fault_figures::FaultStats;
use crate::history::{EventKind, FINISH};
use crate::host_gate::HostGate;
use crate::model::Model;
use crate::nemesis::{NoControl, ServerControl};
use crate::outcome::Evidence;
use crate::scenario::Scenario;
use state::Run;
use stop::Stop;

pub use crate::outcome::{RunResult, SETUP};
pub use peers::{PeerChoices, Peers};
pub use timing::{Timing, RUNNER_CONNECT_TIMEOUT};

/// Runs one scenario on the ZooKeeper at `connect`. Server faults (`zk
/// restart`...) fail: use [`run_with`] and a [`ServerControl`] for them.
pub fn run(scenario: &Scenario, connect: &str, peers: &Peers, timing: &Timing) -> RunResult {
    let control = NoControl { describe: format!("only the connect string {connect}") };
    run_with(scenario, connect, &control, peers, timing).0
}

/// Runs one scenario on the ZooKeeper at `connect`, whose servers `control`
/// may restart or kill, and reports what its faults did.
///
/// The run holds the host gate ([`HostGate`]) while it lasts, as its
/// [`exclusivity`] says: a run timed against a timeout has no shared run
/// beside it (and at most a few timed ones of this process), a run acting on
/// the servers nothing, whichever test thread or harness process makes them.
pub fn run_with(
    scenario: &Scenario,
    connect: &str,
    control: &dyn ServerControl,
    peers: &Peers,
    timing: &Timing,
) -> (RunResult, FaultStats) {
    let _gate = HostGate::default().enter_for(exclusivity(scenario));
    run_inside_gate(scenario, connect, control, peers, timing)
}

/// [`run_with`] for a caller that holds the host gate as `scenario` needs
/// (a suite, which holds it once for a phase of runs).
pub(crate) fn run_inside_gate(
    scenario: &Scenario,
    connect: &str,
    control: &dyn ServerControl,
    peers: &Peers,
    timing: &Timing,
) -> (RunResult, FaultStats) {
    let started = Instant::now();
    let mut run = Run::new(scenario, connect, control, timing);
    let mut violations = Vec::new();
    let mut steps_done = 0;
    match run.start_contenders(peers) {
        Err(stopped) => violations.push(stopped.0),
        Ok(()) => {
            for step in &scenario.steps {
                run.history.record("zk", EventKind::Step { line: step.line, text: step.text.clone() });
                if let Err(Stop(mut violation)) = run.step(step) {
                    violation.message = format!("line {} `{}`: {}", step.line, step.text, violation.message);
                    violations.push(violation);
                    break;
                }
                steps_done += 1;
            }
        }
    }
    run.finish_network();
    let sessions = run.drivers.iter().filter_map(|(id, d)| Some((id.clone(), d.session.clone()?))).collect();
    run.history.record("zk", EventKind::Step { line: 0, text: FINISH.to_owned() });
    violations.extend(run.finish(violations.is_empty()));
    violations.extend(run.check_data());
    let events = run.history.events();
    let exclusion = checkers::exclusion(events, scenario.kind);
    run.faults.stats.double_grants = exclusion.len();
    violations.extend(exclusion);
    violations.extend(checkers::names(events, scenario.kind, &run.foreign));
    if violations.is_empty() {
        // The model again over the history in the order of its stamps: a
        // grant that arrived while the model says its contender waits fails
        // the run however late the runner read it (a reply slower than the
        // blocked window, under load, included).
        let model = Model::new(scenario.kind, &scenario.contenders).with_session_timeout(scenario.session_timeout);
        violations.extend(crate::replay::replay_timed(model, events, &scenario.contenders).violation);
    }
    let result = RunResult {
        label: scenario.label(),
        scenario: scenario.name.clone(),
        pairing: scenario.pairing.clone(),
        runtimes: scenario.contenders.iter().map(|(_, r)| r.clone()).collect(),
        violations,
        duration: started.elapsed(),
        steps_done,
        evidence: Some(Box::new(Evidence {
            lock_path: run.lock_path.clone(),
            events: run.history.events().to_vec(),
            final_value: run.faults.stats.data.as_ref().and_then(|d| d.final_value),
            foreign: run.foreign.clone(),
            sessions,
            czxids: run.observer.czxids.clone(),
        })),
    };
    (result, run.faults.stats)
}
