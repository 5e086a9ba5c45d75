//! The report's matrix, JSON and JUnit, on built results.

use super::*;
use crate::checkers::Checker;
use crate::checkers::Violation;

fn entry(scenario: &str, pairing: &str, verdict: Verdict, failed: bool) -> Entry {
    let violations =
        if failed { vec![Violation { checker: Checker::Model, message: "a<b & \"c\"".into() }] } else { vec![] };
    Entry {
        result: RunResult {
            label: format!("{scenario}[{pairing}]"),
            scenario: scenario.into(),
            pairing: pairing.into(),
            runtimes: vec![Runtime::Rust],
            violations,
            duration: Duration::from_millis(1500),
            steps_done: 3,
            evidence: None,
        },
        verdict,
        page: None,
        span: None,
    }
}

fn report() -> Report {
    Report {
        environment: vec![("Curator".into(), "5.4.0".into())],
        entries: vec![
            entry("s1", "rust+curator", Verdict::Pass, false),
            entry("s1", "curator+rust", Verdict::Fail, true),
            entry("s2", "rust+curator", Verdict::Known { reason: "CURATOR-621".into() }, true),
        ],
        duration: Duration::from_secs(3),
        versions: RunVersions { curator: "5.4.0".parse().ok(), kazurator: None, zookeeper: "3.8.0".parse().ok() },
    }
}

#[test]
fn matrix_shows_every_cell_and_the_details() {
    let text = report().matrix(false);
    assert!(text.contains("s1"), "{text}");
    assert!(text.contains("FAIL") && text.contains("known") && text.contains("pass"), "{text}");
    assert!(text.contains("curator+rust"));
    assert!(text.contains("[model] a<b"), "{text}");
    assert!(text.contains("3 runs: 1 pass, 1 FAIL, 1 known"), "{text}");
    assert!(!report().as_expected());
}

#[test]
fn junit_escapes_and_counts_failures() {
    let xml = report().junit();
    assert!(xml.contains("tests=\"3\" failures=\"1\""), "{xml}");
    assert!(xml.contains("a&lt;b &amp; &quot;c&quot;"), "{xml}");
    assert_eq!(xml.matches("<testcase").count(), 3);
    assert!(xml.contains("skipped=\"1\""), "{xml}");
    assert!(xml.contains("<skipped message=\"known deviation: CURATOR-621\"/>"), "{xml}");
    assert!(xml.contains("<property name=\"curator.version\" value=\"5.4.0\"/>"), "{xml}");
    assert!(xml.contains("name=\"zkurator-interop @curator@5.4.0 zookeeper@3.8.0\""), "{xml}");
    assert!(!xml.contains("timeline:"), "no page saved, none named");
    let mut saved = report();
    for entry in &mut saved.entries {
        entry.page = Some(format!("/r/runs/{}/index.html", entry.result.scenario));
    }
    let xml = saved.junit();
    assert!(xml.contains("(timeline: /r/runs/"), "a failure names its run's page: {xml}");
}

#[test]
fn json_has_verdicts() {
    let json: serde_json::Value = serde_json::from_str(&report().json()).unwrap();
    assert_eq!(json["entries"][1]["verdict"]["verdict"], "fail");
    assert_eq!(json["entries"][2]["verdict"]["reason"], "CURATOR-621");
}

fn gen_report(failed: bool, setup_error: bool) -> GenReport {
    let text = "description = \"d\"\nlock = \"mutex\"\ncontenders = { a = \"rust\", b = \"curator\" }\nsteps = [\"a acquire mutex => granted\", \"a release mutex\"]\n";
    let scenario = crate::scenario::parse(std::path::Path::new("minimal.toml"), text).unwrap().remove(0);
    let violation = Violation { checker: Checker::Model, message: "b granted while a held".into() };
    GenReport {
        cases: 7,
        runs: if failed { 15 } else { 7 },
        elapsed: Duration::from_secs(2),
        caught_at: failed.then_some(7),
        failure: failed.then(|| (scenario, vec![violation])),
        confirmed: failed,
        written: failed.then(|| "scenarios/regressions/minimal.toml".into()),
        not_written: None,
        setup_error: setup_error.then(|| "no server at 127.0.0.1:1".into()),
    }
}

#[test]
fn generated_runs_that_pass_are_one_passing_test_case() {
    let report = generated(&gen_report(false, false), 3, &[Runtime::Rust, Runtime::Curator]);
    assert!(report.as_expected());
    let xml = report.junit();
    assert!(xml.contains("tests=\"1\" failures=\"0\" errors=\"0\""), "{xml}");
    assert!(xml.contains("<testcase classname=\"generated\" name=\"seed 3: 7 cases\" time=\"2.000\"/>"), "{xml}");
    assert!(xml.contains("<property name=\"seed\" value=\"3\"/>"), "{xml}");
    let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
    assert_eq!(json["entries"][0]["verdict"]["verdict"], "pass");
    assert_eq!(json["entries"][0]["runtimes"], serde_json::json!(["rust", "curator"]));
}

#[test]
fn a_generated_failure_is_a_failing_test_case_with_the_minimal_schedule() {
    let report = generated(&gen_report(true, false), 3, &[Runtime::Rust, Runtime::Curator]);
    assert!(!report.as_expected());
    let xml = report.junit();
    assert!(xml.contains("tests=\"2\" failures=\"1\" errors=\"0\""), "{xml}");
    assert!(xml.contains("name=\"seed 3: 6 cases\""), "{xml}");
    assert!(xml.contains("<failure message=\"b granted while a held\">[model] b granted while a held"), "{xml}");
    assert!(
        xml.contains("<property name=\"minimal schedule\" value=\"a acquire mutex =&gt; granted; a release mutex\"/>"),
        "{xml}"
    );
    let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
    assert_eq!(json["entries"][1]["verdict"]["verdict"], "fail");
    assert_eq!(json["entries"][1]["steps_done"], 2);
    assert!(json["environment"].to_string().contains("scenarios/regressions/minimal.toml"), "{json}");
}

#[test]
fn a_generated_run_that_could_not_start_is_an_error() {
    let report = generated(&gen_report(false, true), 3, &[Runtime::Rust]);
    let xml = report.junit();
    assert!(xml.contains("tests=\"2\" failures=\"0\" errors=\"1\""), "{xml}");
    assert!(xml.contains("<error message=\"no server at 127.0.0.1:1\">"), "{xml}");
    assert!(!report.as_expected());
}
