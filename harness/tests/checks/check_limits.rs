//! `check` accepts only what can run, and stays cheap on any input: durations
//! and session timeouts within bounds, foreign names that are znode names,
//! contender ids a step can name, a cap on placeholder expansion, linear
//! parsing, each file loaded once (symlinks and loops included), and a
//! closed stdout (`list | head`) ending the listing quietly.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use zkurator_harness::scenario::{self, ScenarioError};

const BIN: &str = env!("CARGO_BIN_EXE_zkurator-harness");

fn mutex_file(header: &str, contenders: &str, steps: &[&str]) -> String {
    let steps: Vec<String> = steps.iter().map(|s| format!("{s:?}")).collect();
    format!(
        "description = \"x\"\nlock = \"mutex\"\n{header}contenders = {{ {contenders} }}\nsteps = [{}]\n",
        steps.join(", ")
    )
}

#[track_caller]
fn rejected(text: &str, words: &[&str]) -> ScenarioError {
    let e = scenario::parse(Path::new("limits.toml"), text).expect_err("must be rejected");
    let shown = e.to_string();
    assert!(e.line >= 1, "a line is named: {shown}");
    for word in words {
        assert!(shown.contains(word), "{word:?} missing from: {shown}");
    }
    e
}

#[test]
fn durations_above_an_hour_are_rejected() {
    for step in ["a acquire mutex 18446744073709551615ms", "a acquire mutex 3601s", "sleep 99999999999s"] {
        rejected(&mutex_file("", "a = \"rust\"", &[step, "a release mutex"]), &["longer than the limit of 1 h"]);
    }
    rejected(&mutex_file("", "a = \"rust\"", &["zk expect-gone 2h"]), &["bad duration"]);
    rejected(
        &mutex_file("", "a = \"rust\"", &["a acquire mutex", "a expire", "a expect-lost mutex 3600001ms"]),
        &["limit of 1 h"],
    );
    let ok = mutex_file("", "a = \"rust\"", &["a acquire mutex 3600s", "sleep 3600s", "a release mutex"]);
    assert!(scenario::parse(Path::new("ok.toml"), &ok).is_ok());
}

#[test]
fn session_timeouts_outside_what_the_server_negotiates_are_rejected() {
    for ms in ["0", "399", "60001", "3000000000"] {
        let e = rejected(
            &mutex_file(&format!("session_timeout_ms = {ms}\n"), "a = \"rust\"", &["a acquire mutex"]),
            &["session_timeout_ms", "400..=60000"],
        );
        assert_eq!(e.line, 3, "{e}");
    }
    for ms in ["400", "2000", "60000"] {
        let text = mutex_file(&format!("session_timeout_ms = {ms}\n"), "a = \"rust\"", &["a acquire mutex"]);
        assert!(scenario::parse(Path::new("ok.toml"), &text).is_ok(), "{ms}");
    }
}

#[test]
fn foreign_names_must_be_znode_names() {
    for name in ["a//b", "..", ".", "a/b"] {
        for op in ["foreign", "remove"] {
            let step = format!("zk {op} {name}");
            rejected(&mutex_file("", "a = \"rust\"", &[&step]), &["not a valid znode name"]);
        }
    }
    // A control character, written as a TOML escape.
    let text =
        "description = \"x\"\nlock = \"mutex\"\ncontenders = { a = \"rust\" }\nsteps = [\"zk foreign x\\u0001\"]\n";
    rejected(text, &["not a valid znode name", "control"]);
}

#[test]
fn contender_ids_no_step_can_name_are_rejected() {
    for id in ["\"a b\"", "\"a=>b\"", "\"\"", "\"tab\\t\""] {
        rejected(&mutex_file("", &format!("{id} = \"rust\""), &["sleep 1ms"]), &["cannot be named in a step"]);
    }
}

#[test]
fn placeholder_expansion_is_capped_with_a_message() {
    let ids: Vec<String> = (0..15).map(|i| format!("c{i} = \"${}\"", char::from(b'A' + i))).collect();
    let started = Instant::now();
    rejected(&mutex_file("", &ids.join(", "), &["c0 acquire mutex"]), &["14348907 runs", "limit of 1000"]);
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    // 6 placeholders over 3 runtimes (729 runs) are still fine.
    let ids: Vec<String> = (0..6).map(|i| format!("c{i} = \"${}\"", char::from(b'A' + i))).collect();
    let text = mutex_file("", &ids.join(", "), &["c0 acquire mutex", "c0 release mutex"]);
    assert_eq!(scenario::parse(Path::new("ok.toml"), &text).unwrap().len(), 729);
}

#[test]
fn parsing_is_linear_in_the_steps() {
    let steps: Vec<&str> = ["a acquire mutex", "a release mutex"].iter().copied().cycle().take(40_000).collect();
    let text = mutex_file("", "a = \"rust\"", &steps);
    let started = Instant::now();
    let parsed = scenario::parse(Path::new("big.toml"), &text).unwrap();
    assert_eq!(parsed[0].steps.len(), 40_000);
    assert_eq!(parsed[0].steps[39_999].line, 4, "all steps on one line");
    // One step a line: line numbers still right.
    let text = text.replace(", ", ",\n");
    let parsed = scenario::parse(Path::new("big.toml"), &text).unwrap();
    assert_eq!(parsed[0].steps[39_999].line, 40_003);
    assert!(started.elapsed() < Duration::from_secs(5), "40k steps took {:?}", started.elapsed());
}

#[test]
fn each_file_is_loaded_once_even_through_symlink_loops() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let one = dir.path().join("mutex-exclusion.toml");
    std::fs::copy(corpus.join("mutex-exclusion.toml"), &one).unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("again")).unwrap();
    std::os::unix::fs::symlink(&one, dir.path().join("alias.toml")).unwrap();
    let expected = scenario::load(&one).unwrap().len();
    assert_eq!(zkurator_harness::corpus::load_dir(dir.path()).unwrap().len(), expected);
    let twice = [one.clone(), dir.path().to_owned(), dir.path().join("again/again")];
    assert_eq!(zkurator_harness::corpus::load_paths(&twice).unwrap().len(), expected);
}

#[test]
fn a_closed_stdout_ends_list_quietly() {
    // More than a pipe's 64 KiB: the listing must meet the closed pipe.
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<String> = (0..6).map(|i| format!("c{i} = \"${}\"", char::from(b'A' + i))).collect();
    for n in 0..4 {
        let text = mutex_file("", &ids.join(", "), &["c0 acquire mutex", "c0 release mutex"]);
        std::fs::write(dir.path().join(format!("wide-{n}.toml")), text).unwrap();
    }
    let mut child =
        Command::new(BIN).arg("list").arg(dir.path()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut first = [0u8; 16];
    child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert!(status.success(), "{status:?}: {err}");
}
