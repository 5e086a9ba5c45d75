//! [`Net`]: each contender's proxies to the servers, the partitions in force
//! and the cut-off holders watched for their belief window (the network
//! steps in `network.rs` drive it).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::stop::{stop, Stop};
use crate::checkers::Checker;
use crate::contender::Runtime;
use crate::fault_figures::Role;
use crate::network::Direction;
use crate::proxy::LatencyProxy;

/// One contender's proxies, one per server, and its partition counter (a
/// `for D` heal applies only to the partition it was started for).
pub(super) struct Link {
    pub(super) proxies: Arc<Vec<LatencyProxy>>,
    pub(super) generation: Arc<AtomicU64>,
}

/// A partition in force on one contender.
pub(super) struct Cut {
    pub(super) direction: Direction,
    pub(super) lasting: Option<Duration>,
    pub(super) at: Instant,
    pub(super) role: Role,
}

/// A holder whose session a partition ended, watched for its belief window.
///
/// Sound under load: a "held" counts against the holder only when the
/// question was asked after the grant to another contender was seen (the
/// grant certainly came first); a late poll, or a slow reply, can shorten
/// the window measured but never make one up.
pub(super) struct OldHolder {
    pub(super) runtime: Runtime,
    /// The first status that no longer said "held" (or said "lost").
    pub(super) learned: Option<Instant>,
    /// When the last status that still said "held" was asked for, and when
    /// its answer came.
    pub(super) last_held: Option<(Instant, Instant)>,
    /// When the runner saw the server grant the lock to another contender.
    pub(super) passed_on: Option<Instant>,
}

/// The network side of a run: proxies, partitions and what they showed.
#[derive(Default)]
pub(super) struct Net {
    pub(super) links: BTreeMap<String, Link>,
    pub(super) cuts: BTreeMap<String, Cut>,
    pub(super) old_holders: BTreeMap<String, OldHolder>,
    /// The first contender of each session-sharing runtime (whose proxies the
    /// others of that runtime use).
    pub(super) shared: BTreeMap<Runtime, String>,
}

impl Net {
    /// The connect string contender `id` uses: through proxies of its own
    /// (one per server of `connect`) when the scenario has network steps,
    /// else `connect` itself.
    ///
    /// Contenders of a runtime that shares one session among them
    /// (`rust-tasks`) share one set of proxies too: a partition of one of
    /// them cuts the whole group's session.
    pub(super) fn connect_for(
        &mut self,
        id: &str,
        runtime: Runtime,
        connect: &str,
        proxied: bool,
    ) -> Result<String, Stop> {
        if !proxied {
            return Ok(connect.to_owned());
        }
        let group = runtime.shares_session().then(|| self.shared.get(&runtime).cloned()).flatten();
        if let Some(first) = group {
            let link = &self.links[&first];
            let link = Link { proxies: Arc::clone(&link.proxies), generation: Arc::clone(&link.generation) };
            let through = link.proxies.iter().map(LatencyProxy::connect_string).collect::<Vec<_>>().join(",");
            self.links.insert(id.to_owned(), link);
            return Ok(through);
        }
        if runtime.shares_session() {
            self.shared.insert(runtime, id.to_owned());
        }
        let mut proxies = Vec::new();
        for server in connect.split(',') {
            let proxy = LatencyProxy::start(server, Duration::ZERO)
                .map_err(|e| stop(Checker::Setup, format!("a proxy for {id} to {server}: {e}")))?;
            proxies.push(proxy);
        }
        let through = proxies.iter().map(LatencyProxy::connect_string).collect::<Vec<_>>().join(",");
        self.links.insert(id.to_owned(), Link { proxies: Arc::new(proxies), generation: Arc::new(AtomicU64::new(0)) });
        Ok(through)
    }

    pub(super) fn heal(&mut self, id: &str) {
        if let Some(link) = self.links.get(id) {
            link.generation.fetch_add(1, Ordering::SeqCst);
            for proxy in link.proxies.iter() {
                proxy.drop_direction(false, false);
            }
        }
    }
}
