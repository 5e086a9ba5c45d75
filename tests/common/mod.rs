//! Shared set-up for the integration tests: a real ZooKeeper server (started
//! once per test binary by `zkurator-testserver`, or `ZK_CONNECT`), clients,
//! unique lock paths and a few polling helpers.
#![allow(dead_code)]

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
/// the same session id and password closes it. The original client races to
/// take its session back, so this retries until the original sees it end.
pub async fn kill_session(client: &Client) {
    let mut state = client.state_watcher();
    let connect = connect_string();
    for _ in 0..20 {
        let twin = Client::connector()
            .with_session_timeout(SESSION_TIMEOUT)
            .with_connection_timeout(Duration::from_millis(500))
            .with_session(client.session().clone())
            .connect(&connect);
        if let Ok(Ok(twin)) = tokio::time::timeout(Duration::from_secs(2), twin).await {
            drop(twin);
        }
        let ended = tokio::time::timeout(Duration::from_secs(2), async {
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
