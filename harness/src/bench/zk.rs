//! The benchmark's ZooKeeper sessions and paths: connecting, preparing a
//! run's base path, warming the server up, waiting for children.

use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use zookeeper_client::{Acls, Client, CreateMode};

use super::measure::{sum_counts, LOCK_TIMEOUT};
use super::stats::median;

/// Session timeout of every Rust client of the benchmark.
const SESSION_TIMEOUT: Duration = Duration::from_secs(30);
/// Connection timeout of every Rust client of the benchmark.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The ZooKeeper node under which every lock path of a run lives.
pub(super) const BENCH_ROOT: &str = "/zkurator-bench";

/// Runs `cycles` create + list + delete cycles on 8 sessions at once.
pub(super) async fn warm_up_server(connect: &str, cycles: u32) -> Result<(), String> {
    const SESSIONS: u32 = 8;
    let dir = format!("{BENCH_ROOT}/warm-up-{}", &uuid::Uuid::new_v4().to_string()[..8]);
    let client = zk_connect(connect).await?;
    let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
    client.mkdir(&dir, &persistent).await.map_err(|e| format!("create {dir}: {e}"))?;
    let mut tasks = JoinSet::new();
    for _ in 0..SESSIONS {
        let (connect, dir) = (connect.to_owned(), dir.clone());
        tasks.spawn(async move {
            let client = zk_connect(&connect).await?;
            let prefix = format!("{dir}/_c_{}-lock-", uuid::Uuid::new_v4());
            let ephemeral = CreateMode::EphemeralSequential.with_acls(Acls::anyone_all());
            for _ in 0..cycles / SESSIONS {
                let (_, sequence) = client.create(&prefix, b"", &ephemeral).await.map_err(|e| e.to_string())?;
                client.list_children(&dir).await.map_err(|e| e.to_string())?;
                client.delete(&format!("{prefix}{sequence}"), None).await.map_err(|e| e.to_string())?;
            }
            Ok::<u64, String>(0)
        });
    }
    sum_counts(tasks, LOCK_TIMEOUT).await?;
    let _ = client.delete(&dir, None).await;
    Ok(())
}

/// Creates the run's base path and measures a ZooKeeper read's round trip (median, ms).
pub(super) async fn prepare(connect: &str, base: &str) -> Result<f64, String> {
    let client = zk_connect(connect).await?;
    let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
    client.mkdir(base, &persistent).await.map_err(|e| format!("create {base}: {e}"))?;
    let mut samples = Vec::new();
    for i in 0..120 {
        let t = Instant::now();
        client.check_stat("/").await.map_err(|e| format!("exists /: {e}"))?;
        if i >= 20 {
            samples.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    median(&samples).ok_or_else(|| "no round trip measured".to_owned())
}

/// A client with the benchmark's session settings.
pub(crate) async fn zk_connect(connect: &str) -> Result<Client, String> {
    connector().connect(connect).await.map_err(|e| format!("cannot connect to ZooKeeper at {connect}: {e}"))
}

/// The benchmark's connector: its session and connection timeouts.
pub(crate) fn connector() -> zookeeper_client::Connector {
    Client::connector().with_session_timeout(SESSION_TIMEOUT).with_connection_timeout(CONNECT_TIMEOUT).clone()
}

/// Polls until `path` has at least `count` children (at most [`LOCK_TIMEOUT`]).
pub(crate) async fn wait_for_children(client: &Client, path: &str, count: usize) -> Result<(), String> {
    let deadline = Instant::now() + LOCK_TIMEOUT;
    // Listing a thousand children every millisecond would load the server being measured.
    let pause = Duration::from_millis(if count > 200 { 20 } else { 1 });
    loop {
        match client.list_children(path).await {
            Ok(children) if children.len() >= count => return Ok(()),
            Ok(_) | Err(zookeeper_client::Error::NoNode) => {}
            Err(e) => return Err(format!("list {path}: {e}")),
        }
        if Instant::now() >= deadline {
            return Err(format!("{path} did not reach {count} children within {LOCK_TIMEOUT:?}"));
        }
        tokio::time::sleep(pause).await;
    }
}
