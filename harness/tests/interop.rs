//! The compatibility gate: the whole scenario corpus with real Curator, real
//! kazurator and zkurator contenders on a local ZooKeeper, compared with the
//! expectations file: with Debian's Curator 5.4.0 on ZooKeeper 3.8.0 (in this
//! process), with the newest Curator on the newest ZooKeeper 3.9 (the harness
//! binary), and a smoke subset over every Curator 5.x release. Runs with
//! `cargo test --features interop`.
#![cfg(feature = "interop")]

use std::path::Path;

use zkurator_harness::backend::Backend;
use zkurator_harness::checkers::Checker;
use zkurator_harness::contender::Runtime;
use zkurator_harness::evidence::agreement::LinFigures;
use zkurator_harness::expectations::{Expectations, Verdict};
use zkurator_harness::runner::Peers;
use zkurator_harness::{scenario, suite};

/// The three corpus passes overlap, each on a thread of its own (libtest
/// would run only as many tests at once as there are cores), and every pass
/// runs its independent runs side by side; the runs timed against a session
/// timeout, and those that act on servers, run alone host-wide
/// (`suite::schedule`, its file-lock gate). A failed pass fails the test
/// with its name once all three are done.
#[test]
fn three_corpus_passes() {
    let passes: [(&str, fn()); 3] = [
        ("Debian's Curator on ZooKeeper 3.8.0, in this process", scenario_corpus_matches_expectations),
        ("the newest Curator on ZooKeeper 3.9", corpus_with_the_newest_curator_on_zookeeper_3_9),
        ("the smoke subset over every release", smoke_over_every_curator_release),
    ];
    let failed: Vec<&str> = std::thread::scope(|scope| {
        let running: Vec<_> = passes.iter().map(|(name, pass)| (*name, scope.spawn(*pass))).collect();
        running.into_iter().filter_map(|(name, pass)| pass.join().is_err().then_some(name)).collect()
    });
    assert!(failed.is_empty(), "failed passes (see their panics above): {failed:?}");
}

/// The corpus with Debian's Curator 5.4.0 on Debian's ZooKeeper 3.8.0, in
/// this process.
fn scenario_corpus_matches_expectations() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let scenarios = zkurator_harness::corpus::load_dir(&dir).expect("the corpus parses");
    let expectations = Expectations::load(&dir.join(scenario::EXPECTATIONS_FILE)).expect("expectations parse");
    let backend = match std::env::var("ZK_CONNECT") {
        Ok(connect) if !connect.trim().is_empty() => Backend::external(&connect),
        _ => Backend::local().expect("a local ZooKeeper"),
    };
    let report = suite::run_suite(&scenarios, &backend, &Peers::default(), &expectations, suite::Options::default());
    println!("{}", report.matrix(false));

    // The complete checker agrees with the interval checkers on every run.
    let mut lin = LinFigures::default();
    for (entry, scenario) in report.entries.iter().zip(&scenarios) {
        lin.add(scenario, &entry.result);
    }
    println!("{}", lin.describe());
    assert!(lin.disagreements.is_empty(), "{:#?}", lin.disagreements);

    // Every runtime took part, and every pairing shows up.
    for runtime in [Runtime::Rust, Runtime::Curator, Runtime::Kazurator, Runtime::ZkClient, Runtime::KazooNative] {
        assert!(report.entries.iter().any(|e| e.result.runtimes.contains(&runtime)), "no run used {runtime}");
    }
    // The negative control must be caught, by the checkers and not only by the model.
    let native: Vec<_> = report.entries.iter().filter(|e| e.result.runtimes.contains(&Runtime::KazooNative)).collect();
    assert!(!native.is_empty());
    for entry in native {
        assert!(
            matches!(entry.verdict, Verdict::Known { .. }),
            "kazoo-native not reported incompatible: {}",
            entry.result.label
        );
        assert!(
            entry.result.violations.iter().any(|v| v.checker == Checker::Naming),
            "the naming checker missed kazoo's nodes in {}",
            entry.result.label
        );
    }
    assert!(report.as_expected(), "results differ from scenarios/expectations.toml (see the matrix above)");
}

/// The harness binary, run as a user runs it.
fn harness(args: &[&str]) -> (bool, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_zkurator-harness"));
    command.args(args);
    if let Ok(connect) = std::env::var("ZK_CONNECT") {
        if !connect.trim().is_empty() {
            command.args(["--zk-connect", connect.trim()]);
        }
    }
    let out = command.output().expect("run zkurator-harness");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The whole corpus again with the newest Curator (Maven Central, cached under
/// target/) on the newest ZooKeeper 3.9 server: every expectation holds there
/// too (CURATOR-621 is fixed in 5.5.0, so those entries do not apply).
fn corpus_with_the_newest_curator_on_zookeeper_3_9() {
    let json = std::env::temp_dir().join(format!("zkurator-newest-{}.json", std::process::id()));
    let json_arg = json.display().to_string();
    let mut args = vec!["run", "--curator", "newest", "--json", &json_arg];
    if std::env::var("ZK_CONNECT").map_or(true, |c| c.trim().is_empty()) {
        args.extend(["--zookeeper", "newest"]);
    }
    let (ok, text) = harness(&args);
    println!("{text}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report")).expect("JSON");
    let _ = std::fs::remove_file(&json);
    assert_eq!(report["versions"]["curator"], zkurator_harness::versions::CURATOR_RELEASES[11]);
    assert!(ok, "the corpus with the newest Curator differs from scenarios/expectations.toml (see above)");
}

/// The smoke subset (the four read/write checks, mutex exclusion, the
/// contended downgrade) over every Curator 5.x release, then every kazurator
/// release, against zkurator; the version matrices show where releases differ.
fn smoke_over_every_curator_release() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let files: Vec<String> = [
        "reader-blocks-writer",
        "writer-blocks-reader",
        "writer-blocks-writer",
        "readers-share",
        "mutex-exclusion",
        "downgrade-contended",
    ]
    .iter()
    .map(|name| dir.join(format!("{name}.toml")).display().to_string())
    .collect();
    for (runtimes, versions, columns) in
        [("rust,curator", ["--curator", "all"], 12), ("rust,kazurator", ["--kazurator", "all"], 2)]
    {
        let mut args: Vec<&str> = vec!["run"];
        args.extend(files.iter().map(String::as_str));
        args.extend(["--runtimes", runtimes]);
        args.extend(versions);
        let (ok, text) = harness(&args);
        let matrix = text.find("version matrix").map_or(text.as_str(), |at| &text[at..]);
        println!("{matrix}");
        assert_eq!(matrix.matches("\n   v").count(), columns, "a column per release:\n{matrix}");
        assert!(ok, "a release differs from scenarios/expectations.toml:\n{text}");
    }
}
