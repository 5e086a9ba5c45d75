//! Differential predicate tests: zkurator's driver against Curator's real
//! drivers (embedded JVM) and kazurator's (Python) on a fixed-seed corpus of
//! generated child lists. Every disagreement must be recorded, with its reason,
//! in `harness/predicate-expectations.toml`, and every recorded one must occur.
//! Runs with `cargo test --features interop`.
#![cfg(feature = "interop")]

use std::time::Instant;

use zkurator::driver::Decision;
use zkurator_harness::differential::{
    generate_cases, run_differential, CuratorOracle, KazuratorOracle, Oracle, PredicateExpectations, PredicateFns,
    Problem, RustOracle,
};

/// The corpus: fixed, so every run checks the same cases.
const SEED: u64 = 0x7a6b_7572_6174_6f72; // "zkurator"
const CASES: usize = 8000;
const BATCH: usize = 2000;

/// A deliberately wrong read predicate: ignores writers queued ahead.
fn read_ignoring_writers(sorted: &[String], ours: &str, _owns_write: bool) -> Decision {
    if sorted.iter().any(|child| child == ours) {
        Decision::Holds
    } else {
        Decision::Missing
    }
}

#[test]
fn predicates_agree_with_curator_and_kazurator() {
    let started = Instant::now();
    let cases = generate_cases(SEED, CASES);
    let expectations = PredicateExpectations::load_default().expect("predicate expectations parse");
    let mut curator = CuratorOracle::start().unwrap_or_else(|e| panic!("Curator oracle: {e}"));
    let mut kazurator = KazuratorOracle::start().unwrap_or_else(|e| panic!("kazurator oracle: {e}"));
    let mut rust = RustOracle::zkurator();

    let report = run_differential(&cases, &mut rust, &mut [&mut curator, &mut kazurator], BATCH)
        .unwrap_or_else(|e| panic!("{e}"));
    println!("{}", report.render(Some(&expectations)));
    println!(
        "checked {} cases against {} peers; disagreements: curator {}, kazurator {}",
        report.cases,
        report.peers.len(),
        report.disagreements("curator"),
        report.disagreements("kazurator")
    );
    for group in &report.groups {
        println!("  {} / {}: {}", group.oracle, group.kind, group.count);
    }
    assert_eq!(report.cases, CASES);
    let problems = expectations.check(&report);
    assert!(
        problems.is_empty(),
        "the predicates disagree other than recorded:\n{}",
        problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    );

    // Negative control: a wrong read predicate run through the same comparison
    // must disagree with both peers, and not be excused by any known kind.
    let wrong = PredicateFns { read: read_ignoring_writers, ..PredicateFns::zkurator() };
    let mut wrong = RustOracle::with_fns("rust-read-ignores-writers", wrong);
    assert_eq!(wrong.name(), "rust-read-ignores-writers");
    // A quarter of the corpus is plenty to catch it (hundreds of its cases
    // have a writer ahead of the reader) and saves a third of the test's CPU.
    let control = run_differential(&cases[..CASES / 4], &mut wrong, &mut [&mut curator, &mut kazurator], BATCH)
        .unwrap_or_else(|e| panic!("{e}"));
    let control_problems = expectations.check(&control);
    for peer in ["curator", "kazurator"] {
        let caught = control_problems.iter().any(|p| {
            matches!(p, Problem::Unexpected { oracle, kind, count, .. }
                if oracle == peer && kind == "unexplained-read-holds-vs-watch" && *count > 0)
        });
        assert!(caught, "the negative control was not caught against {peer}:\n{}", control.render(Some(&expectations)));
    }
    println!(
        "negative control (read ignores writers): {} / {} disagreeing cases, {} problems",
        control.disagreements("curator"),
        control.disagreements("kazurator"),
        control_problems.len()
    );
    // The control's wrong verdicts are all on the read side.
    assert!(control.groups.iter().filter(|g| g.kind.starts_with("unexplained")).all(|g| g.kind.contains("-read-")));
    println!("total {:.1} s", started.elapsed().as_secs_f64());
}

/// Set in the child runs of [`predicates_agree_with_every_curator_release`]:
/// the release whose jars are on `CURATOR_CLASSPATH`.
const RELEASE_ENV: &str = "ZKURATOR_DIFF_RELEASE";

/// The same comparison against the real drivers of every Curator 5.x release
/// (2,000 cases each): one child run of this test per release, since a JVM
/// holds one Curator. A disagreement not recorded fails; a recorded one that a
/// release does not show is listed (most are release-specific).
#[test]
fn predicates_agree_with_every_curator_release() {
    use zkurator_harness::versions::{maven, selection, CURATOR_RELEASES};
    if let Ok(release) = std::env::var(RELEASE_ENV) {
        let cases = generate_cases(SEED, CASES / 4);
        let expectations = PredicateExpectations::load_default().expect("predicate expectations parse");
        let mut curator = CuratorOracle::start().unwrap_or_else(|e| panic!("Curator {release} oracle: {e}"));
        assert!(curator.describe().contains(&release), "loaded {} instead of {release}", curator.describe());
        let report = run_differential(&cases, &mut RustOracle::zkurator(), &mut [&mut curator], BATCH)
            .unwrap_or_else(|e| panic!("{e}"));
        let problems = expectations.check(&report);
        let unexpected: Vec<String> =
            problems.iter().filter(|p| matches!(p, Problem::Unexpected { .. })).map(ToString::to_string).collect();
        let groups: Vec<String> = report.groups.iter().map(|g| format!("{} {}", g.kind, g.count)).collect();
        println!("curator {release}: {} disagreeing cases ({})", report.disagreements("curator"), groups.join(", "));
        assert!(unexpected.is_empty(), "Curator {release} disagrees other than recorded:\n{}", unexpected.join("\n"));
        return;
    }
    let me = std::env::current_exe().expect("this test executable");
    let mut failed = Vec::new();
    for release in CURATOR_RELEASES {
        let pick = selection::Pick { version: release.parse().unwrap(), source: selection::Source::Maven };
        let jars = maven::curator_jars(pick).unwrap_or_else(|e| panic!("Curator {release}: {e}")).unwrap();
        let out = std::process::Command::new(&me)
            .args([
                "--exact",
                "differential::predicates_agree_with_every_curator_release",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(RELEASE_ENV, release)
            .env("CURATOR_CLASSPATH", maven::classpath(&jars))
            .output()
            .expect("run the child");
        let text = String::from_utf8_lossy(&out.stdout);
        let seen: Vec<&str> = text
            .lines()
            .filter_map(|l| l.find("curator ").map(|at| &l[at..]))
            .filter(|l| l.contains(" disagreeing "))
            .collect();
        if seen.is_empty() {
            failed.push(format!("{release}: the child run checked nothing:\n{text}"));
        }
        for line in seen {
            println!("{line}");
        }
        if !out.status.success() {
            failed.push(format!("{release}:\n{text}\n{}", String::from_utf8_lossy(&out.stderr)));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
