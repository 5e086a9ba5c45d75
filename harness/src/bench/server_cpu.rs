//! What the server spends: the CPU time of the local ZooKeeper JVM, read
//! around each uncontended job, so every subject's cycle is shown with the
//! server CPU it costs. On loopback a single caller's cycle cannot be
//! shorter than the server's CPU for it, which bounds every ratio there.

use std::path::Path;

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

/// Server CPU per cycle, microseconds: `spent_ns` over `cycles`.
pub(super) fn per_cycle_us(spent_ns: u64, cycles: u64) -> Option<f64> {
    (cycles > 0).then(|| spent_ns as f64 / cycles as f64 / 1e3)
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
    fn per_cycle_is_spent_over_cycles() {
        assert_eq!(per_cycle_us(1_000_000, 2_000), Some(0.5));
        assert_eq!(per_cycle_us(1, 0), None);
    }
}
