//! What a suite shows while it runs: a bar on a terminal (runs done of all,
//! failures so far, elapsed and remaining time), one line per finished run
//! when stderr is not a terminal (CI logs), and the slowest runs at the end.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::expectations::Verdict;

/// How a suite shows its progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Nothing (tests, library callers).
    Off,
    /// A bar on stderr.
    Bar,
    /// One line per finished run on stderr.
    Lines,
}

impl Progress {
    /// A bar when a person watches stderr, else lines.
    pub fn for_stderr() -> Progress {
        if console::user_attended_stderr() {
            Progress::Bar
        } else {
            Progress::Lines
        }
    }
}

/// How many of the slowest runs the end of a suite lists.
const SLOWEST: usize = 5;

/// The progress of one suite.
pub(super) struct Tracker {
    mode: Progress,
    bar: ProgressBar,
    total: usize,
    failed: usize,
    took: Vec<(String, Duration)>,
}

impl Tracker {
    pub(super) fn new(mode: Progress, total: usize) -> Tracker {
        let bar = if mode == Progress::Bar { ProgressBar::new(total as u64) } else { ProgressBar::hidden() };
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} runs, {prefix} elapsed {elapsed}, about {eta} left {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix("0 failed,");
        if mode == Progress::Bar {
            bar.enable_steady_tick(Duration::from_millis(500));
        }
        Tracker { mode, bar, total, failed: 0, took: Vec::new() }
    }

    /// A phase or a run began.
    pub(super) fn note(&self, message: impl Into<std::borrow::Cow<'static, str>>) {
        self.bar.set_message(message);
    }

    /// A run ended with `verdict` after `took`.
    pub(super) fn finished(&mut self, label: &str, verdict: &Verdict, took: Duration) {
        if !verdict.as_expected() {
            self.failed += 1;
        }
        self.took.push((label.to_owned(), took));
        match self.mode {
            Progress::Off => {}
            Progress::Bar => {
                self.bar.set_prefix(format!("{} failed,", self.failed));
                self.bar.inc(1);
            }
            Progress::Lines => eprintln!(
                "[{}/{}] {label} {} {:.1}s{}",
                self.took.len(),
                self.total,
                verdict.cell(),
                took.as_secs_f64(),
                if self.failed > 0 { format!(" ({} failed so far)", self.failed) } else { String::new() }
            ),
        }
    }

    /// The end: the bar goes, the slowest runs are listed.
    pub(super) fn finish(mut self) {
        self.bar.finish_and_clear();
        if self.mode == Progress::Off || self.took.is_empty() {
            return;
        }
        eprint!("{}", slowest(&mut self.took));
    }
}

/// The slowest runs of `took`, one a line.
fn slowest(took: &mut [(String, Duration)]) -> String {
    took.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut out = String::from("slowest runs:\n");
    for (label, took) in took.iter().take(SLOWEST) {
        out.push_str(&format!("  {:>6.1}s  {label}\n", took.as_secs_f64()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slowest_come_first_and_only_five() {
        let mut took: Vec<(String, Duration)> =
            (1..=7).map(|i| (format!("run{i}"), Duration::from_millis(i * 100))).collect();
        let text = slowest(&mut took);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + SLOWEST, "{text}");
        assert!(lines[1].ends_with("run7") && lines[5].ends_with("run3"), "{text}");
    }
}
