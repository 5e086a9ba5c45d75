//! The contents of a run's files, built from the run (pure).

use crate::expectations::Verdict;
use crate::offline::{self, LinSummary};
use crate::outcome::RunResult;
use crate::record::{ContenderInfo, End, Header, RunRecord, SavedVerdict, SavedViolation, FORMAT, VERSION};
use crate::runtimes::Runtime;
use crate::scenario::{scenario_file, Scenario};
use crate::versions::RunVersions;

/// What a run's directory holds.
#[derive(Clone, Debug)]
pub struct RunFiles {
    /// `history.jsonl`.
    pub history: String,
    /// `scenario.toml`.
    pub scenario: String,
    /// `verdict.json`.
    pub verdict: String,
    /// `index.html`, the run's timeline.
    pub page: String,
    /// The linearizability checker's summary.
    pub linearizability: LinSummary,
}

/// `runs/<label as a file name>`, made unique among `taken`.
pub fn run_dir_name(label: &str, taken: &[&str]) -> String {
    let clean: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '@') { c } else { '_' })
        .collect();
    let clean = clean.trim_end_matches('_').to_owned();
    let base = format!("runs/{clean}");
    let mut name = base.clone();
    let mut n = 1;
    while taken.contains(&name.as_str()) {
        n += 1;
        name = format!("{base}-{n}");
    }
    name
}

/// The release of `runtime` as the run used it (`pin`: a pinned Curator).
pub fn runtime_version(runtime: &Runtime, pin: Option<String>, versions: &RunVersions) -> Option<String> {
    if pin.is_some() {
        return pin;
    }
    match runtime {
        Runtime::Curator => versions.curator.map(|v| v.to_string()),
        Runtime::Kazurator | Runtime::KazooNative => versions.kazurator.map(|v| v.to_string()),
        Runtime::Rust | Runtime::RustProcess | Runtime::RustTasks => Some(env!("CARGO_PKG_VERSION").to_owned()),
        Runtime::External(e) => Some(e.versions.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", "))
            .filter(|v| !v.is_empty()),
        Runtime::ZkClient | Runtime::GoZk => None,
    }
}

/// The saved record of a run.
pub fn record(scenario: &Scenario, result: &RunResult, versions: &RunVersions) -> RunRecord {
    let evidence = result.evidence.as_deref().cloned().unwrap_or_default();
    let contenders = scenario
        .contenders
        .iter()
        .map(|(id, runtime)| {
            let pin = scenario.pins.iter().find(|(p, _)| p == id).map(|(_, v)| v.to_string());
            ContenderInfo {
                id: id.clone(),
                runtime: runtime.name().to_owned(),
                version: runtime_version(runtime, pin, versions),
                session: evidence.sessions.iter().find(|(c, _)| c == id).map(|(_, s)| s.clone()),
            }
        })
        .collect();
    let at_us = evidence.events.last().map_or(0, |e| e.at.as_micros() as u64);
    RunRecord {
        header: Header {
            format: FORMAT.to_owned(),
            version: VERSION,
            label: result.label.clone(),
            scenario: result.scenario.clone(),
            pairing: result.pairing.clone(),
            kind: scenario.kind,
            lock_path: evidence.lock_path,
            session_timeout_ms: scenario.session_timeout.as_millis() as u64,
            contenders,
            zookeeper: versions.zookeeper.map(|v| v.to_string()),
        },
        events: evidence.events,
        end: End { at_us, final_value: evidence.final_value, foreign: evidence.foreign, czxids: evidence.czxids },
    }
}

/// Every file of one run.
pub fn run_files(
    scenario: &Scenario,
    result: &RunResult,
    verdict: &Verdict,
    known: Option<&str>,
    versions: &RunVersions,
) -> RunFiles {
    let record = record(scenario, result, versions);
    let checked = offline::check(&record, &scenario.contenders);
    let saved = SavedVerdict {
        version: VERSION,
        label: result.label.clone(),
        verdict: verdict.clone(),
        known: known.map(str::to_owned),
        violations: result.violations.iter().map(SavedViolation::from).collect(),
        steps_done: result.steps_done,
        duration_ms: result.duration.as_millis() as u64,
        linearizability: Some(checked.lin_summary.clone()),
    };
    let note = format!("the scenario as run: {}", result.label);
    RunFiles {
        history: record.to_jsonl(),
        scenario: scenario_file(scenario, &note),
        verdict: saved.to_json(),
        page: super::html::run::page(&record, &saved, &checked),
        linearizability: checked.lin_summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_directories_are_file_names_and_unique() {
        assert_eq!(run_dir_name("mutex-exclusion[rust+curator]", &[]), "runs/mutex-exclusion_rust+curator");
        assert_eq!(run_dir_name("a/b c", &["runs/a_b_c"]), "runs/a_b_c-2");
    }
}
