//! Ensemble splits: the harness's 3-server ensemble is started routed
//! ([`zkurator_testserver::ServerBuilder::start_ensemble_routed`]), with a
//! [`LatencyProxy`] on every link from one member to another's quorum or
//! election port, so members can be cut apart (`zk isolate-leader`,
//! `zk isolate-follower`, `zk isolate-member C`) and joined again
//! (`zk heal-members`).
//!
//! A member is cut off by dropping every byte both ways on each link from it
//! and to it ([`LatencyProxy::drop_direction`]): its connections stay open but
//! carry nothing and new ones are starved, as behind a switch that lost the
//! member's port. The member then hears neither the leader's pings nor any
//! vote, loses its quorum after ZooKeeper's `syncLimit` and stops serving; its
//! clients are disconnected and move to the other members. A heal ends the
//! dropping and closes the links' connections (their streams lost bytes), so
//! the members connect afresh and the cut-off one rejoins.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use zkurator_testserver::{PeerLink, PeerPort, ZkEnsemble};

use crate::nemesis::{ServerOp, ServerOpError};
use crate::proxy::LatencyProxy;

/// How long a quorum-port link waits for a leader to open its port: less
/// than the ensemble's 10 s `initLimit`, within which the follower must sync.
const LEADER_PATIENCE: Duration = Duration::from_secs(4);

/// The proxies between the members of one ensemble, and which members are cut off.
#[derive(Default)]
pub struct MemberLinks {
    links: Vec<(PeerLink, LatencyProxy)>,
    cut: Mutex<BTreeSet<usize>>,
}

impl std::fmt::Debug for MemberLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MemberLinks({} links, cut {:?})", self.links.len(), self.cut())
    }
}

impl MemberLinks {
    /// The router of a routed ensemble: a proxy to `link.target`, whose
    /// address member `link.from` is to use.
    pub fn route(&mut self, link: PeerLink) -> std::io::Result<SocketAddr> {
        let proxy = LatencyProxy::start(link.target, Duration::ZERO)?;
        if link.port == PeerPort::Quorum {
            // A follower may connect before the new leader opens its port:
            // the proxy waits for it as the follower's own retries would.
            proxy.set_upstream_patience(LEADER_PATIENCE);
        }
        let addr = proxy.local_addr();
        self.links.push((link, proxy));
        Ok(addr)
    }

    fn cut_set(&self) -> MutexGuard<'_, BTreeSet<usize>> {
        self.cut.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The members cut off now.
    pub fn cut(&self) -> BTreeSet<usize> {
        self.cut_set().clone()
    }

    /// Cuts `member` off from every other member, both ways.
    pub fn isolate(&self, member: usize) {
        self.cut_set().insert(member);
        for (link, proxy) in &self.links {
            if link.from == member || link.to == member {
                proxy.drop_direction(true, true);
            }
        }
        tracing::info!(member, "ensemble member cut off");
    }

    /// Ends every cut; returns the members that were cut off.
    pub fn heal(&self) -> BTreeSet<usize> {
        let healed = std::mem::take(&mut *self.cut_set());
        for (_, proxy) in &self.links {
            proxy.drop_direction(false, false);
        }
        healed
    }
}

/// How long a split waits for the servers to settle.
const SETTLE: Duration = Duration::from_secs(60);

/// Applies a split op to `ensemble`; returns what happened.
pub fn split_op(ensemble: &ZkEnsemble, links: &MemberLinks, op: ServerOp) -> Result<String, ServerOpError> {
    let failed = |e: String| ServerOpError::Failed(e);
    let cut = links.cut();
    let joined = |cut: &BTreeSet<usize>| -> Vec<usize> {
        (0..ensemble.len()).filter(|i| !cut.contains(i) && ensemble.is_member_running(*i)).collect()
    };
    let leader = |members: &[usize]| ensemble.wait_for_leader_among(members, SETTLE).map_err(|e| failed(e.to_string()));
    let victim = match op {
        ServerOp::HealMembers => {
            let healed = links.heal();
            let running = joined(&BTreeSet::new());
            let now = leader(&running)?;
            wait_until(|| running.iter().all(|&i| ensemble.member_mode(i).is_some()), "every member serves again")?;
            return Ok(format!("healed members {healed:?}; leader is {now}"));
        }
        ServerOp::IsolateLeader => leader(&joined(&cut))?,
        ServerOp::IsolateFollower => {
            let current = leader(&joined(&cut))?;
            *joined(&cut).iter().find(|&&i| i != current).ok_or_else(|| failed("no follower to cut off".into()))?
        }
        ServerOp::IsolateMember(member) if member < ensemble.len() => member,
        ServerOp::IsolateMember(member) => {
            return Err(ServerOpError::NotHere(format!("no member {member} in a {}-member ensemble", ensemble.len())))
        }
        other => return Err(ServerOpError::NotHere(format!("`zk {}` is no split", other.name()))),
    };
    let was = ensemble.member_mode(victim).unwrap_or_else(|| "not serving".into());
    links.isolate(victim);
    let rest = joined(&links.cut());
    let majority = if rest.len() > ensemble.len() / 2 {
        format!("leader now {}", leader(&rest)?)
    } else {
        "no quorum left".into()
    };
    wait_until(|| ensemble.member_mode(victim).is_none(), "the member cut off stops serving")?;
    Ok(format!("cut off member {victim} (was {was}); {majority}"))
}

fn wait_until(mut done: impl FnMut() -> bool, what: &str) -> Result<(), ServerOpError> {
    let deadline = Instant::now() + SETTLE;
    while !done() {
        if Instant::now() >= deadline {
            return Err(ServerOpError::Failed(format!("not within {SETTLE:?}: {what}")));
        }
        thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}
