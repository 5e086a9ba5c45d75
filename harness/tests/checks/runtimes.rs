//! Runtimes that reach the harness only through the contender protocol: one
//! given as nothing but a command (`--runtime NAME=COMMAND`), a deliberately
//! broken one (the negative control), and go-zk (github.com/go-zookeeper/zk,
//! a Go adapter built on first use). Runs with `cargo test --features interop`.
#![cfg(feature = "interop")]

use std::path::Path;

use zkurator_harness::backend::Backend;
use zkurator_harness::contender::Runtime;
use zkurator_harness::expectations::{Expectations, Verdict};
use zkurator_harness::report::Report;
use zkurator_harness::runner::Peers;
use zkurator_harness::runtime::external;
use zkurator_harness::runtimes::RuntimeTable;
use zkurator_harness::scenario::{self, Scenario};
use zkurator_harness::suite;

/// One suite at a time: the timing windows assume an otherwise idle machine.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn corpus_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn backend() -> Backend {
    match std::env::var("ZK_CONNECT") {
        Ok(connect) if !connect.trim().is_empty() => Backend::external(&connect),
        _ => Backend::local().expect("a local ZooKeeper"),
    }
}

/// The corpus's runs whose contenders all use `among` and one at least uses
/// `subject`, without the slow server faults.
fn runs_of(table: &RuntimeTable, subject: Runtime, among: &[Runtime]) -> Vec<Scenario> {
    let scenarios = zkurator_harness::corpus::load_dir_in(table, &corpus_dir()).expect("the corpus parses");
    scenarios
        .into_iter()
        .filter(|s| !s.is_slow() && s.runtime_used(&subject) && s.contenders.iter().all(|(_, r)| among.contains(r)))
        .collect()
}

fn run(scenarios: &[Scenario]) -> Report {
    let expectations = Expectations::load(&corpus_dir().join(scenario::EXPECTATIONS_FILE)).expect("expectations");
    let peers = Peers::with_harness_binary(env!("CARGO_BIN_EXE_zkurator-harness").into());
    let report = suite::run_suite(scenarios, &backend(), &peers, &expectations, suite::Options::default());
    println!("{}", report.matrix(false));
    report
}

fn count(report: &Report, wanted: impl Fn(&Verdict) -> bool) -> usize {
    report.entries.iter().filter(|e| wanted(&e.verdict)).count()
}

/// A runtime added to `table` as a command (and to what `$A`, `$B`... range
/// over): this harness's own contender process, which declares everything
/// zkurator can do, so nearly the whole corpus applies.
fn add(table: &mut RuntimeTable, name: &str, extra: &[&str]) -> Runtime {
    let mut argv = vec![env!("CARGO_BIN_EXE_zkurator-harness").to_owned(), "contender".to_owned()];
    argv.extend(extra.iter().map(|s| s.to_string()));
    let runtime = external::add(table, name, argv).expect("the command says hello");
    table.add_placeholder(runtime.clone());
    runtime
}

#[test]
fn a_runtime_given_only_as_a_command_passes_the_corpus_it_declares_capabilities_for() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let mut table = RuntimeTable::default();
    let ext = add(&mut table, "ext", &[]);
    let scenarios = runs_of(&table, ext.clone(), &[ext, Runtime::Curator]);
    assert!(scenarios.len() >= 60, "only {} runs pair ext with itself and Curator", scenarios.len());
    let report = run(&scenarios);
    assert!(report.as_expected(), "an external zkurator differs from the expectations (matrix above)");
    let passed = count(&report, |v| *v == Verdict::Pass);
    assert!(
        passed * 10 >= scenarios.len() * 8,
        "only {passed} of {} runs passed (the rest skipped or known)",
        scenarios.len()
    );
}

#[test]
fn a_broken_runtime_given_as_a_command_is_caught() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let mut table = RuntimeTable::default();
    let broken = add(&mut table, "ext-broken", &["--negative-control", "write-ignores-readers"]);
    let scenarios: Vec<Scenario> = runs_of(&table, broken.clone(), &[broken.clone(), Runtime::Rust])
        .into_iter()
        .filter(|s| s.name == "reader-blocks-writer" && s.runtime_of("writer") == Some(broken.clone()))
        .collect();
    assert!(!scenarios.is_empty());
    let report = run(&scenarios);
    assert!(
        report.entries.iter().all(|e| e.verdict == Verdict::Fail),
        "a writer that ignores readers passed reader-blocks-writer: the check cannot fail"
    );
}

#[test]
fn go_zk_mutexes_are_in_the_matrix() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let mut table = RuntimeTable::default();
    table.add_placeholder(Runtime::GoZk);
    let among = [Runtime::GoZk, Runtime::Rust, Runtime::RustProcess, Runtime::Curator, Runtime::Kazurator];
    let scenarios = runs_of(&table, Runtime::GoZk, &among);
    let report = run(&scenarios);
    assert!(report.as_expected(), "go-zk differs from the expectations (matrix above)");
    // go-zk and each Curator-protocol mutex exclude each other for real.
    for peer in ["rust", "curator", "kazurator"] {
        let entry = report
            .entries
            .iter()
            .find(|e| e.result.scenario == "go-zk-mutex" && e.result.pairing == peer)
            .unwrap_or_else(|| panic!("no go-zk-mutex run with {peer}"));
        assert_eq!(entry.verdict, Verdict::Pass, "go-zk-mutex[{peer}]");
    }
    let passed = count(&report, |v| *v == Verdict::Pass);
    let skipped = count(&report, |v| matches!(v, Verdict::Skipped { .. }));
    assert!(passed >= 15, "only {passed} go-zk runs passed ({skipped} skipped)");
    assert!(skipped > 0, "go-zk declares no timeouts, so some runs must be skipped");
}
