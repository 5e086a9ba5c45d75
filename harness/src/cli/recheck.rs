//! `recheck`: saved runs checked again, offline.

use std::path::Path;
use std::process::ExitCode;

use super::common::fail;

/// `recheck PATH`: prints each saved run's recorded and rechecked verdicts;
/// exit code 1 when one differs.
pub fn recheck(table: &zkurator_harness::runtimes::RuntimeTable, path: &Path) -> ExitCode {
    let runs = match zkurator_harness::evidence::recheck::recheck_path(table, path) {
        Ok(runs) => runs,
        Err(e) => return fail(e),
    };
    let mut differ = 0;
    for run in &runs {
        print!("{}", run.describe());
        differ += usize::from(!run.agrees());
    }
    println!("{} runs rechecked, {differ} with a different verdict", runs.len());
    if differ == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
