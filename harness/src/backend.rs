//! Where the ZooKeeper of a harness run comes from: a local server process
//! (default), a local 3-server ensemble (for scenarios with `zk = "ensemble"`),
//! an existing server or ensemble, or a Docker container.
//!
//! A backend is also the [`ServerControl`] of its runs: the servers the harness
//! started can be restarted (`zk restart`) or have members killed and started
//! again (`zk kill-leader`, `zk kill-follower`, `zk start-all`) or cut apart
//! and joined again (`zk isolate-leader`, `zk isolate-follower`,
//! `zk isolate-member C`, `zk heal-members`: see [`crate::split`]); servers it
//! did not start refuse these ops with a message saying so.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use zkurator_testserver::{ZkEnsemble, ZkServer};

use crate::nemesis::{NoControl, ServerControl, ServerOp, ServerOpError};
use crate::split::{split_op, MemberLinks};

/// How long ensemble ops wait for a leader.
const LEADER_WAIT: Duration = Duration::from_secs(60);

/// A ZooKeeper the harness runs against; dropping it stops what it started.
pub enum Backend {
    /// A server process started for this run.
    Local {
        /// The server (locked while it restarts).
        server: Box<Mutex<ZkServer>>,
        /// Its connect string (stable across restarts).
        connect: String,
    },
    /// A 3-server ensemble on 127.0.0.1 started for this run, its members
    /// linked through proxies.
    Ensemble {
        /// The members (locked while one is killed or started).
        ensemble: Box<Mutex<ZkEnsemble>>,
        /// The connect string naming every member.
        connect: String,
        /// The proxies between the members.
        links: Box<MemberLinks>,
    },
    /// A server or ensemble somebody else runs.
    External(String),
    /// The official `zookeeper` image in a container.
    #[cfg(feature = "docker")]
    Docker {
        /// Keeps the container alive.
        container: testcontainers::Container<testcontainers::GenericImage>,
        /// `127.0.0.1:<mapped port>`.
        connect: String,
    },
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Backend({})", self.describe())
    }
}

/// How the harness's servers are configured: container cleanup every
/// 500 ms, the release of `jars` (`None`: the environment's).
fn server_builder(jars: Option<&[PathBuf]>) -> zkurator_testserver::ServerBuilder {
    let builder = ZkServer::builder().container_check_interval(Duration::from_millis(500));
    match jars {
        Some(jars) => builder.classpath(jars.to_vec()),
        None => builder,
    }
}

impl Backend {
    /// Starts a local server process with container cleanup every 500 ms, so
    /// the container scenario finishes quickly; its release is the
    /// environment's (`ZK_CLASSPATH`, `ZOOKEEPER_HOME`, else Debian's).
    pub fn local() -> Result<Backend, String> {
        Backend::local_with(None)
    }

    /// [`Backend::local`] running the release of `jars` (`None`: the
    /// environment's).
    pub fn local_with(jars: Option<&[PathBuf]>) -> Result<Backend, String> {
        server_builder(jars)
            .start()
            .map(|server| {
                let connect = server.connect_string();
                Backend::Local { server: Box::new(Mutex::new(server)), connect }
            })
            .map_err(|e| e.to_string())
    }

    /// Starts a 3-server ensemble on 127.0.0.1 (for `zk = "ensemble"`
    /// scenarios), whose members reach each other through proxies
    /// ([`crate::split`]).
    pub fn ensemble() -> Result<Backend, String> {
        Backend::ensemble_with(None)
    }

    /// [`Backend::ensemble`] running the release of `jars` (`None`: the
    /// environment's).
    pub fn ensemble_with(jars: Option<&[PathBuf]>) -> Result<Backend, String> {
        let mut links = Box::<MemberLinks>::default();
        server_builder(jars)
            .start_ensemble_routed(3, &mut |link| links.route(link))
            .map(|ensemble| {
                let connect = ensemble.connect_string();
                Backend::Ensemble { ensemble: Box::new(Mutex::new(ensemble)), connect, links }
            })
            .map_err(|e| format!("cannot start a 3-server ensemble: {e}"))
    }

    /// Brings servers the harness started back to full health before a run:
    /// a standalone server that is down is restarted, stopped ensemble members
    /// are started and a leader awaited. Nothing to do for other backends.
    pub fn heal(&self) -> Result<(), ServerOpError> {
        match self {
            Backend::Local { server, connect } => {
                let mut server = lock(server);
                if !server.is_running() {
                    server.restart().map_err(|e| {
                        ServerOpError::Failed(format!("the server at {connect} is down and did not restart: {e}"))
                    })?;
                }
                Ok(())
            }
            Backend::Ensemble { ensemble, links, .. } => {
                let mut ensemble = lock(ensemble);
                if (0..ensemble.len()).any(|i| !ensemble.is_member_running(i)) {
                    ensemble_op(&mut ensemble, ServerOp::StartAll)?;
                }
                if !links.cut().is_empty() {
                    split_op(&ensemble, links, ServerOp::HealMembers)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Whether this backend is a local ensemble.
    pub fn is_ensemble(&self) -> bool {
        matches!(self, Backend::Ensemble { .. })
    }

    /// Whether the harness started these servers (and may restart them).
    pub fn is_local(&self) -> bool {
        matches!(self, Backend::Local { .. } | Backend::Ensemble { .. })
    }

    /// Uses an existing server or ensemble.
    pub fn external(connect: &str) -> Backend {
        Backend::External(connect.to_owned())
    }

    /// Starts `zookeeper:3.8` with testcontainers.
    #[cfg(feature = "docker")]
    pub fn docker() -> Result<Backend, String> {
        use testcontainers::core::{IntoContainerPort, WaitFor};
        use testcontainers::runners::SyncRunner;
        use testcontainers::{GenericImage, ImageExt};
        let image = GenericImage::new("zookeeper", "3.8")
            .with_exposed_port(2181.tcp())
            .with_wait_for(WaitFor::message_on_stdout("binding to port"))
            .with_env_var("ZOO_4LW_COMMANDS_WHITELIST", "*");
        let container = image.start().map_err(|e| {
            format!("could not start the zookeeper container ({e}); is a Docker engine running? Without Docker, drop `--zk docker` to use a local server process")
        })?;
        let port = container.get_host_port_ipv4(2181.tcp()).map_err(|e| format!("container port: {e}"))?;
        Ok(Backend::Docker { container, connect: format!("127.0.0.1:{port}") })
    }

    /// Without the `docker` feature, `--zk docker` explains how to get it.
    #[cfg(not(feature = "docker"))]
    pub fn docker() -> Result<Backend, String> {
        Err("this build has no Docker support: rebuild with `cargo build -p zkurator-harness --features docker` \
             (and a running Docker engine), or drop `--zk docker` to use a local server process"
            .into())
    }

    /// The connect string.
    pub fn connect_string(&self) -> String {
        match self {
            Backend::Local { connect, .. } | Backend::Ensemble { connect, .. } => connect.clone(),
            Backend::External(connect) => connect.clone(),
            #[cfg(feature = "docker")]
            Backend::Docker { connect, .. } => connect.clone(),
        }
    }

    /// For reports: what kind of backend and where.
    pub fn describe(&self) -> String {
        match self {
            Backend::Local { connect, .. } => format!("local server process at {connect}"),
            Backend::Ensemble { connect, .. } => format!("local 3-server ensemble at {connect}"),
            Backend::External(connect) => format!("existing server(s) at {connect}"),
            #[cfg(feature = "docker")]
            Backend::Docker { connect, .. } => format!("docker zookeeper:3.8 at {connect}"),
        }
    }

    /// The server's version (`srvr` of the first server), or why not.
    pub fn server_version(&self) -> String {
        let connect = self.connect_string();
        let first = connect.split(',').next().unwrap_or_default();
        zkurator_testserver::server_version(first).unwrap_or_else(|e| format!("unknown ({e})"))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ServerControl for Backend {
    fn apply(&self, op: ServerOp) -> Result<String, ServerOpError> {
        let started = Instant::now();
        let done = match (self, op) {
            (Backend::Local { server, connect }, ServerOp::Restart) => {
                lock(server).restart().map_err(|e| ServerOpError::Failed(format!("restart of {connect} failed: {e}")))?;
                format!("restarted the server at {connect}")
            }
            (Backend::Local { .. }, op) => {
                return Err(ServerOpError::NotHere(format!(
                    "`zk {}` needs an ensemble: declare zk = \"ensemble\" at the top of the scenario (the suite then starts one)",
                    op.name()
                )))
            }
            (Backend::Ensemble { .. }, ServerOp::Restart) => {
                return Err(ServerOpError::NotHere("`zk restart` restarts a standalone server; on an ensemble use zk kill-leader, kill-follower, start-all and the splits (isolate-leader, isolate-follower, isolate-member, heal-members)".into()))
            }
            (Backend::Ensemble { ensemble, links, .. }, op) if op.is_split() => split_op(&lock(ensemble), links, op)?,
            (Backend::Ensemble { ensemble, .. }, op) => ensemble_op(&mut lock(ensemble), op)?,
            (other, op) => return NoControl { describe: other.describe() }.apply(op),
        };
        Ok(format!("{done} in {} ms", started.elapsed().as_millis()))
    }
}

/// Kills or starts ensemble members; waits for a leader after each.
fn ensemble_op(ensemble: &mut ZkEnsemble, op: ServerOp) -> Result<String, ServerOpError> {
    let failed = |e: String| ServerOpError::Failed(e);
    let leader = |ensemble: &ZkEnsemble| ensemble.wait_for_leader(LEADER_WAIT).map_err(|e| failed(e.to_string()));
    match op {
        ServerOp::KillLeader | ServerOp::KillFollower => {
            let current = leader(ensemble)?;
            let victim = match op {
                ServerOp::KillLeader => current,
                _ => (0..ensemble.len())
                    .find(|&i| i != current && ensemble.is_member_running(i))
                    .ok_or_else(|| failed("no running follower to kill".into()))?,
            };
            ensemble.kill(victim).map_err(|e| failed(e.to_string()))?;
            let running = (0..ensemble.len()).filter(|&i| ensemble.is_member_running(i)).count();
            if running > ensemble.len() / 2 {
                let new = leader(ensemble)?;
                Ok(format!("killed member {victim} (leader was {current}, now {new})"))
            } else {
                Ok(format!("killed member {victim} (leader was {current}); no quorum left"))
            }
        }
        ServerOp::StartAll => {
            let stopped: Vec<usize> = (0..ensemble.len()).filter(|&i| !ensemble.is_member_running(i)).collect();
            for &i in &stopped {
                ensemble.start_member(i).map_err(|e| failed(format!("member {i} did not start: {e}")))?;
            }
            let now = leader(ensemble)?;
            Ok(format!("started members {stopped:?}; leader is {now}"))
        }
        ServerOp::Restart => Err(ServerOpError::NotHere("`zk restart` needs a standalone server".into())),
        split => Err(ServerOpError::NotHere(format!("`zk {}` is a split, not a kill or start", split.name()))),
    }
}
