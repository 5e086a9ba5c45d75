//! Runs a set of scenarios and compares the results with the expectations:
//! the code behind both `zkurator-harness run` and `cargo test --features interop`.

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::backend::Backend;
use crate::contender::Runtime;
use crate::expectations::Expectations;
use crate::report::{Entry, Report};
use crate::runner::{self, Peers, Timing};
use crate::scenario::Scenario;

/// Runs every scenario in order on `backend`, with a progress bar when `progress`.
pub fn run_suite(
    scenarios: &[Scenario],
    backend: &Backend,
    peers: &Peers,
    expectations: &Expectations,
    progress: bool,
) -> Report {
    let started = Instant::now();
    let bar = if progress { ProgressBar::new(scenarios.len() as u64) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let connect = backend.connect_string();
    let timing = Timing::default();
    let mut entries = Vec::new();
    for scenario in scenarios {
        bar.set_message(scenario.label());
        let result = runner::run(scenario, &connect, peers, &timing);
        let verdict = expectations.verdict(&result);
        tracing::info!(label = %result.label, verdict = verdict.cell(), "scenario done");
        entries.push(Entry { result, verdict });
        bar.inc(1);
    }
    bar.finish_and_clear();
    Report { environment: environment(scenarios, backend, peers), entries, duration: started.elapsed() }
}

/// What the peers of this run were.
fn environment(scenarios: &[Scenario], backend: &Backend, peers: &Peers) -> Vec<(String, String)> {
    let uses = |runtime: Runtime| scenarios.iter().any(|s| s.contenders.iter().any(|(_, r)| *r == runtime));
    let mut env = vec![("ZooKeeper".to_owned(), format!("{} ({})", backend.server_version(), backend.describe()))];
    if uses(Runtime::Curator) {
        env.push(("Curator".into(), peers.curator().map_or_else(|e| format!("unavailable: {e}"), |c| c.version())));
    }
    if uses(Runtime::Kazurator) || uses(Runtime::KazooNative) {
        let versions = peers.kazurator().map(|k| k.versions());
        env.push(match versions {
            Ok((kazurator, kazoo)) => ("kazurator".into(), format!("{kazurator} (kazoo {kazoo})")),
            Err(e) => ("kazurator".into(), format!("unavailable: {e}")),
        });
    }
    env.push(("zkurator".into(), env!("CARGO_PKG_VERSION").into()));
    env
}
