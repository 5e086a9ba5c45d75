//! `Semaphore` and `SemaphoreMutex` (Curator's `InterProcessSemaphoreV2` and
//! `InterProcessSemaphoreMutex` layout) against a real ZooKeeper: node names,
//! the lease count, waiters, several leases at once, timeouts, cancellation,
//! orphaned nodes (Curator's testNoOrphanedNodes), killed sessions, the
//! negative control.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use zkurator::names::parse_node_name;
use zkurator::negative::NegativeControl;
use zkurator::{LockError, LossReason, Semaphore, SemaphoreMutex};

fn leases(path: &str) -> String {
    format!("{path}/leases")
}

fn locks(path: &str) -> String {
    format!("{path}/locks")
}

#[tokio::test]
async fn lease_nodes_follow_curators_layout() {
    let client = client().await;
    let path = lock_path("sem-layout");
    let semaphore = Semaphore::builder(&client, &path, 2).data(b"svc".to_vec()).build().unwrap();
    let lease = semaphore.acquire().await.unwrap();
    let name = lease.node_path().strip_prefix(&format!("{}/", leases(&path))).unwrap().to_owned();
    assert!(parse_node_name(&name, "lease-").is_some(), "lease node {name}");
    assert_eq!(children(&client, &leases(&path)).await, vec![name]);
    assert!(children(&client, &locks(&path)).await.is_empty(), "the takers' mutex is let go once the lease is held");
    let (data, stat) = client.get_data(lease.node_path()).await.unwrap();
    assert_eq!(data, b"svc");
    assert_eq!(lease.fencing_token().as_i64(), stat.czxid);
    assert_eq!(semaphore.participant_nodes().await.unwrap(), vec![lease.node_path().to_owned()]);
    assert_eq!(semaphore.leases_held(), 1);
    lease.release().await.unwrap();
    assert_eq!(semaphore.leases_held(), 0);
    assert!(children(&client, &leases(&path)).await.is_empty());
}

/// The takers' mutex is let go in the background, but its delete is queued
/// before the acquire returns: the taker's next request (here a list of
/// `locks/`, on a current-thread runtime where a spawned task could not have
/// run yet) goes out after it and never sees the node.
#[tokio::test]
async fn the_takers_mutex_is_gone_before_the_takers_next_request() {
    let client = client().await;
    let path = lock_path("sem-mutex-order");
    let semaphore = Semaphore::new(&client, &path, 2).unwrap();
    for _ in 0..10 {
        let lease = semaphore.acquire().await.unwrap();
        assert!(children(&client, &locks(&path)).await.is_empty(), "a list after the acquire saw the takers' mutex");
        lease.release().await.unwrap();
    }
}

#[tokio::test]
async fn the_count_is_respected_and_a_timeout_leaves_no_node() {
    let (a, b) = (client().await, client().await);
    let path = lock_path("sem-count");
    let first = Semaphore::new(&a, &path, 2).unwrap();
    let second = Semaphore::new(&b, &path, 2).unwrap();
    let one = first.acquire().await.unwrap();
    let two = second.acquire().await.unwrap();
    assert_eq!(second.acquire_timeout(BLOCKED_FOR).await.err(), Some(LockError::Timeout(BLOCKED_FOR)));
    assert!(matches!(first.try_acquire().await, Err(LockError::WouldBlock)));
    assert_eq!(children(&a, &leases(&path)).await.len(), 2, "the timed-out taker's lease node was deleted");
    assert!(children(&a, &locks(&path)).await.is_empty(), "and so was its mutex node");
    drop(one);
    let three = second.acquire_timeout(Duration::from_secs(5)).await.expect("a returned lease is free");
    two.release().await.unwrap();
    three.release().await.unwrap();
    wait_empty(&a, &leases(&path)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tasks_sharing_a_semaphore_never_exceed_the_count() {
    let client = client().await;
    let path = lock_path("sem-tasks");
    let semaphore = Arc::new(Semaphore::new(&client, &path, 2).unwrap());
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (semaphore, inside, most) = (semaphore.clone(), inside.clone(), most.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..3 {
                let lease = semaphore.acquire().await.unwrap();
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
                lease.release().await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(most.load(Ordering::SeqCst), 2, "two leases, six tasks: exactly two inside at the busiest");
    wait_empty(&client, &leases(&path)).await;
}

#[tokio::test]
async fn several_leases_are_taken_all_or_none() {
    let client = client().await;
    let path = lock_path("sem-many");
    let semaphore = Semaphore::new(&client, &path, 3).unwrap();
    let pair = semaphore.acquire_many(2).await.unwrap();
    assert_eq!(pair.len(), 2);
    assert_eq!(semaphore.acquire_many_timeout(2, BLOCKED_FOR).await.err(), Some(LockError::Timeout(BLOCKED_FOR)));
    assert_eq!(children(&client, &leases(&path)).await.len(), 2, "the partial lease was returned");
    assert_eq!(semaphore.acquire_many(4).await.err(), Some(LockError::LeaseCount { requested: 4, max_leases: 3 }));
    assert_eq!(semaphore.acquire_many(0).await.err(), Some(LockError::LeaseCount { requested: 0, max_leases: 3 }));
    let last = semaphore.acquire().await.unwrap();
    drop(pair);
    let again = semaphore.acquire_many_timeout(2, Duration::from_secs(5)).await.unwrap();
    drop((last, again));
    wait_empty(&client, &leases(&path)).await;
}

#[tokio::test]
async fn a_cancelled_taker_leaves_no_node() {
    let client = client().await;
    let path = lock_path("sem-cancel");
    let semaphore = Semaphore::new(&client, &path, 1).unwrap();
    let held = semaphore.acquire().await.unwrap();
    let waiting = tokio::time::timeout(BLOCKED_FOR, semaphore.acquire()).await;
    assert!(waiting.is_err(), "the taker waited");
    eventually(Duration::from_secs(5), "cancelled taker's nodes gone", || async {
        children(&client, &leases(&path)).await.len() == 1 && children(&client, &locks(&path)).await.is_empty()
    })
    .await;
    held.release().await.unwrap();
}

/// Curator's testNoOrphanedNodes: a waiter whose lease node is deleted under
/// it takes a new one, and nothing is left once all leases are returned.
#[tokio::test]
async fn a_waiter_whose_node_is_deleted_leaves_no_orphan() {
    let client = client().await;
    let path = lock_path("sem-orphan");
    let semaphore = Semaphore::new(&client, &path, 1).unwrap();
    let held = semaphore.acquire().await.unwrap();
    let waiter = tokio::spawn({
        let semaphore = semaphore.clone();
        async move { semaphore.acquire_timeout(Duration::from_secs(10)).await }
    });
    let held_name = held.node_path().rsplit('/').next().unwrap().to_owned();
    eventually(Duration::from_secs(5), "the waiter's lease node", || async {
        children(&client, &leases(&path)).await.len() == 2
    })
    .await;
    let names = children(&client, &leases(&path)).await;
    let waiting = names.into_iter().find(|n| *n != held_name).unwrap();
    client.delete(&format!("{}/{waiting}", leases(&path)), None).await.unwrap();
    held.release().await.unwrap();
    let lease = waiter.await.unwrap().expect("the waiter took a new lease node");
    lease.release().await.unwrap();
    assert!(children(&client, &leases(&path)).await.is_empty());
    assert!(children(&client, &locks(&path)).await.is_empty());
    semaphore.acquire_timeout(Duration::from_secs(5)).await.unwrap().release().await.unwrap();
}

#[tokio::test]
async fn a_killed_lease_holder_frees_its_lease() {
    let (a, b) = (client().await, client().await);
    let path = lock_path("sem-killed");
    let lease = Semaphore::new(&a, &path, 1).unwrap().acquire().await.unwrap();
    let other = Semaphore::new(&b, &path, 1).unwrap();
    let waiter = tokio::spawn(async move { other.acquire_timeout(Duration::from_secs(20)).await });
    kill_session(&a).await;
    assert_eq!(lease.lost().await, LossReason::SessionEnded);
    waiter.await.unwrap().expect("the lease of the dead session is free").release().await.unwrap();
}

#[tokio::test]
async fn semaphore_mutex_excludes_and_is_not_reentrant() {
    let (a, b) = (client().await, client().await);
    let path = lock_path("sem-mutex");
    let mutex = SemaphoreMutex::new(&a, &path).unwrap();
    let other = SemaphoreMutex::new(&b, &path).unwrap();
    let guard = mutex.lock().await.unwrap();
    assert!(mutex.is_held());
    assert!(!other.is_held());
    assert!(matches!(other.try_lock().await, Err(LockError::WouldBlock)));
    assert_eq!(mutex.lock_timeout(BLOCKED_FOR).await.err(), Some(LockError::Timeout(BLOCKED_FOR)), "not reentrant");
    assert_eq!(mutex.participant_nodes().await.unwrap(), vec![guard.node_path().to_owned()]);
    guard.release().await.unwrap();
    assert!(!mutex.is_held());
    other.try_lock().await.expect("free again").release().await.unwrap();
}

#[tokio::test]
async fn bad_paths_are_rejected() {
    let client = client().await;
    for bad in ["", "relative", "/trailing/", "/a//b"] {
        assert!(matches!(Semaphore::new(&client, bad, 2), Err(LockError::InvalidPath { .. })), "{bad:?}");
        assert!(matches!(SemaphoreMutex::new(&client, bad), Err(LockError::InvalidPath { .. })), "{bad:?}");
    }
}

/// The negative control: a taker that ignores the count gets a lease over it,
/// which the count check above would catch.
#[tokio::test]
async fn the_negative_control_ignores_the_count() {
    let client = client().await;
    let path = lock_path("sem-negative");
    let held = Semaphore::new(&client, &path, 1).unwrap().acquire().await.unwrap();
    let broken =
        Semaphore::builder(&client, &path, 1).negative_control(NegativeControl::LeaseIgnoresCount).build().unwrap();
    let extra = broken.acquire_timeout(BLOCKED_FOR).await.expect("the broken taker does not wait");
    assert_eq!(children(&client, &leases(&path)).await.len(), 2, "two leases of one are out");
    drop((held, extra));
    wait_empty(&client, &leases(&path)).await;
}
