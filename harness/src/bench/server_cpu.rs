//! What the server spends: the CPU time of the local ZooKeeper JVM, read
//! around each uncontended job, so every subject's cycle is shown with the
//! server CPU it costs. On loopback a single caller's cycle cannot be
//! shorter than the server's CPU for it, which bounds every ratio there.

use std::path::Path;

use super::results::{Lock, Subject};

/// Server CPU and cycles summed per (subject, lock) over a section's jobs.
#[derive(Debug, Default)]
pub(super) struct Spent(Vec<((Subject, Lock), (u64, u64))>);

impl Spent {
    /// One job of `key` made `cycles` cycles while the server's CPU time
    /// went from `before` to `after` (ns); a job unread adds nothing.
    pub(super) fn add(&mut self, key: (Subject, Lock), before: Option<u64>, after: Option<u64>, cycles: u64) {
        let (Some(before), Some(after)) = (before, after) else { return };
        let ns = after.saturating_sub(before);
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, (sum, n))) => (*sum, *n) = (*sum + ns, *n + cycles),
            None => self.0.push((key, (ns, cycles))),
        }
    }

    /// Server CPU per cycle of `key`, microseconds, if any job was read.
    pub(super) fn per_cycle_us(&self, key: (Subject, Lock)) -> Option<f64> {
        let (_, (ns, cycles)) = self.0.iter().find(|(k, _)| *k == key)?;
        (*cycles > 0).then(|| *ns as f64 / *cycles as f64 / 1e3)
    }
}

/// CPU time the process `pid` has run so far, in nanoseconds: the sum of
/// the first field of `/proc/PID/task/*/schedstat` (every live thread; a
/// ZooKeeper server's threads live as long as it does). `None` where the
/// kernel does not say (not Linux, no schedstat, the process gone).
pub(super) fn process_cpu_ns(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(Path::new("/proc").join(pid.to_string()).join("task")).ok()?;
    let mut total = 0u64;
    for task in tasks {
        let text = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += run_time_ns(&text)?;
    }
    Some(total)
}

/// The first field of a `schedstat` line: time spent running, ns.
fn run_time_ns(schedstat: &str) -> Option<u64> {
    schedstat.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedstat_line_gives_its_run_time() {
        assert_eq!(run_time_ns("218334910 81805060 687\n"), Some(218_334_910));
        assert_eq!(run_time_ns(""), None);
        assert_eq!(run_time_ns("x 1 2"), None);
    }

    #[test]
    fn this_process_has_run() {
        let pid = std::process::id();
        let before = process_cpu_ns(pid).expect("Linux reports schedstat");
        let mut spin = 0u64;
        for i in 0..5_000_000u64 {
            spin = std::hint::black_box(spin.wrapping_add(i));
        }
        assert!(process_cpu_ns(pid).expect("still here") > before, "{spin}");
        assert_eq!(process_cpu_ns(u32::MAX), None, "no such process");
    }

    #[test]
    fn jobs_of_one_key_add_up_and_unread_ones_count_nothing() {
        let mutex = (Subject::Zkurator, Lock::Mutex);
        let mut spent = Spent::default();
        spent.add(mutex, Some(1_000_000), Some(1_600_000), 1_000);
        spent.add(mutex, Some(5_000_000), Some(5_400_000), 1_000);
        spent.add(mutex, None, Some(9_000_000), 1_000);
        spent.add((Subject::Curator, Lock::Mutex), Some(0), Some(0), 0);
        assert_eq!(spent.per_cycle_us(mutex), Some(0.5));
        assert_eq!(spent.per_cycle_us((Subject::Curator, Lock::Mutex)), None, "no cycles");
        assert_eq!(spent.per_cycle_us((Subject::Floor, Lock::Raw)), None, "never measured");
    }
}
