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

/// How many default report directories the cache keeps (the oldest go).
pub const KEEP_DEFAULT_DIRS: usize = 50;

/// The default report directory of one invocation of `command`, under the
/// cache's `reports/`; the oldest default directories beyond
/// [`KEEP_DEFAULT_DIRS`] are removed.
pub fn default_dir(command: &str) -> PathBuf {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let reports = crate::assets::cache_dir().join("reports");
    prune(&reports, KEEP_DEFAULT_DIRS);
    reports.join(format!("{command}-{secs}-{}", std::process::id()))
}

/// Whether `name` is a default report directory's (`<command>-<secs>-<pid>`);
/// its seconds if so.
fn default_dir_secs(name: &str) -> Option<u64> {
    let mut parts = name.rsplitn(3, '-');
    let pid = parts.next()?;
    let secs = parts.next()?;
    let command = parts.next()?;
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    (digits(pid) && digits(secs) && !command.is_empty()).then(|| secs.parse().ok()).flatten()
}

/// Removes the oldest default report directories in `reports` so that
/// fewer than `keep` remain (best effort: a directory that cannot be
/// removed stays).
fn prune(reports: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(reports) else { return };
    let mut dirs: Vec<(u64, PathBuf)> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| Some((default_dir_secs(&e.file_name().to_string_lossy())?, e.path())))
        .collect();
    dirs.sort();
    let excess = (dirs.len() + 1).saturating_sub(keep);
    for (_, dir) in dirs.into_iter().take(excess) {
        let _ = std::fs::remove_dir_all(dir);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_default_directories_are_pruned_oldest_first() {
        assert_eq!(default_dir_secs("run-1733300000-4242"), Some(1733300000));
        assert_eq!(default_dir_secs("my-report"), None);
        assert_eq!(default_dir_secs("1733300000-4242"), None);
        let dir = tempfile::tempdir().unwrap();
        for name in ["run-100-1", "gen-300-2", "faults-200-3", "mine", "run-x-1"] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        prune(dir.path(), 2);
        let mut left: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        left.sort();
        assert_eq!(left, ["gen-300-2", "mine", "run-x-1"]);
    }
}
