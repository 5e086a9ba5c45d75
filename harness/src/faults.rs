//! The fault corpus (`scenarios/faults`): loading it and running it through
//! the suite; the figures and the table are [`crate::fault_figures`].

use std::path::Path;

use crate::backend::Backend;
use crate::expectations::Expectations;
use crate::report::Report;
use crate::runner::Peers;
use crate::scenario::{self, Scenario};
use crate::suite;

/// The fault corpus: `scenarios/faults/` of this repository (a compile time
/// path, for the tests; the binary runs `faults/` of its `--scenarios` corpus).
pub const FAULT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/faults");

/// The fault scenarios in `dir`, without the slow ones unless `include_slow`,
/// and the expectations file of the corpus (`expectations.toml` in `dir`'s
/// parent, shared with the compatibility corpus).
pub fn load_corpus(
    table: &crate::runtimes::RuntimeTable,
    dir: &Path,
    include_slow: bool,
) -> Result<(Vec<Scenario>, Expectations), String> {
    let mut scenarios = crate::corpus::load_dir_in(table, dir).map_err(|e| e.to_string())?;
    scenarios.retain(|s| include_slow || !s.is_slow());
    if scenarios.is_empty() {
        return Err(format!("no fault scenarios in {}", dir.display()));
    }
    let expectations_path = dir.parent().unwrap_or(dir).join(scenario::EXPECTATIONS_FILE);
    let expectations = Expectations::load(&expectations_path)?;
    Ok((scenarios, expectations))
}

/// Runs the fault corpus in `dir` on `backend` (a local server, so that
/// `zk restart` works; ensemble scenarios get an ensemble of their own).
pub fn run_corpus(
    dir: &Path,
    include_slow: bool,
    backend: &Backend,
    peers: &Peers,
    options: suite::Options,
) -> Result<(Report, Vec<RunFigures>), String> {
    let (scenarios, expectations) = load_corpus(peers.table(), dir, include_slow)?;
    Ok(suite::run_suite_detailed(&scenarios, backend, peers, &expectations, options))
}

pub use crate::fault_figures::*;
