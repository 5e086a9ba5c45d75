//! Which scenario files a command reads, each exactly once: paths are
//! canonicalized, a file or directory already seen (given twice, or reached
//! again through a symlink, including a symlink loop) is skipped, and a
//! selection that names no scenario file at all is an error, never an empty
//! success.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::runtimes::RuntimeTable;
use crate::scenario::{self, Scenario, ScenarioError, EXPECTATIONS_FILE, FAULT_SUBDIR};
use crate::workload::WORKLOAD_SUBDIR;

/// Collects scenario files under several roots, each file once.
#[derive(Debug, Default)]
pub struct Files {
    seen_dirs: BTreeSet<PathBuf>,
    seen_files: BTreeSet<PathBuf>,
    files: Vec<PathBuf>,
}

impl Files {
    /// Adds `path`: a scenario file, or a directory walked recursively (its
    /// `faults/` and `workloads/` subdirectories and the expectations file left out).
    pub fn add(&mut self, path: &Path) -> Result<(), ScenarioError> {
        let canonical = std::fs::canonicalize(path).map_err(|e| error(path, format!("cannot read: {e}")))?;
        if canonical.is_dir() {
            let mut found = Vec::new();
            self.walk(&canonical, &mut found).map_err(|e| error(path, format!("cannot list scenarios: {e}")))?;
            found.sort();
            self.files.extend(found);
        } else if self.seen_files.insert(canonical.clone()) {
            self.files.push(canonical);
        }
        Ok(())
    }

    fn walk(&mut self, dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
        if !self.seen_dirs.insert(dir.to_owned()) {
            return Ok(());
        }
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            // A dangling symlink or a loop resolves to nothing: skip it.
            let Ok(canonical) = std::fs::canonicalize(&path) else { continue };
            if canonical.is_dir() {
                if !path.ends_with(FAULT_SUBDIR) && !path.ends_with(WORKLOAD_SUBDIR) {
                    self.walk(&canonical, found)?;
                }
            } else if path.extension().is_some_and(|e| e == "toml")
                && !path.ends_with(EXPECTATIONS_FILE)
                && self.seen_files.insert(canonical.clone())
            {
                found.push(canonical);
            }
        }
        Ok(())
    }

    /// The files, in the order they were added (directories sorted).
    pub fn into_files(self) -> Vec<PathBuf> {
        self.files
    }
}

/// Loads every scenario under `paths`, each file once, naming built-in
/// runtimes only ([`load_paths_in`] with the default table).
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Scenario>, ScenarioError> {
    load_paths_in(&RuntimeTable::default(), paths)
}

/// Loads every scenario under `paths`, each file once, resolving runtime
/// names in `table`. No scenario file at all is an error naming the paths.
pub fn load_paths_in(table: &RuntimeTable, paths: &[PathBuf]) -> Result<Vec<Scenario>, ScenarioError> {
    let mut files = Files::default();
    for path in paths {
        files.add(path)?;
    }
    let files = files.into_files();
    if files.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(error(
            paths.first().map_or(Path::new("."), PathBuf::as_path),
            format!("no scenario files (*.toml) in {}", shown.join(", ")),
        ));
    }
    let mut scenarios = Vec::new();
    for file in files {
        scenarios.extend(scenario::load_in(table, &file)?);
    }
    Ok(scenarios)
}

/// The paths a command reads: `paths` as given, except that one that does not
/// exist but names a scenario of `corpus` (`mutex-exclusion`,
/// `faults/expire-holder`, with or without `.toml`, in any folder of the
/// corpus) is that scenario's file; no paths at all: `corpus` itself.
pub fn resolve(paths: &[PathBuf], corpus: &Path) -> Result<Vec<PathBuf>, String> {
    if paths.is_empty() {
        return Ok(vec![corpus.to_owned()]);
    }
    paths.iter().map(|path| resolve_one(path, corpus)).collect()
}

fn resolve_one(path: &Path, corpus: &Path) -> Result<PathBuf, String> {
    if path.exists() {
        return Ok(path.to_owned());
    }
    let file = if path.extension().is_some_and(|e| e == "toml") {
        path.to_owned()
    } else {
        let mut name = path.as_os_str().to_owned();
        name.push(".toml");
        PathBuf::from(name)
    };
    if corpus.join(&file).is_file() {
        return Ok(corpus.join(file));
    }
    let mut found = Vec::new();
    if file.components().count() == 1 {
        find_named(corpus, file.as_os_str(), &mut found);
    }
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(format!("{}: no such file, and no scenario of that name in {}", path.display(), corpus.display())),
        _ => {
            let shown: Vec<String> = found.iter().map(|f| f.display().to_string()).collect();
            Err(format!("{}: several scenarios have that name: {}", path.display(), shown.join(", ")))
        }
    }
}

fn find_named(dir: &Path, name: &std::ffi::OsStr, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            find_named(&path, name, found);
        } else if entry.file_name() == name {
            found.push(path);
        }
    }
}

fn error(file: &Path, message: String) -> ScenarioError {
    ScenarioError { file: file.to_owned(), line: 0, column: 0, message }
}

/// A selection of runs that would test nothing it was asked to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    /// No run at all.
    #[error("0 runs: no scenario run uses only the runtimes {wanted}; a gate that runs nothing passes nothing")]
    Empty {
        /// The runtimes asked for.
        wanted: String,
    },
    /// A runtime asked for takes part in no run.
    #[error("no run uses {runtime} (asked for with --runtimes {wanted}): drop it from --runtimes or add scenarios that use it")]
    Unused {
        /// The missing runtime.
        runtime: crate::runtimes::Runtime,
        /// The runtimes asked for.
        wanted: String,
    },
}

/// Keeps the runs whose contenders all use `wanted` runtimes (all runs when
/// `None`); fails when nothing is left or a wanted runtime is in no run.
pub fn select(
    mut scenarios: Vec<Scenario>,
    wanted: Option<&[crate::runtimes::Runtime]>,
) -> Result<Vec<Scenario>, SelectError> {
    let shown = |w: &[crate::runtimes::Runtime]| w.iter().map(|r| r.name()).collect::<Vec<_>>().join(",");
    if let Some(wanted) = wanted {
        scenarios.retain(|s| s.contenders.iter().all(|(_, r)| wanted.contains(r)));
        if let Some(runtime) = wanted.iter().find(|w| !scenarios.iter().any(|s| s.runtime_used(w))) {
            if !scenarios.is_empty() {
                return Err(SelectError::Unused { runtime: runtime.clone(), wanted: shown(wanted) });
            }
        }
    }
    if scenarios.is_empty() {
        return Err(SelectError::Empty { wanted: wanted.map_or_else(|| "(any)".into(), shown) });
    }
    Ok(scenarios)
}
/// Loads every `*.toml` under `dir` (recursively, except the expectations
/// file and subdirectories named [`FAULT_SUBDIR`]), sorted by path. Pointed
/// at the fault directory itself, it loads the fault corpus.
pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>, ScenarioError> {
    load_dir_in(&RuntimeTable::default(), dir)
}

/// [`load_dir`], resolving runtime names in `table`.
pub fn load_dir_in(table: &RuntimeTable, dir: &Path) -> Result<Vec<Scenario>, ScenarioError> {
    let mut files = Files::default();
    files.add(dir)?;
    let mut scenarios = Vec::new();
    for file in files.into_files() {
        scenarios.extend(scenario::load_in(table, &file)?);
    }
    Ok(scenarios)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The printer round-trips: every run of the corpus (faults and
    /// workloads included), printed as a file and parsed again, is the same
    /// scenario step for step.
    #[test]
    fn every_scenario_of_the_corpus_prints_back_to_itself() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let mut all = load_dir(&root).unwrap();
        for sub in [FAULT_SUBDIR, crate::workload::WORKLOAD_SUBDIR] {
            all.extend(load_dir(&root.join(sub)).unwrap());
        }
        assert!(all.len() > 100, "{}", all.len());
        for original in &all {
            let text = scenario::scenario_file(original, "round trip");
            let path = Path::new("round-trip.toml");
            let again = scenario::parse(path, &text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", original.label()));
            assert_eq!(again.len(), 1, "{text}");
            let again = &again[0];
            let steps = |s: &Scenario| s.steps.iter().map(|s| (s.action.clone(), s.expect)).collect::<Vec<_>>();
            assert_eq!(steps(again), steps(original), "{}:\n{text}", original.label());
            assert_eq!(
                (again.kind, &again.contenders, &again.pins, &again.lock_data, again.session_timeout),
                (original.kind, &original.contenders, &original.pins, &original.lock_data, original.session_timeout),
                "{}:\n{text}",
                original.label()
            );
        }
    }

    #[test]
    fn the_corpus_leaves_the_fault_directory_out() {
        let dir = tempfile::tempdir().unwrap();
        let fixed = "description = \"d\"\nlock = \"mutex\"\ncontenders = { a = \"rust\" }\nsteps = [\"a acquire mutex => granted\", \"a release mutex\"]\n";
        for sub in ["", "faults", "regressions"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
            std::fs::write(dir.path().join(sub).join(format!("s{}.toml", sub.len())), fixed).unwrap();
        }
        std::fs::write(dir.path().join(EXPECTATIONS_FILE), "").unwrap();
        let mut names: Vec<String> = load_dir(dir.path()).unwrap().into_iter().map(|s| s.name).collect();
        names.sort();
        assert_eq!(names, vec!["s0", "s11"]);
        let faults: Vec<String> = load_dir(&dir.path().join("faults")).unwrap().into_iter().map(|s| s.name).collect();
        assert_eq!(faults, vec!["s6"]);
    }

    #[test]
    fn names_of_the_corpus_select_its_files() {
        let corpus = tempfile::tempdir().unwrap();
        let root = corpus.path();
        std::fs::create_dir_all(root.join("faults")).unwrap();
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::create_dir_all(root.join("b")).unwrap();
        for file in ["mutex.toml", "faults/expire.toml", "a/twin.toml", "b/twin.toml"] {
            std::fs::write(root.join(file), "").unwrap();
        }
        let one = |name: &str| resolve(&[PathBuf::from(name)], root);
        assert_eq!(resolve(&[], root).unwrap(), [root.to_owned()]);
        assert_eq!(one("mutex").unwrap(), [root.join("mutex.toml")]);
        assert_eq!(one("mutex.toml").unwrap(), [root.join("mutex.toml")]);
        assert_eq!(one("expire").unwrap(), [root.join("faults/expire.toml")]);
        assert_eq!(one("faults/expire").unwrap(), [root.join("faults/expire.toml")]);
        assert!(one("twin").unwrap_err().contains("several"), "{:?}", one("twin"));
        assert!(one("nothing").unwrap_err().contains("no scenario of that name"));
        // A path that exists is taken as it is.
        let here = root.join("mutex.toml");
        assert_eq!(resolve(std::slice::from_ref(&here), Path::new("/nonexistent")).unwrap(), [here]);
    }
}
