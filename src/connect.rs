//! [`connect`]: a ZooKeeper client as the locks want it, `TCP_NODELAY` on.

use zookeeper_client::{Client, Connector};

/// Connects `connector` to `cluster` (a connect string) and keeps Nagle's
/// algorithm off on the client's sockets ([`crate::keep_nodelay`]), so an
/// uncontended acquire is one round trip. Where that cannot be done (not
/// Linux), the client is returned as it is, slower by a round trip per
/// acquire, and a debug event says why. Renewing
/// [`SessionSource`](crate::SessionSource)s connect this way.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use zkurator::zookeeper_client::Client;
/// let client = zkurator::connect(Client::connector(), "127.0.0.1:2181").await?;
/// let mutex = zkurator::Mutex::new(&client, "/locks/orders")?;
/// mutex.lock().await?.release().await?;
/// # Ok(()) }
/// ```
pub async fn connect(connector: Connector, cluster: &str) -> Result<Client, zookeeper_client::Error> {
    let client = connector.connect(cluster).await?;
    if let Err(error) = crate::keep_nodelay(&client, cluster).await {
        tracing::debug!(%error, "TCP_NODELAY not set: an acquire costs one round trip more");
    }
    Ok(client)
}
