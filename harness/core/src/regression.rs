//! What a generated run keeps of a failure: the shrunk schedule is played
//! once more, and only a schedule that fails again (a disagreement between
//! implementations, not a setup failure) is written to the regressions
//! directory. A rerun that could not start is a setup error; a rerun that
//! passes is reported as unconfirmed and written nowhere.

use std::path::PathBuf;
use std::time::Duration;

use crate::checker::Checker;
use crate::checkers::Violation;
use crate::outcome::RunResult;
use crate::scenario::{scenario_file, Scenario};

/// How a generated run went.
#[derive(Clone, Debug)]
pub struct GenReport {
    /// Schedules played before the first failure (or all of them).
    pub cases: usize,
    /// Schedules played in all, shrinking included.
    pub runs: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// The first failing case (1-based), if any.
    pub caught_at: Option<usize>,
    /// The minimal failing schedule and what went wrong, if any.
    pub failure: Option<(Scenario, Vec<Violation>)>,
    /// Whether the minimal schedule failed again when replayed; only then is it written.
    pub confirmed: bool,
    /// Where the minimal schedule was written.
    pub written: Option<PathBuf>,
    /// Why a confirmed schedule was not written (it names a runtime added
    /// with `--runtime`, which the corpus cannot name on its own).
    pub not_written: Option<String>,
    /// A run that could not start (server, contenders): the generated run
    /// stopped there, nothing was shrunk or written, and no violation counted.
    pub setup_error: Option<String>,
}

impl GenReport {
    /// Schedules per minute (first-pass cases only).
    pub fn cases_per_minute(&self) -> f64 {
        self.cases as f64 * 60.0 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Settings of a generated run.
#[derive(Clone, Debug)]
pub struct GenConfig {
    /// Schedules to play.
    pub cases: u32,
    /// RNG seed: the same seed gives the same schedules.
    pub seed: u64,
    /// Shrinking budget (runs) after a failure; 0 reports the first failure as is.
    pub max_shrink_iters: u32,
    /// Where to write a minimal failing schedule (and proptest's seed file);
    /// `None` writes nothing.
    pub regressions: Option<PathBuf>,
}

/// Fills `report` from the rerun of the shrunk schedule `scenario`;
/// `first` is proptest's message of the original failure.
pub fn conclude(report: &mut GenReport, first: &str, scenario: Scenario, rerun: RunResult, config: &GenConfig) {
    if let Some(error) = rerun.setup_error() {
        report.setup_error = Some(error.to_owned());
        return;
    }
    report.confirmed = !rerun.passed();
    if !report.confirmed {
        let message = format!("{first} (the shrunk schedule passed when replayed: not written)");
        report.failure = Some((scenario, vec![Violation { checker: Checker::Generated, message }]));
        return;
    }
    let added: Vec<&str> = scenario
        .contenders
        .iter()
        .filter(|(_, r)| matches!(r, crate::runtimes::Runtime::External(_)))
        .map(|(_, r)| r.name())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if let (Some(dir), false) = (&config.regressions, added.is_empty()) {
        report.not_written = Some(format!(
            "not written to {}: it uses the added runtime {} (--runtime), which `list` and `check` of the corpus \
             would not know without the same flag; the schedule is printed here",
            dir.display(),
            added.join(", ")
        ));
    } else if let Some(dir) = &config.regressions {
        let name = format!("generated-seed{}-{}", config.seed, std::process::id());
        let mut named = scenario.clone();
        named.name = name.clone();
        let violations: Vec<String> =
            rerun.violations.iter().map(|v| format!("[{}] {}", v.checker, v.message)).collect();
        let note =
            format!("shrunk from a failing generated schedule (seed {}): {}", config.seed, violations.join("; "));
        let path = dir.join(format!("{name}.toml"));
        if std::fs::create_dir_all(dir).is_ok() && std::fs::write(&path, scenario_file(&named, &note)).is_ok() {
            report.written = Some(path);
        }
    }
    report.failure = Some((scenario, rerun.violations));
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::*;

    fn scenario() -> Scenario {
        let text =
            "description = \"x\"\nlock = \"mutex\"\ncontenders = { a = \"rust\" }\nsteps = [\"a acquire mutex\"]\n";
        crate::scenario::parse(Path::new("g.toml"), text).unwrap().remove(0)
    }

    fn rerun(violations: Vec<Violation>) -> RunResult {
        let s = scenario();
        RunResult {
            label: s.label(),
            scenario: s.name,
            pairing: s.pairing,
            runtimes: vec![],
            violations,
            duration: Duration::ZERO,
            steps_done: 0,
            evidence: None,
        }
    }

    fn fresh() -> GenReport {
        GenReport {
            cases: 1,
            runs: 1,
            elapsed: Duration::ZERO,
            caught_at: Some(1),
            failure: None,
            confirmed: false,
            written: None,
            not_written: None,
            setup_error: None,
        }
    }

    fn files(dir: &Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |d| d.count())
    }

    #[test]
    fn only_a_confirmed_disagreement_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let config = GenConfig { cases: 1, seed: 9, max_shrink_iters: 0, regressions: Some(dir.path().to_owned()) };

        let mut passed = fresh();
        conclude(&mut passed, "[model] x", scenario(), rerun(vec![]), &config);
        assert!(!passed.confirmed && passed.written.is_none() && files(dir.path()) == 0, "{passed:?}");
        assert!(passed.failure.as_ref().unwrap().1[0].message.contains("passed when replayed"));

        let mut setup = fresh();
        let cannot = Violation { checker: crate::outcome::SETUP, message: "cannot connect".into() };
        conclude(&mut setup, "[setup] cannot connect", scenario(), rerun(vec![cannot]), &config);
        assert_eq!(setup.setup_error.as_deref(), Some("cannot connect"));
        assert!(setup.failure.is_none() && files(dir.path()) == 0, "{setup:?}");

        let mut failed = fresh();
        let wrong = Violation { checker: Checker::Exclusion, message: "a and b\nboth hold".into() };
        conclude(&mut failed, "[exclusion] a and b", scenario(), rerun(vec![wrong]), &config);
        let path = failed.written.clone().expect("written");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# shrunk from a failing generated schedule (seed 9): [exclusion] a and b both hold\n")
        );
        assert!(crate::scenario::parse(&path, &text).is_ok(), "{text}");
        assert!(failed.confirmed && files(dir.path()) == 1);
    }

    #[test]
    fn a_schedule_naming_an_added_runtime_is_not_written_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let config = GenConfig { cases: 1, seed: 9, max_shrink_iters: 0, regressions: Some(dir.path().to_owned()) };
        let mut table = crate::runtimes::RuntimeTable::default();
        let added = table.add("regression-added", vec!["x".into()], Default::default(), vec![]).unwrap();
        let mut scenario = scenario();
        scenario.contenders[0].1 = added;
        let mut report = fresh();
        let wrong = Violation { checker: Checker::Exclusion, message: "both hold".into() };
        conclude(&mut report, "[exclusion]", scenario, rerun(vec![wrong]), &config);
        assert!(report.confirmed && report.written.is_none() && files(dir.path()) == 0, "{report:?}");
        let why = report.not_written.unwrap();
        assert!(why.contains("added runtime regression-added"), "{why}");
    }
}
