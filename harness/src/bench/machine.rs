//! What the benchmark ran on (CPU, cores, kernel, load) and the process's
//! memory as `/proc` reports it.

use serde::{Deserialize, Serialize};

/// The machine a benchmark ran on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// CPUs this process may use.
    pub nproc: usize,
    /// `model name` from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// Kernel release (`/proc/sys/kernel/osrelease`).
    pub kernel: String,
    /// `MemTotal` from `/proc/meminfo`, MiB.
    pub memory_mb: u64,
    /// `/proc/loadavg`'s 1, 5 and 15 minute load averages when the benchmark started:
    /// other work on the machine makes the figures noisy.
    pub load_average: String,
}

impl Machine {
    /// Reads the description of this machine.
    pub fn this() -> Machine {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        Machine {
            nproc: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            cpu_model: cpu_model(&read("/proc/cpuinfo")).unwrap_or_else(|| "unknown".to_owned()),
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            memory_mb: proc_kb(&read("/proc/meminfo"), "MemTotal").map_or(0, |kb| kb / 1024),
            load_average: read("/proc/loadavg").split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        }
    }

    /// One line for the report header.
    pub fn describe(&self) -> String {
        format!(
            "{} × {}, {} MiB, Linux {}, load average {}",
            self.nproc, self.cpu_model, self.memory_mb, self.kernel, self.load_average
        )
    }
}

/// The first `model name` of a `/proc/cpuinfo` text.
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_owned())
    })
}

/// A `Key:   1234 kB` field of a `/proc` status-like text (`/proc/self/status`,
/// `/proc/meminfo`), in kB.
pub fn proc_kb(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, value) = line.split_once(':')?;
        if k.trim() != key {
            return None;
        }
        value.split_whitespace().next()?.parse().ok()
    })
}

/// This process's resident set size (`VmRSS`), kB.
pub fn rss_kb() -> Option<u64> {
    proc_kb(&std::fs::read_to_string("/proc/self/status").ok()?, "VmRSS")
}

/// This process's peak resident set size so far (`VmHWM`), kB.
pub fn peak_rss_kb() -> Option<u64> {
    proc_kb(&std::fs::read_to_string("/proc/self/status").ok()?, "VmHWM")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_cpu_model() {
        let text = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n\
                    processor\t: 1\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n";
        assert_eq!(cpu_model(text).as_deref(), Some("Intel(R) Xeon(R) CPU @ 2.20GHz"));
        assert_eq!(cpu_model("processor : 0\n"), None);
    }

    #[test]
    fn reads_proc_fields() {
        let status = "Name:\tzkurator-harness\nVmHWM:\t   20480 kB\nVmRSS:\t   12345 kB\nThreads:\t4\n";
        assert_eq!(proc_kb(status, "VmRSS"), Some(12345));
        assert_eq!(proc_kb(status, "VmHWM"), Some(20480));
        assert_eq!(proc_kb(status, "VmSwap"), None);
        assert_eq!(proc_kb("MemTotal:       24576000 kB\n", "MemTotal"), Some(24_576_000));
    }

    #[test]
    fn describes_this_machine() {
        let machine = Machine::this();
        assert!(machine.nproc >= 1);
        let rss = rss_kb();
        assert!(rss.is_some_and(|kb| kb > 0));
        // Read after: the peak never falls, the resident size may grow meanwhile.
        assert!(peak_rss_kb() >= rss);
        assert!(machine.describe().contains(&machine.kernel));
    }
}
