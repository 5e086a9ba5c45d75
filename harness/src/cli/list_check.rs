//! `list` and `check`: the scenarios of the corpus, listed or validated.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zkurator_harness::runtimes::RuntimeTable;

use zkurator_harness::scenario::Scenario;

use super::common::{fail, load};

/// `list`: the scenarios of `paths` and their runtime pairings.
pub fn list(table: &RuntimeTable, corpus: &Path, paths: Vec<PathBuf>) -> ExitCode {
    let scenarios = match load(table, corpus, &paths) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    // A closed pipe (`list | head`) ends the listing quietly.
    let _ = print_list(&scenarios, &mut std::io::stdout().lock());
    ExitCode::SUCCESS
}

/// Writes the listing to `out`.
fn print_list(scenarios: &[Scenario], out: &mut impl std::io::Write) -> std::io::Result<()> {
    let mut last = String::new();
    for scenario in scenarios {
        if scenario.name != last {
            writeln!(out, "{}: {}", scenario.name, scenario.description)?;
            last = scenario.name.clone();
        }
        let who: Vec<String> = scenario.contenders.iter().map(|(id, r)| format!("{id}={r}")).collect();
        writeln!(out, "    {}  ({})", scenario.label(), who.join(" "))?;
    }
    writeln!(out, "{} runs", scenarios.len())?;
    out.flush()
}

/// `check`: validates the scenarios of `paths` (syntax, and every step
/// against the lock model).
pub fn check(table: &RuntimeTable, corpus: &Path, paths: Vec<PathBuf>) -> ExitCode {
    match load(table, corpus, &paths) {
        Ok(scenarios) => {
            println!("ok: {} runs", scenarios.len());
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
