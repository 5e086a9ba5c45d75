//! `run`: scenarios against a ZooKeeper, the matrix and its reports.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;
use zkurator_harness::backend::Backend;
use zkurator_harness::expectations::Expectations;
use zkurator_harness::runner::Peers;
use zkurator_harness::scenario;
use zkurator_harness::suite;

use super::common::{fail, finish_report_dir, load, report_dir as report_dir_for, runtimes_named, write_reports};

/// Where `run` gets its ZooKeeper when `--zk-connect` is not given.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Zk {
    /// A server process started by the harness, of the release `--zookeeper`
    /// picks (default: Debian's jars, 3.8.0).
    Local,
    /// The official zookeeper image through testcontainers (needs Docker).
    Docker,
}

/// `run`: runs the scenarios of `paths` (default: all of `corpus`) and
/// prints the matrix.
#[allow(clippy::too_many_arguments)]
pub fn run(
    peers: &Peers,
    corpus: &Path,
    paths: Vec<PathBuf>,
    zk_connect: Option<String>,
    zk: Zk,
    runtimes: Option<Vec<String>>,
    expectations: Option<PathBuf>,
    [json, junit, report_dir]: [Option<PathBuf>; 3],
    jobs: usize,
) -> ExitCode {
    use zkurator_harness::preflight;
    let scenarios = match load(peers.table(), corpus, &paths) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let wanted = match runtimes.as_deref().map(|names| runtimes_named(peers.table(), names)).transpose() {
        Ok(wanted) => wanted,
        Err(e) => return fail(e),
    };
    let scenarios = match zkurator_harness::corpus::select(scenarios, wanted.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let expectations_path = expectations.unwrap_or_else(|| corpus.join(scenario::EXPECTATIONS_FILE));
    let expectations = match Expectations::load(&expectations_path) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let backend = match (zk_connect, zk) {
        (Some(connect), _) => Ok(Backend::external(&connect)),
        (None, Zk::Local) => Backend::local_with(peers.server_jars()),
        (None, Zk::Docker) => Backend::docker(),
    };
    if let Err(e) = preflight::report_paths(json.iter().chain(junit.iter()).map(PathBuf::as_path)) {
        return fail(e);
    }
    let backend = match backend {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let ready = preflight::server(&backend.connect_string())
        .and_then(|()| preflight::runtimes(&preflight::used(&scenarios), peers));
    if let Err(e) = ready {
        return fail(e);
    }
    let mut dir = match report_dir_for(report_dir, "run") {
        Ok(dir) => dir,
        Err(e) => return fail(e),
    };
    let options = suite::Options { jobs, progress: suite::Progress::for_stderr() };
    let mut report = suite::run_suite(&scenarios, &backend, peers, &expectations, options);
    print!("{}", report.matrix(console::colors_enabled()));
    let saved = dir.save_report(&mut report, &scenarios).map_err(|e| e.to_string());
    if let Err(e) = saved.and_then(|()| finish_report_dir(&dir, "zkurator-harness run", &report.environment)) {
        return fail(e);
    }
    if let Err(e) = write_reports([(json, report.json()), (junit, report.junit())]) {
        return fail(e);
    }
    if let Err(e) = report.coverage(wanted.as_deref()) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    if report.as_expected() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
