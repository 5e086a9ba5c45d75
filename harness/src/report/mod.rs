//! Reports of a harness run: the terminal matrix, JSON and JUnit XML.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::checkers::Checker;
use crate::contender::Runtime;
use crate::expectations::Verdict;
use crate::generate::GenReport;
use crate::outcome::RunResult;
use crate::versions::RunVersions;

/// One result with its verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// The run.
    #[serde(flatten)]
    pub result: RunResult,
    /// Compared with the expectations file.
    pub verdict: Verdict,
    /// The run's HTML page in the report directory, once saved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// When the run began and ended, from the start of the suite (runs of
    /// one suite may overlap: see [`crate::suite::schedule`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
}

/// When a run began and ended, from the start of its suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Span {
    /// The run began (its contenders not yet started).
    pub start: Duration,
    /// The run ended (its contenders gone, its checks done).
    pub end: Duration,
}

impl Span {
    /// Whether the two spans share an instant.
    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// A whole run of the harness.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// What the peers were (Curator version, kazurator version, ZooKeeper version...).
    pub environment: Vec<(String, String)>,
    /// Every scenario run.
    pub entries: Vec<Entry>,
    /// Wall time of the whole run.
    pub duration: Duration,
    /// The peer releases of the run (what the expectations were judged for).
    #[serde(default)]
    pub versions: RunVersions,
}

impl Report {
    /// True when every result agrees with the expectations.
    pub fn as_expected(&self) -> bool {
        self.entries.iter().all(|e| e.verdict.as_expected())
    }

    /// Runs that could not start (server or contenders).
    pub fn errors(&self) -> usize {
        self.entries.iter().filter(|e| matches!(e.verdict, Verdict::Error { .. })).count()
    }

    /// Counts of (pass, fail, known, unexpected pass); setup errors count as fails.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let mut counts = (0, 0, 0, 0);
        for entry in &self.entries {
            match entry.verdict {
                Verdict::Pass => counts.0 += 1,
                Verdict::Fail | Verdict::Error { .. } => counts.1 += 1,
                Verdict::Known { .. } => counts.2 += 1,
                Verdict::UnexpectedPass { .. } => counts.3 += 1,
                Verdict::Skipped { .. } => {}
            }
        }
        counts
    }

    /// Whether the runs tested something, and every runtime of `wanted`
    /// (`--runtimes`) in a run that executed ([`crate::coverage::check`]).
    pub fn coverage(&self, wanted: Option<&[crate::contender::Runtime]>) -> Result<(), crate::coverage::CoverageError> {
        let runs: Vec<crate::coverage::Ran<'_>> = self
            .entries
            .iter()
            .map(|e| crate::coverage::Ran {
                runtimes: &e.result.runtimes,
                skipped: match &e.verdict {
                    Verdict::Skipped { reason } => Some(reason.as_str()),
                    _ => None,
                },
            })
            .collect();
        crate::coverage::check(&runs, wanted)
    }

    /// Runs not made because a runtime lacks a capability.
    pub fn skipped(&self) -> usize {
        self.entries.iter().filter(|e| matches!(e.verdict, Verdict::Skipped { .. })).count()
    }

    /// The scenario × pairing matrix, coloured when `colour` is set, followed
    /// by the details of every result that is not a plain pass.
    pub fn matrix(&self, colour: bool) -> String {
        let scenarios: Vec<&str> = unique(self.entries.iter().map(|e| e.result.scenario.as_str()));
        let pairings: Vec<&str> = unique(self.entries.iter().map(|e| pairing_label(&e.result.pairing)))
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let name_width = scenarios.iter().map(|s| s.len()).max().unwrap_or(8).max(8);
        let mut out = String::new();
        // Column headers, one pairing per column, written vertically compact as indices.
        let _ = writeln!(
            out,
            "{:name_width$}  {}",
            "scenario",
            (1..=pairings.len()).map(|i| format!("{i:>6}")).collect::<String>()
        );
        for scenario in &scenarios {
            let _ = write!(out, "{scenario:name_width$}  ");
            for pairing in &pairings {
                let cell = self
                    .entries
                    .iter()
                    .find(|e| e.result.scenario == *scenario && pairing_label(&e.result.pairing) == *pairing)
                    .map_or("-", |e| e.verdict.cell());
                let text = format!("{cell:>6}");
                let _ = write!(out, "{}", if colour { paint(cell, &text) } else { text });
            }
            out.push('\n');
        }
        out.push_str("\ncolumns:\n");
        for (i, pairing) in pairings.iter().enumerate() {
            let _ = writeln!(out, "{:>5}  {}", i + 1, self.versions.decorate(pairing));
        }
        let notable: Vec<&Entry> = self.entries.iter().filter(|e| e.verdict != Verdict::Pass).collect();
        if !notable.is_empty() {
            out.push_str("\ndetails:\n");
            for entry in notable {
                let _ = writeln!(out, "{} {}", entry.verdict.cell(), entry.result.label);
                match &entry.verdict {
                    Verdict::Known { reason } => {
                        let _ = writeln!(out, "    known: {reason}");
                    }
                    Verdict::UnexpectedPass { reason } => {
                        let _ = writeln!(
                            out,
                            "    recorded as failing ({reason}) but passed: update the expectations file"
                        );
                    }
                    Verdict::Skipped { reason } => {
                        let _ = writeln!(out, "    not run, the runtime lacks: {reason}");
                    }
                    _ => {}
                }
                for v in &entry.result.violations {
                    let _ = writeln!(out, "    [{}] {}", v.checker, v.message);
                }
            }
        }
        let (pass, fail, known, unexpected) = self.counts();
        let _ = writeln!(
            out,
            "\n{} runs: {pass} pass, {} FAIL, {known} known, {unexpected} unexpected pass, {} ERROR (could not start), {} skipped (a runtime lacks a capability), in {:.1} s",
            self.entries.len(),
            fail - self.errors(),
            self.errors(),
            self.skipped(),
            self.duration.as_secs_f64()
        );
        for (name, value) in &self.environment {
            let _ = writeln!(out, "{name}: {value}");
        }
        out
    }

    /// JSON with every figure.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report serializes")
    }

    /// ` @curator@5.9.0 zookeeper@3.9.5` for suite names, or nothing.
    fn suite_suffix(&self) -> String {
        let label = self.versions.label();
        if label.is_empty() {
            label
        } else {
            format!(" @{label}")
        }
    }

    /// JUnit XML: one test case per run; failures for FAIL and unexpected
    /// passes, errors for runs that could not start, known deviations skipped
    /// with their reason; the peers' versions as properties.
    pub fn junit(&self) -> String {
        let (_, fail, _, unexpected) = self.counts();
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuite name=\"zkurator-interop{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
            self.suite_suffix(),
            self.entries.len(),
            fail - self.errors() + unexpected,
            self.errors(),
            self.entries.iter().filter(|e| matches!(e.verdict, Verdict::Known { .. } | Verdict::Skipped { .. })).count(),
            self.duration.as_secs_f64()
        );
        out.push_str("  <properties>\n");
        for (name, value) in &self.environment {
            let _ = writeln!(out, "    <property name=\"{}\" value=\"{}\"/>", xml(name), xml(value));
        }
        for (name, version) in [
            ("curator.version", self.versions.curator),
            ("kazurator.version", self.versions.kazurator),
            ("zookeeper.version", self.versions.zookeeper),
        ] {
            if let Some(version) = version {
                let _ = writeln!(out, "    <property name=\"{name}\" value=\"{version}\"/>");
            }
        }
        out.push_str("  </properties>\n");
        for entry in &self.entries {
            let _ = write!(
                out,
                "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                xml(&entry.result.scenario),
                xml(pairing_label(&entry.result.pairing)),
                entry.result.duration.as_secs_f64()
            );
            let details: String =
                entry.result.violations.iter().map(|v| format!("[{}] {}\n", v.checker, v.message)).collect();
            match &entry.verdict {
                Verdict::Pass => out.push_str("/>\n"),
                Verdict::Known { reason } => {
                    let _ = writeln!(
                        out,
                        ">\n    <skipped message=\"known deviation: {}\"/>\n    <system-out>{}</system-out>\n  </testcase>",
                        xml(reason),
                        xml(&details)
                    );
                }
                Verdict::Skipped { reason } => {
                    let _ = writeln!(
                        out,
                        ">\n    <skipped message=\"not run, the runtime lacks: {}\"/>\n  </testcase>",
                        xml(reason)
                    );
                }
                Verdict::Error { message } => {
                    let _ = writeln!(
                        out,
                        ">\n    <error message=\"{}\">{}</error>\n  </testcase>",
                        xml(message),
                        xml(&details)
                    );
                }
                Verdict::Fail => {
                    let mut first = entry.result.violations.first().map_or(String::new(), |v| v.message.clone());
                    if let Some(page) = &entry.page {
                        first = format!("{first} (timeline: {page})");
                    }
                    let _ = writeln!(
                        out,
                        ">\n    <failure message=\"{}\">{}</failure>\n  </testcase>",
                        xml(&first),
                        xml(&details)
                    );
                }
                Verdict::UnexpectedPass { reason } => {
                    let page = entry.page.as_ref().map_or(String::new(), |p| format!(" (timeline: {p})"));
                    let _ = writeln!(
                        out,
                        ">\n    <failure message=\"expected to fail ({}) but passed: update the expectations file{}\"/>\n  </testcase>",
                        xml(reason),
                        xml(&page)
                    );
                }
            }
        }
        out.push_str("</testsuite>\n");
        out
    }
}

/// The report of `zkurator-harness gen` (`--json`, `--junit`): the schedules
/// that passed as one run (`generated[seed S: N cases]`), then the minimal
/// failing schedule as a failing run with its violations, or the run that could
/// not start as an error; seed, counts and the minimal schedule in the environment.
pub fn generated(gen: &GenReport, seed: u64, pool: &[Runtime]) -> Report {
    const NAME: &str = "generated";
    let names: Vec<&str> = pool.iter().map(|r| r.name()).collect();
    let mut environment = vec![
        ("seed".to_owned(), seed.to_string()),
        ("cases".to_owned(), gen.cases.to_string()),
        ("runs".to_owned(), gen.runs.to_string()),
        ("runtimes".to_owned(), names.join(",")),
    ];
    let entry = |pairing: String, runtimes: Vec<Runtime>, violations, duration, steps_done, verdict| Entry {
        result: RunResult {
            label: format!("{NAME}[{pairing}]"),
            scenario: NAME.to_owned(),
            pairing,
            runtimes,
            violations,
            duration,
            steps_done,
            evidence: None,
        },
        verdict,
        page: None,
        span: None,
    };
    let passed = match (&gen.failure, &gen.setup_error) {
        (Some(_), _) | (_, Some(_)) => gen.cases.saturating_sub(1),
        (None, None) => gen.cases,
    };
    let mut entries = Vec::new();
    if passed > 0 {
        let pairing = format!("seed {seed}: {passed} cases");
        entries.push(entry(pairing, pool.to_vec(), Vec::new(), gen.elapsed, 0, Verdict::Pass));
    }
    if let Some(message) = &gen.setup_error {
        let pairing = format!("seed {seed}: case {}", gen.cases.max(1));
        let violations = vec![crate::checkers::Violation { checker: Checker::Setup, message: message.clone() }];
        entries.push(entry(
            pairing,
            pool.to_vec(),
            violations,
            Duration::ZERO,
            0,
            Verdict::Error { message: message.clone() },
        ));
    } else if let Some((scenario, violations)) = &gen.failure {
        if let Some(at) = gen.caught_at {
            environment.push(("caught at case".to_owned(), at.to_string()));
        }
        let steps: Vec<&str> = scenario.steps.iter().map(|s| s.text.as_str()).collect();
        environment.push(("minimal schedule".to_owned(), steps.join("; ")));
        environment.push(("confirmed".to_owned(), gen.confirmed.to_string()));
        if let Some(path) = &gen.written {
            environment.push(("written".to_owned(), path.display().to_string()));
        }
        let runtimes = scenario.contenders.iter().map(|(_, r)| r.clone()).collect();
        let pairing = format!("seed {seed}: minimal {}", scenario.pairing);
        entries.push(entry(pairing, runtimes, violations.clone(), Duration::ZERO, steps.len(), Verdict::Fail));
    }
    Report { environment, entries, duration: gen.elapsed, versions: RunVersions::default() }
}

fn pairing_label(pairing: &str) -> &str {
    if pairing.is_empty() {
        "fixed"
    } else {
        pairing
    }
}

fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn paint(cell: &str, text: &str) -> String {
    let style = match cell {
        "pass" => console::Style::new().green(),
        "FAIL" | "PASS?" | "ERROR" => console::Style::new().red().bold(),
        "known" => console::Style::new().yellow(),
        _ => console::Style::new().dim(),
    };
    style.apply_to(text).force_styling(true).to_string()
}

/// Escapes text for XML attributes and content.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
