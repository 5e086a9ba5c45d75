//! The system under test for one case: sessions, their handles and clones,
//! the guards the case holds, and the operator's client.

use zkurator::{
    LeaseGuard, MultiGuard, Mutex, MutexGuard, ReadGuard, ReadWriteLock, Semaphore, SessionSource, WriteGuard,
};
use zookeeper_client::Client;

use crate::common::proxy::CutProxy;
use crate::common::{self, children};
use crate::ops::{Target, MUTEX_PATHS, SESSIONS};
use crate::spec::{Model, LEASES};

/// A guard of any kind.
#[derive(Debug)]
pub enum Guard {
    Mutex(MutexGuard),
    Read(ReadGuard),
    Write(WriteGuard),
    Lease(LeaseGuard),
    Multi(MultiGuard),
}

impl Guard {
    /// The node paths of the guard's holds, in order.
    pub fn nodes(&self) -> Vec<String> {
        match self {
            Guard::Mutex(g) => vec![g.node_path().to_owned()],
            Guard::Read(g) => vec![g.node_path().to_owned()],
            Guard::Write(g) => vec![g.node_path().to_owned()],
            Guard::Lease(g) => vec![g.node_path().to_owned()],
            Guard::Multi(g) => g.holds().map(|h| h.node_path().to_owned()).collect(),
        }
    }

    pub async fn release(self) -> zkurator::Result<()> {
        match self {
            Guard::Mutex(g) => g.release().await,
            Guard::Read(g) => g.release().await,
            Guard::Write(g) => g.release().await,
            Guard::Lease(g) => g.release().await,
            Guard::Multi(g) => g.release().await,
        }
    }
}

/// A guard the case holds and the model's holds it rests on.
#[derive(Debug)]
pub struct Live {
    pub guard: Guard,
    pub holds: Vec<usize>,
}

/// One session's handles (and a clone of each, sharing their holds).
pub struct Handles {
    /// The session's way to the server, to cut.
    pub proxy: CutProxy,
    pub source: SessionSource,
    pub mutexes: Vec<(Mutex, Mutex)>,
    pub rw: (ReadWriteLock, ReadWriteLock),
    pub semaphore: (Semaphore, Semaphore),
}

/// Everything one case plays on.
pub struct World {
    pub base: String,
    pub data: String,
    pub sessions: Vec<Handles>,
    pub operator: Client,
    pub guards: Vec<Live>,
    pub model: Model,
}

impl World {
    /// A fresh world under a path of its own; `broken` builds the lock
    /// handles with the negative control that shares holds per handle.
    pub async fn new(broken: bool) -> World {
        let base = common::lock_path("model");
        let operator = common::client().await;
        let persistent = zookeeper_client::CreateMode::Persistent.with_acls(zookeeper_client::Acls::anyone_all());
        let data = format!("{base}-data");
        operator.mkdir(&data, &persistent).await.expect("the data node");
        let mut sessions = Vec::new();
        for _ in 0..SESSIONS {
            let connector = Client::connector().with_session_timeout(common::SESSION_TIMEOUT);
            let proxy = CutProxy::start(&common::connect_string()).await;
            let source = SessionSource::renewing(connector, proxy.connect_string());
            let mutexes = (0..MUTEX_PATHS)
                .map(|p| {
                    let m = mutex(&source, &format!("{base}/m{p}"), broken);
                    (m.clone(), m)
                })
                .collect();
            let rw = read_write(&source, &format!("{base}/rw"), broken);
            let semaphore = Semaphore::new(&source, &format!("{base}/sem"), LEASES as u32).unwrap();
            sessions.push(Handles {
                proxy,
                source,
                mutexes,
                rw: (rw.clone(), rw),
                semaphore: (semaphore.clone(), semaphore),
            });
        }
        World { base, data, sessions, operator, guards: Vec::new(), model: Model::new(SESSIONS as usize) }
    }

    /// The directory whose children are `target`'s nodes.
    pub fn dir(&self, target: Target) -> String {
        match target {
            Target::Mutex(p) => format!("{}/m{p}", self.base),
            Target::Read | Target::Write => format!("{}/rw", self.base),
            Target::Lease => format!("{}/sem/leases", self.base),
        }
    }

    /// The guard a step's number picks, if any.
    pub fn pick(&self, n: u8) -> Option<usize> {
        (!self.guards.is_empty()).then(|| n as usize % self.guards.len())
    }

    /// Compares what the library and the server say with the model.
    pub async fn check(&self) -> Result<(), String> {
        if let Some(node) = self.model.shared_node() {
            return Err(format!("two live holds were handed one node: {node}"));
        }
        for handles in &self.sessions {
            // The session's events (node deletions) arrive before this reply.
            let client = handles.source.client().await.map_err(|e| format!("session: {e}"))?;
            round_trip(&client).await?;
        }
        for (s, handles) in self.sessions.iter().enumerate() {
            let s = s as u8;
            for (p, (mutex, _)) in handles.mutexes.iter().enumerate() {
                let expected = self.model.held_through(s, Target::Mutex(p as u8)) > 0;
                if mutex.is_held() != expected {
                    return Err(format!("session {s} mutex m{p}: is_held() = {}, model {expected}", !expected));
                }
            }
            let (rw, _) = &handles.rw;
            for (target, held) in [(Target::Read, rw.is_read_held()), (Target::Write, rw.is_write_held())] {
                let expected = self.model.held_through(s, target) > 0;
                if held != expected {
                    return Err(format!("session {s} {target:?}: is_held = {held}, model {expected}"));
                }
            }
            let leases = handles.semaphore.0.leases_held();
            if leases != self.model.held_through(s, Target::Lease) {
                return Err(format!(
                    "session {s}: leases_held() = {leases}, model {}",
                    self.model.held_through(s, Target::Lease)
                ));
            }
        }
        for target in [Target::Mutex(0), Target::Mutex(1), Target::Write, Target::Lease] {
            self.nodes_settle(&self.dir(target), self.model.nodes(target)).await?;
        }
        // The semaphore's `locks/` mutex is held only while taking leases.
        self.nodes_settle(&format!("{}/sem/locks", self.base), Vec::new()).await
    }

    /// Waits (for background deletes) until `dir`'s nodes are `expected`.
    async fn nodes_settle(&self, dir: &str, expected: Vec<String>) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(1500);
        loop {
            let mut found: Vec<String> =
                children(&self.operator, dir).await.into_iter().map(|c| format!("{dir}/{c}")).collect();
            found.sort();
            if found == expected {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(format!("nodes under {dir}: server {found:?}, model {expected:?}"));
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

fn mutex(source: &SessionSource, path: &str, broken: bool) -> Mutex {
    let builder = Mutex::builder(source, path);
    #[cfg(zkurator_harness)]
    let builder =
        if broken { builder.negative_control(zkurator::negative::NegativeControl::SharedHold) } else { builder };
    let _ = broken;
    builder.build().unwrap()
}

fn read_write(source: &SessionSource, path: &str, broken: bool) -> ReadWriteLock {
    let builder = ReadWriteLock::builder(source, path);
    #[cfg(zkurator_harness)]
    let builder =
        if broken { builder.negative_control(zkurator::negative::NegativeControl::SharedHold) } else { builder };
    let _ = broken;
    builder.build().unwrap()
}

/// A reply on `client`'s session (after a reconnection, if one is under way).
pub async fn round_trip(client: &Client) -> Result<(), String> {
    let mut last = None;
    for _ in 0..100 {
        match client.check_stat("/").await {
            Ok(_) => return Ok(()),
            Err(e @ zookeeper_client::Error::ConnectionLoss) => last = Some(e),
            Err(e) => return Err(format!("round trip: {e}")),
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Err(format!("no round trip within 2 s: {last:?}"))
}
