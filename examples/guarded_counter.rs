//! A job that does a read-modify-write under a lock, with the write guarded
//! (applied only while the lock node exists) and retried when its outcome is
//! unknown (a reply lost with the connection): read back, then decide.
//! Replaces Curator code that takes an `InterProcessMutex`, reads a node,
//! and writes it with `setData().withVersion(v)`, retrying on
//! `ConnectionLossException` by hand.
//!
//! Run: `cargo run --example guarded_counter` (a local ZooKeeper is started,
//! or `ZK_CONNECT=host:port` is used). Four jobs add 5 each to one counter.

use std::time::Duration;

use zkurator::zookeeper_client::{Acls, Client, CreateMode};
use zkurator::{Hold, LockError, Mutex, SessionSource};

/// Adds `delta` to the counter at `path` under `guard`'s hold, once, even
/// when a reply is lost: each write names the version it read, so a retry
/// of a write that was applied fails with `BadVersion` and the read-back
/// shows the value already moved on by our write.
async fn add(guard: &Hold, path: &str, delta: u64) -> Result<u64, LockError> {
    let client = guard.client();
    let mut expected_after: Option<u64> = None;
    loop {
        let (data, stat) = match client.get_data(path).await {
            Ok(read) => read,
            Err(zkurator::zookeeper_client::Error::ConnectionLoss) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(error) => return Err(LockError::SessionLost(error)),
        };
        let value: u64 = std::str::from_utf8(&data).ok().and_then(|t| t.parse().ok()).unwrap_or(0);
        if expected_after == Some(value) {
            return Ok(value); // the write whose reply was lost had been applied
        }
        let next = value + delta;
        match guard.guarded_set_data(path, next.to_string().as_bytes(), Some(stat.version)).await {
            Ok(_) => return Ok(next),
            Err(error) if error.is_outcome_unknown() => {
                expected_after = Some(next);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            // Someone wrote without the lock, or a retry of ours landed: read again.
            Err(LockError::ZooKeeper { source: zkurator::zookeeper_client::Error::BadVersion, .. }) => {}
            // NotHeld: the lock is gone; nothing was written. Stop.
            Err(error) => return Err(error),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let connect = zkurator_testserver::shared_connect_string()?;
    let admin = Client::connect(&connect).await?;
    let counter = format!("/examples/counter-{}", std::process::id());
    admin.mkdir("/examples", &CreateMode::Persistent.with_acls(Acls::anyone_all())).await.ok();
    admin.create(&counter, b"0", &CreateMode::Persistent.with_acls(Acls::anyone_all())).await?;
    let mut jobs = Vec::new();
    for job in 0..4 {
        let sessions = SessionSource::renewing(Client::connector(), connect.clone());
        let mutex = Mutex::new(&sessions, &format!("{counter}-lock"))?;
        let counter = counter.clone();
        jobs.push(tokio::spawn(async move {
            for _ in 0..5 {
                let guard = mutex.lock_timeout(Duration::from_secs(10)).await?;
                let now = add(&guard, &counter, 1).await?;
                println!("job {job}: counter {now} (token {})", guard.fencing_token());
                guard.release().await?;
            }
            Ok::<_, LockError>(())
        }));
    }
    for job in jobs {
        job.await??;
    }
    let (data, _) = admin.get_data(&counter).await?;
    let total = String::from_utf8(data)?;
    println!("total: {total}");
    if total != "20" {
        return Err(format!("lost updates: {total} instead of 20").into());
    }
    Ok(())
}
