//! The session of an in-process Rust contender (`rust`, `rust-tasks`,
//! `zk-client`): its own tokio runtime and ZooKeeper client.

use std::time::Duration;

use zkurator::SessionSource;
use zookeeper_client::Client;

use crate::contender::{ContenderSpec, Crasher, Runtime, StartError};

/// A contender's (or a task group's) runtime and session.
pub(crate) struct Session {
    pub runtime: tokio::runtime::Runtime,
    /// Where the lock handle gets its sessions: renewing for zkurator, so it
    /// carries on after an expiry; fixed for zk-client.
    pub source: SessionSource,
    /// The first session's client.
    pub client: Client,
    connect: String,
}

impl Session {
    /// Starts a runtime with `workers` threads and connects. One worker keeps
    /// the session's pings going between commands.
    pub fn open(runtime: Runtime, spec: &ContenderSpec, workers: usize, renewing: bool) -> Result<Session, StartError> {
        let failed = |message: String| StartError::Failed { runtime: runtime.clone(), id: spec.id.clone(), message };
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .map_err(|e| failed(format!("tokio runtime: {e}")))?;
        let connector = Client::connector()
            .with_session_timeout(spec.session_timeout)
            .with_connection_timeout(Duration::from_secs(5));
        let unreachable = |e: String| failed(format!("cannot connect to ZooKeeper at {}: {e}", spec.connect));
        let source = if renewing {
            SessionSource::renewing(connector, spec.connect.clone())
        } else {
            let client = tokio.block_on(connector.connect(&spec.connect)).map_err(|e| unreachable(e.to_string()))?;
            SessionSource::fixed(&client)
        };
        let client = tokio.block_on(source.client()).map_err(|e| unreachable(e.to_string()))?;
        Ok(Session { runtime: tokio, source, client, connect: spec.connect.clone() })
    }

    /// Expires the current session (a renewing source's latest) from outside
    /// while the client's runtime is paused (see [`crate::nemesis::client_expirer`]).
    pub fn expirer(&self) -> Crasher {
        let (source, runtime, connect) = (self.source.clone(), self.runtime.handle().clone(), self.connect.clone());
        let first = self.client.clone();
        Box::new(move || {
            let client = runtime.block_on(source.client()).unwrap_or_else(|_| first.clone());
            crate::nemesis::client_expirer(&client, runtime.clone(), &connect)()
        })
    }
}
