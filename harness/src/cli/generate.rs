//! `gen`: proptest-generated schedules, shrunk to a regression scenario on a
//! failure.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use zkurator_harness::backend::Backend;
use zkurator_harness::runner::Peers;

use super::common::{fail, finish_report_dir, report_dir as report_dir_for, runtimes_named, write_reports};

/// What `gen` was asked for.
pub struct GenArgs {
    /// Schedules to play.
    pub cases: u32,
    /// RNG seed.
    pub seed: u64,
    /// Runtimes contenders are drawn from.
    pub runtimes: Vec<String>,
    /// An existing server or ensemble instead of a local one.
    pub zk_connect: Option<String>,
    /// Shrinking budget after a failure (runs).
    pub max_shrink_iters: u32,
    /// Where a minimal failing schedule is written.
    pub regressions: PathBuf,
    /// A JSON report to write.
    pub json: Option<PathBuf>,
    /// A JUnit XML report to write.
    pub junit: Option<PathBuf>,
    /// `--report-dir`.
    pub report_dir: Option<PathBuf>,
}

/// Where `gen` writes a minimal failing schedule: `regressions/` of the
/// corpus when it is a directory of the user's (`--scenarios DIR` or
/// `./scenarios`), else of the cache directory (the built-in corpus is a
/// read-only copy).
pub fn regressions_dir(explicit: Option<&Path>) -> PathBuf {
    match explicit {
        Some(dir) => dir.join("regressions"),
        None if Path::new("scenarios").is_dir() => Path::new("scenarios").join("regressions"),
        None => zkurator_harness::assets::cache_dir().join("regressions"),
    }
}

/// `gen`: plays proptest-generated schedules; a failure shrinks to a
/// scenario written to the regressions directory.
pub fn generate(peers: &Peers, args: GenArgs) -> ExitCode {
    use zkurator_harness::generate::{GenConfig, Space};
    use zkurator_harness::preflight;
    let GenArgs { cases, seed, runtimes, zk_connect, max_shrink_iters, regressions, json, junit, report_dir } = args;
    if let Err(e) = preflight::report_paths(json.iter().chain(junit.iter()).map(PathBuf::as_path)) {
        return fail(e);
    }
    let pool = match runtimes_named(peers.table(), &runtimes) {
        Ok(pool) if !pool.is_empty() => pool,
        Ok(_) => return fail("--runtimes names no runtime"),
        Err(e) => return fail(e),
    };
    if let Err(e) = zkurator_harness::generate::check_pool(&pool) {
        return fail(e);
    }
    let backend = match zk_connect {
        Some(connect) => Backend::external(&connect),
        None => match Backend::local_with(peers.server_jars()) {
            Ok(b) => b,
            Err(e) => return fail(e),
        },
    };
    if let Err(e) = preflight::server(&backend.connect_string()).and_then(|()| preflight::runtimes(&pool, peers)) {
        return fail(e);
    }
    let config = GenConfig { cases, seed, max_shrink_iters, regressions: Some(regressions) };
    let evidence = match report_dir_for(report_dir, "gen") {
        Ok(evidence) => std::cell::RefCell::new(evidence),
        Err(e) => return fail(e),
    };
    let failed_to_save = std::cell::RefCell::new(None);
    let versions = zkurator_harness::suite::peer_versions(&pool, &backend, peers);
    let keep = |scenario: &zkurator_harness::scenario::Scenario, result: &zkurator_harness::outcome::RunResult| {
        use zkurator_harness::expectations::Verdict;
        let verdict = match (result.setup_error(), result.passed()) {
            (Some(message), _) => Verdict::Error { message: message.to_owned() },
            (None, true) => Verdict::Pass,
            (None, false) => Verdict::Fail,
        };
        if let Err(e) = evidence.borrow_mut().save_run(scenario, result, &verdict, None, &versions) {
            failed_to_save.borrow_mut().get_or_insert(e.to_string());
        }
    };
    let report = zkurator_harness::generate::run_generated_keeping(
        &Space::mixed(pool.clone()),
        &config,
        &backend.connect_string(),
        peers,
        &keep,
    );
    let evidence = evidence.into_inner();
    if let Some(e) = failed_to_save.into_inner() {
        return fail(e);
    }
    println!(
        "{} cases in {:.1} s ({:.1} cases/min), {} runs with shrinking, violations: {}",
        report.cases,
        report.elapsed.as_secs_f64(),
        report.cases_per_minute(),
        report.runs,
        if report.failure.is_some() { 1 } else { 0 }
    );
    let written = zkurator_harness::report::generated(&report, seed, &pool);
    if let Err(e) = write_reports([(json, written.json()), (junit, written.junit())]) {
        return fail(e);
    }
    let code = match (&report.setup_error, report.failure) {
        (Some(error), _) => fail(format!("a run could not start, so nothing was shrunk or written: {error}")),
        (None, None) => ExitCode::SUCCESS,
        (None, Some((scenario, violations))) => {
            println!("minimal failing schedule ({} steps, {}):", scenario.steps.len(), scenario.pairing);
            for step in &scenario.steps {
                println!("    {}", step.text);
            }
            for v in violations {
                println!("  [{}] {}", v.checker, v.message);
            }
            if let Some(why) = &report.not_written {
                println!("{why}");
            }
            if let Some(path) = report.written {
                println!("written to {}", path.display());
            }
            ExitCode::FAILURE
        }
    };
    match finish_report_dir(&evidence, "zkurator-harness gen", &[]) {
        Ok(()) => code,
        Err(e) => fail(e),
    }
}
