//! The scheduler loses nothing: a small set of zkurator runs (plain, crash,
//! expiry, kill, partition and timed-acquire scenarios) gets the same verdicts
//! one at a time and four at a time; the timed runs (`schedule::exclusivity`)
//! share their time with no shared run, only with a few other timed runs; the
//! others did overlap. Against the real server of `zkurator-testserver`.

use std::path::{Path, PathBuf};

use zkurator_harness::backend::Backend;
use zkurator_harness::contender::Runtime;
use zkurator_harness::expectations::Expectations;
use zkurator_harness::report::Report;
use zkurator_harness::runner::Peers;
use zkurator_harness::scenario::{self, Scenario};
use zkurator_harness::suite::schedule::{self, Exclusivity};
use zkurator_harness::suite::{self, Options};

const FILES: [&str; 9] = [
    "mutex-exclusion",
    "writer-blocks-reader",
    "readers-share",
    "writers-fifo",
    "crash-holder-frees-lock",
    "timeouts-leave-no-node",
    "faults/expire-waiter",
    "faults/kill-holder",
    "faults/partition-short-holder",
];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn scenarios() -> Vec<Scenario> {
    let mut all = Vec::new();
    for file in FILES {
        all.extend(scenario::load(&corpus().join(format!("{file}.toml"))).expect("the scenario parses"));
    }
    let zkurator = [Runtime::Rust, Runtime::RustTasks, Runtime::RustProcess];
    all.retain(|s| s.contenders.iter().all(|(_, r)| zkurator.contains(r)));
    all
}

fn run(scenarios: &[Scenario], jobs: usize) -> Report {
    let expectations = Expectations::load(&corpus().join(scenario::EXPECTATIONS_FILE)).expect("expectations");
    let peers = Peers::with_harness_binary(env!("CARGO_BIN_EXE_zkurator-harness").into());
    let server = zkurator_testserver::shared_connect_string().expect("a ZooKeeper server");
    suite::run_suite(scenarios, &Backend::external(&server), &peers, &expectations, Options::quiet(jobs))
}

#[test]
fn jobs_give_the_verdicts_of_one_at_a_time_and_exclusive_runs_are_alone() {
    let scenarios = scenarios();
    let kinds: Vec<Exclusivity> = scenarios.iter().map(schedule::exclusivity).collect();
    let exclusive: Vec<bool> = kinds.iter().map(|k| *k != Exclusivity::Shared).collect();
    let timed = |i: usize| matches!(kinds[i], Exclusivity::Timed(_));
    assert!((0..kinds.len()).filter(|&i| timed(i)).count() >= 2, "the set has timed runs: {kinds:?}");
    assert!(exclusive.iter().filter(|e| !**e).count() >= 6, "the set has runs to overlap");

    let alone = run(&scenarios, 1);
    let parallel = run(&scenarios, 4);
    let verdicts = |report: &Report| -> Vec<(String, &'static str)> {
        report.entries.iter().map(|e| (e.result.label.clone(), e.verdict.cell())).collect()
    };
    println!("{}", parallel.matrix(false));
    assert_eq!(verdicts(&alone), verdicts(&parallel), "--jobs 4 changed a verdict");
    let labels: Vec<String> = scenarios.iter().map(Scenario::label).collect();
    let reported: Vec<String> = parallel.entries.iter().map(|e| e.result.label.clone()).collect();
    assert_eq!(reported, labels, "the report keeps the corpus order");
    assert!(parallel.as_expected(), "{}", parallel.matrix(false));

    // Overlapping runs never share a lock directory.
    let mut paths: Vec<&str> =
        parallel.entries.iter().filter_map(|e| Some(e.result.evidence.as_ref()?.lock_path.as_str())).collect();
    assert_eq!(paths.len(), labels.len(), "every run has its lock path");
    paths.sort_unstable();
    paths.dedup();
    assert_eq!(paths.len(), labels.len(), "two runs shared a lock path");

    let spans: Vec<_> = parallel.entries.iter().map(|e| e.span.expect("a span per run")).collect();
    // A timed run overlaps no shared run (timed runs overlap each other, a
    // few at a time); a run acting on servers overlaps nothing.
    for (i, span) in spans.iter().enumerate().filter(|(i, _)| exclusive[*i]) {
        for (j, other) in spans.iter().enumerate().filter(|(j, _)| *j != i && !(timed(i) && timed(*j))) {
            assert!(!span.overlaps(other), "exclusive {} {span:?} overlaps {} {other:?}", labels[i], labels[j]);
        }
    }
    let timed_overlap = (0..spans.len())
        .filter(|&i| timed(i))
        .any(|i| (0..spans.len()).any(|j| j != i && timed(j) && spans[i].overlaps(&spans[j])));
    assert!(timed_overlap, "no two timed runs overlapped: {spans:?}");
    // Runs at once, at each timed run's start (where the most begin).
    let at_start = |i: usize| {
        (0..spans.len())
            .filter(|&j| timed(j) && spans[j].start <= spans[i].start && spans[i].start < spans[j].end)
            .count()
    };
    let most = (0..spans.len()).filter(|&i| timed(i)).map(at_start).max();
    assert!(
        most <= Some(schedule::TIMED_AT_ONCE),
        "more than {} timed runs at once: {spans:?}",
        schedule::TIMED_AT_ONCE
    );
    let overlapping = (0..spans.len())
        .filter(|&i| !exclusive[i])
        .any(|i| (0..spans.len()).any(|j| j != i && !exclusive[j] && spans[i].overlaps(&spans[j])));
    assert!(overlapping, "no two shared runs overlapped: {spans:?}");
    // One at a time: no two runs overlap at all.
    let serial: Vec<_> = alone.entries.iter().map(|e| e.span.expect("a span per run")).collect();
    for (i, span) in serial.iter().enumerate() {
        assert!(serial.iter().skip(i + 1).all(|other| !span.overlaps(other)), "--jobs 1 overlapped runs");
    }
}
