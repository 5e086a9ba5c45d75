//! The data gate: the lost-update workloads (`scenarios/workloads`) with
//! zkurator (in-process, tasks of one handle, child processes), real Curator
//! and real kazurator contenders incrementing one counter under the lock,
//! holders frozen past their session timeout (SIGSTOP, or a server-side
//! expiry for in-process runtimes) that write when they wake, and the
//! negative controls (`scenarios/workloads/negative`): increments without
//! the lock, and a frozen holder's plain late write. Runs with
//! `cargo test --features interop`.
#![cfg(feature = "interop")]

use std::path::{Path, PathBuf};

use zkurator_harness::backend::Backend;
use zkurator_harness::contender::{Protection, Runtime};
use zkurator_harness::runner::Peers;
use zkurator_harness::suite;
use zkurator_harness::workload_report::{self, WorkloadRun};

fn late(runs: &[WorkloadRun], protection: Protection, in_process: bool) -> (usize, usize, usize) {
    runs.iter()
        .flat_map(|r| &r.data.late)
        .filter(|l| l.protection == Some(protection))
        .filter(|l| l.runtime.as_ref().is_some_and(|r| r.in_harness_process() == in_process))
        .fold((0, 0, 0), |(a, r, p), l| (a + l.attempted, r + l.rejected, p + l.applied))
}

#[test]
fn workloads_lose_no_update_and_late_writes_are_refused_or_caught() {
    let external = std::env::var("ZK_CONNECT").ok().filter(|c| !c.trim().is_empty());
    let backend = match &external {
        Some(connect) => Backend::external(connect),
        None => Backend::local().expect("a local ZooKeeper"),
    };
    let peers = Peers::with_harness_binary(PathBuf::from(env!("CARGO_BIN_EXE_zkurator-harness")));
    let dir = Path::new(workload_report::WORKLOAD_DIR);
    let (report, runs) = workload_report::run_corpus(dir, None, &backend, &peers, suite::Options::default())
        .expect("the workload corpus");
    println!("{}", report.matrix(false));
    println!("{}", workload_report::markdown(&runs));

    let setup: Vec<&str> = runs.iter().filter(|r| r.setup_error).map(|r| r.label.as_str()).collect();
    assert!(setup.is_empty(), "runs that could not start: {setup:?}");
    let wrong: Vec<String> =
        runs.iter().filter(|r| !r.as_intended()).map(|r| format!("{} {:?}", r.label, r.checkers)).collect();
    assert!(wrong.is_empty(), "positive runs must pass, negative controls must be caught: {wrong:?}");

    // Every runtime ran critical sections with the lock rules followed, and lost none.
    for runtime in [Runtime::Rust, Runtime::RustTasks, Runtime::RustProcess, Runtime::Curator, Runtime::Kazurator] {
        let sections: usize =
            runs.iter().filter(|r| !r.negative).filter_map(|r| r.data.critical_sections.get(&runtime)).sum();
        assert!(sections > 0, "no {runtime} critical section");
    }
    let lost: usize = runs.iter().filter(|r| !r.negative).map(|r| r.data.lost_updates).sum();
    let leases_lost: usize = runs
        .iter()
        .filter(|r| !r.negative && r.label.starts_with("increments-leases"))
        .map(|r| r.data.lost_updates)
        .sum();
    assert_eq!(lost, leases_lost, "only lease holders (within their bound) may lose updates");

    // Late writes of frozen (process) and expired (in-process) holders:
    // refused when guarded or fenced, applied (and caught) when plain.
    for in_process in [true, false] {
        for protection in [Protection::Guarded, Protection::Fenced] {
            let (attempted, rejected, applied) = late(&runs, protection, in_process);
            assert!(attempted > 0, "no late {protection:?} write (in process: {in_process})");
            assert_eq!((rejected, applied), (attempted, 0), "late {protection:?} writes must all be refused");
        }
        let (attempted, _, applied) = late(&runs, Protection::Plain, in_process);
        assert!(attempted > 0 && applied > 0, "the plain late write (negative control) must land");
    }

    // Late writes of holders partitioned past their session timeout
    // (`partition-holder-*`): the same, and the plain one is caught as a lost update.
    let partitioned: Vec<&WorkloadRun> =
        runs.iter().filter(|r| r.faults.contains(&zkurator_harness::faults::FaultKind::PartitionLong)).collect();
    for protection in [Protection::Guarded, Protection::Fenced, Protection::Plain] {
        let writes: Vec<_> =
            partitioned.iter().flat_map(|r| &r.data.late).filter(|l| l.protection == Some(protection)).collect();
        let (attempted, rejected, applied) =
            writes.iter().fold((0, 0, 0), |(a, r, p), l| (a + l.attempted, r + l.rejected, p + l.applied));
        assert!(attempted > 0, "no late {protection:?} write after a partition");
        if protection == Protection::Plain {
            assert!(applied > 0, "the partitioned holder's plain write (negative control) must land");
        } else {
            assert_eq!(
                (rejected, applied),
                (attempted, 0),
                "late {protection:?} writes after a partition must be refused"
            );
        }
    }
    assert!(
        partitioned
            .iter()
            .any(|r| r.negative && r.checkers.contains(&zkurator_harness::checkers::Checker::LostUpdates)),
        "the partitioned plain writer's lost update was not reported"
    );
}
