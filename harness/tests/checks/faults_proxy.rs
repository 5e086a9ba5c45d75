//! zkurator's locks under connection faults, against a real ZooKeeper through
//! the harness's TCP proxy (`zkurator_harness::proxy`), which can delay,
//! cut and black-hole the connections of the client under test:
//!
//! * connection loss right after a create was sent, the create applied but its
//!   reply lost: the protected-create recovery finds its own node, so exactly
//!   one node exists (a naive retry, the negative control, leaves two);
//! * release while partitioned (CURATOR-678): the release does not report
//!   success while the node stays, the node goes once the partition heals,
//!   and later acquires, by the same handle and by others, work;
//! * a partition longer than the session timeout: the holder's loss signal
//!   fires, the waiter of another client gets the lock, nothing is left.

use std::time::{Duration, Instant};

use zkurator::{HoldStatus, LossReason, Mutex};
use zkurator_harness::proxy::LatencyProxy;
use zookeeper_client::{Acls, Client, CreateMode};

/// Long enough that the create's reply is still inside the proxy when the
/// test sees the node on the server and cuts the connection.
const SLOW: Duration = Duration::from_millis(700);
const BOUND: Duration = Duration::from_secs(20);

fn server() -> String {
    zkurator_testserver::shared_connect_string().expect("a ZooKeeper server")
}

fn lock_path(test: &str) -> String {
    format!("/zkurator-faults-proxy/{test}-{}", uuid::Uuid::new_v4())
}

async fn connect(connect: &str, session_timeout: Duration) -> Client {
    Client::connector().with_session_timeout(session_timeout).connect(connect).await.expect("connect")
}

/// An admin client connected directly, a proxy with no latency, and a client
/// with `session_timeout` behind the proxy (the one the faults hit).
async fn behind_a_proxy(session_timeout: Duration) -> (Client, LatencyProxy, Client) {
    let admin = connect(&server(), Duration::from_secs(10)).await;
    let proxy = LatencyProxy::start(server(), Duration::ZERO).expect("proxy");
    let client = connect(&proxy.connect_string(), session_timeout).await;
    (admin, proxy, client)
}

async fn children(client: &Client, path: &str) -> Vec<String> {
    match client.list_children(path).await {
        Ok(children) => children,
        Err(zookeeper_client::Error::NoNode) => Vec::new(),
        Err(e) => panic!("list {path}: {e}"),
    }
}

/// Polls `condition` every 5 ms for up to `within`; false if it never held.
async fn poll_until<F, Fut>(within: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if condition().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

/// Starts `create` through a slow proxy, and cuts every connection as soon
/// as the admin sees the created node on the server: the create was applied,
/// its reply is still in the proxy and is lost. Returns the proxy.
async fn lose_the_create_reply<F>(admin: &Client, path: &str, client_proxy: &LatencyProxy, create: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    client_proxy.set_latency(SLOW);
    let task = tokio::spawn(create);
    let applied = poll_until(Duration::from_secs(10), || async { !children(admin, path).await.is_empty() }).await;
    assert!(applied, "the create never reached the server");
    let cut = client_proxy.cut_all();
    assert!(cut >= 1, "no connection to cut");
    client_proxy.set_latency(Duration::ZERO);
    tokio::time::timeout(BOUND, task).await.expect("the create finished after the cut").expect("no panic");
}

async fn lock_dir(admin: &Client, path: &str) {
    admin.mkdir(path, &CreateMode::Container.with_acls(Acls::anyone_all())).await.expect("lock directory");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_create_recovers_its_node_when_the_reply_is_lost() {
    let (admin, proxy, client) = behind_a_proxy(Duration::from_secs(10)).await;
    let path = lock_path("protected-create");
    lock_dir(&admin, &path).await;

    let mutex = Mutex::new(&client, &path).unwrap();
    let (granted_tx, granted_rx) = tokio::sync::oneshot::channel();
    let acquiring = mutex.clone();
    lose_the_create_reply(&admin, &path, &proxy, async move {
        let _ = granted_tx.send(acquiring.lock().await);
    })
    .await;
    let guard = granted_rx.await.unwrap().expect("the lock is granted after the connection loss");
    let nodes = children(&admin, &path).await;
    assert_eq!(nodes.len(), 1, "exactly one node after the lost reply: {nodes:?}");
    assert_eq!(guard.node_path(), format!("{path}/{}", nodes[0]), "the guard holds the node the create made");
    assert_eq!(guard.status(), HoldStatus::Held);
    guard.release().await.unwrap();
    assert!(children(&admin, &path).await.is_empty(), "no node left after release");
}

/// Negative control: the same fault hits a naive lock (create, retried on
/// connection loss, without a protected prefix), which leaves a second node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naive_retry_after_a_lost_reply_leaves_two_nodes() {
    let (admin, proxy, client) = behind_a_proxy(Duration::from_secs(10)).await;
    let path = lock_path("naive-create");
    lock_dir(&admin, &path).await;

    let naive = client.clone();
    let prefix = format!("{path}/lock-");
    lose_the_create_reply(&admin, &path, &proxy, async move {
        let mode = CreateMode::EphemeralSequential.with_acls(Acls::anyone_all());
        for _ in 0..200 {
            match naive.create(&prefix, b"", &mode).await {
                Ok(_) => return,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        panic!("the naive create never succeeded");
    })
    .await;
    let nodes = children(&admin, &path).await;
    assert_eq!(nodes.len(), 2, "the fault did not lose a create's reply: {nodes:?}");
    drop(client);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_during_a_partition_keeps_the_lock_usable() {
    let (admin, proxy, client) = behind_a_proxy(Duration::from_secs(10)).await;
    let path = lock_path("release-partitioned");
    let mutex = Mutex::new(&client, &path).unwrap();
    let guard = mutex.lock().await.unwrap();
    let node = guard.node_path().to_owned();

    proxy.set_blackhole(true);
    let release = tokio::spawn(guard.release());
    // The same handle asks again, once the release has let go of the hold
    // (before, it would be a reentrant acquire), while its old node is still there.
    assert!(poll_until(BOUND, || async { !mutex.is_held() }).await);
    let again = {
        let mutex = mutex.clone();
        tokio::spawn(async move { mutex.lock().await })
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!release.is_finished(), "release reported done while its node could not be deleted");
    assert!(children(&admin, &path).await.iter().any(|c| node.ends_with(c.as_str())), "the node stays meanwhile");

    proxy.set_blackhole(false);
    let released = tokio::time::timeout(BOUND, release).await.expect("release finishes once healed").unwrap();
    assert_eq!(released, Ok(()));
    let nodes = children(&admin, &path).await;
    assert!(!nodes.iter().any(|c| node.ends_with(c.as_str())), "the released node is gone: {nodes:?}");
    let second = tokio::time::timeout(BOUND, again).await.expect("the later acquire is granted").unwrap().unwrap();
    assert_ne!(second.node_path(), node);
    assert_eq!(children(&admin, &path).await.len(), 1);
    second.release().await.unwrap();

    // Another client locks and unlocks normally afterwards.
    let other = Mutex::new(&admin, &path).unwrap();
    tokio::time::timeout(BOUND, other.lock()).await.expect("no hang").unwrap().release().await.unwrap();
    assert!(children(&admin, &path).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_abandoned_during_a_partition_still_deletes_the_node() {
    let (admin, proxy, client) = behind_a_proxy(Duration::from_secs(10)).await;
    let path = lock_path("release-dropped");
    let mutex = Mutex::new(&client, &path).unwrap();
    let guard = mutex.lock().await.unwrap();
    proxy.set_blackhole(true);
    let gave_up = tokio::time::timeout(Duration::from_millis(300), guard.release()).await;
    assert!(gave_up.is_err(), "a release cannot finish while partitioned");
    assert!(!mutex.is_held());
    proxy.set_blackhole(false);
    let gone = poll_until(BOUND, || async { children(&admin, &path).await.is_empty() }).await;
    assert!(gone, "the background delete did not remove the node after the partition");
    let guard = tokio::time::timeout(BOUND, mutex.lock()).await.expect("no hang").unwrap();
    guard.release().await.unwrap();
}

/// What happened, counted from the start of the partition.
struct PartitionTimings {
    suspended: Duration,
    lost: Duration,
    reason: LossReason,
    other_granted: Duration,
}

/// A holder behind the proxy, a waiter of another client connected directly;
/// the proxy partitions the holder until its session expires.
async fn partition_the_holder(session_timeout: Duration) -> PartitionTimings {
    let (admin, proxy, holder_client) = behind_a_proxy(session_timeout).await;
    let waiter_client = connect(&server(), session_timeout).await;
    let path = lock_path("partition");
    let guard = Mutex::new(&holder_client, &path).unwrap().lock().await.unwrap();
    let waiter = Mutex::new(&waiter_client, &path).unwrap();
    let waiting = tokio::spawn(async move { waiter.lock().await.map(|g| (g, Instant::now())) });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished());

    let partitioned = Instant::now();
    proxy.set_blackhole(true);
    assert!(poll_until(BOUND, || async { guard.status() != HoldStatus::Held }).await);
    let suspended = partitioned.elapsed();
    let reason = tokio::time::timeout(BOUND, guard.lost()).await.expect("the loss is signalled");
    let lost = partitioned.elapsed();
    let (granted, granted_at) =
        tokio::time::timeout(BOUND, waiting).await.expect("the waiter proceeds").unwrap().unwrap();
    let other_granted = granted_at.duration_since(partitioned);
    eprintln!(
        "session timeout {session_timeout:?}: holder suspended after {suspended:?}, \
         loss ({reason:?}) signalled after {lost:?}, other client granted after {other_granted:?}"
    );
    granted.release().await.unwrap();
    proxy.set_blackhole(false);
    drop(guard);
    let empty = poll_until(BOUND, || async { children(&admin, &path).await.is_empty() }).await;
    assert!(empty, "nodes left: {:?}", children(&admin, &path).await);
    PartitionTimings { suspended, lost, reason, other_granted }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partition_longer_than_the_session_signals_loss_and_frees_the_lock() {
    let session_timeout = Duration::from_secs(2);
    let t = partition_the_holder(session_timeout).await;
    assert!(t.suspended < session_timeout, "suspended only after {:?}", t.suspended);
    // zookeeper-client expires the session on its own after 7/5 of the session
    // timeout without contact, about when the monitor gives up on the disconnect.
    assert!(matches!(t.reason, LossReason::DisconnectedTooLong | LossReason::SessionEnded), "{:?}", t.reason);
    assert!(t.lost <= session_timeout * 3, "loss signalled only after {:?}", t.lost);
    assert!(t.other_granted >= session_timeout / 2, "the lock moved before the session could expire");
}

/// Under a partition, the holder's `lost()` must fire before another client
/// can be granted the lock: the server expires the session one session timeout
/// after it last heard from the holder, so the monitor counts from the last
/// answered request, not from when the client noticed the disconnect (that
/// version fired about 1.25 session timeouts in, 0.6 s after another client
/// held the lock with 2 s sessions).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partition_loss_signal_comes_before_another_client_can_hold_the_lock() {
    let t = partition_the_holder(Duration::from_secs(2)).await;
    assert!(
        t.lost <= t.other_granted,
        "lost() after {:?}, but another client held the lock after {:?}",
        t.lost,
        t.other_granted
    );
}
