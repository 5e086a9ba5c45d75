//! kazurator's README read/write lock example in zkurator: readers share,
//! a writer waits for them.
//!
//! Run: `cargo run --example read_write_lock` (starts a local ZooKeeper, or
//! uses `ZK_CONNECT=host:port`).

use std::time::Duration;

use zookeeper_client::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let connect = zkurator_testserver::shared_connect_string()?;
    let (reader_client, writer_client) = (Client::connect(&connect).await?, Client::connect(&connect).await?);
    let reader = zkurator::ReadWriteLock::new(&reader_client, "/examples/rwlock")?;
    let writer = zkurator::ReadWriteLock::new(&writer_client, "/examples/rwlock")?;

    let read = reader.read().await?;
    println!("reader holds {}", read.node_path());
    match writer.write_timeout(Duration::from_millis(500)).await {
        Err(zkurator::LockError::Timeout(_)) => println!("writer waits while the reader holds the lock"),
        other => return Err(format!("writer should have waited, got {other:?}").into()),
    }
    read.release().await?;
    let write = writer.write().await?;
    println!("writer holds {} (fencing token {})", write.node_path(), write.fencing_token());
    write.release().await?;
    Ok(())
}
