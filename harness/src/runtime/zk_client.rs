//! The `zk-client` runtime: the `zookeeper-client` crate's own
//! `Client::lock` with Curator's `lock-` naming (mutex only).

use zookeeper_client::{Acls, CreateMode, LockOptions, LockPrefix, OwnedLockClient};

use super::session::Session;
use crate::contender::{
    Command, Contender, ContenderSpec, Crasher, ErrorKind, LockKind, Reply, Runtime, Side, StartError, Status,
};

fn unsupported(what: &str) -> Reply {
    Reply::Error { kind: ErrorKind::Unsupported, message: what.to_owned() }
}

/// A `zk-client` contender: `zookeeper_client::Client::lock` with Curator's
/// `lock-` naming. Mutex only; not reentrant (a second acquire while held is
/// refused as unsupported, since the crate would wait on itself).
pub struct ZkClientContender {
    session: Session,
    lock_path: String,
    data: Vec<u8>,
    held: Option<OwnedLockClient>,
}

impl ZkClientContender {
    /// Connects for `spec`; only plain mutexes are supported.
    pub fn start(spec: &ContenderSpec) -> Result<ZkClientContender, StartError> {
        if spec.kind != (LockKind::Mutex { max_leases: 1 }) {
            return Err(StartError::Failed {
                runtime: Runtime::ZkClient,
                id: spec.id.clone(),
                message: "zookeeper-client's Client::lock is a plain mutex: no read/write lock or leases".into(),
            });
        }
        let session = Session::open(Runtime::ZkClient, spec, 1, false)?;
        let data = spec.lock_data.clone().unwrap_or_default();
        Ok(ZkClientContender { session, lock_path: spec.lock_path.clone(), data, held: None })
    }
}

impl Contender for ZkClientContender {
    fn runtime(&self) -> Runtime {
        Runtime::ZkClient
    }

    fn session_id(&self) -> Option<String> {
        Some(format!("0x{:x}", self.session.client.session_id().0))
    }

    fn execute(&mut self, command: Command) -> Reply {
        let client = &self.session.client;
        match command {
            Command::Acquire { side: Side::Mutex, timeout } => {
                if self.held.is_some() {
                    return unsupported("zookeeper-client locks are not reentrant");
                }
                let result = self.session.runtime.block_on(async {
                    let prefix = LockPrefix::new_curator(&self.lock_path, "lock-")?;
                    let ancestors = CreateMode::Container.with_acls(Acls::anyone_all());
                    let options = LockOptions::new(Acls::anyone_all()).with_ancestor_options(ancestors)?;
                    let lock = client.lock(prefix, &self.data, options);
                    match timeout {
                        None => lock.await.map(|l| Some(l.into_owned())),
                        Some(t) => match tokio::time::timeout(t, lock).await {
                            Ok(result) => result.map(|l| Some(l.into_owned())),
                            Err(_) => Ok(None),
                        },
                    }
                });
                match result {
                    Ok(Some(lock)) => {
                        let node = lock.lock_path().to_owned();
                        self.held = Some(lock);
                        Reply::Granted { node }
                    }
                    Ok(None) => Reply::Error { kind: ErrorKind::Timeout, message: "timed out".into() },
                    Err(e) => Reply::Error { kind: zk_error_kind(&e), message: e.to_string() },
                }
            }
            Command::Release { side: Side::Mutex } => match self.held.take() {
                None => Reply::Error { kind: ErrorKind::NotHeld, message: "not held".into() },
                Some(lock) => {
                    let path = lock.lock_path().to_owned();
                    let deleted = self.session.runtime.block_on(client.delete(&path, None));
                    // Its drop deletes again in the background (NoNode): needs the runtime.
                    let _entered = self.session.runtime.enter();
                    drop(lock);
                    match deleted {
                        Ok(()) | Err(zookeeper_client::Error::NoNode) => Reply::Ok,
                        Err(e) => Reply::Error { kind: zk_error_kind(&e), message: e.to_string() },
                    }
                }
            },
            Command::Status => {
                let nodes: Vec<String> = self.held.iter().map(|l| l.lock_path().to_owned()).collect();
                let held = if nodes.is_empty() { Vec::new() } else { vec![(Side::Mutex, 1)] };
                Reply::Status(Status { held, nodes, revoked: Vec::new(), lost: Vec::new(), connection_lost: false })
            }
            Command::Close => {
                if let Some(lock) = self.held.take() {
                    let path = lock.lock_path().to_owned();
                    let _ = self.session.runtime.block_on(client.delete(&path, None));
                    let _entered = self.session.runtime.enter();
                    drop(lock);
                }
                Reply::Ok
            }
            other => unsupported(&format!("zk-client does not support {other:?}")),
        }
    }

    fn crasher(&self) -> Crasher {
        self.session.expirer()
    }

    fn expirer(&self) -> Option<Crasher> {
        Some(self.session.expirer())
    }
}

impl Drop for ZkClientContender {
    fn drop(&mut self) {
        let _entered = self.session.runtime.enter();
        self.held.take();
    }
}

fn zk_error_kind(error: &zookeeper_client::Error) -> ErrorKind {
    use zookeeper_client::Error as Zk;
    match error {
        Zk::SessionExpired | Zk::ClientClosed | Zk::AuthFailed => ErrorKind::SessionLost,
        Zk::NoAuth => ErrorKind::NoAuth,
        _ => ErrorKind::Other,
    }
}

/// Runs `zk-client` contenders in this process: nothing to prepare.
#[derive(Debug, Default)]
pub struct ZkClientAdapter;

impl super::adapter::Adapter for ZkClientAdapter {
    fn runs(&self, runtime: &Runtime) -> bool {
        *runtime == Runtime::ZkClient
    }

    fn prepare(&self) -> Result<(), StartError> {
        Ok(())
    }

    fn starter(&self, _: &Runtime) -> Result<super::adapter::Starter, StartError> {
        Ok(Box::new(|spec| super::adapter::boxed(ZkClientContender::start(spec))))
    }

    fn describe(&self) -> (String, Result<String, StartError>) {
        ("zookeeper-client's Client::lock (runtime zk-client)".into(), Ok("linked into the harness".into()))
    }
}
