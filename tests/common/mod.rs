//! Shared set-up for the integration tests: a real ZooKeeper server (started
//! once per test binary by `zkurator-testserver`, or `ZK_CONNECT`), clients,
//! unique lock paths and a few polling helpers.
#![allow(dead_code)]

pub mod proxy;

use std::time::Duration;

use zookeeper_client::Client;

/// Session timeout of test clients: short, so killed sessions end quickly.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(4);

/// How long a test waits to conclude that an acquire is blocked.
pub const BLOCKED_FOR: Duration = Duration::from_millis(400);

/// The connect string of the test server.
pub fn connect_string() -> String {
    zkurator_testserver::shared_connect_string().expect("a ZooKeeper server for the tests")
}

/// A new client with its own session.
pub async fn client() -> Client {
    Client::connector().with_session_timeout(SESSION_TIMEOUT).connect(&connect_string()).await.expect("connect")
}

/// A lock path no other test uses.
pub fn lock_path(test: &str) -> String {
    format!("/zkurator-tests/{test}-{}", uuid::Uuid::new_v4())
}

/// Children of `path` (empty if it does not exist).
pub async fn children(client: &Client, path: &str) -> Vec<String> {
    match client.list_children(path).await {
        Ok(children) => children,
        Err(zookeeper_client::Error::NoNode) => Vec::new(),
        Err(error) => panic!("list {path}: {error}"),
    }
}

/// Waits up to `within` for `condition` to hold, polling.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if condition().await {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Waits until the lock directory is empty (background deletes are done).
pub async fn wait_empty(client: &Client, path: &str) {
    eventually(Duration::from_secs(5), &format!("{path} empty"), || async { children(client, path).await.is_empty() })
        .await;
}

/// Ends `client`'s session from the server's side: a second connection with
/// the same session id and password takes the session over and closes it.
///
/// The original client would race to take its session back, so the twin runs
/// on a thread of its own while every worker of this runtime is held (this
/// task blocks its own thread; on a multi-thread runtime one task per worker
/// blocks that one), and with them the original's connection task; once
/// thawed, the original reconnects and learns that its session expired.
/// Retries until the original sees it. Works on any runtime flavour.
pub async fn kill_session(client: &Client) {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let runtime = Handle::current();
    // `#[tokio::test]` and `Runtime::block_on` poll this task on a thread of
    // their own, not on a worker: then every worker must be held. A task on
    // a worker (named as tokio names them) holds its own by blocking.
    let on_a_worker = std::thread::current().name() == Some("tokio-runtime-worker");
    let others = match runtime.runtime_flavor() {
        RuntimeFlavor::CurrentThread => 0,
        _ => runtime.metrics().num_workers() - usize::from(on_a_worker),
    };
    let mut state = client.state_watcher();
    for _ in 0..10 {
        let Some(thaw) = freeze_workers(&runtime, others) else { continue };
        let session = client.session().clone();
        let connect = connect_string();
        // Blocks this task's worker until the twin has closed the session.
        std::thread::spawn(move || close_as_twin(session, &connect)).join().expect("the twin thread");
        drop(thaw);
        let ended = tokio::time::timeout(Duration::from_secs(3), async {
            while !state.peek_state().is_terminated() {
                state.changed().await;
            }
        });
        if ended.await.is_ok() {
            return;
        }
    }
    panic!("could not kill session {:?}", client.session());
}

/// Holds `count` workers of `runtime` (besides the caller's) until the
/// returned senders are dropped; `None` (nothing held) if they were not all
/// held within 2 s.
///
/// The blocking tasks are spawned from a thread outside the runtime, so they
/// go to its shared queue: spawned from the caller's worker, the last would
/// sit in that worker's LIFO slot, which no other worker steals, and one
/// worker would stay free to run the original client's reconnection.
fn freeze_workers(runtime: &tokio::runtime::Handle, count: usize) -> Option<Vec<std::sync::mpsc::Sender<()>>> {
    let (frozen_tx, frozen_rx) = std::sync::mpsc::channel::<()>();
    let thaws = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                (0..count)
                    .map(|_| {
                        let (thaw_tx, thaw_rx) = std::sync::mpsc::channel::<()>();
                        let frozen_tx = frozen_tx.clone();
                        runtime.spawn(async move {
                            let _ = frozen_tx.send(());
                            let _ = thaw_rx.recv_timeout(Duration::from_secs(10));
                        });
                        thaw_tx
                    })
                    .collect::<Vec<_>>()
            })
            .join()
            .expect("the spawning thread")
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    let all_held = (0..count)
        .all(|_| frozen_rx.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now())).is_ok());
    all_held.then_some(thaws)
}

/// Connects with `session` on a runtime of its own and drops the connection,
/// which sends closeSession; waits for the close to be answered.
fn close_as_twin(session: zookeeper_client::SessionInfo, connect: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime for the twin");
    runtime.block_on(async {
        let twin = Client::connector()
            .with_session_timeout(SESSION_TIMEOUT)
            .with_connection_timeout(Duration::from_millis(1000))
            .with_session(session)
            .connect(connect);
        if let Ok(Ok(twin)) = tokio::time::timeout(Duration::from_secs(2), twin).await {
            let mut closing = twin.state_watcher();
            drop(twin);
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                while !closing.peek_state().is_terminated() {
                    closing.changed().await;
                }
            })
            .await;
        }
    });
}
