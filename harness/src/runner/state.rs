//! The state of one run ([`Run`]) and its I/O: the contenders' commands and
//! replies, the listings of the lock directory (through the runner's
//! [`super::observer::Observer`]), and the [`Stop`] a failed expectation ends
//! the run with.

use std::collections::BTreeMap;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use zookeeper_client::Client;

use super::driver::{spawn_driver, Driver};
use super::fault_log::FaultLog;
use super::net::Net;
use super::peers::Peers;
use super::stop::{stop, Stop};
use super::timing::Timing;
use crate::checkers::Checker;
use crate::contender::{Command, ContenderSpec, Reply};
use crate::history::{EventKind, History};
use crate::model::Model;
use crate::nemesis::ServerControl;
use crate::scenario::Scenario;

/// The state of one run.
pub(super) struct Run<'a> {
    /// The scenario being run.
    pub(super) scenario: &'a Scenario,
    /// Restarts or kills the servers (server steps).
    pub(super) control: &'a dyn ServerControl,
    /// The run's bounds and windows.
    pub(super) timing: &'a Timing,
    /// The run's lock directory (a fresh one per run).
    pub(super) lock_path: String,
    /// The runner's own session and what its listings showed.
    pub(super) observer: super::observer::Observer,
    /// What the lock queue should do.
    pub(super) model: Model,
    /// The contenders, by id.
    pub(super) drivers: BTreeMap<String, Driver>,
    /// Every command, reply, fault and listing, for the checkers.
    pub(super) history: History,
    /// Children the scenario put into the lock directory itself.
    pub(super) foreign: Vec<String>,
    /// The run's faults: what they did, and when (`faults.rs`).
    pub(super) faults: FaultLog,
    /// The workload's counter node, once a workload step created it.
    pub(super) counter: Option<String>,
    /// Each contender's proxies and partitions (network steps).
    pub(super) net: Net,
}

impl<'a> Run<'a> {
    /// A run of `scenario` on `connect`, its lock directory named afresh.
    pub(super) fn new(
        scenario: &'a Scenario,
        connect: &str,
        control: &'a dyn ServerControl,
        timing: &'a Timing,
    ) -> Self {
        let pairing = if scenario.pairing.is_empty() { "fixed".to_owned() } else { scenario.pairing.clone() };
        let lock_path =
            format!("/zkurator-harness/{}/{}-{}", scenario.name, pairing, &uuid::Uuid::new_v4().to_string()[..8]);
        Run {
            scenario,
            control,
            timing,
            lock_path,
            observer: super::observer::Observer::new(connect),
            model: Model::new(scenario.kind, &scenario.contenders).with_session_timeout(scenario.session_timeout),
            drivers: BTreeMap::new(),
            history: History::default(),
            foreign: Vec::new(),
            faults: FaultLog::default(),
            counter: None,
            net: Net::default(),
        }
    }

    /// The runner's own session, made on first use (or after it ended).
    pub(super) fn zk(&mut self) -> Result<Client, Stop> {
        self.observer.client()
    }

    /// Starts every contender of the scenario, each on its own thread.
    pub(super) fn start_contenders(&mut self, peers: &Peers) -> Result<(), Stop> {
        self.zk()?;
        for (id, runtime) in &self.scenario.contenders {
            let proxied = self.scenario.has_network_steps() || self.scenario.has_split_steps();
            let connect = self.net.connect_for(id, runtime.clone(), self.observer.connect(), proxied)?;
            let spec = ContenderSpec {
                id: id.clone(),
                connect,
                lock_path: self.lock_path.clone(),
                kind: self.scenario.kind,
                lock_data: self.scenario.lock_data.as_ref().map(|d| d.clone().into_bytes()),
                session_timeout: self.scenario.session_timeout,
            };
            let pin = self.scenario.pins.iter().find(|(pinned, _)| pinned == id).map(|(_, version)| *version);
            let driver = spawn_driver(runtime.clone(), pin, spec, peers).map_err(|message| {
                stop(Checker::Setup, format!("{runtime} contender {id} did not start: {message}"))
            })?;
            self.drivers.insert(id.clone(), driver);
        }
        Ok(())
    }

    /// The runner's end of contender `id`.
    pub(super) fn driver(&mut self, id: &str) -> &mut Driver {
        self.drivers.get_mut(id).expect("contenders were validated by the parser")
    }

    /// Sends a command and records its invoke.
    pub(super) fn send(&mut self, id: &str, command: Command) -> Result<(), Stop> {
        self.history.record(id, EventKind::Invoke(command.clone()));
        self.driver(id).commands.send(command).map_err(|_| stop(Checker::Runtime, format!("contender {id} is gone")))
    }

    /// Waits up to `within` for the contender's reply and records it.
    pub(super) fn reply(&mut self, id: &str, within: Duration) -> Option<Reply> {
        let (reply, at) = match self.driver(id).replies.recv_timeout(within) {
            Ok(got) => got,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
        };
        self.faults.last_reply_at = Some(at);
        self.history.record_at(at, id, EventKind::Complete(reply.clone()));
        if let Reply::Granted { node } = &reply {
            if let Some(side) = self.driver(id).pending.take() {
                self.driver(id).nodes.insert(side, node.clone());
            }
        }
        Some(reply)
    }

    /// Sends and waits for the reply, which must come within `within`.
    pub(super) fn call(&mut self, id: &str, command: Command, within: Duration) -> Result<Reply, Stop> {
        let described = format!("{command:?}");
        self.send(id, command)?;
        self.reply(id, within)
            .ok_or_else(|| stop(Checker::Model, format!("{id}: no reply to {described} within {within:?}")))
    }

    /// Lists the lock directory, riding out a server outage (restart, leader
    /// change) for up to a grant bound, and records the listing.
    pub(super) fn list(&mut self) -> Result<Vec<String>, Stop> {
        let children = self.observer.list(&self.lock_path, self.scenario.kind, self.timing.grant_bound)?;
        self.history.record("zk", EventKind::Listing(children.clone()));
        Ok(children)
    }
}
