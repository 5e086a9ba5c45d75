//! Faults on one contender (`crash`, `expire`, `kill`) through its
//! out-of-band handles, and `expect-lost`: how long it takes a contender to
//! notice its session ended.

use std::thread;
use std::time::{Duration, Instant};

use super::state::Run;
use super::stop::{stop, Stop};
use crate::checkers::Checker;
use crate::contender::{Command, Reply, Side};
use crate::fault_figures::{FaultKind, Injected, Latency, Role};
use crate::history::EventKind;
use crate::model::Prediction;

impl Run<'_> {
    /// Crash, expire or kill `id` through its out-of-band handle. Its holds end
    /// in the history when the fault is requested (sound for the exclusion
    /// checker: the real hold ends later); a waiting acquire must then end
    /// without a grant, unless the model says the runtime queues again.
    pub(super) fn contender_fault(&mut self, id: &str, kind: FaultKind, prediction: &Prediction) -> Result<(), Stop> {
        let bound = self.timing.grant_bound;
        let runtime = self.driver(id).runtime.clone();
        if self.drivers[id].fault_handle(kind).is_none() {
            let why = match kind {
                FaultKind::Expire => "its runtime does not tell its session credentials, so it cannot be expired",
                _ => "it runs inside the harness's own process, so it cannot be killed (use rust-process)",
            };
            return Err(stop(Checker::Runtime, format!("{id} ({runtime}): {why}")));
        };
        let role = if !prediction.ended_holds.is_empty() {
            Role::Holder
        } else if prediction.abandoned.iter().chain(&prediction.requeued).any(|c| c == id) {
            Role::Waiter
        } else {
            Role::Idle
        };
        self.history.record(id, EventKind::Crash);
        let at = Instant::now();
        if let Some(handle) = self.drivers[id].fault_handle(kind) {
            handle();
        }
        tracing::debug!(id, ?kind, took_ms = at.elapsed().as_millis() as u64, "fault injected");
        self.faults.stats.injected.push(Injected { kind, runtime: runtime.clone(), role });
        self.faults.faulted.insert(id.to_owned(), (kind, at));
        if role == Role::Holder {
            self.faults.holder_died = Some((kind, runtime.clone(), at));
        }
        if kind != FaultKind::Expire {
            self.driver(id).crashed = true;
        }
        if prediction.abandoned.iter().any(|c| c == id) {
            // The waiting acquire ends; it must not be a grant.
            let within = if kind == FaultKind::Kill { bound + self.scenario.session_timeout } else { bound };
            match self.reply(id, within) {
                Some(Reply::Granted { .. }) => {
                    return Err(stop(Checker::Model, format!("{id} was granted the lock after its {}", kind.name())))
                }
                None if kind == FaultKind::Expire => {
                    return Err(stop(
                        Checker::Model,
                        format!("{id} ({runtime}) still waits {within:?} after its session expired: its acquire should have failed"),
                    ))
                }
                _ => {}
            }
            self.driver(id).pending = None;
        }
        Ok(())
    }

    /// `C expect-lost SIDE`: polls C's status until it reports the hold of
    /// SIDE lost (or no longer held), and records how long that took after
    /// C's session expired.
    pub(super) fn expect_lost(&mut self, id: &str, side: Side, within: Option<Duration>) -> Result<(), Stop> {
        let bound = self.timing.grant_bound;
        let within = within.unwrap_or(self.scenario.session_timeout + bound);
        let runtime = self.driver(id).runtime.clone();
        let (kind, at) =
            *self.faults.faulted.get(id).ok_or_else(|| stop(Checker::Scenario, format!("{id} had no fault")))?;
        let deadline = at + within;
        loop {
            let reply = self.call(id, Command::Status, bound)?;
            let noticed = match &reply {
                Reply::Status(status) => status.lost.contains(&side) || !status.held.iter().any(|(s, _)| *s == side),
                _ => false,
            };
            if noticed {
                let after = self.faults.last_reply_at.unwrap_or_else(Instant::now).saturating_duration_since(at);
                self.faults.stats.loss_signals.push(Latency { kind, runtime: runtime.clone(), after });
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(stop(
                    Checker::LossSignal,
                    format!(
                        "{id} ({runtime}) still believes it holds {side:?} {:?} after its session expired, with no loss reported: {reply:?}",
                        at.elapsed()
                    ),
                ));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}
