//! What the subcommands share: loading scenarios, naming runtimes, writing
//! reports and failing with a message.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use zkurator_harness::runtimes::{Runtime, RuntimeTable};
use zkurator_harness::scenario::Scenario;

/// The scenarios of `paths` (files, directories or names of `corpus`'s
/// scenarios; none: all of `corpus`).
pub fn load(table: &RuntimeTable, corpus: &Path, paths: &[PathBuf]) -> Result<Vec<Scenario>, String> {
    let paths = zkurator_harness::corpus::resolve(paths, corpus)?;
    zkurator_harness::corpus::load_paths_in(table, &paths).map_err(|e| e.to_string())
}

/// Writes each report that has a path.
pub fn write_reports<const N: usize>(reports: [(Option<PathBuf>, String); N]) -> Result<(), String> {
    for (path, text) in reports {
        if let Some(path) = path {
            std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// The runtimes of `names` (runtime names as scenarios spell them) in `table`.
pub fn runtimes_named(table: &RuntimeTable, names: &[String]) -> Result<Vec<Runtime>, String> {
    names.iter().map(|name| table.named(name).ok_or_else(|| format!("unknown runtime {name:?}"))).collect()
}

/// Prints `message` as an error; exit code 2.
pub fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// The report directory of this invocation of `command`: `explicit`, else a
/// new one under the cache directory.
pub fn report_dir(explicit: Option<PathBuf>, command: &str) -> Result<zkurator_harness::evidence::ReportDir, String> {
    let root = explicit.unwrap_or_else(|| zkurator_harness::evidence::default_dir(command));
    zkurator_harness::evidence::ReportDir::create(root).map_err(|e| e.to_string())
}

/// Writes the report directory's index and prints where it is.
pub fn finish_report_dir(
    dir: &zkurator_harness::evidence::ReportDir,
    title: &str,
    environment: &[(String, String)],
) -> Result<(), String> {
    let index = dir.write_index(title, environment).map_err(|e| e.to_string())?;
    println!("report: {}", index.display());
    Ok(())
}
