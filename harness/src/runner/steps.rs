//! Runs one step of a scenario: sends its command (or injects its fault, or
//! acts on the server) and checks the outcome against the model.

use std::thread;
use std::time::{Duration, Instant};

use zookeeper_client::{Acls, CreateMode};

use super::state::Run;
use super::stop::{stop, Stop};
use crate::checkers;
use crate::checkers::Checker;
use crate::contender::{Command, Reply, Runtime, Side};
use crate::fault_figures::{FaultKind, Injected, Role};
use crate::model::Outcome;
use crate::nemesis::{ServerOp, ServerOpError};
use crate::scenario::Action;

impl Run<'_> {
    /// Runs one step and checks what followed against the model.
    pub(super) fn step(&mut self, step: &crate::scenario::Step) -> Result<(), Stop> {
        let prediction = self.model.step(&step.action).map_err(|e| stop(Checker::Scenario, e.0))?;
        if let (Some(expect), Some(outcome)) = (step.expect, &prediction.outcome) {
            if !outcome.satisfies(expect) {
                return Err(stop(
                    Checker::Scenario,
                    format!("the scenario expects {expect:?} but the model says {outcome:?}"),
                ));
            }
        }
        let bound = self.timing.grant_bound;
        match &step.action {
            Action::Acquire { contender, side, timeout } => {
                let command = Command::Acquire { side: *side, timeout: *timeout };
                self.driver(contender).pending = Some(*side);
                self.send(contender, command)?;
                let expected = prediction.outcome.clone().unwrap_or(Outcome::Ok);
                let wait = match expected {
                    Outcome::Blocked => self.timing.blocked_window,
                    _ => timeout.unwrap_or_default() + bound,
                };
                let reply = self.reply(contender, wait);
                self.compare(contender, &expected, reply)?;
            }
            Action::Release { contender, side } => {
                let reply = self.call(contender, Command::Release { side: *side }, bound)?;
                self.driver(contender).nodes.remove(side);
                self.compare(contender, prediction.outcome.as_ref().unwrap_or(&Outcome::Ok), Some(reply))?;
            }
            Action::Participants { contender } => {
                let reply = self.call(contender, Command::Participants, bound)?;
                let children = self.list()?;
                match reply {
                    Reply::Participants { nodes } => {
                        if let Some(v) = checkers::participants(&nodes, &children, &self.lock_path, self.scenario.kind)
                        {
                            return Err(Stop(v));
                        }
                    }
                    other => return Err(stop(Checker::Participants, format!("{contender} answered {other:?}"))),
                }
            }
            Action::Revocable { contender, side } => {
                let reply = self.call(contender, Command::MakeRevocable { side: *side }, bound)?;
                self.compare(contender, &Outcome::Ok, Some(reply))?;
            }
            Action::Revoke { contender, target, side } => {
                let node = self.driver(target).nodes.get(side).cloned();
                let node =
                    node.ok_or_else(|| stop(Checker::Runtime, format!("{target} reported no node for {side:?}")))?;
                let reply = self.call(contender, Command::Revoke { node }, bound)?;
                self.compare(contender, &Outcome::Ok, Some(reply))?;
            }
            Action::AwaitRevoked { contender, side } => self.await_revoked(contender, *side)?,
            Action::Crash { contender } => self.contender_fault(contender, FaultKind::Crash, &prediction)?,
            Action::Expire { contender } => self.contender_fault(contender, FaultKind::Expire, &prediction)?,
            Action::Kill { contender } => self.contender_fault(contender, FaultKind::Kill, &prediction)?,
            Action::ExpectLost { contender, side, within } => self.expect_lost(contender, *side, *within)?,
            Action::Server(op) => self.server_step(*op, None)?,
            Action::IsolateMemberOf { contender } => {
                let member = self.member_of(contender)?;
                let at = Instant::now();
                self.server_step(ServerOp::IsolateMember(member), Some(contender))?;
                self.moves_away(contender, member, at)?;
            }
            Action::Sleep(d) => self.sleep_watching(*d),
            Action::Foreign(name) => {
                let zk = self.zk()?;
                let path = format!("{}/{name}", self.lock_path);
                let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
                self.observer
                    .tokio
                    .block_on(async {
                        zk.mkdir(&self.lock_path, &persistent).await?;
                        zk.create(&path, b"", &persistent).await
                    })
                    .map_err(|e| stop(Checker::Runner, format!("create {path}: {e}")))?;
                self.foreign.push(name.clone());
            }
            Action::Remove(name) => {
                let zk = self.zk()?;
                let path = format!("{}/{name}", self.lock_path);
                self.observer
                    .tokio
                    .block_on(zk.delete(&path, None))
                    .map_err(|e| stop(Checker::Runner, format!("delete {path}: {e}")))?;
            }
            Action::ExpectData { contender, side, data } => {
                let node = self.driver(contender).nodes.get(side).cloned();
                let node =
                    node.ok_or_else(|| stop(Checker::Runtime, format!("{contender} reported no node for {side:?}")))?;
                let zk = self.zk()?;
                let (stored, _) = self
                    .observer
                    .tokio
                    .block_on(zk.get_data(&node))
                    .map_err(|e| stop(Checker::Runner, format!("read {node}: {e}")))?;
                if stored != data.as_bytes() {
                    return Err(stop(
                        Checker::LockData,
                        format!("{node} holds {:?}, expected {data:?}", String::from_utf8_lossy(&stored)),
                    ));
                }
            }
            Action::ExpectGone(within) => self.expect_gone(*within)?,
            Action::Data { contender, step: data } => self.data_step(contender, data, step.expect)?,
            Action::Network { contender, op } => self.network_step(contender, op)?,
        }
        // Whether this step can let a waiter in (rightly or wrongly): only
        // then do waiters get a blocked window of their own to show a wrong
        // grant. A step that frees nothing gives them none; a wrong grant
        // still shows in the check of this step or the next.
        let frees = match &step.action {
            Action::Acquire { .. } => prediction.outcome == Some(Outcome::Timeout),
            Action::Sleep(_)
            | Action::Participants { .. }
            | Action::Revocable { .. }
            | Action::ExpectData { .. }
            | Action::Foreign(_) => false,
            Action::Data { step, .. } => step.frees(),
            _ => true,
        };
        if let Some(died) = prediction.partition_expired.first() {
            let at = self.net_cut_start(died);
            self.faults.holder_died =
                Some((crate::fault_figures::FaultKind::PartitionLong, self.driver(died).runtime.clone(), at));
        }
        match step.action {
            // The holder lets go on its own time: grants and node counts are
            // checked at its `await-revoked` step.
            Action::Revoke { .. } => Ok(()),
            Action::Crash { .. } | Action::Kill { .. } => self.settle(&prediction.granted, true, frees),
            _ => self.settle(&prediction.granted, false, frees),
        }?;
        if self.scenario.has_network_steps() || self.scenario.has_split_steps() {
            self.after_network_step(&prediction)?;
        }
        Ok(())
    }

    /// `C await-revoked SIDE`: C lets go of SIDE once revoked.
    fn await_revoked(&mut self, id: &str, side: Side) -> Result<(), Stop> {
        let deadline = Instant::now() + self.timing.grant_bound;
        loop {
            match self.call(id, Command::Status, self.timing.grant_bound)? {
                Reply::Status(status) if status.revoked.contains(&side) => {
                    self.driver(id).nodes.remove(&side);
                    return Ok(());
                }
                Reply::Status(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(100)),
                other => {
                    return Err(stop(
                        Checker::Revocation,
                        format!("{id} did not release {side:?} when revoked: {other:?}"),
                    ))
                }
            }
        }
    }

    /// `expect-gone`: the lock directory is removed within `within`.
    fn expect_gone(&mut self, within: Duration) -> Result<(), Stop> {
        let zk = self.zk()?;
        let deadline = Instant::now() + within;
        while self.observer.tokio.block_on(zk.check_stat(&self.lock_path)).ok().flatten().is_some() {
            if Instant::now() >= deadline {
                return Err(stop(Checker::Cleanup, format!("{} still exists after {within:?}", self.lock_path)));
            }
            thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }
}

impl Run<'_> {
    /// A server fault: counted once for every runtime of the run, or, when it
    /// aims at one contender's member, for that contender in its role.
    fn server_step(&mut self, op: ServerOp, aimed_at: Option<&str>) -> Result<(), Stop> {
        self.history.record("zk", crate::history::EventKind::Server(op.name().to_owned()));
        if op.is_split() {
            tracing::info!(op = op.name(), placement = ?self.placement(), "contenders' members before the split");
        }
        let at = Instant::now();
        let done = self.control.apply(op).map_err(|e| match e {
            // The scenario asked for what these servers cannot do.
            ServerOpError::NotHere(why) => stop(Checker::Scenario, why),
            ServerOpError::Failed(why) => stop(Checker::Server, why),
        })?;
        tracing::info!(op = op.name(), took_ms = at.elapsed().as_millis() as u64, "{done}");
        let kind = FaultKind::of_server(op);
        if let Some(id) = aimed_at {
            let (runtime, role) = (self.driver(id).runtime.clone(), self.role_of(id));
            self.faults.stats.injected.push(Injected { kind, runtime, role });
            return Ok(());
        }
        let mut runtimes: Vec<Runtime> = self.drivers.values().map(|d| d.runtime.clone()).collect();
        runtimes.sort();
        runtimes.dedup();
        for runtime in runtimes {
            self.faults.stats.injected.push(Injected { kind, runtime, role: Role::Everyone });
        }
        Ok(())
    }
}
