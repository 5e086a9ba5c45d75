//! A ZooKeeper ensemble ([`ZkEnsemble`]): several `QuorumPeerMain` JVMs on 127.0.0.1.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::builder::{ServerBuilder, PORT_ATTEMPTS};
use crate::config::{PeerPorts, Settings, ZooCfg};
use crate::error::ServerError;
use crate::fourlw::{server_mode, Mode};
use crate::ports::free_port;
use crate::process::{create_dir, is_port_clash, wait_ready, write_file, Node, Ready, Runtime, QUORUM_MAIN};
use crate::routes::{routes_of, Router};
use crate::watchdog::Watchdog;

/// Time allowed for one `srvr` probe in [`ZkEnsemble::leader`].
const MODE_TIMEOUT: Duration = Duration::from_secs(1);

/// An ensemble of ZooKeeper servers on 127.0.0.1, each with its own client, peer and
/// election port and its own data directory (with a `myid` file; member `i` has server id
/// `i + 1`). Members are indexed from 0.
///
/// Dropping it kills every member and deletes the temporary directory; as for
/// [`ZkServer`](crate::ZkServer), a watchdog does the same if this process dies first.
#[derive(Debug)]
pub struct ZkEnsemble {
    settings: Settings,
    runtime: Runtime,
    ports: Vec<PeerPorts>,
    state: Mutex<State>,
    // Declared last: removed after the watchdog is done.
    _dir: TempDir,
}

#[derive(Debug)]
struct State {
    nodes: Vec<Node>,
    watchdog: Watchdog,
}

impl ServerBuilder {
    /// Starts an ensemble of `n` servers with these settings; see [`ZkEnsemble::start`].
    pub fn start_ensemble(self, n: usize) -> Result<ZkEnsemble, ServerError> {
        ZkEnsemble::start_with(self.validated()?, n)
    }

    /// Starts an ensemble of `n` servers whose members reach each other only through
    /// the addresses `router` returns, one per ordered pair of members and peer port.
    ///
    /// Member `i`'s `zoo.cfg` names every other member `j` by the router's answers for
    /// `PeerLink { from: i, to: j, .. }`, and itself by the wildcard address
    /// `0.0.0.0` (so it listens on all local addresses). ZooKeeper's election
    /// connections are kept only in one direction per pair (from the higher server id);
    /// when the lower one connects first, the higher one drops that connection and
    /// connects back to the address the lower one announced, unless that address is a
    /// wildcard, in which case it uses its own configuration. Naming itself by the
    /// wildcard therefore keeps every connection between members on the routed
    /// addresses: a router that returns proxies can cut members apart (the harness's
    /// ensemble splits do).
    ///
    /// `router` is called again for fresh ports when startup is retried after a port
    /// clash. Otherwise as [`ZkEnsemble::start`].
    pub fn start_ensemble_routed(self, n: usize, router: &mut Router<'_>) -> Result<ZkEnsemble, ServerError> {
        ZkEnsemble::start_routed(self.validated()?, n, Some(router))
    }
}

impl ZkEnsemble {
    /// Starts `n` servers with [`ServerBuilder`]'s defaults and waits until every one of
    /// them serves (so a leader has been elected). Use
    /// [`ServerBuilder::start_ensemble`] for other settings.
    pub fn start(n: usize) -> Result<ZkEnsemble, ServerError> {
        ServerBuilder::new().start_ensemble(n)
    }

    pub(crate) fn start_with(settings: Settings, n: usize) -> Result<ZkEnsemble, ServerError> {
        Self::start_routed(settings, n, None)
    }

    pub(crate) fn start_routed(
        settings: Settings,
        n: usize,
        mut router: Option<&mut Router<'_>>,
    ) -> Result<ZkEnsemble, ServerError> {
        if n == 0 {
            return Err(ServerError::InvalidConfig("an ensemble needs at least one member".to_owned()));
        }
        let runtime = Runtime::locate(&settings)?;
        let dir = tempfile::Builder::new()
            .prefix("zkurator-zk-ensemble-")
            .tempdir()
            .map_err(|e| ServerError::io("creating a temporary directory", e))?;
        let mut watchdog = Watchdog::start(dir.path())?;
        let mut attempt = 1;
        loop {
            let ports = (0..n)
                .map(|_| Ok(PeerPorts { client: free_port()?, peer: free_port()?, election: free_port()? }))
                .collect::<Result<Vec<_>, ServerError>>()?;
            let targets: Vec<_> = ports.iter().map(|p| (localhost(p.peer), localhost(p.election))).collect();
            let mut nodes = Vec::with_capacity(n);
            for (i, member_ports) in ports.iter().enumerate() {
                let routes = match router.as_mut() {
                    Some(router) => Some(routes_of(&mut **router, i, &targets)?),
                    None => None,
                };
                let member_dir = dir.path().join(format!("member-{}", i + 1));
                // A previous attempt's files, if any, would only confuse this one.
                let _ = std::fs::remove_dir_all(&member_dir);
                let node = Node::new(&member_dir, member_ports.client, QUORUM_MAIN);
                create_dir(&node.data_dir)?;
                write_file(&node.data_dir.join("myid"), &format!("{}\n", i + 1))?;
                let cfg = ZooCfg {
                    settings: &settings,
                    data_dir: node.data_dir.clone(),
                    client_port: member_ports.client,
                    ensemble: &ports,
                    routes: routes.as_deref().map(|r| (i, r)),
                };
                write_file(&node.config, &cfg.render())?;
                nodes.push(node);
            }
            match start_all(&mut nodes, &runtime, &mut watchdog, &settings) {
                Ok(()) => {
                    return Ok(ZkEnsemble {
                        settings,
                        runtime,
                        ports,
                        state: Mutex::new(State { nodes, watchdog }),
                        _dir: dir,
                    })
                }
                Err(e) if attempt < PORT_ATTEMPTS && is_port_clash(&e) => {
                    tracing::debug!(error = %e, "ensemble port taken; retrying on other ports");
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn check(&self, index: usize) -> Result<(), ServerError> {
        if index < self.ports.len() {
            Ok(())
        } else {
            Err(ServerError::NoSuchMember { index, size: self.ports.len() })
        }
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.ports.len()
    }

    /// Always `false`: an ensemble has at least one member.
    pub fn is_empty(&self) -> bool {
        self.ports.is_empty()
    }

    /// The connect string naming every member: `127.0.0.1:p1,127.0.0.1:p2,...`.
    pub fn connect_string(&self) -> String {
        self.ports.iter().map(|p| format!("127.0.0.1:{}", p.client)).collect::<Vec<_>>().join(",")
    }

    /// The connect string of member `index` alone: `127.0.0.1:<its client port>`.
    ///
    /// # Panics
    ///
    /// If `index >= self.len()`.
    pub fn member_connect_string(&self, index: usize) -> String {
        self.check(index).unwrap_or_else(|e| panic!("{e}"));
        format!("127.0.0.1:{}", self.ports[index].client)
    }

    /// The data directory (`dataDir`, holding `myid`) of member `index`.
    ///
    /// # Panics
    ///
    /// If `index >= self.len()`.
    pub fn member_data_dir(&self, index: usize) -> PathBuf {
        self.check(index).unwrap_or_else(|e| panic!("{e}"));
        self.state().nodes[index].data_dir.clone()
    }

    /// Whether member `index`'s JVM is running (`false` for an out-of-range index).
    pub fn is_member_running(&self, index: usize) -> bool {
        let state = &mut *self.state();
        match state.nodes.get_mut(index) {
            Some(node) => node.is_running(&mut state.watchdog),
            None => false,
        }
    }

    /// Kills member `index` (SIGKILL, as in a crash) and waits for it to exit; its data is
    /// kept for [`start_member`](Self::start_member). Does nothing if it is not running.
    pub fn kill(&mut self, index: usize) -> Result<(), ServerError> {
        self.check(index)?;
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        state.nodes[index].stop(&mut state.watchdog);
        Ok(())
    }

    /// Starts member `index` again (same ports, same data) unless it is running.
    ///
    /// Waits until it answers `ruok`; and, when a majority of the members' processes is
    /// then running, until it serves (has joined the quorum). Without a majority it cannot
    /// serve yet: start more members, then use [`wait_for_leader`](Self::wait_for_leader).
    pub fn start_member(&mut self, index: usize) -> Result<(), ServerError> {
        self.check(index)?;
        let size = self.ports.len();
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        let started = Instant::now();
        let deadline = started + self.settings.startup_timeout;
        state.nodes[index].spawn(&self.runtime, &mut state.watchdog)?;
        let member = std::slice::from_mut(&mut state.nodes[index]);
        let mut result = wait_ready(member, &mut state.watchdog, Ready::Answering, started, deadline);
        if result.is_ok() {
            let State { nodes, watchdog } = &mut *state;
            let running = nodes.iter_mut().map(|n| n.is_running(watchdog)).filter(|&running| running).count();
            if running > size / 2 {
                result = wait_ready(
                    std::slice::from_mut(&mut state.nodes[index]),
                    &mut state.watchdog,
                    Ready::Serving,
                    started,
                    deadline,
                );
            }
        }
        if result.is_err() {
            state.nodes[index].stop(&mut state.watchdog);
        }
        result
    }

    /// The index of the member that currently reports `Mode: leader` in its `srvr` answer
    /// (for a one-member ensemble, `Mode: standalone`), if any.
    pub fn leader(&self) -> Option<usize> {
        let state = &mut *self.state();
        let single = state.nodes.len() == 1;
        let watchdog = &mut state.watchdog;
        state.nodes.iter_mut().position(|node| {
            node.is_running(watchdog)
                && (node.has_mode("leader", MODE_TIMEOUT) || (single && node.has_mode("standalone", MODE_TIMEOUT)))
        })
    }

    /// Polls [`leader`](Self::leader) until there is one or `timeout` passes
    /// ([`ServerError::NoLeader`]).
    pub fn wait_for_leader(&self, timeout: Duration) -> Result<usize, ServerError> {
        let all: Vec<usize> = (0..self.len()).collect();
        self.wait_for_leader_among(&all, timeout)
    }

    /// The mode member `index` serves in (`leader`, `follower`, `standalone`), or `None`
    /// when it is not running, does not answer `srvr` within a second, or answers that it
    /// is not serving (a member without a quorum).
    pub fn member_mode(&self, index: usize) -> Option<String> {
        let state = &mut *self.state();
        let node = state.nodes.get_mut(index)?;
        if !node.is_running(&mut state.watchdog) {
            return None;
        }
        match server_mode(&node.addr, MODE_TIMEOUT) {
            Ok(Mode::Serving(mode)) => Some(mode),
            _ => None,
        }
    }

    /// As [`wait_for_leader`](Self::wait_for_leader), counting only `members` (a member
    /// cut off from the others may still say `leader` until it notices).
    pub fn wait_for_leader_among(&self, members: &[usize], timeout: Duration) -> Result<usize, ServerError> {
        let deadline = Instant::now() + timeout;
        let single = self.len() == 1;
        loop {
            let leader = members.iter().copied().find(|&i| match self.member_mode(i).as_deref() {
                Some("leader") => true,
                Some("standalone") => single,
                _ => false,
            });
            if let Some(leader) = leader {
                return Ok(leader);
            }
            if Instant::now() >= deadline {
                let running = (0..self.len()).filter(|&i| self.is_member_running(i)).collect();
                return Err(ServerError::NoLeader { timeout, running });
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for ZkEnsemble {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        for node in &mut state.nodes {
            node.stop(&mut state.watchdog);
        }
        state.watchdog.finish();
        tracing::debug!(members = self.ports.len(), "ZooKeeper ensemble dropped");
    }
}

fn localhost(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// Spawns every node, then waits until all serve; on failure stops them all.
fn start_all(
    nodes: &mut [Node],
    runtime: &Runtime,
    watchdog: &mut Watchdog,
    settings: &Settings,
) -> Result<(), ServerError> {
    let started = Instant::now();
    let deadline = started + settings.startup_timeout;
    let result = nodes
        .iter_mut()
        .try_for_each(|node| node.spawn(runtime, watchdog))
        .and_then(|()| wait_ready(nodes, watchdog, Ready::Serving, started, deadline));
    if result.is_err() {
        for node in nodes.iter_mut() {
            node.stop(watchdog);
        }
    }
    result
}
