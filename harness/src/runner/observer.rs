//! The runner's own view of the servers ([`Observer`]): its session, made on
//! first use and again after it ended, its listings of the lock directory,
//! and the creation zxid of every lock node a listing showed (the server's
//! order of grants, for the server-evidence checker).

use std::collections::BTreeMap;
use std::thread;
use std::time::{Duration, Instant};

use zookeeper_client::Client;

use super::stop::{stop, Stop};
use super::timing::RUNNER_CONNECT_TIMEOUT;
use crate::checkers::Checker;
use crate::contender::LockKind;

/// The runner's session on the servers of one run, and what it saw.
pub(super) struct Observer {
    /// The servers' connect string.
    connect: String,
    /// Drives the runner's session.
    pub(super) tokio: tokio::runtime::Runtime,
    /// The session, once made.
    zk: Option<Client>,
    /// The creation zxid of every lock node a listing showed, by full path.
    pub(super) czxids: BTreeMap<String, i64>,
}

impl Observer {
    /// An observer of the servers at `connect` (no session yet).
    pub(super) fn new(connect: &str) -> Observer {
        // A worker thread keeps the runner's session alive between its requests.
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        Observer { connect: connect.to_owned(), tokio, zk: None, czxids: BTreeMap::new() }
    }

    /// The servers' connect string.
    pub(super) fn connect(&self) -> &str {
        &self.connect
    }

    /// The runner's session, made on first use (or after it ended).
    pub(super) fn client(&mut self) -> Result<Client, Stop> {
        if let Some(zk) = &self.zk {
            return Ok(zk.clone());
        }
        let connecting = Client::connector()
            .with_session_timeout(Duration::from_secs(10))
            .with_connection_timeout(Duration::from_secs(5))
            .connect(&self.connect);
        let connect = self.tokio.block_on(async { tokio::time::timeout(RUNNER_CONNECT_TIMEOUT, connecting).await });
        let zk = match connect {
            Ok(Ok(zk)) => zk,
            Ok(Err(e)) => {
                return Err(stop(Checker::Setup, format!("runner cannot connect to ZooKeeper at {}: {e}", self.connect)))
            }
            Err(_) => {
                return Err(stop(
                    Checker::Setup,
                    format!(
                        "runner cannot connect to ZooKeeper at {}: no session within {RUNNER_CONNECT_TIMEOUT:?}; is a server running there?",
                        self.connect
                    ),
                ))
            }
        };
        self.zk = Some(zk.clone());
        Ok(zk)
    }

    /// Lists `lock_path` (a lock of `kind`), riding out a server outage
    /// (restart, leader change) for up to `bound`: the session survives it,
    /// or a new one is made. Notes the creation zxid of new nodes.
    pub(super) fn list(&mut self, lock_path: &str, kind: LockKind, bound: Duration) -> Result<Vec<String>, Stop> {
        use zookeeper_client::Error as Zk;
        let deadline = Instant::now() + bound;
        let children = loop {
            let zk = self.client()?;
            let listed = self.tokio.block_on(crate::layout::list(&zk, lock_path, kind));
            let error = match listed {
                Ok(children) => break children,
                Err(Zk::NoNode) => break Vec::new(),
                Err(e @ (Zk::SessionExpired | Zk::ClientClosed)) => {
                    self.zk = None;
                    e
                }
                Err(e @ (Zk::ConnectionLoss | Zk::Timeout)) => e,
                Err(e) => return Err(stop(Checker::Runner, format!("list {lock_path}: {e}"))),
            };
            if Instant::now() >= deadline {
                return Err(stop(Checker::Runner, format!("list {lock_path}: {error} for {bound:?}")));
            }
            thread::sleep(Duration::from_millis(100));
        };
        self.note_czxids(lock_path, &children);
        Ok(children)
    }

    /// Reads the creation zxid of the listed nodes not seen before (the
    /// requests pipelined on the runner's session; a node already gone is
    /// left out).
    fn note_czxids(&mut self, lock_path: &str, children: &[String]) {
        let Some(zk) = self.zk.clone() else { return };
        let new: Vec<String> = children
            .iter()
            .map(|c| format!("{lock_path}/{c}"))
            .filter(|path| !self.czxids.contains_key(path))
            .collect();
        let stats: Vec<_> = new.iter().map(|path| zk.check_stat(path)).collect();
        let found = self.tokio.block_on(async {
            let mut found = Vec::new();
            for (path, stat) in new.iter().zip(stats) {
                if let Ok(Some(stat)) = stat.await {
                    found.push((path.clone(), stat.czxid));
                }
            }
            found
        });
        self.czxids.extend(found);
    }
}
