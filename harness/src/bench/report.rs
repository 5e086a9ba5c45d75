//! The benchmark's output: a table per setting and the target verdicts on
//! stdout, and the whole [`BenchReport`] as JSON.

use std::fmt::Write as _;
use std::path::Path;

use super::machine::Machine;
use super::results::{BenchReport, ConfigReport, Settings, Subject, TargetResult, Verdict, Versions};
use super::stats::ratio;

/// `1234.5` → `"1,235"`: whole numbers with thousands separators.
pub fn thousands(value: f64) -> String {
    if !value.is_finite() {
        return "-".to_owned();
    }
    let rounded = value.round().abs() as u64;
    let digits = rounded.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0.0 && rounded > 0 {
        out.insert(0, '-');
    }
    out
}

/// `1.234` → `"1.23×"`, or blank when there is nothing to compare.
fn times(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.2}×")).unwrap_or_default()
}

/// The lines above the tables: machine, versions, counts.
pub fn header(machine: &Machine, versions: &Versions, settings: &Settings) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "zkurator-harness bench on {}", machine.describe());
    let or_missing = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let _ = writeln!(
        out,
        "ZooKeeper {} · Curator {} · kazurator {} (kazoo {}) · zkurator-harness {}{}",
        or_missing(&versions.zookeeper),
        or_missing(&versions.curator),
        or_missing(&versions.kazurator),
        or_missing(&versions.kazoo),
        versions.zkurator_harness,
        if versions.optimized { "" } else { " · DEBUG BUILD: figures not comparable, use --release" }
    );
    let writers: Vec<String> = settings.writers.iter().map(u32::to_string).collect();
    let _ = writeln!(
        out,
        "{}uncontended: {} cycles in {} round(s), {} warm-up cycles per round; contended: {} s after {} s warm-up, \
         writers {}; readers: {} ×{}; waiters: {}; Rust subjects on a {} tokio runtime; before measuring: \
         {} cycles to warm up each server, {} per lock kind to warm up Curator's JIT",
        if settings.quick { "QUICK (smoke) mode: " } else { "" },
        settings.iterations,
        settings.rounds,
        settings.warmup,
        settings.duration_secs,
        settings.contended_warmup_secs,
        writers.join("/"),
        settings.readers,
        settings.reader_repeats,
        settings.waiters,
        settings.tokio.name(),
        settings.server_warmup,
        settings.jvm_warmup,
    );
    out
}

/// The tables of one setting.
pub fn config_table(config: &ConfigReport) -> String {
    let mut out = String::new();
    let rtt = config.zk_round_trip_ms.map(|ms| format!(" · ZooKeeper read round trip {ms:.2} ms")).unwrap_or_default();
    let _ = writeln!(out, "\n== {} · {}{rtt} ==", config.server.label(), config.network_label());

    if !config.uncontended.is_empty() {
        let _ = writeln!(
            out,
            "{:<34} {:>9} {:>8} {:>8} {:>11}  {:>9} {:>10} {:>12} {:>12}",
            "uncontended acquire+release",
            "cycles/s",
            "p50 ms",
            "p99 ms",
            "server µs",
            "vs floor",
            "vs Curator",
            "vs kazurator",
            "vs zk-client"
        );
        let floor = config.best_floor().map(|f| f.summary.per_sec);
        for u in &config.uncontended {
            let mut compared = [None; 4];
            if u.subject == Subject::Zkurator {
                let per_sec = |subject: Subject| config.uncontended_of(subject, u.lock).map(|o| o.summary.per_sec);
                compared = [
                    floor.and_then(|f| ratio(u.summary.per_sec, f)),
                    per_sec(Subject::Curator).and_then(|o| ratio(u.summary.per_sec, o)),
                    per_sec(Subject::Kazurator).and_then(|o| ratio(u.summary.per_sec, o)),
                    per_sec(Subject::ZkClient).and_then(|o| ratio(u.summary.per_sec, o)),
                ];
            }
            let _ = writeln!(
                out,
                "  {:<32} {:>9} {:>8.2} {:>8.2} {:>11}  {:>9} {:>10} {:>12} {:>12}",
                format!("{} {}", u.subject.label(), u.lock.label()),
                thousands(u.summary.per_sec),
                u.summary.p50_ms,
                u.summary.p99_ms,
                u.server_cpu_us.map_or_else(|| "-".to_owned(), |us| format!("{us:.0}")),
                times(compared[0]),
                times(compared[1]),
                times(compared[2]),
                times(compared[3]),
            );
        }
    }

    if !config.contended.is_empty() {
        let mut writers: Vec<u32> = config.contended.iter().filter(|c| !c.shared).map(|c| c.writers).collect();
        writers.sort_unstable();
        writers.dedup();
        let _ = write!(out, "{:<34}", "contended handoffs/s");
        for n in &writers {
            let _ = write!(out, " {:>11}", format!("{n} writers"));
        }
        out.push('\n');
        let subjects: Vec<Subject> =
            Subject::ALL.into_iter().filter(|s| config.contended.iter().any(|c| c.subject == *s)).collect();
        for subject in &subjects {
            let _ = write!(out, "  {:<32}", subject.label());
            for n in &writers {
                let cell = config.contended_of(*subject, *n).map(|c| thousands(c.per_sec)).unwrap_or_default();
                let _ = write!(out, " {cell:>11}");
            }
            out.push('\n');
        }
        for other in [Subject::Curator, Subject::Kazurator, Subject::ZkClient] {
            if !subjects.contains(&other) || !subjects.contains(&Subject::Zkurator) {
                continue;
            }
            let _ = write!(out, "  {:<32}", format!("zkurator / {}", other.label()));
            for n in &writers {
                let r = config
                    .contended_of(Subject::Zkurator, *n)
                    .zip(config.contended_of(other, *n))
                    .and_then(|(zk, o)| ratio(zk.per_sec, o.per_sec));
                let _ = write!(out, " {:>11}", times(r));
            }
            out.push('\n');
        }
        for shared in config.contended.iter().filter(|c| c.shared && c.subject == Subject::Zkurator) {
            let curator = config.shared_of(Subject::Curator, shared.writers);
            let _ = writeln!(
                out,
                "  {:<32} zkurator {} · Curator {} · zkurator / Curator {}",
                format!("{} tasks sharing one handle", shared.writers),
                thousands(shared.per_sec),
                curator.map(|c| thousands(c.per_sec)).unwrap_or_default(),
                times(curator.and_then(|c| ratio(shared.per_sec, c.per_sec))),
            );
        }
    }

    if !config.readers.is_empty() {
        let readers = config.readers[0].readers;
        let _ = writeln!(
            out,
            "{:<34} {:>16} {:>16}   (medians of {} repeats; readers share one session)",
            format!("{readers} readers, then a writer"),
            "all readers hold",
            "writer's wait",
            config.readers[0].repeats.len()
        );
        for r in &config.readers {
            let _ = writeln!(
                out,
                "  {:<32} {:>13.1} ms {:>13.1} ms",
                r.subject.label(),
                r.readers_acquire_ms,
                r.writer_wait_ms
            );
        }
    }

    for w in &config.waiters {
        let _ = writeln!(
            out,
            "{:<34} VmRSS {:.1} → {:.1} MiB (+{:.1} MiB, peak {:.1}); drained in {} ms ({}/s)",
            format!("{} {} waiters, one session", w.waiters, w.subject.label()),
            w.rss_before_mb,
            w.rss_waiting_mb,
            w.rss_growth_mb,
            w.peak_rss_mb,
            thousands(w.drain_ms),
            thousands(w.drain_per_sec),
        );
    }

    for error in &config.errors {
        let _ = writeln!(out, "  ERROR {error}");
    }
    out
}

/// The target verdicts, one line each.
pub fn targets_table(targets: &[TargetResult]) -> String {
    let mut out = String::from("\nTargets (forceSync=no; every ratio from figures of this run):\n");
    for t in targets {
        let measured = match t.measured {
            Some(m) if t.target.contains("MiB") => format!("{m:.1} MiB"),
            Some(m) => format!("{m:.2}×"),
            None => "-".to_owned(),
        };
        let _ = writeln!(out, "  {:<12} {} [{}]: {measured} ({})", t.verdict.label(), t.target, t.config, t.detail);
    }
    let count = |v: Verdict| targets.iter().filter(|t| t.verdict == v).count();
    let _ = writeln!(
        out,
        "  {} met, {} missed, {} not measured",
        count(Verdict::Met),
        count(Verdict::Missed),
        count(Verdict::NotMeasured)
    );
    out
}

/// Writes the report as pretty JSON, creating the parent directory.
pub fn write_json(report: &BenchReport, path: &Path) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
    std::fs::write(path, text + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::results::{Contended, Lock, Network, ServerMode, Uncontended};
    use crate::bench::stats::Summary;

    #[test]
    fn formats_numbers() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1234.5), "1,235");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
        assert_eq!(thousands(-1500.0), "-1,500");
        assert_eq!(thousands(f64::NAN), "-");
        assert_eq!(times(Some(1.234)), "1.23×");
        assert_eq!(times(None), "");
    }

    #[test]
    fn a_table_shows_figures_and_ratios() {
        let summary = |per_sec| Summary { cycles: 10, per_sec, mean_ms: 1.0, p50_ms: 0.7, p99_ms: 1.5, max_ms: 2.0 };
        let mut config = ConfigReport::new(ServerMode::Fast, Network::Latency, 1.0);
        config.uncontended = vec![
            Uncontended {
                subject: Subject::Floor,
                lock: Lock::Raw,
                summary: summary(150.0),
                server_cpu_us: Some(480.0),
            },
            Uncontended {
                subject: Subject::Zkurator,
                lock: Lock::Mutex,
                summary: summary(225.0),
                server_cpu_us: Some(510.0),
            },
        ];
        config.contended = vec![
            Contended {
                subject: Subject::Zkurator,
                writers: 2,
                shared: false,
                handoffs: 600,
                seconds: 3.0,
                per_sec: 200.0,
            },
            Contended {
                subject: Subject::Curator,
                writers: 2,
                shared: false,
                handoffs: 300,
                seconds: 3.0,
                per_sec: 100.0,
            },
        ];
        config.errors.push("kazurator: not installed".to_owned());
        let table = config_table(&config);
        assert!(table.contains("proxy adding 1 ms each way"), "{table}");
        assert!(table.contains("1.50×"), "{table}");
        assert!(table.contains("server µs") && table.contains(" 510 "), "{table}");
        assert!(table.contains("zkurator / Curator"), "{table}");
        assert!(table.contains("2.00×"), "{table}");
        assert!(table.contains("ERROR kazurator: not installed"), "{table}");
    }
}
