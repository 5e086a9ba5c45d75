//! The host-wide gate of scenario runs: a file lock in the temporary
//! directory that every run holds shared and an exclusive run
//! ([`crate::exclusivity`]) exclusively, so a run timed against a timeout
//! never has a shared run beside it, in this process or in another harness
//! process (the interop test's corpus passes, CI jobs, test threads). Timed
//! runs of one process may overlap each other, [`TIMED_AT_ONCE`] at a time,
//! under one exclusive hold that, after its first [`GROUP_ADMITS_FOR`],
//! takes no new run while another waits to enter; a run acting on the
//! servers is alone.

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::exclusivity::Exclusivity;

/// How many timed runs ([`Exclusivity::Timed`]) a process makes side by side,
/// with no shared run beside them and the [`HostGate`] held exclusively (so
/// no other harness process runs anything meanwhile). Timed runs mostly
/// sleep (a cut, a session expiry, a frozen holder): the fault corpus, 58 of
/// its 91 runs timed, took 242 s for 29 s of CPU with them one at a time.
pub const TIMED_AT_ONCE: usize = 3;

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
    /// How long a timed group takes new members whether or not another run
    /// waits ([`GROUP_ADMITS_FOR`]).
    admits_for: Duration,
}

/// How long after it opened a timed group takes new timed runs even while
/// another run waits to enter; after that it takes them only while nobody
/// waits. So timed runs overlap when many come at once, and a waiting run
/// waits at most this long plus the longest timed run.
pub const GROUP_ADMITS_FOR: Duration = Duration::from_secs(10);

/// A run's hold of the [`HostGate`], released when dropped (closing the file
/// releases its lock; the last timed run of a group releases the group's).
#[derive(Debug)]
#[must_use = "the gate is let go when the hold is dropped"]
pub struct GateHold {
    _gate: Option<File>,
    group: Option<Arc<TimedGroup>>,
}

/// The timed runs of this process that share one exclusive hold of a gate.
/// In memory, per process: a file lock is held per open file, so the threads
/// of one process coordinate here (the one process-wide table of the gate).
#[derive(Debug, Default)]
struct TimedGroup {
    state: Mutex<GroupState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct GroupState {
    /// The group's exclusive hold, while it has members.
    hold: Option<GateHold>,
    /// Runs inside the group.
    members: usize,
    /// A member is waiting for the exclusive hold.
    opening: bool,
    /// When the group's hold was taken.
    opened: Option<Instant>,
}

impl Default for HostGate {
    fn default() -> Self {
        HostGate::in_dir(std::env::temp_dir())
    }
}

impl HostGate {
    /// A gate whose lock files are in `dir` (tests use a directory of their own).
    pub fn in_dir(dir: PathBuf) -> HostGate {
        HostGate { dir, admits_for: GROUP_ADMITS_FOR }
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
            return GateHold { _gate: None, group: None };
        };
        if exclusive {
            // Holding the turnstile keeps new shared runs out while this one
            // waits for the running ones to end.
            let _ = turnstile.lock();
            let _ = gate.lock();
            let _ = turnstile.unlock();
        } else {
            // Holding the turnstile while waiting shows a timed group
            // ([`HostGate::others_wait`]) that a shared run waits too.
            let _ = turnstile.lock_shared();
            let _ = gate.lock_shared();
            let _ = turnstile.unlock();
        }
        GateHold { _gate: Some(gate), group: None }
    }

    /// Whether a run is waiting to enter (it holds the turnstile while it
    /// waits): a timed group then takes no new member, so it ends and lets
    /// that run in rather than keeping the host for itself.
    fn others_wait(&self) -> bool {
        let Some(turnstile) = self.open(GATE_FILES[0]) else { return false };
        match turnstile.try_lock() {
            Ok(()) => {
                let _ = turnstile.unlock();
                false
            }
            Err(_) => true,
        }
    }

    /// Waits until a run that may overlap what `kind` says may start: a
    /// shared run beside other shared runs; a timed run beside at most
    /// [`TIMED_AT_ONCE`] - 1 timed runs of this process and nothing else on
    /// the host; a run acting on the servers alone.
    pub fn enter_for(&self, kind: Exclusivity) -> GateHold {
        match kind {
            Exclusivity::Shared => self.enter(false),
            Exclusivity::Alone(_) => self.enter(true),
            Exclusivity::Timed(_) => self.enter_timed(),
        }
    }

    fn enter_timed(&self) -> GateHold {
        let group = self.group();
        let mut state = group.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let young = state.opened.is_some_and(|at| at.elapsed() < self.admits_for);
            if state.hold.is_some() && state.members < TIMED_AT_ONCE && (young || !self.others_wait()) {
                state.members += 1;
                return GateHold { _gate: None, group: Some(group.clone()) };
            }
            if state.hold.is_none() && !state.opening {
                state.opening = true;
                drop(state);
                let hold = self.enter(true);
                state = group.state.lock().unwrap_or_else(|e| e.into_inner());
                state.opening = false;
                state.hold = Some(hold);
                state.opened = Some(Instant::now());
                state.members += 1;
                group.changed.notify_all();
                return GateHold { _gate: None, group: Some(group.clone()) };
            }
            state = group.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// This process's timed group of the gate in this gate's directory.
    fn group(&self) -> Arc<TimedGroup> {
        static GROUPS: OnceLock<Mutex<HashMap<PathBuf, Arc<TimedGroup>>>> = OnceLock::new();
        let groups = GROUPS.get_or_init(Default::default);
        let mut groups = groups.lock().unwrap_or_else(|e| e.into_inner());
        groups.entry(self.dir.clone()).or_default().clone()
    }
}

impl Drop for GateHold {
    fn drop(&mut self) {
        let Some(group) = self.group.take() else { return };
        let mut state = group.state.lock().unwrap_or_else(|e| e.into_inner());
        state.members -= 1;
        if state.members == 0 {
            // The last timed run lets the host in again.
            state.hold = None;
        }
        group.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

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

    #[test]
    fn timed_runs_overlap_each_other_a_few_at_a_time_and_nothing_else() {
        const SHARED: usize = 1;
        const TIMED: usize = 1_000;
        const ALONE: usize = 1_000_000;
        let dir = tempfile::tempdir().unwrap();
        let gate = HostGate::in_dir(dir.path().to_owned());
        let inside = AtomicUsize::new(0);
        let broken = AtomicUsize::new(0);
        let most_timed = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for i in 0..18 {
                let (gate, inside, broken, most_timed) = (&gate, &inside, &broken, &most_timed);
                scope.spawn(move || {
                    let (kind, weight) = match i % 6 {
                        0 => (Exclusivity::Alone("x"), ALONE),
                        1 | 2 => (Exclusivity::Shared, SHARED),
                        _ => (Exclusivity::Timed("x"), TIMED),
                    };
                    let _hold = gate.enter_for(kind);
                    let now = inside.fetch_add(weight, Ordering::SeqCst) + weight;
                    let (alone, timed, shared) = (now / ALONE, now % ALONE / TIMED, now % TIMED);
                    most_timed.fetch_max(timed, Ordering::SeqCst);
                    let ok = match kind {
                        Exclusivity::Alone(_) => now == ALONE,
                        Exclusivity::Shared => alone == 0 && timed == 0,
                        Exclusivity::Timed(_) => alone == 0 && shared == 0 && timed <= TIMED_AT_ONCE,
                    };
                    if !ok {
                        broken.fetch_add(1, Ordering::SeqCst);
                    }
                    std::thread::sleep(Duration::from_millis(40));
                    inside.fetch_sub(weight, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(broken.load(Ordering::SeqCst), 0, "a run overlapped one it must not");
        assert!(most_timed.load(Ordering::SeqCst) >= 2, "timed runs never overlapped each other");
    }

    #[test]
    fn a_timed_group_lets_a_waiting_run_in_before_taking_more() {
        let dir = tempfile::tempdir().unwrap();
        let gate = HostGate { admits_for: Duration::ZERO, ..HostGate::in_dir(dir.path().to_owned()) };
        let order = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            let first = gate.enter_for(Exclusivity::Timed("x"));
            scope.spawn(|| {
                let _hold = gate.enter_for(Exclusivity::Shared);
                order.lock().unwrap().push("shared");
            });
            // The shared run is waiting now; a second timed run comes after it.
            std::thread::sleep(Duration::from_millis(150));
            scope.spawn(|| {
                let _hold = gate.enter_for(Exclusivity::Timed("x"));
                order.lock().unwrap().push("timed");
            });
            std::thread::sleep(Duration::from_millis(150));
            drop(first);
        });
        assert_eq!(*order.lock().unwrap(), ["shared", "timed"], "the group kept the host for itself");
    }
}
