//! Asking a holder to let go: Curator's `Revoker`.

use zookeeper_client::Client;

use crate::error::{LockError, Result};
use crate::names::REVOKE_MESSAGE;

/// Asks the holder of `node` (a full lock-node path, e.g. from
/// [`crate::Mutex::participant_nodes`]) to release, by writing `__REVOKE__` into
/// it. Works on Curator holders that called `makeRevocable` and on zkurator
/// holders built with `revocable(true)`.
///
/// Returns `false` when the node no longer exists.
///
/// ```no_run
/// # async fn demo(client: zkurator::zookeeper_client::Client) -> zkurator::Result<()> {
/// let mutex = zkurator::Mutex::new(&client, "/locks/job")?;
/// for node in mutex.participant_nodes().await? {
///     zkurator::revoke(&client, &node).await?; // holders built revocable let go
/// }
/// # Ok(()) }
/// ```
pub async fn revoke(client: &Client, node: &str) -> Result<bool> {
    match client.set_data(node, REVOKE_MESSAGE, None).await {
        Ok(_) => Ok(true),
        Err(zookeeper_client::Error::NoNode) => Ok(false),
        Err(error) => Err(LockError::from_zk("revoke", node, error)),
    }
}
