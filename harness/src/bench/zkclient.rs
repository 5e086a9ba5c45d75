//! The zookeeper-client crate's own `Client::lock` (Curator's `lock-` names),
//! released by awaiting the delete of the lock node, so that a cycle is
//! comparable with the other subjects' acquire + release.

use std::time::Duration;

use zookeeper_client::{Acls, Client, CreateMode, LockOptions, LockPrefix};

use super::stats::Samples;
use super::{measure, zk_connect, LOCK_TIMEOUT};

/// One acquire + awaited release.
async fn cycle(client: &Client, path: &str) -> Result<(), String> {
    let prefix = LockPrefix::new_curator(path, "lock-").map_err(|e| format!("lock prefix: {e}"))?;
    let parents = CreateMode::Container.with_acls(Acls::anyone_all());
    let options =
        LockOptions::new(Acls::anyone_all()).with_ancestor_options(parents).map_err(|e| format!("options: {e}"))?;
    let lock = tokio::time::timeout(LOCK_TIMEOUT, client.lock(prefix, b"", options))
        .await
        .map_err(|_| format!("lock not acquired within {LOCK_TIMEOUT:?}"))?
        .map_err(|e| format!("acquire: {e}"))?;
    let deleted = client.delete(lock.lock_path(), None).await;
    // The lock's drop would delete the node once more, in the background (a
    // second request per cycle). The node is gone: skip that. Only the
    // handle's path string is leaked.
    std::mem::forget(lock);
    deleted.map_err(|e| format!("release: {e}"))
}

/// Uncontended acquire+release cycles on one session.
pub async fn uncontended(connect: &str, path: &str, warmup: u32, iterations: u32) -> Result<Samples, String> {
    let client = zk_connect(connect).await?;
    measure(warmup, iterations, || cycle(&client, path)).await
}

/// `writers` writers, each with its own session, acquire and release in a
/// loop; returns the cycles completed in the window after `warmup`.
pub async fn contended(
    connect: &str,
    path: &str,
    writers: u32,
    warmup: Duration,
    duration: Duration,
) -> Result<u64, String> {
    let mut clients = Vec::new();
    for _ in 0..writers {
        clients.push((zk_connect(connect).await?, path.to_owned()));
    }
    super::run_writers(clients, warmup, duration, |(client, path)| Box::pin(cycle(client, path))).await
}
