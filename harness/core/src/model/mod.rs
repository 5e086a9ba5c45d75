//! A pure reference model of one lock path's queue: after each step it says
//! what the step's contender must get and which waiting contenders must now
//! hold the lock.
//!
//! It is written from the protocol's rules, not from zkurator's driver: a node
//! sorts by its sequence (foreign children by their name), a writer or mutex
//! holder is one of the first `max_leases` nodes, a reader holds when no write
//! node sorts before it, and the write holder's read node carries the write
//! node's sequence (Curator 5.5). A grant lasts until release or crash.
//!
//! Faults: a crash, a kill or a session expiry of a holder frees its nodes (a
//! kill's only once the session times out, which the runner allows for; the
//! model is about order, not time); of a waiter, abandons its acquire, except
//! that an expired Curator or zkurator waiter queues again with a new node
//! (Curator retries an acquire whose node vanished with the session; zkurator's
//! handles renew their session). Server restarts and leader changes change
//! nothing: sessions outlive short outages. A contender whose session the
//! runner ended takes no more commands, except that an expired holder may be
//! asked whether it noticed the loss (`expect-lost`), and an expired zkurator
//! contender carries on with a new session (its old holds stay lost).

use std::collections::BTreeMap;

use crate::protocol::{ErrorKind, LockKind, Side};
use crate::runtimes::Runtime;
use crate::steps::{Action, Expect, Step};

/// What the model says a step's own contender gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The acquire is granted now.
    Granted,
    /// The acquire waits (its node is queued).
    Blocked,
    /// The acquire's timeout elapses; its node goes.
    Timeout,
    /// The command fails with this kind.
    Error(ErrorKind),
    /// Plain success.
    Ok,
}

impl Outcome {
    /// Whether an author's expectation agrees with this outcome.
    pub fn satisfies(&self, expect: Expect) -> bool {
        match (expect, self) {
            (Expect::Granted, Outcome::Granted)
            | (Expect::Blocked, Outcome::Blocked)
            | (Expect::Timeout, Outcome::Timeout)
            | (Expect::Ok, Outcome::Ok) => true,
            (Expect::Denied, outcome) => matches!(outcome, Outcome::Blocked | Outcome::Timeout | Outcome::Error(_)),
            (Expect::Error(kind), Outcome::Error(actual)) => kind == *actual,
            _ => false,
        }
    }
}

/// A node in the modelled lock directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelNode {
    /// Owner contender id; `None` for a foreign child.
    pub owner: Option<String>,
    /// Side of a lock node.
    pub side: Side,
    /// Sort key: the 10-digit sequence, or a foreign child's name.
    pub key: String,
    /// Granted (held) rather than waiting.
    pub granted: bool,
    /// Reentrancy count while granted.
    pub count: u32,
}

/// A step the model cannot accept: the scenario is inconsistent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ModelError(pub String);

/// The model's answer to one step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prediction {
    /// What the step's contender gets, if the step is a contender's.
    pub outcome: Option<Outcome>,
    /// Contenders whose pending acquire is granted by this step.
    pub granted: Vec<String>,
    /// Contenders whose pending acquire ends without a grant (crash, kill, expiry).
    pub abandoned: Vec<String>,
    /// Contenders whose pending acquire lost its node and queues again with a
    /// new one, still waiting (an expired Curator waiter).
    pub requeued: Vec<String>,
    /// The sides the step's contender held when a crash, kill or expiry ended
    /// its session (their holds end at this step).
    pub ended_holds: Vec<Side>,
    /// Contenders whose session the server expired at this step because
    /// they stayed partitioned past the session timeout (their holds end).
    pub partition_expired: Vec<String>,
}

/// How the runner ended a contender's session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// `crash`: the session ended at once.
    Crashed,
    /// `kill`: the process died; the session timed out.
    Killed,
    /// `expire`: the server expired the session; the contender runs on.
    Expired,
}

/// The modelled queue of one lock path.
#[derive(Clone, Debug)]
pub struct Model {
    kind: LockKind,
    nodes: Vec<ModelNode>,
    next_sequence: u64,
    runtimes: BTreeMap<String, Runtime>,
    ended: BTreeMap<String, Ended>,
    /// Sides held when the holder's session expired (what `expect-lost` may ask).
    expired_holds: Vec<(String, Side)>,
    /// The scenario's session timeout (decides whether a partition is long).
    session_timeout: std::time::Duration,
    /// Contenders partitioned now (see partition.rs).
    cut: BTreeMap<String, partition::Cut>,
    /// Ensemble members cut off or killed now (see split.rs).
    members: split::Members,
}

impl Model {
    /// An empty lock directory with these contenders.
    pub fn new(kind: LockKind, contenders: &[(String, Runtime)]) -> Self {
        Model {
            kind,
            nodes: Vec::new(),
            next_sequence: 0,
            runtimes: contenders.iter().cloned().collect(),
            ended: BTreeMap::new(),
            expired_holds: Vec::new(),
            session_timeout: partition::DEFAULT_SESSION_TIMEOUT,
            cut: BTreeMap::new(),
            members: split::Members::default(),
        }
    }

    /// The same model with the scenario's session timeout, which decides
    /// whether a partition lets the session expire.
    pub fn with_session_timeout(mut self, session_timeout: std::time::Duration) -> Self {
        self.session_timeout = session_timeout;
        self
    }

    /// The nodes in the directory now.
    pub fn nodes(&self) -> &[ModelNode] {
        &self.nodes
    }

    /// How many nodes the server holds in this state. The model's nodes,
    /// plus for a semaphore with waiters the lease node of the first waiter:
    /// it holds the `locks/` mutex and waits with a lease node of its own.
    /// For a multi-lock, a holder has a node in every member and a waiter one
    /// in the first (where it waits).
    pub fn server_node_count(&self) -> usize {
        let waiting = self.nodes.iter().filter(|n| !n.granted).count();
        match self.kind {
            LockKind::Semaphore { .. } => self.nodes.len() + usize::from(waiting > 0),
            LockKind::Multi { .. } => waiting + (self.nodes.len() - waiting) * self.kind.node_dirs().len(),
            _ => self.nodes.len(),
        }
    }

    /// Whether `contender` holds `side`.
    pub fn holds(&self, contender: &str, side: Side) -> bool {
        self.find(contender, side).is_some_and(|i| self.nodes[i].granted)
    }

    /// How the runner ended `contender`'s session, if it did.
    pub fn ended(&self, contender: &str) -> Option<Ended> {
        self.ended.get(contender).copied()
    }

    /// Contenders waiting in an acquire.
    pub fn pending(&self) -> Vec<String> {
        self.nodes.iter().filter(|n| !n.granted).filter_map(|n| n.owner.clone()).collect()
    }

    fn find(&self, contender: &str, side: Side) -> Option<usize> {
        self.nodes.iter().position(|n| n.owner.as_deref() == Some(contender) && n.side == side)
    }

    fn is_pending(&self, contender: &str) -> bool {
        self.nodes.iter().any(|n| n.owner.as_deref() == Some(contender) && !n.granted)
    }

    /// Applies one step.
    pub fn step(&mut self, action: &Action) -> Result<Prediction, ModelError> {
        if let Some(contender) = action.contender() {
            self.check_alive(contender, action)?;
            self.check_reachable(contender, action)?;
            let out_of_band = matches!(
                action,
                Action::Crash { .. }
                    | Action::Expire { .. }
                    | Action::Kill { .. }
                    | Action::ExpectData { .. }
                    | Action::Network { .. }
                    | Action::IsolateMemberOf { .. }
                    | Action::Data { step: crate::workload::DataStep::Pause(_), .. }
            );
            let waits_itself = !out_of_band;
            if waits_itself && self.is_pending(contender) {
                return Err(ModelError(format!(
                    "contender {contender} is still waiting in an acquire: it cannot take another command (crash it, or release what it waits for first)"
                )));
            }
        }
        let mut prediction = Prediction::default();
        match action {
            Action::Acquire { contender, side, .. }
                if matches!(self.kind, LockKind::Semaphore { .. } | LockKind::Multi { .. })
                    && self.find(contender, *side).is_some() =>
            {
                return Err(ModelError(format!(
                    "{contender} holds it already: semaphore leases and multi-locks are not modelled as reentrant, and a contender takes one at a time (use another contender)"
                )));
            }
            Action::Acquire { contender, side, timeout } => {
                let mut outcome = self.acquire(contender, *side);
                if outcome == Outcome::Blocked {
                    // A free lock is granted at once: nothing can wait behind a new node.
                    prediction.granted = self.grant_waiters();
                    if prediction.granted.contains(contender) {
                        prediction.granted.retain(|c| c != contender);
                        outcome = Outcome::Granted;
                    } else if timeout.is_some() {
                        self.remove_pending(contender);
                        outcome = Outcome::Timeout;
                    }
                }
                prediction.outcome = Some(outcome);
            }
            Action::Release { contender, side } => {
                prediction.outcome = Some(self.release(contender, *side));
            }
            Action::AwaitRevoked { contender, side } => {
                if !self.holds(contender, *side) {
                    return Err(ModelError(format!("{contender} does not hold {side:?}, so it cannot be revoked")));
                }
                self.release_all(contender, *side);
            }
            Action::Crash { contender } => self.end(contender, Ended::Crashed, &mut prediction)?,
            Action::Kill { contender } => self.end(contender, Ended::Killed, &mut prediction)?,
            Action::Expire { contender } => self.end(contender, Ended::Expired, &mut prediction)?,
            Action::ExpectLost { contender, side, .. } => {
                if !self.expired_holds.iter().any(|(c, s)| c == contender && s == side) {
                    return Err(ModelError(format!(
                        "{contender} did not hold {side:?} when its session expired: nothing to report lost"
                    )));
                }
                prediction.outcome = Some(Outcome::Ok);
            }
            Action::Server(_) | Action::IsolateMemberOf { .. } => self.members_step(action)?,
            Action::Revocable { .. } => prediction.outcome = Some(Outcome::Ok),
            Action::ExpectData { contender, side, .. } => {
                if !self.holds(contender, *side) {
                    return Err(ModelError(format!("{contender} does not hold {side:?} at this step")));
                }
                prediction.outcome = Some(Outcome::Ok);
            }
            Action::Revoke { contender, target, side } => {
                if !self.holds(target, *side) {
                    return Err(ModelError(format!("{target} does not hold {side:?}: nothing to revoke")));
                }
                let _ = contender;
                prediction.outcome = Some(Outcome::Ok);
            }
            Action::Participants { .. } => prediction.outcome = Some(Outcome::Ok),
            Action::Foreign(name) => self.nodes.push(ModelNode {
                owner: None,
                side: Side::Mutex,
                key: name.clone(),
                granted: true,
                count: 1,
            }),
            Action::Remove(name) => {
                let before = self.nodes.len();
                self.nodes.retain(|n| !(n.owner.is_none() && &n.key == name));
                if before == self.nodes.len() {
                    return Err(ModelError(format!("no foreign child {name:?} to remove")));
                }
            }
            Action::Sleep(d) => self.time_passes(*d, &mut prediction)?,
            Action::ExpectGone(_) => {}
            Action::Network { contender, op } => self.network(contender, op)?,
            // A pause longer than the session timeout ends the session as an
            // expiry does (the runner refuses shorter ones); reads and writes
            // of the workload's counter do not touch the lock.
            Action::Data { contender, step: crate::workload::DataStep::Pause(_) } => {
                self.end(contender, Ended::Expired, &mut prediction)?
            }
            Action::Data { .. } => {}
        }
        prediction.granted.extend(self.grant_waiters());
        Ok(prediction)
    }

    /// Steps naming a contender whose session the runner ended are refused,
    /// except `expect-lost` after an expiry.
    fn check_alive(&self, contender: &str, action: &Action) -> Result<(), ModelError> {
        let renews = self.runtimes.get(contender).is_some_and(|r| r.renews_session());
        match (self.ended(contender), action) {
            (None, _) | (Some(Ended::Expired), Action::ExpectLost { .. } | Action::Network { .. }) => Ok(()),
            (Some(Ended::Expired), _) if renews => Ok(()),
            // A frozen or expired holder that writes when it wakes: the late
            // write the workload checks.
            (Some(Ended::Expired), Action::Data { .. }) => Ok(()),
            (Some(how), _) => {
                let step = match how {
                    Ended::Crashed => "crash",
                    Ended::Killed => "kill",
                    Ended::Expired => "expire",
                };
                Err(ModelError(format!(
                    "{contender}'s session was ended by `{contender} {step}` at an earlier step: it takes no more commands{}",
                    if how == Ended::Expired { " (only expect-lost)" } else { "" }
                )))
            }
        }
    }

    /// Ends `contender`'s session: its holds end, its pending acquire is
    /// abandoned (or, for an expired Curator waiter, queued again).
    fn end(&mut self, contender: &str, how: Ended, prediction: &mut Prediction) -> Result<(), ModelError> {
        let runtime = self.runtimes.get(contender).cloned();
        if how == Ended::Expired && runtime.as_ref().is_some_and(Runtime::shares_session) {
            return Err(ModelError(format!(
                "`{contender} expire`: rust-tasks contenders share one session, which one of them cannot lose alone; \
                 bind {contender} to rust, rust-process, curator or kazurator"
            )));
        }
        if how == Ended::Killed && runtime.as_ref().is_some_and(Runtime::in_harness_process) {
            return Err(ModelError(format!(
                "`{contender} kill`: {} contenders run inside the harness's own process and cannot be killed; \
                 bind {contender} to rust-process, curator or kazurator",
                runtime.as_ref().map_or("these", Runtime::name)
            )));
        }
        let mut held: Vec<Side> =
            self.nodes.iter().filter(|n| n.owner.as_deref() == Some(contender) && n.granted).map(|n| n.side).collect();
        held.sort();
        let waiting = self.is_pending(contender);
        if how == Ended::Expired {
            self.expired_holds.extend(held.iter().map(|s| (contender.to_owned(), *s)));
        }
        let requeue = how == Ended::Expired && waiting && runtime.is_some_and(|r| r.capabilities().requeues_on_expiry);
        let pending_side =
            self.nodes.iter().find(|n| n.owner.as_deref() == Some(contender) && !n.granted).map(|n| n.side);
        self.nodes.retain(|n| n.owner.as_deref() != Some(contender));
        match (waiting, requeue, pending_side) {
            (true, true, Some(side)) => {
                let key = format!("{:010}", self.next_sequence);
                self.next_sequence += 1;
                self.nodes.push(ModelNode { owner: Some(contender.to_owned()), side, key, granted: false, count: 1 });
                prediction.requeued.push(contender.to_owned());
            }
            (true, _, _) => prediction.abandoned.push(contender.to_owned()),
            _ => {}
        }
        prediction.ended_holds = held;
        self.ended.insert(contender.to_owned(), how);
        Ok(())
    }

    fn acquire(&mut self, contender: &str, side: Side) -> Outcome {
        if let Some(i) = self.find(contender, side) {
            self.nodes[i].count += 1;
            return Outcome::Granted;
        }
        let upgrade = side == Side::Write && self.holds(contender, Side::Read);
        if upgrade && self.runtimes.get(contender).is_some_and(|r| r.capabilities().refuses_upgrade) {
            return Outcome::Error(ErrorKind::Upgrade);
        }
        let downgrade_key = (side == Side::Read)
            .then(|| self.find(contender, Side::Write))
            .flatten()
            .map(|i| self.nodes[i].key.clone());
        let granted_at_once = downgrade_key.is_some();
        let key = downgrade_key.unwrap_or_else(|| {
            let key = format!("{:010}", self.next_sequence);
            self.next_sequence += 1;
            key
        });
        self.nodes.push(ModelNode { owner: Some(contender.to_owned()), side, key, granted: granted_at_once, count: 1 });
        if granted_at_once {
            Outcome::Granted
        } else {
            Outcome::Blocked
        }
    }

    fn release(&mut self, contender: &str, side: Side) -> Outcome {
        match self.find(contender, side) {
            Some(i) if self.nodes[i].granted => {
                self.nodes[i].count -= 1;
                if self.nodes[i].count == 0 {
                    self.nodes.remove(i);
                }
                Outcome::Ok
            }
            _ => Outcome::Error(ErrorKind::NotHeld),
        }
    }

    fn release_all(&mut self, contender: &str, side: Side) {
        if let Some(i) = self.find(contender, side) {
            self.nodes.remove(i);
        }
    }

    fn remove_pending(&mut self, contender: &str) {
        self.nodes.retain(|n| n.owner.as_deref() != Some(contender) || n.granted);
    }

    /// Grants every waiting node whose rule now holds; returns their owners.
    fn grant_waiters(&mut self) -> Vec<String> {
        let mut granted = Vec::new();
        loop {
            let ready = (0..self.nodes.len()).find(|&i| !self.nodes[i].granted && self.may_hold(i));
            let Some(i) = ready else { break };
            self.nodes[i].granted = true;
            granted.extend(self.nodes[i].owner.clone());
        }
        granted
    }

    /// The protocol's rule for node `i`, stated on the whole directory.
    fn may_hold(&self, i: usize) -> bool {
        let me = &self.nodes[i];
        let before = self.nodes.iter().filter(|n| n.key < me.key);
        match (self.kind, me.side) {
            (LockKind::ReadWrite, Side::Read) => {
                !before.into_iter().any(|n| n.owner.is_some() && n.side == Side::Write)
            }
            // A semaphore's takers queue on its `locks/` mutex, so the first
            // waiter takes the next free lease: the mutex rule with n leases.
            (LockKind::Mutex { max_leases } | LockKind::Semaphore { max_leases }, _) => {
                before.count() < max_leases as usize
            }
            // Every contender takes the members in the same order, so whoever
            // holds the first member gets the rest: a mutex.
            (LockKind::Multi { .. }, _) => before.count() == 0,
            (LockKind::ReadWrite, _) => before.count() == 0,
        }
    }
}

/// Steps the model through a scenario without any I/O: every step must be
/// possible, every written expectation must agree with the model, and a
/// release of something not held must say `=> error not-held`. Errors carry
/// the step's line.
pub fn dry_run(kind: LockKind, contenders: &[(String, Runtime)], steps: &[Step]) -> Result<(), (usize, String)> {
    dry_run_timed(Model::new(kind, contenders), steps)
}

/// [`dry_run`] from a model set up beforehand (with its session timeout).
pub fn dry_run_timed(mut model: Model, steps: &[Step]) -> Result<(), (usize, String)> {
    for step in steps {
        let prediction = model.step(&step.action).map_err(|e| (step.line, e.0))?;
        let Some(outcome) = prediction.outcome else { continue };
        if let Some(expect) = step.expect {
            if !outcome.satisfies(expect) {
                return Err((step.line, format!("expects {expect:?}, but the lock model says {outcome:?}")));
            }
        } else if let (Action::Release { contender, side }, Outcome::Error(ErrorKind::NotHeld)) =
            (&step.action, &outcome)
        {
            return Err((
                step.line,
                format!("release before acquire: {contender} does not hold {side:?} here (add `=> error not-held` if that is the point)"),
            ));
        }
    }
    Ok(())
}

mod partition;
mod split;
#[cfg(test)]
mod tests;
