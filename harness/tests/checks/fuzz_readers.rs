//! The readers of everything a user or a peer hands the harness, fuzzed with
//! proptest under a time bound per input: scenario steps built from the
//! grammar's own words, expectations files, `runtimes.toml`, and contender
//! protocol lines (hello, replies). Every input ends in a value or a typed
//! error, never a panic, within [`LIMIT`]; an error quotes at most a short
//! prefix of a long input. (Arbitrary bytes and mutated corpus files for the
//! scenario grammar: `bad_input.rs`.)

use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use zkurator_harness::contender::Reply;
use zkurator_harness::expectations::Expectations;
use zkurator_harness::runtime::external;
use zkurator_harness::runtime::line::Hello;
use zkurator_harness::scenario;

/// The most one input may take to read (debug build, a loaded machine).
const LIMIT: Duration = Duration::from_millis(500);

fn timed<T>(what: &str, read: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = read();
    assert!(started.elapsed() < LIMIT, "{what} took {:?}", started.elapsed());
    out
}

/// Words of the step grammar and a few that are not.
const WORDS: &[&str] = &[
    "a",
    "b",
    "zk",
    "sleep",
    "acquire",
    "release",
    "read",
    "write",
    "mutex",
    "participants",
    "revocable",
    "revoke",
    "await-revoked",
    "crash",
    "expire",
    "kill",
    "expect-lost",
    "expect-gone",
    "expect-data",
    "foreign",
    "remove",
    "restart",
    "kill-leader",
    "read-value",
    "write-value",
    "increment",
    "pause",
    "plain",
    "guarded",
    "fenced",
    "=>",
    "granted",
    "blocked",
    "timeout",
    "denied",
    "ok",
    "error",
    "rejected",
    "unknown",
    "not-held",
    "300ms",
    "0s",
    "1h",
    "99999999999999999999s",
    "-1ms",
    "🔒",
    "\u{0}",
    "",
];

fn step() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(WORDS), 0..9).prop_map(|words| words.join(" "))
}

fn scenario_text(steps: &[String], lock: &str) -> String {
    let steps: Vec<String> = steps.iter().map(|s| format!("{s:?}")).collect();
    format!(
        "description = \"fuzz\"\nlock = \"{lock}\"\ncontenders = {{ a = \"rust\", b = \"$A\" }}\nsteps = [{}]\n",
        steps.join(", ")
    )
}

/// Pieces of an expectations file.
fn expectations_text() -> impl Strategy<Value = String> {
    let key = proptest::sample::select(vec!["scenario", "pairing", "reason", "curator", "kazurator", "zookeeper", "x"]);
    let value = prop_oneof![
        Just("\"*\"".to_owned()),
        Just("\"< 5.5.0\"".to_owned()),
        Just("\">= 0.2.0, < 1\"".to_owned()),
        Just("\"5.x\"".to_owned()),
        Just("1".to_owned()),
        "\\PC{0,12}".prop_map(|s| format!("{s:?}")),
        Just(format!("\"{}\"", "*a".repeat(30))),
    ];
    proptest::collection::vec(proptest::collection::vec((key, value), 0..6), 0..4).prop_map(|tables| {
        tables
            .into_iter()
            .map(|pairs| {
                let body: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!("[[known]]\n{}\n", body.join("\n"))
            })
            .collect()
    })
}

/// Pieces of a runtimes file.
fn runtimes_text() -> impl Strategy<Value = String> {
    let name = proptest::sample::select(vec!["mine", "rust", "a b", "", "é", "x.y", "go-zk"]);
    let command = prop_oneof![
        Just("\"/bin/true\"".to_owned()),
        Just("[\"/bin/sh\", \"-c\", \"x\"]".to_owned()),
        Just("[]".to_owned()),
        Just("\"\"".to_owned()),
        Just("7".to_owned()),
        "\\PC{0,12}".prop_map(|s| format!("{s:?}")),
    ];
    proptest::collection::vec((name, command, any::<bool>()), 0..4).prop_map(|entries| {
        entries
            .into_iter()
            .map(|(name, command, extra)| {
                let extra = if extra { "\nother = 1" } else { "" };
                format!("[runtime.{name:?}]\ncommand = {command}{extra}\n")
            })
            .collect()
    })
}

/// JSON-ish protocol lines: fragments of real hellos and replies, shuffled.
fn protocol_line() -> impl Strategy<Value = String> {
    let fragments = vec![
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"hello\"",
        "\"zkurator-contender\"",
        "\"protocol\"",
        "1",
        "2",
        "-1",
        "18446744073709551616",
        "\"capabilities\"",
        "\"kinds\"",
        "\"mutex\"",
        "\"read-write\"",
        "\"bogus\"",
        "\"reply\"",
        "\"granted\"",
        "\"node\"",
        "\"error\"",
        "\"kind\"",
        "\"timeout\"",
        "\"participants\"",
        "\"nodes\"",
        "null",
        "true",
        "\"versions\"",
        "\"\\u0000\"",
        "\"\\ud800\"",
        "1e999",
    ];
    prop_oneof![
        proptest::collection::vec(proptest::sample::select(fragments), 0..24).prop_map(|f| f.concat()),
        "\\PC{0,200}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn steps_from_the_grammar_never_panic(steps in proptest::collection::vec(step(), 1..6), rw in any::<bool>()) {
        let text = scenario_text(&steps, if rw { "read-write" } else { "mutex" });
        if let Err(e) = timed("a scenario", || scenario::parse(Path::new("fuzz.toml"), &text)) {
            prop_assert!(e.line >= 1 || e.line == 0);
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn expectations_files_never_panic(text in expectations_text(), label in "[a-z+]{0,40}") {
        if let Ok(expectations) = timed("an expectations file", || Expectations::parse(&text)) {
            let result = zkurator_harness::outcome::RunResult {
                label: label.clone(),
                scenario: label.clone(),
                pairing: label,
                runtimes: Vec::new(),
                violations: Vec::new(),
                duration: Duration::ZERO,
                steps_done: 0,
                evidence: None,
            };
            let _ = timed("a verdict", || expectations.verdict(&result));
        }
    }

    #[test]
    fn runtimes_files_never_panic(text in runtimes_text()) {
        let _ = timed("a runtimes file", || external::parse_file(Path::new("runtimes.toml"), &text));
    }

    #[test]
    fn protocol_lines_never_panic(line in protocol_line()) {
        if let Err(why) = timed("a hello", || Hello::parse(&line)) {
            // Bounded whatever the line: characters, as people read them.
            prop_assert!(why.chars().count() < 600, "{why}");
        }
        let _ = timed("a reply", || serde_json::from_str::<Reply>(&line));
    }
}

/// Found by `protocol_lines_never_panic`: a hello line that is a JSON string
/// made serde's message quote the whole string.
#[test]
fn a_long_wrong_value_in_a_hello_is_quoted_by_its_prefix() {
    let line = format!("\"{}\"", "\u{2de0}a".repeat(200));
    let why = Hello::parse(&line).expect_err("a string is not a hello");
    assert!(why.chars().count() < 600, "{} characters: {why}", why.chars().count());
}

#[test]
fn a_huge_protocol_line_is_quoted_by_its_prefix() {
    let line = format!("{{\"hello\": \"{}\"", "x".repeat(5_000_000));
    let why = timed("a 5 MB hello", || Hello::parse(&line)).unwrap_err();
    assert!(why.len() < 600 && why.contains("5000012 bytes"), "{}", &why[..why.len().min(600)]);
}
