//! `recheck PATH`: the model and every offline checker again over saved
//! runs (one run's directory, a report directory, or any directory holding
//! run directories), with no ZooKeeper and no peer.

use std::path::{Path, PathBuf};

use crate::offline::{recheck, Rechecked};
use crate::record::{RecordError, RunRecord, SavedVerdict};
use crate::runtimes::RuntimeTable;

/// Saved runs that cannot be checked again.
#[derive(Debug, thiserror::Error)]
pub enum RecheckError {
    /// A file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// A file is not of the format.
    #[error("{path}: {source}")]
    Record {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: RecordError,
    },
    /// A contender's runtime is not known to this process.
    #[error("{path}: unknown runtime {name:?} (an added runtime? give it with --runtime)")]
    UnknownRuntime {
        /// The history.
        path: PathBuf,
        /// The runtime's name.
        name: String,
    },
    /// Nothing to check under the path.
    #[error("{0}: no history.jsonl in it or under it")]
    Empty(PathBuf),
}

/// One saved run checked again.
#[derive(Debug)]
pub struct RecheckedRun {
    /// The run's directory.
    pub dir: PathBuf,
    /// What was saved.
    pub saved: SavedVerdict,
    /// What the recheck says.
    pub rechecked: Rechecked,
}

impl RecheckedRun {
    /// Whether the recheck comes to the saved verdict.
    pub fn agrees(&self) -> bool {
        self.rechecked.agrees_with(&self.saved)
    }

    /// One line per run, then its violations.
    pub fn describe(&self) -> String {
        let lin = match self.rechecked.checked.lin_summary.linearizable {
            Some(true) => "linearizable",
            Some(false) => "NOT linearizable",
            None => "linearizability: gave up",
        };
        let mut out = format!(
            "{}: recorded {}, rechecked {} ({}) · {lin}\n",
            self.saved.label,
            self.saved.verdict.cell(),
            self.rechecked.verdict.cell(),
            if self.agrees() { "same" } else { "DIFFERENT" }
        );
        for v in &self.rechecked.violations {
            out.push_str(&format!("  [{}] {}\n", v.checker, v.message));
        }
        out
    }
}

fn read(path: &Path) -> Result<String, RecheckError> {
    std::fs::read_to_string(path).map_err(|source| RecheckError::Io { path: path.to_owned(), source })
}

/// The run directories at or under `path`, sorted.
pub fn run_dirs(path: &Path) -> Result<Vec<PathBuf>, RecheckError> {
    if path.join("history.jsonl").is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let mut found = Vec::new();
    let mut todo = vec![path.to_owned()];
    while let Some(dir) = todo.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| RecheckError::Io { path: dir.clone(), source })?;
        for entry in entries.flatten() {
            let p = entry.path();
            if p.join("history.jsonl").is_file() {
                found.push(p);
            } else if p.is_dir() {
                todo.push(p);
            }
        }
    }
    found.sort();
    if found.is_empty() {
        return Err(RecheckError::Empty(path.to_owned()));
    }
    Ok(found)
}

/// Checks the run saved in `dir` again; its runtimes are named in `table`
/// (an added runtime's declared capabilities shape the model's predictions).
pub fn recheck_dir(table: &RuntimeTable, dir: &Path) -> Result<RecheckedRun, RecheckError> {
    let history = dir.join("history.jsonl");
    let record = RunRecord::from_jsonl(&read(&history)?)
        .map_err(|source| RecheckError::Record { path: history.clone(), source })?;
    let verdict_file = dir.join("verdict.json");
    let saved = SavedVerdict::from_json(&read(&verdict_file)?)
        .map_err(|source| RecheckError::Record { path: verdict_file, source })?;
    let mut contenders = Vec::new();
    for c in &record.header.contenders {
        let runtime = table
            .named(&c.runtime)
            .ok_or_else(|| RecheckError::UnknownRuntime { path: history.clone(), name: c.runtime.clone() })?;
        contenders.push((c.id.clone(), runtime));
    }
    let rechecked = recheck(&record, &saved, &contenders);
    Ok(RecheckedRun { dir: dir.to_owned(), saved, rechecked })
}

/// Checks every run at or under `path` again, naming runtimes in `table`.
pub fn recheck_path(table: &RuntimeTable, path: &Path) -> Result<Vec<RecheckedRun>, RecheckError> {
    run_dirs(path)?.iter().map(|dir| recheck_dir(table, dir)).collect()
}
