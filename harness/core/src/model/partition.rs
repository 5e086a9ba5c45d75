//! Partitions in the lock model. A partitioned contender still holds its
//! nodes at the server; the model counts the time that passes (its `sleep`
//! steps) while the partition lasts, and once that reaches the session
//! timeout plus a margin ([`crate::network::span`] is
//! [`Span::Long`](crate::network::Span::Long)) the server has expired the
//! session: its holds end and the waiters behind them may be granted. A step
//! that leaves a partition in the unclear zone between half the session
//! timeout and that bound is refused: the model cannot say whether the
//! session survived.

use std::time::Duration;

use super::{Ended, Model, ModelError, Prediction};
use crate::network::{self, Direction, NetOp, Span};
use crate::steps::Action;

/// The session timeout assumed when the scenario does not give one.
pub(super) const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(4);

/// A partition in force.
#[derive(Clone, Debug)]
pub(super) struct Cut {
    direction: Direction,
    /// Time passed since the partition began (the model's sleeps).
    lasted: Duration,
    /// Healed by the runner after this long.
    lasting: Option<Duration>,
}

impl Model {
    /// Whether `contender` is partitioned now.
    pub fn partitioned(&self, contender: &str) -> bool {
        self.cut.contains_key(contender)
    }

    /// A partitioned contender takes only network steps and `expect-lost`:
    /// anything that needs the server would hang until the partition ends.
    pub(super) fn check_reachable(&self, contender: &str, action: &Action) -> Result<(), ModelError> {
        if !self.cut.contains_key(contender) {
            return Ok(());
        }
        match action {
            Action::Network { .. } | Action::ExpectLost { .. } => Ok(()),
            _ => Err(ModelError(format!(
                "{contender} is partitioned from the servers: only `{contender} heal`, `{contender} delay` and `{contender} expect-lost` reach it (heal it first, or let its `for` run out with a sleep)"
            ))),
        }
    }

    /// `C partition`, `C heal`, `C delay`.
    pub(super) fn network(&mut self, contender: &str, op: &NetOp) -> Result<(), ModelError> {
        let timeout = self.session_timeout;
        match op {
            NetOp::Delay(d) if !network::delay_fits(*d, timeout) => Err(ModelError(format!(
                "`{contender} delay {}ms`: more than a third of the {}ms session timeout may cost the session; the model predicts only shorter delays",
                d.as_millis(),
                timeout.as_millis()
            ))),
            NetOp::Delay(_) => Ok(()),
            NetOp::Partition { direction, lasting } => {
                if self.cut.contains_key(contender) {
                    return Err(ModelError(format!("{contender} is partitioned already")));
                }
                match (direction, lasting.map(|d| network::span(d, timeout))) {
                    (_, Some(Span::Unclear)) => {
                        return Err(ModelError(format!(
                            "a partition of {}ms with a {}ms session timeout: at most half the timeout (the session survives) or at least the timeout plus {}ms (it expires), not in between",
                            lasting.unwrap_or_default().as_millis(),
                            timeout.as_millis(),
                            network::EXPIRY_MARGIN.as_millis()
                        )))
                    }
                    (Direction::Replies, Some(Span::Long)) => {
                        return Err(ModelError(
                            "`partition replies` longer than the session timeout: the server keeps hearing the session, so whether it ends depends on the client giving up; the model predicts only short ones".into(),
                        ))
                    }
                    _ => {}
                }
                let cut = Cut { direction: *direction, lasted: Duration::ZERO, lasting: *lasting };
                self.cut.insert(contender.to_owned(), cut);
                Ok(())
            }
            NetOp::Heal => match self.cut.remove(contender) {
                None if self.ended(contender) == Some(Ended::Expired) => Ok(()),
                None => Err(ModelError(format!("{contender} is not partitioned: nothing to heal"))),
                Some(cut) => match network::span(cut.lasted, timeout) {
                    Span::Unclear => Err(ModelError(format!(
                        "`{contender} heal` after {}ms of partition with a {}ms session timeout: unclear whether the session survived",
                        cut.lasted.as_millis(),
                        timeout.as_millis()
                    ))),
                    _ => Ok(()),
                },
            },
        }
    }

    /// A `sleep`: every partition in force lasts longer; one that became
    /// long ends its contender's session at the server.
    pub(super) fn time_passes(&mut self, d: Duration, prediction: &mut Prediction) -> Result<(), ModelError> {
        let timeout = self.session_timeout;
        let ids: Vec<String> = self.cut.keys().cloned().collect();
        for id in ids {
            let Some(cut) = self.cut.get_mut(&id) else { continue };
            cut.lasted += d;
            let over = cut.lasting.is_some_and(|l| cut.lasted >= l);
            let effective = cut.lasting.map_or(cut.lasted, |l| cut.lasted.min(l));
            let direction = cut.direction;
            let lasting = cut.lasting;
            if over {
                self.cut.remove(&id);
            }
            match network::span(effective, timeout) {
                Span::Short => {}
                Span::Unclear if over => {}
                Span::Unclear => {
                    return Err(ModelError(format!(
                        "after this sleep {id} has been partitioned {}ms with a {}ms session timeout: unclear whether its session survived (sleep to at most half the timeout, or past the timeout plus {}ms)",
                        effective.as_millis(),
                        timeout.as_millis(),
                        network::EXPIRY_MARGIN.as_millis()
                    )))
                }
                Span::Long if direction == Direction::Replies => {
                    return Err(ModelError(format!(
                        "{id}'s `partition replies` lasted past the session timeout: the model predicts only short ones (heal it earlier)"
                    )))
                }
                Span::Long if self.ended(&id).is_none() => {
                    let mut expired = Prediction::default();
                    self.end(&id, Ended::Expired, &mut expired)?;
                    prediction.ended_holds.extend(expired.ended_holds);
                    prediction.abandoned.extend(expired.abandoned);
                    prediction.requeued.extend(expired.requeued);
                    prediction.partition_expired.push(id.clone());
                    if !over {
                        // Still cut off: it stays partitioned until healed.
                        self.cut.insert(id, Cut { direction, lasted: effective, lasting });
                    }
                }
                Span::Long => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Outcome;
    use crate::protocol::{LockKind, Side};
    use crate::runtimes::Runtime;
    use crate::steps::parse_step;

    fn model() -> Model {
        let contenders = [("a".to_owned(), Runtime::Kazurator), ("b".to_owned(), Runtime::Curator)];
        Model::new(LockKind::Mutex { max_leases: 1 }, &contenders).with_session_timeout(Duration::from_secs(2))
    }

    fn step(model: &mut Model, text: &str) -> Result<Prediction, ModelError> {
        let (action, _) = parse_step(text, &["a", "b"]).expect("a step");
        model.step(&action)
    }

    #[test]
    fn a_short_partition_keeps_the_hold_and_the_waiter_waits() {
        let mut m = model();
        step(&mut m, "a acquire mutex").unwrap();
        assert_eq!(step(&mut m, "b acquire mutex").unwrap().outcome, Some(Outcome::Blocked));
        step(&mut m, "a partition for 800ms").unwrap();
        let slept = step(&mut m, "sleep 1s").unwrap();
        assert!(slept.granted.is_empty() && slept.partition_expired.is_empty());
        assert!(m.holds("a", Side::Mutex) && !m.partitioned("a"));
        assert_eq!(step(&mut m, "a release mutex").unwrap().granted, vec!["b".to_owned()]);
    }

    #[test]
    fn a_long_partition_expires_the_holder_and_lets_the_waiter_in() {
        let mut m = model();
        step(&mut m, "a acquire mutex").unwrap();
        step(&mut m, "b acquire mutex").unwrap();
        step(&mut m, "a partition").unwrap();
        assert!(step(&mut m, "a release mutex").unwrap_err().0.contains("partitioned"));
        let slept = step(&mut m, "sleep 4s").unwrap();
        assert_eq!(slept.partition_expired, vec!["a".to_owned()]);
        assert_eq!(slept.granted, vec!["b".to_owned()]);
        assert_eq!(slept.ended_holds, vec![Side::Mutex]);
        step(&mut m, "a heal").unwrap();
        assert_eq!(step(&mut m, "a expect-lost mutex").unwrap().outcome, Some(Outcome::Ok));
    }

    #[test]
    fn unclear_lengths_are_refused() {
        let mut m = model();
        step(&mut m, "a acquire mutex").unwrap();
        assert!(step(&mut m, "a partition for 2s").unwrap_err().0.contains("not in between"));
        step(&mut m, "a partition").unwrap();
        assert!(step(&mut m, "sleep 2s").unwrap_err().0.contains("unclear"));
        let mut m = model();
        step(&mut m, "a partition replies for 5s").unwrap_err();
        step(&mut m, "a partition replies").unwrap();
        step(&mut m, "sleep 500ms").unwrap();
        step(&mut m, "a heal").unwrap();
        assert!(step(&mut m, "a heal").unwrap_err().0.contains("not partitioned"));
        assert!(step(&mut m, "a delay 1s").unwrap_err().0.contains("third"));
        step(&mut m, "a delay 200ms").unwrap();
    }
}
