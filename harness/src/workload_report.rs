//! `zkurator-harness workload`: runs the workload corpus
//! (`scenarios/workloads/`, negative controls in `negative/`) and prints the
//! figures: critical sections per runtime and the updates lost, and the late
//! writes of frozen or expired holders per protection and what became of them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::backend::Backend;
use crate::checkers_data::DataStats;
use crate::contender::{Protection, Runtime};
use crate::expectations::Expectations;
use crate::fault_figures::RunFigures;
use crate::report::Report;
use crate::runner::Peers;
use crate::scenario::Scenario;
use crate::suite;

/// The workload corpus of this repository (a compile time path, for the tests;
/// the binary runs `workloads/` of its `--scenarios` corpus).
pub const WORKLOAD_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/workloads");

/// The subdirectory of the negative controls: runs that must be caught.
pub const NEGATIVE_SUBDIR: &str = "negative";

/// Whether `scenario` is a negative control (a file under `negative/`).
pub fn is_negative(scenario: &Scenario) -> bool {
    scenario.file.parent().is_some_and(|dir| dir.ends_with(NEGATIVE_SUBDIR))
}

/// One run of the workload corpus with what it was meant to show.
#[derive(Clone, Debug)]
pub struct WorkloadRun {
    /// `scenario[pairing]`.
    pub label: String,
    /// A negative control (must be caught by the lost-updates checker).
    pub negative: bool,
    /// The checkers that reported something (empty: passed).
    pub checkers: Vec<crate::checkers::Checker>,
    /// Whether it could not start.
    pub setup_error: bool,
    /// How many contenders may hold the lock at once (leases: more than one).
    pub holders: u32,
    /// The contender faults injected (pauses count as expiries).
    pub faults: Vec<crate::fault_figures::FaultKind>,
    /// The workload figures.
    pub data: DataStats,
}

impl WorkloadRun {
    /// A positive run passed, or a negative control was caught by the
    /// lost-updates checker and nothing else.
    pub fn as_intended(&self) -> bool {
        if self.negative {
            !self.checkers.is_empty() && self.checkers.iter().all(|c| *c == crate::checkers::Checker::LostUpdates)
        } else {
            self.checkers.is_empty()
        }
    }
}

/// Runs the workload scenarios in `dir` (optionally only with `runtimes`).
pub fn run_corpus(
    dir: &Path,
    runtimes: Option<&[Runtime]>,
    backend: &Backend,
    peers: &Peers,
    options: crate::suite::Options,
) -> Result<(Report, Vec<WorkloadRun>), String> {
    let mut scenarios = crate::corpus::load_dir_in(peers.table(), dir).map_err(|e| e.to_string())?;
    if let Some(only) = runtimes {
        scenarios.retain(|s| s.contenders.iter().all(|(_, r)| only.contains(r)));
    }
    if scenarios.is_empty() {
        return Err(format!("no workload scenarios in {}", dir.display()));
    }
    let meta: Vec<(bool, u32)> = scenarios
        .iter()
        .map(|s| {
            let holders = match s.kind {
                crate::contender::LockKind::Mutex { max_leases } => max_leases,
                _ => 1,
            };
            (is_negative(s), holders)
        })
        .collect();
    let (report, figures) = suite::run_suite_detailed(&scenarios, backend, peers, &Expectations::default(), options);
    let runs = report
        .entries
        .iter()
        .zip(figures)
        .zip(meta)
        .map(|((entry, RunFigures { stats, .. }), (negative, holders))| WorkloadRun {
            label: entry.result.label.clone(),
            negative,
            holders,
            faults: stats.injected.iter().map(|i| i.kind).collect(),
            checkers: entry.result.violations.iter().map(|v| v.checker).collect(),
            setup_error: entry.result.setup_error().is_some(),
            data: stats.data.unwrap_or_default(),
        })
        .collect();
    Ok((report, runs))
}

/// How a late writer of `runtime` was stopped by `C pause`: a process
/// runtime is frozen; an in-process one (zkurator in the harness, Curator in
/// the embedded JVM) has its session expired while the runner waits.
fn fault_of(runtime: Runtime) -> &'static str {
    match runtime {
        Runtime::RustProcess | Runtime::Kazurator | Runtime::KazooNative | Runtime::GoZk | Runtime::External(_) => {
            "SIGSTOP past the session timeout"
        }
        _ => "session expired by the server while it paused",
    }
}

/// The figures as two markdown tables.
pub fn markdown(runs: &[WorkloadRun]) -> String {
    #[derive(Default)]
    struct PerRuntime {
        sections: usize,
        lost: usize,
        lease_lost: usize,
        faults: std::collections::BTreeSet<&'static str>,
        negative_sections: usize,
        negative_runs: usize,
        caught: usize,
    }
    let mut per_runtime: BTreeMap<Runtime, PerRuntime> = BTreeMap::new();
    // Keyed also by whether the late writer was partitioned rather than paused:
    // (attempted, rejected, applied, lost updates).
    type Late = (usize, usize, usize, usize);
    let mut late: BTreeMap<(Protection, Runtime, bool), Late> = BTreeMap::new();
    let mut unknown = 0;
    for run in runs {
        unknown += run.data.unknown;
        let runtimes: Vec<Runtime> = run.data.critical_sections.keys().cloned().collect();
        for (runtime, sections) in &run.data.critical_sections {
            let row = per_runtime.entry(runtime.clone()).or_default();
            if run.negative {
                row.negative_sections += sections;
            } else {
                row.sections += sections;
            }
        }
        for runtime in &runtimes {
            let row = per_runtime.entry(runtime.clone()).or_default();
            if run.negative {
                row.negative_runs += 1;
                row.caught += usize::from(run.as_intended());
            } else if run.holders > 1 {
                row.lease_lost += run.data.lost_updates;
            } else {
                row.lost += run.data.lost_updates;
            }
            if !run.negative {
                row.faults.extend(run.faults.iter().map(|f| f.name()));
            }
        }
        for l in &run.data.late {
            let (Some(protection), Some(runtime)) = (l.protection, l.runtime.clone()) else { continue };
            let partitioned = run.faults.contains(&crate::fault_figures::FaultKind::PartitionLong);
            let cell = late.entry((protection, runtime, partitioned)).or_default();
            cell.0 += l.attempted;
            cell.1 += l.rejected;
            cell.2 += l.applied;
            cell.3 += if l.applied > 0 { run.data.lost_updates } else { 0 };
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| runtime | critical sections (lock rules followed) | lost updates (one holder) | lost within the lease bound | faults in those runs | negative controls caught | their critical sections |"
    );
    let _ = writeln!(out, "| --- | --: | --: | --: | --- | --: | --: |");
    for (runtime, row) in &per_runtime {
        let faults: Vec<&str> = row.faults.iter().copied().collect();
        let faults = if faults.is_empty() { "none".to_owned() } else { faults.join(", ") };
        let _ = writeln!(
            out,
            "| {runtime} | {} | {} | {} | {faults} | {} / {} | {} |",
            row.sections, row.lost, row.lease_lost, row.caught, row.negative_runs, row.negative_sections
        );
    }
    let _ = writeln!(
        out,
        "\n| protection | late writer | fault | late writes attempted | rejected | applied | lost updates |"
    );
    let _ = writeln!(out, "| --- | --- | --- | --: | --: | --: | --: |");
    for ((protection, runtime, partitioned), (attempted, rejected, applied, lost)) in &late {
        let fault = if *partitioned { "partitioned past the session timeout" } else { fault_of(runtime.clone()) };
        let name = match protection {
            Protection::Guarded => "guarded write",
            Protection::Fenced => "fencing token",
            Protection::Plain => "none (plain write)",
        };
        let _ = writeln!(out, "| {name} | {runtime} | {fault} | {attempted} | {rejected} | {applied} | {lost} |");
    }
    let intended = runs.iter().filter(|r| r.as_intended()).count();
    let _ = writeln!(
        out,
        "\n{} runs, {intended} as intended; {unknown} writes of unknown outcome (counted as neither).",
        runs.len()
    );
    out
}

/// The `workload` command: runs the corpus in `dir`, prints the matrix and the
/// figures; succeeds when every run did what it is for (positives pass,
/// negative controls are caught by the lost-updates checker). Every run is
/// saved into `evidence`.
pub fn main(
    peers: &Peers,
    dir: &Path,
    runtimes: Option<&[Runtime]>,
    backend: &Backend,
    evidence: &mut crate::evidence::ReportDir,
    jobs: usize,
) -> std::process::ExitCode {
    let options = crate::suite::Options { jobs, progress: crate::suite::Progress::for_stderr() };
    let (mut report, runs) = match run_corpus(dir, runtimes, backend, peers, options) {
        Ok(ran) => ran,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    print!("{}", report.matrix(console::colors_enabled()));
    println!("\n{}", markdown(&runs));
    let mut scenarios = crate::corpus::load_dir_in(peers.table(), dir).unwrap_or_default();
    if let Some(only) = runtimes {
        scenarios.retain(|s| s.contenders.iter().all(|(_, r)| only.contains(r)));
    }
    if let Err(e) = evidence.save_report(&mut report, &scenarios) {
        eprintln!("error: {e}");
        return std::process::ExitCode::from(2);
    }
    if let Err(e) = report.coverage(runtimes) {
        eprintln!("error: {e}");
        return std::process::ExitCode::FAILURE;
    }
    let wrong: Vec<&WorkloadRun> = runs.iter().filter(|r| !r.as_intended()).collect();
    for run in &wrong {
        let what = if run.negative { "negative control not caught" } else { "failed" };
        eprintln!("{}: {what} ({:?})", run.label, run.checkers);
    }
    if wrong.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
