//! Network faults between each contender and the servers: every contender
//! of a scenario with network steps talks to every server through a proxy
//! of its own ([`crate::proxy::LatencyProxy`]), which `C partition`,
//! `C partition replies`, `C partition for D`, `C heal` and `C delay D`
//! drive. Under partitions the runner also
//!
//! * watches a cut-off holder's own lock API (its `status`, which every
//!   runtime answers without the server) during `sleep` steps, to measure
//!   the **belief window**: how long it still said "held" after the server
//!   had granted the lock to another contender;
//! * checks every hold against the server's own listing
//!   ([`crate::checkers_partition::server_grant`]): a double grant counts
//!   only where the server shows a node that forbids a granted one.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::net::{Cut, Link, OldHolder};
use super::state::Run;
use super::stop::{stop, Stop};
use crate::checkers::Checker;
use crate::contender::{Command, Reply};
use crate::fault_figures::{Belief, FaultKind, Injected, Role};
use crate::history::EventKind;
use crate::model::Prediction;
use crate::network::{Direction, NetOp};

/// How often a cut-off holder's lock API is asked during a sleep.
const WATCH_EVERY: Duration = Duration::from_millis(25);

impl Run<'_> {
    /// `C partition ...`, `C heal`, `C delay D`.
    pub(super) fn network_step(&mut self, id: &str, op: &NetOp) -> Result<(), Stop> {
        let runtime = self.driver(id).runtime.clone();
        let Some(link) = self.net.links.get(id) else {
            return Err(stop(
                Checker::Runner,
                format!("{id} has no proxy (the scenario's network steps should have made one)"),
            ));
        };
        let proxies = Arc::clone(&link.proxies);
        let generation = Arc::clone(&link.generation);
        match op {
            NetOp::Delay(d) => {
                for proxy in proxies.iter() {
                    proxy.set_latency(*d);
                }
                self.faults.stats.injected.push(Injected {
                    kind: FaultKind::Delay,
                    runtime: runtime.clone(),
                    role: self.role_of(id),
                });
            }
            NetOp::Heal => {
                self.net.heal(id);
                self.end_cut(id, false);
            }
            NetOp::Partition { direction, lasting } => {
                let requests = *direction == Direction::Both;
                for proxy in proxies.iter() {
                    proxy.drop_direction(requests, true);
                }
                let at = Instant::now();
                tracing::debug!(id, ?direction, ?lasting, "partitioned");
                let role = self.role_of(id);
                self.net.cuts.insert(id.to_owned(), Cut { direction: *direction, lasting: *lasting, at, role });
                if let Some(lasting) = *lasting {
                    let mine = generation.load(Ordering::SeqCst);
                    thread::spawn(move || {
                        thread::sleep(lasting.saturating_sub(at.elapsed()));
                        if generation.load(Ordering::SeqCst) == mine {
                            generation.fetch_add(1, Ordering::SeqCst);
                            for proxy in proxies.iter() {
                                proxy.drop_direction(false, false);
                            }
                        }
                    });
                }
            }
        }
        Ok(())
    }

    /// The index of the server `id` is connected to now (in the connect
    /// string's order), told by its proxies: the one server whose proxy has
    /// an open connection. Waits up to the grant bound for exactly one (a
    /// client between two connections has none, or two for a moment).
    pub(super) fn member_of(&self, id: &str) -> Result<usize, Stop> {
        let link = self.net.links.get(id).ok_or_else(|| {
            stop(Checker::Runner, format!("{id} has no proxy (the scenario's split steps should have made one)"))
        })?;
        let deadline = Instant::now() + self.timing.grant_bound;
        loop {
            let open: Vec<usize> =
                link.proxies.iter().enumerate().filter(|(_, p)| p.connections() > 0).map(|(i, _)| i).collect();
            match open[..] {
                [member] => return Ok(member),
                _ if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
                _ => {
                    return Err(stop(
                        Checker::Runner,
                        format!("{id} is not connected to exactly one server (open connections on members {open:?})"),
                    ))
                }
            }
        }
    }

    /// Which servers (indices in the connect string) each proxied contender
    /// has an open connection to now, for the log of a split.
    pub(super) fn placement(&self) -> BTreeMap<String, Vec<usize>> {
        let open = |link: &Link| {
            link.proxies.iter().enumerate().filter(|(_, p)| p.connections() > 0).map(|(i, _)| i).collect()
        };
        self.net.links.iter().map(|(id, link)| (id.clone(), open(link))).collect()
    }

    /// After its member was cut off (at `cut`), `id` must reconnect to
    /// another member (the majority) within its session timeout.
    pub(super) fn moves_away(&self, id: &str, from: usize, cut: Instant) -> Result<(), Stop> {
        let link = self.net.links.get(id).ok_or_else(|| stop(Checker::Runner, format!("{id} has no proxy")))?;
        let deadline = cut + self.scenario.session_timeout;
        loop {
            let open: Vec<usize> =
                link.proxies.iter().enumerate().filter(|(_, p)| p.connections() > 0).map(|(i, _)| i).collect();
            if !open.is_empty() && !open.contains(&from) {
                tracing::info!(id, from, to = ?open, after_ms = cut.elapsed().as_millis() as u64, "moved to the majority");
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(stop(
                    Checker::Split,
                    format!(
                        "{id} did not move off member {from}, which was cut off, within its session timeout (connected to {open:?})"
                    ),
                ));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The role `id` has in the model now.
    pub(super) fn role_of(&self, id: &str) -> Role {
        if self.model.nodes().iter().any(|n| n.owner.as_deref() == Some(id) && n.granted) {
            Role::Holder
        } else if self.model.pending().iter().any(|p| p == id) {
            Role::Waiter
        } else {
            Role::Idle
        }
    }

    /// Counts a partition once it ended (healed, run out or expired).
    fn end_cut(&mut self, id: &str, expired: bool) {
        let Some(cut) = self.net.cuts.remove(id) else { return };
        let runtime = self.driver(id).runtime.clone();
        let kind = match (cut.direction, expired) {
            (Direction::Replies, _) => FaultKind::PartitionReplies,
            (Direction::Both, true) => FaultKind::PartitionLong,
            (Direction::Both, false) => FaultKind::PartitionShort,
        };
        self.faults.stats.injected.push(Injected { kind, runtime: runtime.clone(), role: cut.role });
        if expired {
            self.faults.faulted.insert(id.to_owned(), (kind, cut.at));
        }
    }

    /// A `sleep`: while cut-off holders are watched, their lock API is asked
    /// every 25 ms; else a plain sleep.
    pub(super) fn sleep_watching(&mut self, d: Duration) {
        let watched: Vec<String> = self
            .net
            .cuts
            .iter()
            .filter(|(_, c)| c.role == Role::Holder)
            .map(|(id, _)| id.clone())
            .chain(self.net.old_holders.iter().filter(|(_, h)| h.learned.is_none()).map(|(id, _)| id.clone()))
            .collect();
        if watched.is_empty() {
            thread::sleep(d);
            return;
        }
        for id in &watched {
            if !self.net.old_holders.contains_key(id) {
                let runtime = self.driver(id).runtime.clone();
                self.net.old_holders.insert(
                    id.clone(),
                    OldHolder { runtime: runtime.clone(), learned: None, last_held: None, passed_on: None },
                );
            }
        }
        let until = Instant::now() + d;
        while Instant::now() < until {
            for id in &watched {
                self.watch_once(id);
            }
            thread::sleep(WATCH_EVERY.min(until.saturating_duration_since(Instant::now())));
        }
    }

    /// Asks `id` for its status once, outside the history (a status changes
    /// nothing), and notes whether its lock API still says "held".
    fn watch_once(&mut self, id: &str) {
        if self.net.old_holders.get(id).is_some_and(|h| h.learned.is_some()) {
            return;
        }
        let bound = self.timing.grant_bound;
        let driver = self.driver(id);
        let asked = Instant::now();
        if driver.pending.is_some() || driver.crashed || driver.commands.send(Command::Status).is_err() {
            return;
        }
        let Ok((reply, at)) = driver.replies.recv_timeout(bound) else { return };
        let believes = match reply {
            Reply::Status(status) => !status.held.is_empty() && status.lost.is_empty() && !status.connection_lost,
            _ => true,
        };
        if let Some(holder) = self.net.old_holders.get_mut(id) {
            if believes {
                holder.last_held = Some((asked, at));
            } else {
                holder.learned = Some(at);
            }
        }
    }

    /// After a step: a holder whose partition outlasted its session is
    /// recorded as having lost its holds at the partition's start (sound for
    /// the history's exclusion checker: that interval lies inside the real
    /// one); the grant that followed starts its belief window; partitions
    /// whose `for` ran out end; every hold is checked against the server's
    /// listing.
    pub(super) fn after_network_step(&mut self, prediction: &Prediction) -> Result<(), Stop> {
        for id in &prediction.partition_expired {
            let at = self.net.cuts.get(id).map_or_else(Instant::now, |c| c.at);
            self.history.record_at(at, id, EventKind::Crash);
            self.driver(id).nodes.clear();
            let runtime = self.driver(id).runtime.clone();
            let passed_on = (!prediction.granted.is_empty()).then_some(self.faults.last_reply_at).flatten();
            let holder = self.net.old_holders.entry(id.clone()).or_insert(OldHolder {
                runtime: runtime.clone(),
                learned: None,
                last_held: None,
                passed_on: None,
            });
            holder.passed_on = passed_on;
            self.end_cut(id, true);
        }
        let ran_out: Vec<String> = self
            .net
            .cuts
            .iter()
            .filter(|(id, c)| c.lasting.is_some_and(|l| c.at.elapsed() >= l) && !self.model.partitioned(id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in ran_out {
            self.end_cut(&id, false);
        }
        self.check_server_grants()
    }

    /// Every hold the runner knows of must fit the server's own listing.
    fn check_server_grants(&mut self) -> Result<(), Stop> {
        let held: Vec<(String, String)> = self
            .drivers
            .iter()
            .filter(|(_, d)| !d.crashed)
            .flat_map(|(id, d)| d.nodes.values().map(move |n| (id.clone(), n.clone())))
            .collect();
        if held.is_empty() {
            return Ok(());
        }
        let children = self.list()?;
        for (id, node) in held {
            if let Some(ahead) = crate::checkers_partition::server_grant(self.scenario.kind, &children, &node) {
                self.faults.stats.server_double_grants += 1;
                return Err(stop(
                    Checker::ServerExclusion,
                    format!("{id} holds {node}, but the server still lists {ahead:?} ahead of it: two sessions held nodes at once"),
                ));
            }
        }
        Ok(())
    }

    /// The end of the steps: every partition heals (so contenders can close)
    /// and the belief windows are counted.
    pub(super) fn finish_network(&mut self) {
        let ids: Vec<String> = self.net.links.keys().cloned().collect();
        for id in &ids {
            self.net.heal(id);
            if let Some(link) = self.net.links.get(id) {
                for proxy in link.proxies.iter() {
                    proxy.set_latency(Duration::ZERO);
                }
            }
        }
        let cut: Vec<String> = self.net.cuts.keys().cloned().collect();
        for id in cut {
            self.end_cut(&id, false);
        }
        for holder in std::mem::take(&mut self.net.old_holders).into_values() {
            let (Some(passed_on), kind) = (holder.passed_on, FaultKind::PartitionLong) else { continue };
            // How long it certainly still said "held" after the grant: up to
            // the last "held" asked for after the grant was seen. A holder
            // that never said otherwise was watched at least until its last
            // answer (a lower bound).
            let certainly =
                holder.last_held.map_or(Duration::ZERO, |(asked, _)| asked.saturating_duration_since(passed_on));
            let belief = match holder.learned {
                Some(_) => Belief { kind, runtime: holder.runtime, window: certainly, never: false },
                None => Belief {
                    kind,
                    runtime: holder.runtime,
                    window: holder.last_held.map_or(Duration::ZERO, |(_, at)| at.saturating_duration_since(passed_on)),
                    never: true,
                },
            };
            tracing::info!(?belief, "belief window");
            self.faults.stats.belief_windows.push(belief);
        }
    }
}

impl Run<'_> {
    /// When `id`'s partition in force began (now if none).
    pub(super) fn net_cut_start(&self, id: &str) -> Instant {
        self.net.cuts.get(id).map_or_else(Instant::now, |c| c.at)
    }
}
