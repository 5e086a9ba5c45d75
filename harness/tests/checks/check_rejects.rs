//! `check` refuses what `run` could only report as a FAIL or that would hang
//! or exhaust it: steps that cannot pass, names ZooKeeper refuses, lock data
//! over the request limit, too many contenders, and input files that are not
//! regular files of a bounded size (a symlink to /dev/zero, a FIFO, a huge file).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use zkurator_harness::scenario::{self, ScenarioError};

const BIN: &str = env!("CARGO_BIN_EXE_zkurator-harness");

fn file(lock: &str, header: &str, contenders: &str, steps: &[&str]) -> String {
    let steps: Vec<String> = steps.iter().map(|s| format!("{s:?}")).collect();
    format!(
        "description = \"x\"\nlock = \"{lock}\"\n{header}contenders = {{ {contenders} }}\nsteps = [{}]\n",
        steps.join(", ")
    )
}

#[track_caller]
fn rejected_as(name: &str, text: &str, words: &[&str]) -> ScenarioError {
    let e = scenario::parse(Path::new(name), text).expect_err("must be rejected");
    let shown = e.to_string();
    for word in words {
        assert!(shown.contains(word), "{word:?} missing from: {shown}");
    }
    e
}

#[track_caller]
fn rejected(text: &str, words: &[&str]) -> ScenarioError {
    rejected_as("check.toml", text, words)
}

#[test]
fn steps_that_cannot_pass_are_rejected() {
    let a = "a = \"rust\"";
    let held = ["a acquire mutex => granted"];
    let with = |steps: &[&str]| file("mutex", "", a, &[&held[..], steps, &["a release mutex"]].concat());
    let e = rejected(&with(&["a write-value mutex"]), &["has read nothing to write back", "a read-value"]);
    assert_eq!(e.line, 4, "{e}");
    assert!(scenario::parse(Path::new("ok.toml"), &with(&["a read-value", "a write-value mutex"])).is_ok());
    rejected(&with(&["a read-value", "a write-value mutex", "a write-value mutex"]), &["has read nothing"]);
    rejected(&with(&["a increment mutex => granted"]), &["ends in `ok` or an error", "Granted"]);
    rejected(&with(&["a read-value => timeout"]), &["never in Timeout"]);
    assert!(scenario::parse(Path::new("ok.toml"), &with(&["a increment mutex guarded => error rejected"])).is_ok());
    let rw = file("read-write", "", a, &["a acquire write => granted", "a increment mutex", "a release write"]);
    rejected(&rw, &["read-write: use side \"read\" or \"write\""]);
    rejected(&with(&["a increment mutex pause 1s pause 2s"]), &["a second `pause`"]);
}

#[test]
fn names_zookeeper_refuses_and_oversized_requests_are_rejected() {
    let ok = file("mutex", "", "a = \"rust\"", &["a acquire mutex => granted", "a release mutex"]);
    rejected_as("lock-🔒.toml", &ok, &["not a valid znode name", "beyond U+FFFF", "rename the file"]);
    rejected(&file("mutex", "", "a = \"rust\"", &["zk foreign lock-🔒"]), &["not a valid znode name"]);
    let data = format!("lock_data = \"{}\"\n", "x".repeat(1_000_000));
    rejected(
        &file("mutex", &data, "a = \"rust\"", &["a acquire mutex"]),
        &["lock_data is 1000000 bytes", "jute.maxbuffer"],
    );
    let many: Vec<String> = (0..1000).map(|i| format!("c{i} = \"rust\"")).collect();
    rejected(&file("mutex", "", &many.join(", "), &["c0 acquire mutex"]), &["1000 contenders", "limit of 100"]);
}

fn check(path: &Path) -> (std::process::Output, Duration) {
    let started = Instant::now();
    let out = Command::new(BIN).arg("check").arg(path).stdin(Stdio::null()).output().unwrap();
    (out, started.elapsed())
}

#[test]
fn only_regular_input_files_of_bounded_size_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let zero = dir.path().join("zero.toml");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let fifo = dir.path().join("fifo.toml");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let huge = dir.path().join("huge.toml");
    std::fs::File::create(&huge).unwrap().set_len(2 << 30).unwrap();
    for (path, words) in [
        (&zero, &["not a regular file (a character device)"][..]),
        (&fifo, &["not a regular file (a FIFO)"]),
        (&huge, &["larger than the limit of 1048576 bytes"]),
    ] {
        let (out, took) = check(path);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{path:?}: {out:?}");
        for word in words {
            assert!(stderr.contains(word), "{word:?} missing: {stderr}");
        }
        assert!(took < Duration::from_secs(3), "{path:?} took {took:?}");
    }
    // In a directory too, and for the expectations file.
    let (out, _) = check(dir.path());
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let expectations = zkurator_harness::expectations::Expectations::load(&zero).unwrap_err();
    assert!(expectations.contains("not a regular file"), "{expectations}");
}
