//! A run's saved evidence: `history.jsonl` (format `zkurator-history`,
//! version [`VERSION`], documented in `docs/history-format.md`) and
//! `verdict.json`. Pure: text in, text out; the harness does the file I/O.
//!
//! `history.jsonl` is one JSON object per line, each with a `type`:
//! a `header` first (the run, its lock, its contenders), then one `event` per
//! history event in time order (`seq` counts from 0, `at_us` is microseconds
//! on the runner's monotonic clock since the run started), then an `end`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::checkers::Violation;
use crate::expectations::Verdict;
use crate::history::{Event, EventKind};
use crate::protocol::LockKind;

/// The format's name, in every header.
pub const FORMAT: &str = "zkurator-history";

/// The format's version: a reader refuses other major versions.
pub const VERSION: u32 = 1;

/// A saved file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// A line is not JSON of the format.
    #[error("line {line}: {message}")]
    Line {
        /// 1-based line.
        line: usize,
        /// What serde said.
        message: String,
    },
    /// The first line is not a header of this format and version.
    #[error("not a {FORMAT} v{VERSION} file: {0}")]
    Format(String),
    /// No `end` line: the run was cut short while writing.
    #[error("no end line (file truncated?)")]
    Truncated,
    /// `verdict.json` is not valid.
    #[error("verdict: {0}")]
    Verdict(String),
}

/// One contender of the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContenderInfo {
    /// Contender id.
    pub id: String,
    /// Runtime name (`rust`, `curator`, an added runtime's name).
    pub runtime: String,
    /// The runtime's library release, where known (`5.4.0`, `0.2.0`).
    pub version: Option<String>,
    /// Its ZooKeeper session id when it started (`0x…`), where the runtime tells it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

/// The first line: what ran.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`] when written by this code.
    pub version: u32,
    /// `name[pairing]`.
    pub label: String,
    /// Scenario name.
    pub scenario: String,
    /// Runtime pairing (empty when none).
    pub pairing: String,
    /// The lock kind.
    pub kind: LockKind,
    /// The run's lock path on the server.
    pub lock_path: String,
    /// Session timeout of every contender, in milliseconds.
    pub session_timeout_ms: u64,
    /// The contenders, in scenario order.
    pub contenders: Vec<ContenderInfo>,
    /// The ZooKeeper server's release.
    pub zookeeper: Option<String>,
}

/// One event line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct EventLine {
    seq: usize,
    at_us: u64,
    contender: String,
    /// The contender's runtime (absent for the runner's own `zk` events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    runtime: Option<String>,
    event: EventKind,
}

/// The last line: what the run ended with.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct End {
    /// Time of the last event, microseconds.
    pub at_us: u64,
    /// The workload counter's final value on the server, if the run had one.
    pub final_value: Option<u64>,
    /// The runner's own foreign children of the lock directory.
    pub foreign: Vec<String>,
    /// The creation zxid (czxid) of every lock node a listing showed, by full path.
    #[serde(default)]
    pub czxids: std::collections::BTreeMap<String, i64>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum Line {
    Header(Header),
    Event(EventLine),
    End(End),
}

/// A run's history with what is needed to check it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRecord {
    /// What ran.
    pub header: Header,
    /// Every event, in time order.
    pub events: Vec<Event>,
    /// How it ended.
    pub end: End,
}

impl RunRecord {
    /// The runtime name of contender `id`, if it is one.
    pub fn runtime_of(&self, id: &str) -> Option<&str> {
        self.header.contenders.iter().find(|c| c.id == id).map(|c| c.runtime.as_str())
    }

    /// The `history.jsonl` text.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        let mut push = |line: &Line| {
            out.push_str(&serde_json::to_string(line).expect("history lines serialize"));
            out.push('\n');
        };
        push(&Line::Header(self.header.clone()));
        for (seq, event) in self.events.iter().enumerate() {
            push(&Line::Event(EventLine {
                seq,
                at_us: event.at.as_micros() as u64,
                contender: event.contender.clone(),
                runtime: self.runtime_of(&event.contender).map(str::to_owned),
                event: event.kind.clone(),
            }));
        }
        push(&Line::End(self.end.clone()));
        out
    }

    /// Reads `history.jsonl` text.
    pub fn from_jsonl(text: &str) -> Result<RunRecord, RecordError> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let parse = |(n, line): (usize, &str)| {
            serde_json::from_str::<Line>(line).map_err(|e| RecordError::Line { line: n + 1, message: e.to_string() })
        };
        let header = match lines.next().map(parse).transpose()? {
            Some(Line::Header(h)) if h.format == FORMAT && h.version == VERSION => h,
            Some(Line::Header(h)) => return Err(RecordError::Format(format!("{} v{}", h.format, h.version))),
            _ => return Err(RecordError::Format("the first line is no header".into())),
        };
        let mut events = Vec::new();
        for line in lines {
            match parse(line)? {
                Line::Event(e) => {
                    events.push(Event { at: Duration::from_micros(e.at_us), contender: e.contender, kind: e.event })
                }
                Line::End(end) => return Ok(RunRecord { header, events, end }),
                Line::Header(_) => return Err(RecordError::Format("a second header".into())),
            }
        }
        Err(RecordError::Truncated)
    }
}

/// A violation as saved.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SavedViolation {
    /// Which checker.
    pub checker: crate::checker::Checker,
    /// What it saw.
    pub message: String,
}

impl From<&Violation> for SavedViolation {
    fn from(v: &Violation) -> Self {
        SavedViolation { checker: v.checker, message: v.message.clone() }
    }
}

/// `verdict.json`: the run's verdict and every violation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedVerdict {
    /// Always [`VERSION`].
    pub version: u32,
    /// `name[pairing]`.
    pub label: String,
    /// Against the expectations file.
    pub verdict: Verdict,
    /// The deviation recorded for this run in the expectations, if any.
    pub known: Option<String>,
    /// Every violation, in the order found.
    pub violations: Vec<SavedViolation>,
    /// Steps completed before the run stopped.
    pub steps_done: usize,
    /// Wall time, milliseconds.
    pub duration_ms: u64,
    /// What the linearizability checker found (beside the verdict: it does
    /// not decide it).
    #[serde(default)]
    pub linearizability: Option<LinSummary>,
}

impl SavedVerdict {
    /// The `verdict.json` text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("verdicts serialize")
    }

    /// Reads `verdict.json` text.
    pub fn from_json(text: &str) -> Result<SavedVerdict, RecordError> {
        serde_json::from_str(text).map_err(|e| RecordError::Verdict(e.to_string()))
    }
}

/// The linearizability checker's result on one run, as saved.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LinSummary {
    /// Operations on the lock.
    pub lock_ops: usize,
    /// Operations on the counter the lock protects.
    pub data_ops: usize,
    /// `Some(true)`: linearizable; `Some(false)`: not; `None`: gave up.
    pub linearizable: Option<bool>,
    /// Search steps, both objects.
    pub steps: u64,
    /// Time the search took, microseconds.
    pub micros: u64,
    /// Its findings.
    pub findings: Vec<SavedViolation>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Command, Reply, Side};

    fn record() -> RunRecord {
        let ev = |us, who: &str, kind| Event { at: Duration::from_micros(us), contender: who.into(), kind };
        RunRecord {
            header: Header {
                format: FORMAT.into(),
                version: VERSION,
                label: "s[rust]".into(),
                scenario: "s".into(),
                pairing: "rust".into(),
                kind: LockKind::ReadWrite,
                lock_path: "/l".into(),
                session_timeout_ms: 4000,
                contenders: vec![ContenderInfo {
                    id: "a".into(),
                    runtime: "rust".into(),
                    version: None,
                    session: Some("0x1000".into()),
                }],
                zookeeper: Some("3.8.0".into()),
            },
            events: vec![
                ev(0, "a", EventKind::Step { line: 3, text: "a acquire write".into() }),
                ev(5, "a", EventKind::Invoke(Command::Acquire { side: Side::Write, timeout: None })),
                ev(900, "a", EventKind::Complete(Reply::Granted { node: "/l/n".into() })),
                ev(950, "zk", EventKind::Listing(vec!["n".into()])),
                ev(990, "a", EventKind::Crash),
            ],
            end: End { at_us: 990, final_value: Some(3), foreign: vec![], czxids: [("/l/n".to_owned(), 4)].into() },
        }
    }

    #[test]
    fn round_trips_and_says_what_is_wrong() {
        let r = record();
        let text = r.to_jsonl();
        assert_eq!(text.lines().count(), 7);
        assert!(text.lines().nth(2).unwrap().contains("\"runtime\":\"rust\""));
        assert_eq!(RunRecord::from_jsonl(&text).unwrap(), r);
        let cut: String = text.lines().take(4).map(|l| format!("{l}\n")).collect();
        assert!(matches!(RunRecord::from_jsonl(&cut), Err(RecordError::Truncated)));
        let v2 = text.replacen("\"version\":1", "\"version\":2", 1);
        assert!(matches!(RunRecord::from_jsonl(&v2), Err(RecordError::Format(_))));
        let bad = text.replacen("\"crash\"", "\"explode\"", 1);
        assert!(matches!(RunRecord::from_jsonl(&bad), Err(RecordError::Line { line: 6, .. })));
    }
}
