//! `bench`'s figures as a page of bar charts (inline SVG), one section per
//! configuration (server mode × network): uncontended throughput and
//! latency per subject and lock, contended hand-offs per second, readers
//! and waiters; zkurator beside the floor, zookeeper-client, Curator and
//! kazurator.

use std::fmt::Write as _;

use super::{esc, page as html_page};
use crate::bench::results::{ConfigReport, Subject};

/// The colour of a subject's bars.
fn colour(subject: Subject) -> &'static str {
    match subject {
        Subject::Floor => "#888a85",
        Subject::FloorJava => "#555753",
        Subject::Zkurator => "#3465a4",
        Subject::ZkuratorMetrics => "#204a87",
        Subject::ZkuratorNagle => "#729fcf",
        Subject::ZkClient => "#06989a",
        Subject::Curator => "#ce5c00",
        Subject::Kazurator => "#4e9a06",
    }
}

/// One bar: its label, value, colour, and an optional lighter second value
/// drawn behind it (p99 behind p50).
struct Bar {
    label: String,
    value: f64,
    behind: Option<f64>,
    colour: &'static str,
}

/// A horizontal bar chart titled `title`, values in `unit`.
fn chart(id: &str, title: &str, unit: &str, bars: &[Bar]) -> String {
    if bars.is_empty() {
        return String::new();
    }
    let (left, width, row) = (260.0, 900.0, 22.0);
    let max = bars.iter().map(|b| b.value.max(b.behind.unwrap_or(0.0))).fold(0.0f64, f64::max).max(1e-9);
    let scale = |v: f64| (v / max) * (width - left - 90.0);
    let height = 30.0 + bars.len() as f64 * row;
    let mut out = format!(
        "<h3>{}</h3><svg class=\"chart\" id=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\">",
        esc(title),
        esc(id)
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = 20.0 + i as f64 * row;
        let _ = write!(
            out,
            "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 8.0,
            y + 13.0,
            esc(&bar.label)
        );
        if let Some(behind) = bar.behind {
            let _ = write!(
                out,
                "<rect x=\"{left}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"16\" fill=\"{}\" opacity=\"0.35\"><title>{}</title></rect>",
                scale(behind),
                bar.colour,
                esc(&format!("{}: {behind:.2} {unit} (p99)", bar.label))
            );
        }
        let _ = write!(
            out,
            "<rect class=\"bar\" x=\"{left}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"16\" fill=\"{}\"><title>{}</title></rect><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            scale(bar.value).max(1.0),
            bar.colour,
            esc(&format!("{}: {:.2} {unit}", bar.label, bar.value)),
            left + scale(bar.value.max(bar.behind.unwrap_or(0.0))) + 6.0,
            y + 13.0,
            esc(&number(bar.value, bar.behind))
        );
    }
    out.push_str("</svg>\n");
    out
}

fn number(value: f64, behind: Option<f64>) -> String {
    let fmt = |v: f64| if v >= 100.0 { format!("{v:.0}") } else { format!("{v:.2}") };
    match behind {
        Some(b) => format!("{} / {}", fmt(value), fmt(b)),
        None => fmt(value),
    }
}

/// The section of one configuration.
fn section(n: usize, config: &ConfigReport) -> String {
    let mut out = format!("<h2>{}</h2>\n", esc(&config.label()));
    if let Some(rtt) = config.zk_round_trip_ms {
        let _ = writeln!(out, "<p>ZooKeeper round trip: {rtt:.3} ms</p>");
    }
    let label = |s: Subject, what: &str| format!("{} · {what}", s.label());
    let throughput: Vec<Bar> = config
        .uncontended
        .iter()
        .map(|u| Bar {
            label: label(u.subject, u.lock.label()),
            value: u.summary.per_sec,
            behind: None,
            colour: colour(u.subject),
        })
        .collect();
    out.push_str(&chart(
        &format!("c{n}-throughput"),
        "Uncontended: acquire + release cycles per second",
        "cycles/s",
        &throughput,
    ));
    let latency: Vec<Bar> = config
        .uncontended
        .iter()
        .map(|u| Bar {
            label: label(u.subject, u.lock.label()),
            value: u.summary.p50_ms,
            behind: Some(u.summary.p99_ms),
            colour: colour(u.subject),
        })
        .collect();
    out.push_str(&chart(&format!("c{n}-latency"), "Uncontended: cycle latency, ms (p50, light: p99)", "ms", &latency));
    let contended: Vec<Bar> = config
        .contended
        .iter()
        .map(|c| {
            let shared = if c.shared { ", one shared session" } else { "" };
            Bar {
                label: label(c.subject, &format!("{} writers{shared}", c.writers)),
                value: c.per_sec,
                behind: None,
                colour: colour(c.subject),
            }
        })
        .collect();
    out.push_str(&chart(
        &format!("c{n}-contended"),
        "Contended: hand-offs per second on one mutex",
        "hand-offs/s",
        &contended,
    ));
    let readers: Vec<Bar> = config
        .readers
        .iter()
        .map(|r| Bar {
            label: label(r.subject, &format!("{} readers", r.readers)),
            value: r.readers_acquire_ms,
            behind: Some(r.writer_wait_ms.max(r.readers_acquire_ms)),
            colour: colour(r.subject),
        })
        .collect();
    out.push_str(&chart(
        &format!("c{n}-readers"),
        "Readers: all holding, ms (light: the queued writer's wait)",
        "ms",
        &readers,
    ));
    let waiters: Vec<Bar> = config
        .waiters
        .iter()
        .map(|w| Bar {
            label: label(w.subject, &format!("{} waiters drained", w.waiters)),
            value: w.drain_per_sec,
            behind: None,
            colour: colour(w.subject),
        })
        .collect();
    out.push_str(&chart(&format!("c{n}-waiters"), "Waiters: drained per second", "waiters/s", &waiters));
    for error in &config.errors {
        let _ = writeln!(out, "<p class=\"violation\">{}</p>", esc(error));
    }
    out
}

/// The page of `configs` titled `title`.
pub fn page(title: &str, configs: &[ConfigReport]) -> String {
    let mut body = format!("<h1>{}</h1>\n<p>", esc(title));
    for subject in Subject::ALL {
        let _ = write!(
            body,
            "<span style=\"background:{};color:#fff;padding:0 6px\">{}</span> ",
            colour(subject),
            subject.label()
        );
    }
    body.push_str("</p>\n");
    for (n, config) in configs.iter().enumerate() {
        body.push_str(&section(n, config));
    }
    html_page(title, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::results::{Contended, Lock, Network, ServerMode, Uncontended};
    use crate::bench::stats::Summary;

    #[test]
    fn a_chart_per_figure_with_every_subject() {
        let summary = |per_sec| Summary { cycles: 10, per_sec, mean_ms: 1.0, p50_ms: 0.7, p99_ms: 1.5, max_ms: 2.0 };
        let mut config = ConfigReport::new(ServerMode::Fast, Network::Loopback, 0.0);
        config.uncontended = vec![
            Uncontended { subject: Subject::Floor, lock: Lock::Raw, summary: summary(1500.0), server_cpu_us: None },
            Uncontended {
                subject: Subject::Zkurator,
                lock: Lock::Mutex,
                summary: summary(2250.0),
                server_cpu_us: None,
            },
            Uncontended { subject: Subject::Curator, lock: Lock::Mutex, summary: summary(900.0), server_cpu_us: None },
        ];
        config.contended = vec![Contended {
            subject: Subject::Kazurator,
            writers: 8,
            shared: false,
            handoffs: 30,
            seconds: 3.0,
            per_sec: 10.0,
        }];
        let html = page("bench", &[config]);
        assert_eq!(html.matches("<svg class=\"chart\"").count(), 3, "throughput, latency, contended");
        assert!(html.contains("zkurator · mutex: 2250.00 cycles/s"), "{html}");
        assert!(html.contains("Curator · mutex: 1.50 ms (p99)"), "{html}");
        assert!(html.contains("kazurator · 8 writers"), "{html}");
        assert!(!html.contains("<script"), "no script needed");
    }
}
