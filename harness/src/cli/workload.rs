//! `workload`: the lost-update workloads (workloads/ of the corpus) and their
//! figures table.

use std::path::PathBuf;
use std::process::ExitCode;

use zkurator_harness::backend::Backend;
use zkurator_harness::runner::Peers;

use super::common::{fail, finish_report_dir, report_dir as report_dir_for, runtimes_named};

/// `workload`: runs the workloads of the corpus (`corpus`, called once the
/// runtimes are known) whose contenders all use `runtimes`, and prints the
/// figures table.
pub fn workload(
    peers: &Peers,
    runtimes: Option<&[String]>,
    corpus: impl FnOnce() -> Result<PathBuf, String>,
    report_dir: Option<PathBuf>,
    jobs: usize,
) -> ExitCode {
    let runtimes = match runtimes.map(|names| runtimes_named(peers.table(), names)).transpose() {
        Ok(runtimes) => runtimes,
        Err(e) => return fail(e),
    };
    let corpus = match corpus() {
        Ok(corpus) => corpus,
        Err(e) => return fail(e),
    };
    let mut evidence = match report_dir_for(report_dir, "workload") {
        Ok(evidence) => evidence,
        Err(e) => return fail(e),
    };
    let code = match Backend::local_with(peers.server_jars()) {
        Ok(backend) => zkurator_harness::workload_report::main(
            peers,
            &corpus.join(zkurator_harness::workload::WORKLOAD_SUBDIR),
            runtimes.as_deref(),
            &backend,
            &mut evidence,
            jobs,
        ),
        Err(e) => return fail(e),
    };
    match finish_report_dir(&evidence, "zkurator-harness workload", &[]) {
        Ok(()) => code,
        Err(e) => fail(e),
    }
}
