//! A leader-style worker: whoever holds the lock does the work, watches
//! `lost()` and stops the moment the hold is gone; the others wait their turn.
//! Replaces a Curator `LeaderSelector` / `InterProcessMutex` loop with a
//! `ConnectionStateListener` that interrupts the leader on SUSPENDED/LOST.
//!
//! Run: `cargo run --example leader_worker` (a local ZooKeeper is started, or
//! `ZK_CONNECT=host:port` is used). Two workers start; the leader's node is
//! deleted by an "operator", the leader stops, the other takes over.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use zkurator::zookeeper_client::Client;
use zkurator::{Mutex, SessionSource};

/// Holds leadership until it is lost or `rounds` of work are done; returns
/// how many rounds it did.
async fn lead(name: &str, mutex: &Mutex, rounds: u32, done: &AtomicU32) -> Result<u32, zkurator::LockError> {
    let guard = mutex.lock().await?;
    println!("{name}: leader (node {}, token {})", guard.node_path(), guard.fencing_token());
    let mut worked = 0;
    while worked < rounds {
        tokio::select! {
            reason = guard.lost() => {
                println!("{name}: leadership lost ({reason:?}) after {worked} rounds: stopping");
                break;
            }
            _ = tokio::time::sleep(Duration::from_millis(50)) => {
                worked += 1;
                done.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    guard.release().await?;
    Ok(worked)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let connect = zkurator_testserver::shared_connect_string()?;
    let operator = Client::connect(&connect).await?;
    let path = format!("/examples/leader-{}", std::process::id());
    let done = Arc::new(AtomicU32::new(0));
    let mut workers = Vec::new();
    for name in ["worker-a", "worker-b"] {
        let sessions = SessionSource::renewing(Client::connector(), connect.clone());
        let mutex = Mutex::new(&sessions, &path)?;
        let done = done.clone();
        workers.push(tokio::spawn(async move { lead(name, &mutex, 20, &done).await }));
    }
    // The operator removes the leader's node: that leader must stop at once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut nodes = operator.list_children(&path).await?;
    nodes.sort_by(|a, b| a.rsplit('-').next().cmp(&b.rsplit('-').next()));
    operator.delete(&format!("{path}/{}", nodes[0]), None).await?;
    let mut rounds = Vec::new();
    for worker in workers {
        rounds.push(worker.await??);
    }
    rounds.sort();
    println!("rounds per leader: {rounds:?}");
    if rounds[1] != 20 || rounds[0] >= 20 {
        return Err(format!("expected one interrupted leader and one full term, got {rounds:?}").into());
    }
    Ok(())
}
