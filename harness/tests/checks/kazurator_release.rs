//! `--kazurator R` runs release R or refuses: a `ZKURATOR_PYTHON` interpreter
//! with another kazurator is never run as if it were R. Against the real venv
//! (built on first use) and the real binary.
#![cfg(feature = "interop")]

use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_zkurator-harness");

#[test]
fn an_interpreter_of_another_release_is_refused_before_anything_runs() {
    let kazurator = zkurator_harness::runner::Peers::default().kazurator().expect("the kazurator venv");
    let (installed, _) = kazurator.versions();
    let other = if installed == "0.1.1" { "0.2.0" } else { "0.1.1" };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kazurator-alone.toml");
    std::fs::write(
        &file,
        "description = \"x\"\nlock = \"mutex\"\ncontenders = { a = \"kazurator\" }\n\
         steps = [\"a acquire mutex => granted\", \"a release mutex\"]\n",
    )
    .unwrap();
    let server = zkurator_testserver::shared_connect_string().expect("a ZooKeeper server");
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let run = |release: &str| {
        Command::new(BIN)
            .arg("run")
            .arg(&file)
            .args(["--kazurator", release, "--curator", "debian", "--zk-connect", &server, "--scenarios"])
            .arg(&corpus)
            .env("ZKURATOR_PYTHON", kazurator.python())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = run(other);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        stderr.contains(&format!("has kazurator {installed}")) && stderr.contains("unset ZKURATOR_PYTHON"),
        "{stderr}"
    );
    // The release it has runs.
    let out = run(&installed);
    assert!(out.status.success(), "{out:?}");
}
