//! What the runner checks after a step: a reply against the model's outcome,
//! the grants the model announces (and no others), and the server's node
//! count.

use std::thread;
use std::time::{Duration, Instant};

use super::state::Run;
use super::stop::{stop, Stop};
use crate::checkers::Checker;
use crate::contender::{ErrorKind, Reply};
use crate::fault_figures::Latency;
use crate::model::Outcome;

impl Run<'_> {
    /// Checks a reply against the model's outcome.
    pub(super) fn compare(&mut self, id: &str, expected: &Outcome, reply: Option<Reply>) -> Result<(), Stop> {
        let fits = match (expected, &reply) {
            (Outcome::Blocked, None) => true,
            (Outcome::Granted, Some(Reply::Granted { .. })) => true,
            (Outcome::Timeout, Some(Reply::Error { kind: ErrorKind::Timeout, .. })) => true,
            (Outcome::Error(kind), Some(Reply::Error { kind: got, .. })) => kind == got,
            (Outcome::Ok, Some(Reply::Ok)) => true,
            // A runtime whose upgrade waits on itself is "denied" too; the model
            // encodes only zkurator's immediate refusal as an error.
            _ => false,
        };
        if !fits {
            let seen = match reply {
                None => "no reply (blocked)".to_owned(),
                Some(reply) => format!("{reply:?}"),
            };
            return Err(stop(
                Checker::Model,
                format!("{id} ({}): model says {expected:?}, got {seen}", self.driver(id).runtime),
            ));
        }
        if !matches!(expected, Outcome::Blocked) {
            self.driver(id).pending = None;
        }
        Ok(())
    }

    /// After a step: the grants the model announces arrive, nobody else is
    /// granted, and the server's children match the model's count. After a
    /// crash the bound grows by a session timeout (a killed process's session
    /// has to expire). Waiters get a blocked window to show a wrong grant
    /// only when the step `frees` something.
    pub(super) fn settle(&mut self, granted: &[String], after_crash: bool, frees: bool) -> Result<(), Stop> {
        let mut bound = self.timing.grant_bound;
        if after_crash {
            bound += self.scenario.session_timeout;
        }
        let died = self.faults.holder_died.take();
        for id in granted {
            match self.reply(id, bound) {
                Some(Reply::Granted { .. }) => {
                    if let (Some((kind, runtime, at)), Some(arrived)) = (died.clone(), self.faults.last_reply_at) {
                        let after = arrived.saturating_duration_since(at);
                        self.faults.stats.waiter_proceed.push(Latency { kind, runtime, after });
                    }
                }
                other => {
                    return Err(stop(
                        Checker::Model,
                        format!("{id}: model says its waiting acquire is granted now, got {other:?}"),
                    ))
                }
            }
        }
        let waiting: Vec<String> =
            self.drivers.iter().filter(|(_, d)| d.pending.is_some() && !d.crashed).map(|(id, _)| id.clone()).collect();
        if !waiting.is_empty() {
            if frees {
                thread::sleep(self.timing.blocked_window);
            }
            for id in waiting {
                if let Some(reply) = self.reply(&id, Duration::ZERO) {
                    return Err(stop(Checker::Model, format!("{id}: model says it still waits, but it got {reply:?}")));
                }
            }
        }
        self.expect_node_count(bound)
    }

    /// Cleanup: the directory holds exactly the model's nodes.
    fn expect_node_count(&mut self, within: Duration) -> Result<(), Stop> {
        let want = self.model.server_node_count();
        let deadline = Instant::now() + within;
        loop {
            let children = self.list()?;
            if children.len() == want {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(stop(
                    Checker::Cleanup,
                    format!("server has {} nodes {children:?}, model has {want}", children.len()),
                ));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}
