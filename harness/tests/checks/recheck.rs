//! `recheck` over the committed recorded histories (harness/tests/recorded,
//! passing and failing runs of real peers; see its README.md): the verdicts
//! of today's model and checkers must be the recorded ones, so a checker
//! change that alters a verdict is seen here. No ZooKeeper, no peer.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use zkurator_harness::checkers::Checker;
use zkurator_harness::evidence::recheck::recheck_path;
use zkurator_harness::offline::agreement;

const BIN: &str = env!("CARGO_BIN_EXE_zkurator-harness");

fn recorded() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/recorded")
}

/// The negative control's added runtime, as it was recorded.
fn broken() -> String {
    format!("broken={BIN} contender --negative-control read-ignores-writers")
}

fn recheck(path: &Path) -> Output {
    Command::new(BIN).args(["recheck", path.to_str().unwrap(), "--runtime", &broken()]).output().expect("recheck runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn recheck_comes_to_the_recorded_verdicts() {
    let out = recheck(&recorded());
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let verdicts: Vec<&str> = text.lines().filter(|l| !l.starts_with("  ") && !l.contains("runs rechecked")).collect();
    let expected = std::fs::read_to_string(recorded().join("verdicts.txt")).unwrap();
    let expected: Vec<&str> = expected.lines().collect();
    assert_eq!(verdicts, expected, "the checkers' verdicts on the recorded histories changed");
    assert!(text.contains("20 runs rechecked, 0 with a different verdict"), "{text}");
    // The failing ones say why, in the checkers' words.
    assert!(text.contains("[exclusion] writer held the write lock"), "{text}");
    assert!(text.contains("[lost-updates]"), "{text}");
    assert!(text.contains("[naming]"), "{text}");
}

/// Copies the recorded run `name` into a fresh directory.
fn copy_run(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join(name);
    std::fs::create_dir_all(&run).unwrap();
    for file in ["history.jsonl", "scenario.toml", "verdict.json"] {
        std::fs::copy(recorded().join(name).join(file), run.join(file)).unwrap();
    }
    (dir, run)
}

#[test]
fn a_history_that_no_longer_shows_the_overlap_is_a_different_verdict() {
    // The negative control's reader was granted while the writer held; take
    // that grant out of the history and the exclusion checker no longer
    // fires: recheck must say so (and fail).
    let (_dir, run) = copy_run("writer-blocks-reader_broken+broken");
    let history = std::fs::read_to_string(run.join("history.jsonl")).unwrap();
    let without: String = history
        .lines()
        .filter(|l| !(l.contains("\"contender\":\"reader\"") && l.contains("\"granted\"")))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(without.len() < history.len());
    std::fs::write(run.join("history.jsonl"), without).unwrap();
    let out = recheck(&run);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("(DIFFERENT)") && !text.contains("[exclusion]"), "{text}");
}

#[test]
fn a_cut_history_is_refused() {
    let (_dir, run) = copy_run("mutex-exclusion_rust+curator");
    let history = std::fs::read_to_string(run.join("history.jsonl")).unwrap();
    let cut: String = history.lines().take(5).map(|l| format!("{l}\n")).collect();
    std::fs::write(run.join("history.jsonl"), cut).unwrap();
    let out = recheck(&run);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no end line"), "{out:?}");
}

#[test]
fn the_linearizability_checker_agrees_with_the_interval_checkers_on_the_recorded_runs() {
    let table = zkurator_harness::runtime::external::setup(&[broken()], None, &[]).expect("the added runtime");
    let runs = recheck_path(&table, &recorded()).expect("the recorded runs");
    let mut refused = Vec::new();
    for run in &runs {
        let lin = &run.rechecked.checked.lin_summary;
        let checkers: Vec<Checker> = run.rechecked.violations.iter().map(|v| v.checker).collect();
        agreement(&checkers, lin).unwrap_or_else(|why| panic!("{}: {why}", run.saved.label));
        if lin.linearizable == Some(false) {
            refused.push(run.saved.label.as_str());
        }
    }
    // Every failing recorded run (a negative control or a peer's deviation)
    // is refused, the lost-update controls included.
    assert_eq!(
        refused,
        [
            "downgrade-contended[curator+rust]",
            "kazoo-native-negative[curator]",
            "pause-holder-plain[rust-process+rust]",
            "unlocked-increments[rust+rust]",
            "writer-blocks-reader[broken+broken]"
        ]
    );
}
