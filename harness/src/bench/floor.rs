//! The raw floor: what one acquire+release of a ZooKeeper lock costs at least
//! when done naively, with no lock logic at all: create an ephemeral-sequential
//! node, list the children, delete the node, each awaited before the next
//! (three round trips), with the zookeeper-client crate.

use zookeeper_client::{Acls, CreateMode};

use super::stats::Samples;
use super::{measure, zk_connect};

/// `warmup` unmeasured then `iterations` measured create + list + delete
/// cycles under `dir` (created as a persistent node if missing, and removed
/// at the end). Node names have Curator's protected shape, empty data.
pub async fn run(connect: &str, dir: &str, warmup: u32, iterations: u32) -> Result<Samples, String> {
    let client = zk_connect(connect).await?;
    let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
    client.mkdir(dir, &persistent).await.map_err(|e| format!("create {dir}: {e}"))?;
    let prefix = format!("{dir}/_c_{}-lock-", uuid::Uuid::new_v4());
    let ephemeral = CreateMode::EphemeralSequential.with_acls(Acls::anyone_all());
    let samples = measure(warmup, iterations, || {
        let (client, prefix, ephemeral) = (&client, &prefix, &ephemeral);
        async move {
            let (_, sequence) = client.create(prefix, b"", ephemeral).await.map_err(|e| format!("create: {e}"))?;
            let node = format!("{prefix}{sequence}");
            let children = client.list_children(dir).await.map_err(|e| format!("list {dir}: {e}"))?;
            if !children.iter().any(|child| node.ends_with(child.as_str())) {
                return Err(format!("{node} is missing from the listing of {dir}"));
            }
            client.delete(&node, None).await.map_err(|e| format!("delete {node}: {e}"))
        }
    })
    .await;
    let _ = client.delete(dir, None).await;
    samples
}
