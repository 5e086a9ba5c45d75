//! The scheduler of a suite: which runs may overlap, and the pool that runs
//! them.
//!
//! Runs are independent when they share nothing but the server: each has a
//! lock directory of its own (a fresh UUID in its path, `runner/state.rs`)
//! and contenders alive only for the run. Such runs overlap, `jobs` at a
//! time. A run is *exclusive* ([`exclusive_reason`]) when it acts on the
//! servers (restarts, kills, ensembles) or when its verdict compares a
//! wall-clock interval with a session or acquire timeout (network faults,
//! pauses, loss signals, killed processes, sessions shorter than 4 s, a
//! grant the model expects within an acquire timeout): those run after the
//! shared phase and never beside a shared run. Timed runs overlap each other,
//! [`TIMED_AT_ONCE`] at a time; runs acting on servers come last, each alone.
//! `jobs == 1` runs everything in corpus order, as the suite always did.
//!
//! Exclusive means host-wide: every run holds the [`HostGate`] (a file lock
//! in the temporary directory) shared, an exclusive run holds it exclusively,
//! (a suite's timed phase once for all its timed runs), so harness processes
//! running side by side (the interop test's three corpus passes, CI jobs)
//! never put load beside another one's exclusive run.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

pub use crate::exclusivity::{exclusive_reason, exclusivity, Exclusivity, SHORT_SESSION};
pub use crate::host_gate::{GateHold, HostGate, GATE_FILES, TIMED_AT_ONCE};
use crate::scenario::Scenario;

/// The environment variable that overrides the default `--jobs`.
pub const JOBS_ENV: &str = "ZKURATOR_JOBS";

/// The default number of runs at a time: `ZKURATOR_JOBS` when set, else four
/// per core (runs mostly wait: on 2 cores the corpus took 350 s at 1, 115 s
/// at 4, 70 s at 8, 67 s at 12), at most 8, and at most one per 512 MiB of
/// available memory (a run may start a JVM worker or Python processes).
pub fn default_jobs() -> usize {
    if let Some(jobs) = std::env::var(JOBS_ENV).ok().and_then(|v| v.trim().parse::<usize>().ok()) {
        return jobs.max(1);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let by_memory = available_memory().map_or(usize::MAX, |bytes| (bytes / (512 << 20)) as usize);
    (4 * cores).min(8).min(by_memory).max(1)
}

/// `MemAvailable` of /proc/meminfo, in bytes.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The order runs are made in: the phases of a suite, each a list of
/// indices in corpus order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Runs that overlap, `jobs` at a time.
    pub shared: Vec<usize>,
    /// Timed runs, [`TIMED_AT_ONCE`] (at most `jobs`) at a time, while the
    /// suite holds the host gate exclusively.
    pub timed: Vec<usize>,
    /// Runs made one at a time, last.
    pub alone: Vec<usize>,
}

/// The [`Plan`] of `scenarios`: with `jobs <= 1` every run, in corpus order,
/// alone; else the shared runs, then the timed ones, then those acting on
/// servers.
pub fn plan(scenarios: &[Scenario], jobs: usize) -> Plan {
    if jobs <= 1 {
        // One at a time: every run is alone anyway; the gate still treats
        // the exclusive ones as exclusive against other processes.
        return Plan { alone: (0..scenarios.len()).collect(), ..Plan::default() };
    }
    let mut plan = Plan::default();
    for (i, scenario) in scenarios.iter().enumerate() {
        match exclusivity(scenario) {
            Exclusivity::Shared => plan.shared.push(i),
            Exclusivity::Timed(_) => plan.timed.push(i),
            Exclusivity::Alone(_) => plan.alone.push(i),
        }
    }
    plan
}

/// Runs `work` on every index of `shared`, `jobs` at a time, handing each
/// result to `done` on the calling thread as it finishes.
pub fn pool<T: Send>(shared: &[usize], jobs: usize, work: impl Fn(usize) -> T + Sync, mut done: impl FnMut(usize, T)) {
    let next = AtomicUsize::new(0);
    let (send, receive) = mpsc::channel::<(usize, T)>();
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(shared.len()) {
            let send = send.clone();
            let (next, work) = (&next, &work);
            scope.spawn(move || {
                while let Some(&index) = shared.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if send.send((index, work(index))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(send);
        for (index, result) in receive {
            done(index, result);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exclusivity::tests::scenario;

    #[test]
    fn one_job_plays_the_corpus_order_and_more_put_timed_then_server_runs_last() {
        let all = [
            scenario(&["a acquire mutex", "zk restart", "a release mutex"]),
            scenario(&["a acquire mutex", "a release mutex"]),
            scenario(&["b acquire mutex", "b release mutex"]),
            scenario(&["a acquire mutex", "b acquire mutex => blocked", "a kill", "b release mutex"]),
        ];
        assert_eq!(plan(&all, 1), Plan { alone: vec![0, 1, 2, 3], ..Plan::default() });
        assert_eq!(plan(&all, 4), Plan { shared: vec![1, 2], timed: vec![3], alone: vec![0] });
    }

    #[test]
    fn the_pool_runs_every_index_once_and_at_most_jobs_at_a_time() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let mut seen = Vec::new();
        let indices: Vec<usize> = (0..12).collect();
        pool(
            &indices,
            3,
            |i| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(20));
                running.fetch_sub(1, Ordering::SeqCst);
                i * 10
            },
            |i, result| seen.push((i, result)),
        );
        seen.sort();
        assert_eq!(seen, indices.iter().map(|i| (*i, i * 10)).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= 3 && most.load(Ordering::SeqCst) >= 2, "{most:?}");
    }
}
