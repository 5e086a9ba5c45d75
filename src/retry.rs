//! Requests retried through connection loss, and the pause between tries.

use std::time::Duration;

use zookeeper_client::{Client, Error as ZkError};

use crate::error::{LockError, Result};

/// Pause before retrying a request that failed with connection loss.
pub(crate) const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Lists children, retrying through connection loss; a missing lock
/// directory is an empty list.
pub(crate) async fn list_children(client: &Client, lock_path: &str) -> Result<Vec<String>> {
    loop {
        match client.list_children(lock_path).await {
            Ok(children) => return Ok(children),
            Err(ZkError::NoNode) => return Ok(Vec::new()),
            Err(ZkError::ConnectionLoss) => tokio::time::sleep(RETRY_PAUSE).await,
            Err(error) => return Err(LockError::from_zk("list children", lock_path, error)),
        }
    }
}
