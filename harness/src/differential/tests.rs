use std::collections::HashSet;

use zkurator::names::{MUTEX_LOCK_NAME, READ_LOCK_NAME, WRITE_LOCK_NAME};

use super::generator::{format_sequence, SequenceStyle};
use super::wire::{decode_answers, encode_batch};
use super::*;

use proptest::prelude::*;

const A: &str = "_c_00000000-0000-4000-8000-00000000000a-";
const B: &str = "_c_00000000-0000-4000-8000-00000000000b-";
const C: &str = "_c_00000000-0000-4000-8000-00000000000c-";

fn name(owner: &str, lock: &str, seq: &str) -> String {
    format!("{owner}{lock}{seq}")
}

/// A proptest "choice tape": the builder reads it front to back, 0 after its end.
struct Tape(Vec<u64>, usize);

impl Choices for Tape {
    fn below(&mut self, n: u64) -> u64 {
        let v = self.0.get(self.1).copied().unwrap_or(0);
        self.1 += 1;
        v % n.max(1)
    }
}

/// Cases as a proptest strategy: shrinking the tape shrinks the case.
fn case_strategy() -> impl Strategy<Value = Case> {
    proptest::collection::vec(any::<u64>(), 0..400).prop_map(|tape| build_case(&mut Tape(tape, 0)))
}

#[test]
fn splitmix_is_the_reference_sequence() {
    // First outputs of SplitMix64 for seed 0 (Vigna's reference implementation).
    let mut rng = SplitMix64::new(0);
    assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
    assert_eq!(rng.next_u64(), 0x6e78_9e6a_a1b9_65f4);
}

#[test]
fn generation_is_deterministic() {
    assert_eq!(generate_cases(42, 300), generate_cases(42, 300));
    assert_ne!(generate_cases(42, 50), generate_cases(43, 50));
}

#[test]
fn the_empty_tape_builds_the_simplest_case() {
    let case = build_case(&mut Tape(Vec::new(), 0));
    assert_eq!(case.question, Question::Mutex { max_leases: 1 });
    assert!(case.children.is_empty());
    assert_eq!(case.ours, name("_c_00000000-0000-4000-8000-000000000000-", "lock-", "0000000000"));
}

#[test]
fn sequences_format_like_zookeeper() {
    assert_eq!(format_sequence(SequenceStyle::Normal, 7), "0000000007");
    assert_eq!(format_sequence(SequenceStyle::Wrapping, i64::from(i32::MAX)), "2147483647");
    assert_eq!(format_sequence(SequenceStyle::Wrapping, i64::from(i32::MAX) + 1), "-2147483648");
    assert_eq!(format_sequence(SequenceStyle::Wrapping, (1 << 32) - 1), "-000000001");
    assert_eq!(format_sequence(SequenceStyle::Long, 1_000_000_000_000_000_001).len(), 19);
}

#[test]
fn child_names_follow_zookeeper_rules() {
    assert!(is_valid_child_name("_c_x-lock-0000000001"));
    assert!(is_valid_child_name(" é中\u{ffef}"));
    for bad in ["", ".", "..", "a/b", "a\u{0}", "a\u{1f}", "\u{7f}", "\u{9f}", "\u{e000}", "\u{fff0}", "😀"] {
        assert!(!is_valid_child_name(bad), "{bad:?}");
    }
}

/// Over a fixed-seed corpus, every feature the generator promises occurs.
#[test]
fn generated_cases_cover_every_feature() {
    let cases = generate_cases(0x5eed, 3000);
    let any = |f: &dyn Fn(&Case) -> bool| cases.iter().any(f);
    let child = |f: &dyn Fn(&str) -> bool| cases.iter().any(|c| c.children.iter().any(|n| f(n)));
    assert!(cases.iter().all(|c| c.children.iter().all(|n| is_valid_child_name(n))));
    assert!(cases.iter().all(|c| c.children.iter().collect::<HashSet<_>>().len() == c.children.len()));
    assert!(any(&|c| c.question == Question::Mutex { max_leases: 0 }));
    assert!(any(&|c| c.question == Question::Mutex { max_leases: 4 }));
    assert!(any(&|c| c.question == Question::Write));
    assert!(any(&|c| c.question == Question::Read { owns_write: true }));
    assert!(any(&|c| c.question == Question::Read { owns_write: false }));
    assert!(any(&|c| !c.children.contains(&c.ours)));
    assert!(child(&|n| n.contains("__READ__-") || n.contains("__WRIT__-") || n.contains("lock--")));
    assert!(child(&|n| n.len() == 40 + 8 + 19));
    assert!(child(&|n| n.starts_with(|c: char| c < '0')));
    assert!(child(&|n| n.starts_with(|c: char| c > '9')));
    assert!(child(&|n| !n.is_ascii()));
    assert!(child(&|n| n.contains("__lock__")));
    // Reentrant: one owner, two nodes of one side.
    assert!(any(&|c| c.children.iter().any(|n| n.get(..40).is_some_and(|p| p.starts_with("_c_")
        && c.children.iter().filter(|m| m.starts_with(p) && m.contains("__WRIT__")).count() >= 2))));
    // Downgrade: a READ node with its owner's WRIT sequence.
    assert!(any(&|c| c
        .children
        .iter()
        .any(|n| n.contains(READ_LOCK_NAME) && c.children.contains(&n.replace(READ_LOCK_NAME, WRITE_LOCK_NAME)))));
    // A foreign child that starts with our name.
    assert!(any(&|c| c.children.iter().any(|n| n != &c.ours && n.starts_with(&c.ours))));
}

#[test]
fn the_model_without_deviations_is_zkurators_driver() {
    let rust = RustOracle::zkurator();
    for case in generate_cases(7, 5000) {
        let answer = rust.answer_one(&case);
        assert_eq!(model_verdict(&case, &answer.sorted, &[]), answer.verdict, "{case}");
    }
}

proptest! {
    #[test]
    fn model_matches_driver_on_strategy_cases(case in case_strategy()) {
        let answer = RustOracle::zkurator().answer_one(&case);
        prop_assert_eq!(model_verdict(&case, &answer.sorted, &[]), answer.verdict);
        prop_assert!(case.children.iter().all(|n| is_valid_child_name(n)));
    }
}

fn answer(sorted: &[String], verdict: Verdict) -> Answer {
    Answer { sorted: sorted.to_vec(), verdict }
}

#[test]
fn classify_names_each_deviation() {
    // The write owner's read node is gone.
    let children = vec![name(A, WRITE_LOCK_NAME, "0000000001")];
    let case = Case {
        question: Question::Read { owns_write: true },
        children: children.clone(),
        ours: name(A, READ_LOCK_NAME, "0000000001"),
    };
    let rust = RustOracle::zkurator().answer_one(&case);
    assert_eq!(rust.verdict, Verdict::Missing);
    assert_eq!(
        classify(&case, &rust, &answer(&children, Verdict::Holds)).as_deref(),
        Some("read-owner-holds-without-node")
    );

    // A foreign child that starts with our name sorts before the writer ahead of us.
    let ours = name(C, READ_LOCK_NAME, "0000000005");
    let sorted = vec![format!("{ours}__READ__0000000001"), name(B, WRITE_LOCK_NAME, "0000000003"), ours.clone()];
    let case = Case { question: Question::Read { owns_write: false }, children: sorted.clone(), ours };
    let rust = RustOracle::zkurator().answer_one(&case);
    assert_eq!(rust.sorted, sorted);
    assert_eq!(rust.verdict, Verdict::Watch(sorted[1].clone()));
    assert_eq!(classify(&case, &rust, &answer(&sorted, Verdict::Holds)).as_deref(), Some("read-starts-with-match"));
    // Our node gone: the child extending our name stands in for it.
    let gone = Case { children: vec![sorted[0].clone()], ..case.clone() };
    let rust = RustOracle::zkurator().answer_one(&gone);
    assert_eq!(rust.verdict, Verdict::Missing);
    assert_eq!(
        classify(&gone, &rust, &answer(&gone.children, Verdict::Holds)).as_deref(),
        Some("read-starts-with-match-ours-gone")
    );

    // Zero leases.
    let sorted = vec![name(A, MUTEX_LOCK_NAME, "0000000001")];
    let case = Case { question: Question::Mutex { max_leases: 0 }, children: sorted.clone(), ours: sorted[0].clone() };
    let rust = RustOracle::zkurator().answer_one(&case);
    assert_eq!(rust.verdict, Verdict::Holds);
    assert_eq!(
        classify(&case, &rust, &answer(&sorted, Verdict::Watch(sorted[0].clone()))).as_deref(),
        Some("zero-leases-literal")
    );
    assert_eq!(classify(&case, &rust, &rust), None);
}

#[test]
fn classify_reports_sort_and_unexplained_differences() {
    let sorted = vec![name(A, READ_LOCK_NAME, "0000000001"), name(B, WRITE_LOCK_NAME, "0000000002")];
    let case = Case { question: Question::Write, children: sorted.clone(), ours: sorted[1].clone() };
    let rust = RustOracle::zkurator().answer_one(&case);
    let reversed: Vec<String> = sorted.iter().rev().cloned().collect();
    assert_eq!(classify(&case, &rust, &answer(&reversed, rust.verdict.clone())).as_deref(), Some(SORT_ORDER));
    assert_eq!(
        classify(&case, &rust, &answer(&sorted, Verdict::Holds)).as_deref(),
        Some("unexplained-write-watch-vs-holds")
    );
    assert_eq!(
        classify(&case, &rust, &answer(&sorted, Verdict::Error("boom".into()))).as_deref(),
        Some("unexplained-write-watch-vs-error")
    );
}

/// A wrong reference is never excused by a deviation: the model must first
/// reproduce the reference.
#[test]
fn a_wrong_reference_stays_unexplained() {
    let sorted = vec![name(B, WRITE_LOCK_NAME, "0000000001"), name(A, READ_LOCK_NAME, "0000000002")];
    let case =
        Case { question: Question::Read { owns_write: false }, children: sorted.clone(), ours: sorted[1].clone() };
    let wrong = answer(&sorted, Verdict::Holds);
    let right = answer(&sorted, Verdict::Watch(sorted[0].clone()));
    assert_eq!(classify(&case, &wrong, &right).as_deref(), Some("unexplained-read-holds-vs-watch"));
}

#[test]
fn batches_are_ascii_and_answers_decode() {
    let case = Case {
        question: Question::Read { owns_write: true },
        children: vec!["é".into(), "😀".into(), "a\"b\\".into()],
        ours: "x".into(),
    };
    let batch = encode_batch(&[case]);
    assert!(batch.is_ascii());
    assert!(batch.contains("\\u00e9") && batch.contains("\\ud83d\\ude00"));
    assert!(batch.contains(r#""question":"read","max_leases":0,"owns_write":true"#));
    let parsed: serde_json::Value = serde_json::from_str(&batch).unwrap();
    assert_eq!(parsed["cases"][0]["children"][1], "😀");

    let text = r#"{"answers":[{"sorted":["a"],"decision":"holds"},{"sorted":[],"decision":"watch","node":"\u00e9"},
                 {"sorted":[],"decision":"missing"},{"sorted":[],"decision":"error","message":"boom"}]}"#;
    let answers = decode_answers("t", text, 4).unwrap();
    assert_eq!(answers[0], Answer { sorted: vec!["a".into()], verdict: Verdict::Holds });
    assert_eq!(answers[1].verdict, Verdict::Watch("é".into()));
    assert_eq!(answers[2].verdict, Verdict::Missing);
    assert_eq!(answers[3].verdict, Verdict::Error("boom".into()));
    assert!(decode_answers("t", text, 3).is_err());
    assert!(decode_answers("t", r#"{"error":"bad batch"}"#, 0).unwrap_err().message.contains("bad batch"));
}

/// An oracle that answers from a function, for testing the runner.
struct FnOracle(&'static str, fn(&Case) -> Answer);

impl Oracle for FnOracle {
    fn name(&self) -> &str {
        self.0
    }

    fn answer(&mut self, cases: &[Case]) -> Result<Vec<Answer>, OracleError> {
        Ok(cases.iter().map(self.1).collect())
    }
}

fn curator_like(case: &Case) -> Answer {
    let mut answer = RustOracle::zkurator().answer_one(case);
    answer.verdict = model_verdict(case, &answer.sorted, &Deviation::ALL);
    answer
}

#[test]
fn run_groups_shrinks_and_checks_expectations() {
    let cases = generate_cases(11, 2000);
    let mut reference = RustOracle::zkurator();
    let mut peer = FnOracle("curator", curator_like);
    let report = run_differential(&cases, &mut reference, &mut [&mut peer], 300).unwrap();
    assert_eq!(report.cases, 2000);
    let kinds: Vec<&str> = report.groups.iter().map(|g| g.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "read-owner-holds-without-node",
            "read-starts-with-match",
            "read-starts-with-match-ours-gone",
            "zero-leases-literal"
        ]
    );
    for g in &report.groups {
        // Shrunk as far as removing children goes: at most the stand-in, a
        // writer and ours.
        let limit = if g.kind == "read-starts-with-match" { 3 } else { 1 };
        assert!(g.example.case.children.len() <= limit, "{}", g.example);
        assert_eq!(classify(&g.example.case, &g.example.reference, &g.example.peer).as_deref(), Some(&*g.kind));
    }

    let all = PredicateExpectations::parse(
        r#"
        [[predicate]]
        kind = "read-owner-holds-without-node"
        oracle = "curator"
        reason = "r1"
        [[predicate]]
        kind = "read-starts-with-match"
        oracle = "curator"
        reason = "r2"
        [[predicate]]
        kind = "read-starts-with-match-ours-gone"
        oracle = "curator"
        reason = "r2b"
        [[predicate]]
        kind = "zero-leases-literal"
        oracle = "curator"
        reason = "r3"
        [[predicate]]
        kind = "never-seen"
        oracle = "kazurator"
        reason = "not run, so not stale"
        "#,
    )
    .unwrap();
    assert!(all.check(&report).is_empty());
    assert!(report.render(Some(&all)).contains("[known: r2]"));

    let mut partial = all.clone();
    partial.known.retain(|k| k.kind != "read-starts-with-match");
    partial.known.push(KnownDisagreement { kind: "gone".into(), oracle: "curator".into(), reason: "r4".into() });
    let problems = partial.check(&report);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(matches!(&problems[0], Problem::Unexpected { kind, .. } if kind == "read-starts-with-match"));
    assert!(matches!(&problems[1], Problem::Stale { kind, .. } if kind == "gone"));
    assert!(report.render(Some(&partial)).contains("[UNEXPECTED]"));
}

#[test]
fn duplicate_expectations_are_rejected() {
    let twice = "[[predicate]]\nkind = \"k\"\noracle = \"o\"\nreason = \"r\"\n".repeat(2);
    assert!(PredicateExpectations::parse(&twice).unwrap_err().contains("twice"));
    assert!(PredicateExpectations::parse("[[predicate]]\nkind = \"k\"\n").is_err());
}

#[test]
fn the_workspace_expectations_file_parses() {
    let expectations = PredicateExpectations::load_default().unwrap();
    assert!(expectations.known().iter().all(|k| !k.reason.trim().is_empty()));
}
