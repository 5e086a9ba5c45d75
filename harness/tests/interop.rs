//! The compatibility gate: the whole scenario corpus with real Curator, real
//! kazurator and zkurator contenders on a local ZooKeeper, compared with the
//! expectations file. Runs with `cargo test --features interop`.
#![cfg(feature = "interop")]

use std::path::Path;

use zkurator_harness::backend::Backend;
use zkurator_harness::contender::Runtime;
use zkurator_harness::expectations::{Expectations, Verdict};
use zkurator_harness::runner::Peers;
use zkurator_harness::{scenario, suite};

#[test]
fn scenario_corpus_matches_expectations() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let scenarios = scenario::load_dir(&dir).expect("the corpus parses");
    let expectations = Expectations::load(&dir.join(scenario::EXPECTATIONS_FILE)).expect("expectations parse");
    let backend = match std::env::var("ZK_CONNECT") {
        Ok(connect) if !connect.trim().is_empty() => Backend::external(&connect),
        _ => Backend::local().expect("a local ZooKeeper"),
    };
    let report = suite::run_suite(&scenarios, &backend, &Peers::default(), &expectations, false);
    println!("{}", report.matrix(false));

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
            entry.result.violations.iter().any(|v| v.checker == "naming"),
            "the naming checker missed kazoo's nodes in {}",
            entry.result.label
        );
    }
    assert!(report.as_expected(), "results differ from scenarios/expectations.toml (see the matrix above)");
}
