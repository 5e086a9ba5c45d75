//! Every run keeps its evidence: a report directory (`--report-dir DIR`, by
//! default one per invocation under the cache directory's `reports/`) with,
//! per run, `runs/<run>/history.jsonl` (`docs/history-format.md`),
//! `scenario.toml` (the scenario as run, generated ones too),
//! `verdict.json` (the verdict, every violation, the linearizability
//! checker's result) and `index.html` (its timeline); and `DIR/index.html`,
//! the matrix linking to every run.
//!
//! The files' contents are built by pure functions ([`build`],
//! [`html`](mod@html)); this module only writes them.

pub mod agreement;
pub mod build;
pub mod html;
pub mod recheck;

use std::path::{Path, PathBuf};

use crate::expectations::Verdict;
use crate::offline::LinSummary;
use crate::report::Report;
use crate::scenario::Scenario;
use crate::versions::RunVersions;

/// A report directory that cannot be written.
#[derive(Debug, thiserror::Error)]
#[error("report directory {path}: {source}")]
pub struct EvidenceError {
    /// The file or directory.
    pub path: PathBuf,
    /// What the file system said.
    pub source: std::io::Error,
}

/// One saved run, as the index links to it.
#[derive(Clone, Debug)]
pub struct SavedRun {
    /// Scenario name (the matrix row).
    pub scenario: String,
    /// Pairing (the matrix column).
    pub pairing: String,
    /// `name[pairing]`.
    pub label: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The run's directory, relative to the report directory (`runs/<run>`).
    pub dir: String,
    /// The linearizability checker's summary.
    pub linearizability: LinSummary,
    /// The first violation, if any.
    pub first_violation: Option<String>,
}

/// A report directory being filled.
#[derive(Debug)]
pub struct ReportDir {
    root: PathBuf,
    runs: Vec<SavedRun>,
}

/// The default report directory of one invocation of `command`.
pub fn default_dir(command: &str) -> PathBuf {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    crate::assets::cache_dir().join("reports").join(format!("{command}-{secs}-{}", std::process::id()))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> EvidenceError + '_ {
    move |source| EvidenceError { path: path.to_owned(), source }
}

impl ReportDir {
    /// Creates (or reuses) the directory `root`.
    pub fn create(root: PathBuf) -> Result<ReportDir, EvidenceError> {
        std::fs::create_dir_all(root.join("runs")).map_err(io(&root))?;
        Ok(ReportDir { root, runs: Vec::new() })
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The runs saved so far.
    pub fn runs(&self) -> &[SavedRun] {
        &self.runs
    }

    /// Saves one run: its history, scenario, verdict and timeline page.
    /// `known` is the deviation the expectations record for it. Returns the
    /// run page's path.
    pub fn save_run(
        &mut self,
        scenario: &Scenario,
        result: &crate::outcome::RunResult,
        verdict: &Verdict,
        known: Option<&str>,
        versions: &RunVersions,
    ) -> Result<PathBuf, EvidenceError> {
        let taken: Vec<&str> = self.runs.iter().map(|r| r.dir.as_str()).collect();
        let dir = build::run_dir_name(&result.label, &taken);
        let path = self.root.join(&dir);
        std::fs::create_dir_all(&path).map_err(io(&path))?;
        let files = build::run_files(scenario, result, verdict, known, versions);
        for (name, text) in [
            ("history.jsonl", &files.history),
            ("scenario.toml", &files.scenario),
            ("verdict.json", &files.verdict),
            ("index.html", &files.page),
        ] {
            let file = path.join(name);
            std::fs::write(&file, text).map_err(io(&file))?;
        }
        self.runs.push(SavedRun {
            scenario: result.scenario.clone(),
            pairing: result.pairing.clone(),
            label: result.label.clone(),
            verdict: verdict.clone(),
            dir,
            linearizability: files.linearizability,
            first_violation: result.violations.first().map(|v| format!("[{}] {}", v.checker, v.message)),
        });
        Ok(path.join("index.html"))
    }

    /// Saves every run of `report` (whose entries are `scenarios`' runs, in
    /// order) and names each run's page in its entry (for JUnit messages).
    pub fn save_report(&mut self, report: &mut Report, scenarios: &[Scenario]) -> Result<(), EvidenceError> {
        let versions = report.versions.clone();
        for (entry, scenario) in report.entries.iter_mut().zip(scenarios) {
            let known = match &entry.verdict {
                Verdict::Known { reason } | Verdict::UnexpectedPass { reason } => Some(reason.clone()),
                _ => None,
            };
            let page = self.save_run(scenario, &entry.result, &entry.verdict, known.as_deref(), &versions)?;
            entry.page = Some(page.display().to_string());
        }
        Ok(())
    }

    /// Writes `DIR/index.html` (the matrix of every saved run) titled
    /// `title`, and returns its path.
    pub fn write_index(&self, title: &str, environment: &[(String, String)]) -> Result<PathBuf, EvidenceError> {
        let file = self.root.join("index.html");
        std::fs::write(&file, html::index::page(title, environment, &self.runs)).map_err(io(&file))?;
        Ok(file)
    }
}
