use std::time::Duration;

use zkurator::zookeeper_client::Client;
use zkurator::{LockError, Mutex};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let servers = std::env::var("ZK_CONNECT").unwrap_or_else(|_| "127.0.0.1:2181".to_owned());
    // TCP_NODELAY on (Linux): an uncontended acquire is one round trip.
    let client = zkurator::connect(Client::connector(), &servers).await?;
    let mutex = Mutex::new(&client, "/locks/orders")?;

    // Each call is a contender of its own: tasks sharing `mutex` exclude each other.
    let guard = mutex.lock_timeout(Duration::from_secs(5)).await?;
    let token = guard.fencing_token(); // pass to storage with each write
    tokio::select! {
        reason = guard.lost() => eprintln!("lock lost ({reason:?}): stop"),
        _ = tokio::time::sleep(Duration::from_millis(100)) => println!("worked under token {token:#x}"),
    }
    match mutex.try_lock().await {
        Err(LockError::WouldBlock) => println!("a second caller waits while the guard lives"),
        other => return Err(format!("expected WouldBlock, got {other:?}").into()),
    }
    guard.release().await?; // or drop(guard): the node is deleted in the background
    Ok(())
}
