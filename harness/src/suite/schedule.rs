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

use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::model::{Model, Outcome};
use crate::scenario::{Action, Scenario};
use crate::workload::DataStep;

/// Sessions shorter than this (the corpus's default, 4 s) make a run
/// exclusive: a client that gets no CPU for a third of it or so loses its
/// connection (zookeeper-client: "no response from connection in 800ms" at
/// 2 s), which load beside it can cause.
pub const SHORT_SESSION: std::time::Duration = std::time::Duration::from_secs(4);

/// The environment variable that overrides the default `--jobs`.
pub const JOBS_ENV: &str = "ZKURATOR_JOBS";

/// How many timed runs ([`Exclusivity::Timed`]) a process makes side by side,
/// with no shared run beside them and the [`HostGate`] held exclusively (so
/// no other harness process runs anything meanwhile). Timed runs mostly
/// sleep (a cut, a session expiry, a frozen holder): the fault corpus, 58 of
/// its 91 runs timed, took 242 s for 29 s of CPU with them one at a time.
pub const TIMED_AT_ONCE: usize = 3;

/// What a run may overlap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exclusivity {
    /// Any other run: its verdict is timed by nothing load can stretch.
    Shared,
    /// At most [`TIMED_AT_ONCE`] - 1 other timed runs, and nothing else
    /// anywhere on the host: its verdict compares a wall-clock interval with a
    /// session or acquire timeout. The reason says which.
    Timed(&'static str),
    /// Nothing at all: it acts on the servers (restarts, kills, splits), which
    /// any other run would see.
    Alone(&'static str),
}

/// What `scenario` may overlap ([`Exclusivity`]).
pub fn exclusivity(scenario: &Scenario) -> Exclusivity {
    if scenario.is_slow() || scenario.needs_ensemble() {
        return Exclusivity::Alone(SERVER_REASON);
    }
    timed_reason(scenario).map_or(Exclusivity::Shared, Exclusivity::Timed)
}

/// The reason of every run that acts on servers.
const SERVER_REASON: &str = "restarts, kills or splits servers";

/// Why `scenario` must not run beside shared runs (it acts on servers, or it
/// is timed against a timeout), or `None` when it may overlap other runs.
pub fn exclusive_reason(scenario: &Scenario) -> Option<&'static str> {
    match exclusivity(scenario) {
        Exclusivity::Shared => None,
        Exclusivity::Timed(reason) | Exclusivity::Alone(reason) => Some(reason),
    }
}

/// Why `scenario`'s verdict is timed against a timeout, if it is.
fn timed_reason(scenario: &Scenario) -> Option<&'static str> {
    if scenario.session_timeout < SHORT_SESSION {
        return Some("a short session timeout, which a contender starved under load outlives");
    }
    let mut model = Model::new(scenario.kind, &scenario.contenders).with_session_timeout(scenario.session_timeout);
    for step in &scenario.steps {
        let reason = match &step.action {
            Action::Network { .. } => Some("a network fault timed against the session timeout"),
            Action::Data { step: DataStep::Pause(_), .. } => Some("a pause timed against the session timeout"),
            Action::ExpectLost { .. } => Some("a loss signal timed against the session timeout"),
            Action::Kill { .. } => Some("a killed process's session expiry timed against the checks"),
            _ => None,
        };
        if reason.is_some() {
            return reason;
        }
        match model.step(&step.action) {
            // A grant expected within the contender's own acquire timeout:
            // a slow contender would time out instead.
            Ok(prediction) => {
                let timed = matches!(step.action, Action::Acquire { timeout: Some(_), .. });
                if timed && prediction.outcome == Some(Outcome::Granted) {
                    return Some("a grant expected within an acquire timeout");
                }
            }
            // The run stops there (a scenario error): nothing timed follows.
            Err(_) => return None,
        }
    }
    None
}

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

/// The [`HostGate`]'s lock files (turnstile, gate) in the temporary
/// directory: empty, made once and reused by every harness process on the
/// host, so they stay after a harness ends (deleting a lock file another
/// process may be opening would split the gate in two).
pub const GATE_FILES: [&str; 2] = ["zkurator-harness-turnstile.lock", "zkurator-harness-runs.lock"];

/// The host-wide gate of runs: a file lock every run holds shared, and an
/// exclusive run exclusively. A turnstile in front lets a waiting exclusive
/// run in before new shared ones.
#[derive(Debug)]
pub struct HostGate {
    dir: PathBuf,
}

/// A run's hold of the [`HostGate`], released when dropped (closing the file
/// releases its lock).
#[derive(Debug)]
pub struct GateHold {
    _gate: Option<File>,
}

impl Default for HostGate {
    fn default() -> Self {
        HostGate { dir: std::env::temp_dir() }
    }
}

impl HostGate {
    /// A gate whose lock files are in `dir` (tests use a directory of their own).
    pub fn in_dir(dir: PathBuf) -> HostGate {
        HostGate { dir }
    }

    fn open(&self, name: &str) -> Option<File> {
        let path = self.dir.join(name);
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path);
        file.map_err(|e| tracing::warn!(path = %path.display(), error = %e, "no host-wide run gate")).ok()
    }

    /// Waits until a run of this kind may start. When the lock files cannot
    /// be made the gate is open (logged): the process's own phases still
    /// keep an exclusive run alone among its own runs.
    pub fn enter(&self, exclusive: bool) -> GateHold {
        let [turnstile, gate] = GATE_FILES;
        let (Some(turnstile), Some(gate)) = (self.open(turnstile), self.open(gate)) else {
            return GateHold { _gate: None };
        };
        if exclusive {
            // Holding the turnstile keeps new shared runs out while this one
            // waits for the running ones to end.
            let _ = turnstile.lock();
            let _ = gate.lock();
            let _ = turnstile.unlock();
        } else {
            let _ = turnstile.lock_shared();
            let _ = turnstile.unlock();
            let _ = gate.lock_shared();
        }
        GateHold { _gate: Some(gate) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(steps: &[&str]) -> Scenario {
        let steps: Vec<String> = steps.iter().map(|s| format!("{s:?}")).collect();
        let text = format!(
            "description = \"x\"\nlock = \"mutex\"\ncontenders = {{ a = \"rust-process\", b = \"rust\" }}\nsteps = [{}]\n",
            steps.join(", ")
        );
        crate::scenario::parse(std::path::Path::new("x.toml"), &text).expect("parses").remove(0)
    }

    #[test]
    fn runs_timed_against_a_timeout_or_acting_on_servers_are_exclusive() {
        let shared = ["a acquire mutex => granted", "b acquire mutex => blocked", "a crash", "b release mutex"];
        assert_eq!(exclusive_reason(&scenario(&shared)), None);
        // Waiting out a timeout is the contender's own clock: still shared.
        let times_out = ["a acquire mutex", "b acquire mutex 100ms => timeout", "a release mutex"];
        assert_eq!(exclusive_reason(&scenario(&times_out)), None);
        let restart = scenario(&["a acquire mutex", "zk restart", "a release mutex"]);
        assert_eq!(exclusivity(&restart), Exclusivity::Alone(SERVER_REASON));
        let cases: [&[&str]; 5] = [
            &["a acquire mutex", "b acquire mutex => blocked", "a kill", "b release mutex"],
            &["a acquire mutex", "a partition for 1500ms", "sleep 2s"],
            &["a acquire mutex", "a pause 2500ms"],
            &["a acquire mutex", "a expire", "a expect-lost mutex 4s"],
            &["a acquire mutex 200ms => granted", "a release mutex"],
        ];
        for steps in cases {
            assert!(matches!(exclusivity(&scenario(steps)), Exclusivity::Timed(_)), "{steps:?}");
        }
        let split = "description = \"x\"\nlock = \"mutex\"\nzk = \"ensemble\"\ncontenders = { a = \"rust\" }\n\
                     steps = [\"a acquire mutex\", \"zk isolate-member a\", \"zk heal-members\", \"a release mutex\"]\n";
        let split = crate::scenario::parse(std::path::Path::new("x.toml"), split).expect("parses").remove(0);
        assert_eq!(exclusivity(&split), Exclusivity::Alone(SERVER_REASON), "an ensemble split");
        let mut short = scenario(&shared);
        short.session_timeout = std::time::Duration::from_millis(2000);
        assert!(matches!(exclusivity(&short), Exclusivity::Timed(_)), "a 2 s session");
        assert_eq!(
            exclusive_reason(&short),
            Some("a short session timeout, which a contender starved under load outlives")
        );
    }

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

    #[test]
    fn an_exclusive_hold_of_the_gate_keeps_every_other_run_out() {
        let dir = tempfile::tempdir().unwrap();
        let gate = HostGate::in_dir(dir.path().to_owned());
        let inside = AtomicUsize::new(0);
        let overlapped = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for i in 0..6 {
                let (gate, inside, overlapped) = (&gate, &inside, &overlapped);
                scope.spawn(move || {
                    let exclusive = i % 3 == 0;
                    let _hold = gate.enter(exclusive);
                    let before = inside.fetch_add(if exclusive { 100 } else { 1 }, Ordering::SeqCst);
                    if (exclusive && before != 0) || (!exclusive && before >= 100) {
                        overlapped.fetch_add(1, Ordering::SeqCst);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(30));
                    inside.fetch_sub(if exclusive { 100 } else { 1 }, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(overlapped.load(Ordering::SeqCst), 0);
    }
}
