//! One ZooKeeper server shared by all tests of a process, or an external one.

use std::sync::{Mutex, PoisonError};

use crate::error::ServerError;
use crate::server::ZkServer;

/// The process-wide server, started on first use and never dropped: when the process
/// exits, its watchdog kills the JVM and removes the directory.
static SHARED: Mutex<Option<ZkServer>> = Mutex::new(None);

/// The connect string of a ZooKeeper server for tests to share.
///
/// If the environment variable `ZK_CONNECT` is set (and not blank), its value is returned
/// and no server is started — point tests at an existing server or ensemble that way.
/// Otherwise one local server (with [`ServerBuilder`](crate::ServerBuilder) defaults) is
/// started on the first call and reused by every later call from any thread for the rest
/// of the process; concurrent first calls wait for the same startup. If that server has
/// died meanwhile, it is restarted on the same port with the same data.
///
/// Tests sharing a server should use distinct znode paths.
pub fn shared_connect_string() -> Result<String, ServerError> {
    if let Some(external) = external_connect_string(std::env::var("ZK_CONNECT").ok().as_deref()) {
        return Ok(external);
    }
    let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
    match shared.as_mut() {
        Some(server) => {
            if !server.is_running() {
                tracing::debug!(port = server.port(), "shared ZooKeeper died; restarting it");
                server.restart()?;
            }
            Ok(server.connect_string())
        }
        None => {
            let server = ZkServer::start()?;
            tracing::debug!(port = server.port(), "started the shared ZooKeeper server");
            let connect = server.connect_string();
            *shared = Some(server);
            Ok(connect)
        }
    }
}

/// The decision [`shared_connect_string`] makes from the value of `ZK_CONNECT`
/// (`zk_connect`): `Some(connect string)` to use an external server, `None` to start a
/// local one. Unset, empty and blank values mean local; other values are trimmed.
pub fn external_connect_string(zk_connect: Option<&str>) -> Option<String> {
    zk_connect.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}
