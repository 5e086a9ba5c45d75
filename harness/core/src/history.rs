//! The history of a run: every command's invoke and completion, crashes and
//! the server's listings, stamped by the runner with one monotonic clock.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::protocol::{Command, Reply};

/// The text of the `step` event the runner records when a run's steps are
/// done and it closes the contenders.
pub const FINISH: &str = "(end of the steps)";

/// One thing that happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Time since the run started.
    pub at: Duration,
    /// Contender id (`zk` for the runner itself).
    pub contender: String,
    /// What happened.
    pub kind: EventKind,
}

/// The kinds of events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// The runner sent a command.
    Invoke(Command),
    /// The runner received the command's reply.
    Complete(Reply),
    /// The runner ended the contender's session.
    Crash,
    /// The runner listed the lock directory (children names).
    Listing(Vec<String>),
    /// The runner started a scenario step (its line in the file and its text).
    Step {
        /// 1-based line of the step in the scenario file (0 when generated).
        line: usize,
        /// The step as written.
        text: String,
    },
    /// The runner acted on the servers (`restart`, `kill-leader`...).
    Server(String),
}

/// An append-only history with its clock.
#[derive(Debug)]
pub struct History {
    start: Instant,
    events: Vec<Event>,
}

impl Default for History {
    fn default() -> Self {
        History { start: Instant::now(), events: Vec::new() }
    }
}

impl History {
    /// A history of already stamped events (a saved one), kept in time order.
    pub fn from_events(mut events: Vec<Event>) -> Self {
        events.sort_by_key(|e| e.at);
        History { start: Instant::now(), events }
    }

    /// Records an event now.
    pub fn record(&mut self, contender: &str, kind: EventKind) {
        self.record_at(Instant::now(), contender, kind);
    }

    /// Records an event observed at `when`.
    pub fn record_at(&mut self, when: Instant, contender: &str, kind: EventKind) {
        let at = when.saturating_duration_since(self.start);
        // Replies are stamped when they arrive, which may be before a later
        // invoke was recorded: insert in time order.
        let index = self.events.partition_point(|e| e.at <= at);
        self.events.insert(index, Event { at, contender: contender.to_owned(), kind });
    }

    /// The events in time order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }
}
