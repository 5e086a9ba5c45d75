//! kazurator's README mutex example in zkurator: a mutex that lets two holders
//! in at once (`Mutex(client, path, max_leases=2)`).
//!
//! Run: `cargo run --example mutex_max_leases` (starts a local ZooKeeper, or
//! uses `ZK_CONNECT=host:port`).

use std::time::Duration;

use zookeeper_client::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let connect = zkurator_testserver::shared_connect_string()?;
    let mut holders = Vec::new();
    for worker in 0..3 {
        let client = Client::connect(&connect).await?;
        let mutex = zkurator::Mutex::builder(&client, "/examples/mutex").max_leases(2).build()?;
        match mutex.lock_timeout(Duration::from_millis(500)).await {
            Ok(guard) => {
                println!("worker {worker} holds a lease on {}", guard.node_path());
                holders.push((client, guard));
            }
            Err(zkurator::LockError::Timeout(_)) => println!("worker {worker} waits: both leases are taken"),
            Err(other) => return Err(other.into()),
        }
    }
    assert_eq!(holders.len(), 2, "exactly two leases");
    for (_client, guard) in holders {
        guard.release().await?;
    }
    Ok(())
}
