//! The runner's side of the lost-update workload ([`crate::workload`]): the
//! shared counter node, the read and write commands, the holder pauses, and
//! the lost-update check at the end of a run.

use std::thread;
use std::time::Duration;

use zookeeper_client::{Acls, CreateMode};

use super::state::Run;
use super::stop::{stop, Stop};
use crate::checkers::Checker;
use crate::checkers::Violation;
use crate::checkers_data;
use crate::contender::{Command, LockKind, Reply};
use crate::history::EventKind;
use crate::scenario::Expect;
use crate::workload::{fence_of, DataStep};

impl Run<'_> {
    /// The counter node (and its fence node), created with "0" on first use.
    fn counter(&mut self) -> Result<String, Stop> {
        if let Some(counter) = &self.counter {
            return Ok(counter.clone());
        }
        let zk = self.zk()?;
        let counter = self.lock_path.replacen("/zkurator-harness/", "/zkurator-harness-data/", 1);
        let parent = counter.rsplit_once('/').map(|(p, _)| p.to_owned()).unwrap_or_default();
        let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
        self.observer
            .tokio
            .block_on(async {
                zk.mkdir(&parent, &persistent).await?;
                zk.create(&counter, b"0", &persistent).await?;
                zk.create(&fence_of(&counter), b"0", &persistent).await
            })
            .map_err(|e| stop(Checker::Runner, format!("create the counter {counter}: {e}")))?;
        self.counter = Some(counter.clone());
        Ok(counter)
    }

    /// Runs one workload step of contender `id`.
    pub(super) fn data_step(&mut self, id: &str, step: &DataStep, expect: Option<Expect>) -> Result<(), Stop> {
        let counter = self.counter()?;
        let bound = self.timing.grant_bound;
        match step {
            DataStep::Read => self.read_value(id, &counter, bound),
            DataStep::Write { side, protection } => {
                let command = Command::WriteValue { counter, side: *side, protection: *protection };
                let reply = self.call(id, command, bound)?;
                expect_write(id, expect, &reply)
            }
            DataStep::Increment { side, pause, protection } => {
                self.read_value(id, &counter, bound)?;
                thread::sleep(*pause);
                let command = Command::WriteValue { counter, side: *side, protection: *protection };
                let reply = self.call(id, command, bound)?;
                expect_write(id, expect, &reply)
            }
            DataStep::Pause(frozen) => self.pause(id, *frozen),
        }
    }

    fn read_value(&mut self, id: &str, counter: &str, bound: Duration) -> Result<(), Stop> {
        match self.call(id, Command::ReadValue { counter: counter.to_owned() }, bound)? {
            Reply::Value { .. } => Ok(()),
            other => Err(stop(Checker::Runtime, format!("{id} could not read the counter: {other:?}"))),
        }
    }

    /// `C pause D`: freezes C's process for D (SIGSTOP/SIGCONT); a contender
    /// in the harness's process has its session expired by the server and
    /// the runner waits D, since its client keeps heartbeating on a thread of
    /// its own. Either way its session ends while it believes it holds.
    fn pause(&mut self, id: &str, frozen: Duration) -> Result<(), Stop> {
        if frozen <= self.scenario.session_timeout {
            return Err(stop(
                Checker::Scenario,
                format!("pause {frozen:?} must exceed the session timeout {:?}", self.scenario.session_timeout),
            ));
        }
        let runtime = self.driver(id).runtime.clone();
        self.history.record(id, EventKind::Crash);
        let driver = &self.drivers[id];
        if let Some(pauser) = &driver.pauser {
            pauser(frozen);
        } else if let Some(expire) = &driver.expirer {
            expire();
            thread::sleep(frozen);
        } else {
            return Err(stop(Checker::Runtime, format!("{id} ({runtime}) can be neither frozen nor expired alone")));
        }
        self.faults.stats.injected.push(crate::fault_figures::Injected {
            kind: crate::fault_figures::FaultKind::Expire,
            runtime: runtime.clone(),
            role: crate::fault_figures::Role::Holder,
        });
        Ok(())
    }

    /// At the end of a run with workload steps: the counter's final value
    /// against the writes in the history ([`checkers_data::lost_updates`]).
    pub(super) fn check_data(&mut self) -> Vec<Violation> {
        let Some(counter) = self.counter.clone() else { return Vec::new() };
        let scenario = self.scenario;
        let runtime_of = |id: &str| scenario.contenders.iter().find(|(c, _)| c == id).map(|(_, r)| r.clone());
        let mut stats = checkers_data::tally(self.history.events(), &runtime_of);
        let zk = match self.zk() {
            Ok(zk) => zk,
            Err(Stop(v)) => return vec![v],
        };
        let read = self.observer.tokio.block_on(async {
            let (data, _) = zk.get_data(&counter).await?;
            let _ = zk.delete(&fence_of(&counter), None).await;
            let _ = zk.delete(&counter, None).await;
            Ok::<_, zookeeper_client::Error>(data)
        });
        let value = match read.map(|d| String::from_utf8_lossy(&d).trim().parse::<u64>()) {
            Ok(Ok(value)) => value,
            other => {
                return vec![Violation {
                    checker: Checker::LostUpdates,
                    message: format!("cannot read {counter}: {other:?}"),
                }]
            }
        };
        let holders = match scenario.kind {
            LockKind::Mutex { max_leases } => max_leases,
            _ => 1,
        };
        let violations = checkers_data::lost_updates(&mut stats, value, holders);
        self.faults.stats.data = Some(stats);
        violations
    }
}

/// Checks a write's reply against the step's `=> ok | error KIND`, if given.
fn expect_write(id: &str, expect: Option<Expect>, reply: &Reply) -> Result<(), Stop> {
    let fits = match (expect, reply) {
        (None, _) => true,
        (Some(Expect::Ok), Reply::Ok) => true,
        (Some(Expect::Error(kind)), Reply::Error { kind: got, .. }) => kind == *got,
        (Some(Expect::Denied), Reply::Error { .. }) => true,
        _ => false,
    };
    if fits {
        Ok(())
    } else {
        Err(stop(Checker::LostUpdates, format!("{id}'s write: expected {expect:?}, got {reply:?}")))
    }
}
