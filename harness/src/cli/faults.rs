//! `faults`: the fault scenarios (faults/ of the corpus) and the fault table.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use zkurator_harness::backend::Backend;
use zkurator_harness::runner::Peers;
use zkurator_harness::scenario;

use super::common::{fail, finish_report_dir, report_dir as report_dir_for, write_reports};

/// `faults`: runs the fault scenarios of `corpus` and prints the fault table.
pub fn faults(
    peers: &Peers,
    corpus: &Path,
    [json, junit, report_dir]: [Option<PathBuf>; 3],
    skip_slow: bool,
    jobs: usize,
) -> ExitCode {
    use zkurator_harness::{faults, preflight};
    if let Err(e) = preflight::report_paths(json.iter().chain(junit.iter()).map(PathBuf::as_path)) {
        return fail(e);
    }
    let backend = match Backend::local_with(peers.server_jars()) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let dir = &corpus.join(scenario::FAULT_SUBDIR);
    let used =
        faults::load_corpus(peers.table(), dir, !skip_slow).map(|(s, _)| preflight::used(&s)).unwrap_or_default();
    if let Err(e) = preflight::server(&backend.connect_string()).and_then(|()| preflight::runtimes(&used, peers)) {
        return fail(e);
    }
    let mut evidence = match report_dir_for(report_dir, "faults") {
        Ok(evidence) => evidence,
        Err(e) => return fail(e),
    };
    let options = zkurator_harness::suite::Options { jobs, progress: zkurator_harness::suite::Progress::for_stderr() };
    let ran = faults::run_corpus(dir, !skip_slow, &backend, peers, options);
    let (mut report, figures) = match ran {
        Ok(ran) => ran,
        Err(e) => return fail(e),
    };
    print!("{}", report.matrix(console::colors_enabled()));
    // The same scenarios, in the same order, as the run.
    let scenarios = faults::load_corpus(peers.table(), dir, !skip_slow).map(|(s, _)| s).unwrap_or_default();
    let saved = evidence.save_report(&mut report, &scenarios).map_err(|e| e.to_string());
    if let Err(e) = saved.and_then(|()| finish_report_dir(&evidence, "zkurator-harness faults", &report.environment)) {
        return fail(e);
    }
    println!("\n{}", faults::markdown(&figures));
    if let Err(e) = write_reports([(json, faults::json(&figures)), (junit, report.junit())]) {
        return fail(e);
    }
    if let Err(e) = report.coverage(None) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    // Runs without a recorded peer deviation must have no double grant and no leak.
    let unexplained: Vec<_> = figures.iter().filter(|f| f.deviation.is_none()).cloned().collect();
    let (_, _, double_grants, leaked) = faults::totals(&unexplained);
    if report.as_expected() && double_grants == 0 && leaked == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
