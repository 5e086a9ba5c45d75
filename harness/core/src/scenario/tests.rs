//! Unit tests of [`super`].
use super::*;
use crate::protocol::Side;
use crate::steps::ServerOp;

fn parse_str(text: &str) -> Result<Vec<Scenario>, ScenarioError> {
    parse(Path::new("t.toml"), text)
}

const GOOD: &str = r#"description = "reader blocks writer"
lock = "read-write"
contenders = { a = "$A", b = "$B" }
steps = [
  "a acquire read => granted",
  "b acquire write 300ms => timeout",
  "b acquire write => blocked",
  "a release read",
  "sleep 50ms",
  "zk expect-gone 5s",
]
"#;

#[test]
fn expands_over_ordered_pairs() {
    let scenarios = parse_str(GOOD).unwrap();
    assert_eq!(scenarios.len(), 9);
    assert_eq!(scenarios[1].pairing, "rust+curator");
    assert_eq!(scenarios[1].runtime_of("b"), Some(Runtime::Curator));
    assert_eq!(scenarios[0].label(), "t[rust+rust]");
    let steps = &scenarios[0].steps;
    assert_eq!(steps[1].line, 6);
    assert_eq!(
        steps[1].action,
        Action::Acquire { contender: "b".into(), side: Side::Write, timeout: Some(Duration::from_millis(300)) }
    );
    assert_eq!(steps[1].expect, Some(Expect::Timeout));
    assert_eq!(steps[5].action, Action::ExpectGone(Duration::from_secs(5)));
}

fn error_of(text: &str) -> ScenarioError {
    parse_str(text).unwrap_err()
}

#[test]
fn errors_name_line_column_and_expectation() {
    let e = error_of(&GOOD.replace("b acquire write 300ms", "b acquire wrte 300ms"));
    assert_eq!((e.line, e.column), (6, 14), "{e}");
    assert!(e.message.contains("unknown side \"wrte\""), "{e}");
    assert!(e.to_string().starts_with("t.toml:6:14: "), "{e}");

    let e = error_of(&GOOD.replace("a = \"$A\"", "a = \"cobol\""));
    assert_eq!(e.line, 3);
    assert!(e.message.contains("unknown runtime \"cobol\""), "{e}");

    let e = error_of(&GOOD.replace("a release read", "c release read"));
    assert_eq!((e.line, e.column), (8, 4));
    assert!(e.message.contains("unknown contender \"c\""), "{e}");

    let e = error_of(&GOOD.replace("=> timeout", "=> maybe"));
    assert!(e.message.contains("unknown expectation \"maybe\""), "{e}");

    let e = error_of(&GOOD.replace("a acquire read", "a fly read"));
    assert!(e.message.contains("unknown op \"fly\""), "{e}");

    let e = error_of(&GOOD.replace("300ms", "3 hours"));
    assert!(e.message.contains("bad duration"), "{e}");

    let e = error_of(&GOOD.replace("lock = \"read-write\"", "lock = 7"));
    assert_eq!(e.line, 2, "{e}");

    let e = error_of(&GOOD.replace("a acquire read", "a acquire mutex"));
    assert!(e.message.contains("read-write"), "{e}");

    let e = error_of(&GOOD[..GOOD.len() - 20]);
    assert!(e.line >= 1, "truncated file: {e}");

    let e = error_of(&GOOD.replace("description", "descripton"));
    assert!(e.message.contains("descripton"), "{e}");
}

#[test]
fn a_contender_may_not_be_named_like_the_runner() {
    let e = error_of(&GOOD.replace("b = \"$B\"", "zk = \"$B\""));
    assert!(e.message.contains("reserved"), "{e}");
}

#[test]
fn fixed_runtimes_make_one_scenario() {
    let text = GOOD.replace("\"$A\"", "\"rust\"").replace("\"$B\"", "\"curator\"");
    let scenarios = parse_str(&text).unwrap();
    assert_eq!(scenarios.len(), 1);
    assert_eq!(scenarios[0].pairing, "");
}

#[test]
fn model_checks_the_steps() {
    let e = error_of(&GOOD.replace("\"a release read\",", "\"a release write\", \"a release read\","));
    assert!(e.message.contains("release before acquire"), "{e}");
    assert_eq!(e.line, 8);
    let e = error_of(&GOOD.replace("=> timeout", "=> granted"));
    assert!(e.message.contains("the lock model says Timeout"), "{e}");
    let e = error_of(&GOOD.replace("\"a release read\",", "\"b release write\","));
    assert!(e.message.contains("still waiting"), "{e}");
}

#[test]
fn fault_steps_parse() {
    let ids = ["a", "b"];
    assert_eq!(parse_step("a expire", &ids).unwrap().0, Action::Expire { contender: "a".into() });
    assert_eq!(parse_step("b kill", &ids).unwrap().0, Action::Kill { contender: "b".into() });
    assert_eq!(
        parse_step("a expect-lost write 3s", &ids).unwrap().0,
        Action::ExpectLost { contender: "a".into(), side: Side::Write, within: Some(Duration::from_secs(3)) }
    );
    assert_eq!(parse_step("zk restart", &ids).unwrap().0, Action::Server(ServerOp::Restart));
    assert_eq!(parse_step("zk kill-leader", &ids).unwrap().0, Action::Server(ServerOp::KillLeader));
    assert_eq!(parse_step("zk kill-follower", &ids).unwrap().0, Action::Server(ServerOp::KillFollower));
    assert_eq!(parse_step("zk start-all", &ids).unwrap().0, Action::Server(ServerOp::StartAll));
    assert!(parse_step("a expect-lost", &ids).unwrap_err().1.contains("a side"));
    assert!(parse_step("zk restart now", &ids).unwrap_err().1.contains("unexpected"));
}

#[test]
fn split_steps_parse_print_and_need_an_ensemble() {
    let ids = ["a", "b"];
    for (text, action) in [
        ("zk isolate-leader", Action::Server(ServerOp::IsolateLeader)),
        ("zk isolate-follower", Action::Server(ServerOp::IsolateFollower)),
        ("zk isolate-member b", Action::IsolateMemberOf { contender: "b".into() }),
        ("zk heal-members", Action::Server(ServerOp::HealMembers)),
    ] {
        assert_eq!(parse_step(text, &ids).unwrap().0, action, "{text}");
        assert_eq!(crate::steps::step_text(&action, None), text);
        assert!(action.needs_ensemble() && action.is_split(), "{text}");
    }
    assert!(!Action::Server(ServerOp::KillLeader).is_split());
    assert!(parse_step("zk isolate-member", &ids).unwrap_err().1.contains("the contender whose member"));
    assert!(parse_step("zk isolate-member c", &ids).unwrap_err().1.contains("unknown contender"));
    assert!(parse_step("zk isolate-leader a", &ids).unwrap_err().1.contains("unexpected"));
    assert!(parse_step("zk isolate", &ids).unwrap_err().1.contains("isolate-member or heal-members"));
    // `check` refuses a split without an ensemble, and an ensemble split
    // makes a slow scenario whose contenders talk through proxies.
    let text = GOOD.replace("\"sleep 50ms\",", "\"zk isolate-member a\", \"zk heal-members\",");
    let e = error_of(&text);
    assert!(e.message.contains("`zk isolate-member a` needs an ensemble"), "{e}");
    let scenarios = parse_str(&format!("zk = \"ensemble\"\n{text}")).unwrap();
    assert!(scenarios[0].needs_ensemble() && scenarios[0].is_slow() && scenarios[0].has_split_steps());
    let twice = text.replace("\"zk heal-members\",", "\"zk isolate-leader\",");
    let e = error_of(&format!("zk = \"ensemble\"\n{twice}"));
    assert!(e.message.contains("cut off already"), "{e}");
}

#[test]
fn ensembles_are_declared_and_make_slow_scenarios() {
    let text = GOOD.replace("\"sleep 50ms\",", "\"zk kill-leader\", \"zk start-all\",");
    let e = error_of(&text);
    assert!(e.message.contains("zk = \"ensemble\""), "{e}");
    let scenarios = parse_str(&format!("zk = \"ensemble\"\n{text}")).unwrap();
    assert!(scenarios[0].needs_ensemble() && scenarios[0].is_slow());
    let restart = parse_str(&GOOD.replace("\"sleep 50ms\",", "\"zk restart\",")).unwrap();
    assert!(!restart[0].needs_ensemble() && restart[0].is_slow());
    assert!(!parse_str(GOOD).unwrap()[0].is_slow());
}

#[test]
fn line_and_column_count_from_one() {
    assert_eq!(line_column("ab\ncd", 0), (1, 1));
    assert_eq!(line_column("ab\ncd", 4), (2, 2));
}
