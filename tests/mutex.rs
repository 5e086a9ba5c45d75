//! Mutex behaviour against a real ZooKeeper: the cases Curator's
//! `TestInterProcessMutex` and kazurator's tests check, as behaviour.

mod common;

use std::time::Duration;

use common::*;
use zkurator::names::{parse_node_name, MUTEX_LOCK_NAME};
use zkurator::{LockError, Mutex};

#[tokio::test]
async fn basic_acquire_creates_one_protected_node_and_release_deletes_it() {
    let client = client().await;
    let path = lock_path("basic");
    let mutex = Mutex::new(&client, &path).unwrap();
    assert!(!mutex.is_held());
    let guard = mutex.lock().await.unwrap();
    assert!(mutex.is_held());
    let nodes = children(&client, &path).await;
    assert_eq!(nodes.len(), 1, "{nodes:?}");
    assert!(parse_node_name(&nodes[0], MUTEX_LOCK_NAME).is_some(), "name off the grammar: {}", nodes[0]);
    assert_eq!(guard.node_path(), format!("{path}/{}", nodes[0]));
    guard.release().await.unwrap();
    assert!(children(&client, &path).await.is_empty(), "release waits for the delete");
    assert!(!mutex.is_held());
}

#[tokio::test]
async fn two_clients_exclude_each_other() {
    let (a, b) = (client().await, client().await);
    let path = lock_path("two-clients");
    let first = Mutex::new(&a, &path).unwrap();
    let second = Mutex::new(&b, &path).unwrap();
    let held = first.lock().await.unwrap();
    let err = second.lock_timeout(BLOCKED_FOR).await.unwrap_err();
    assert_eq!(err, LockError::Timeout(BLOCKED_FOR));
    let waiter = tokio::spawn(async move { second.lock().await.map(|g| (g, second)) });
    tokio::time::sleep(BLOCKED_FOR).await;
    assert!(!waiter.is_finished(), "second client got the lock while the first held it");
    held.release().await.unwrap();
    let (guard, _second) = tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap().unwrap();
    guard.release().await.unwrap();
    wait_empty(&a, &path).await;
}

#[tokio::test]
async fn reentering_through_the_guard_reuses_the_node_until_the_last_guard() {
    let client = client().await;
    let path = lock_path("reentrant");
    let mutex = Mutex::new(&client, &path).unwrap();
    let outer = mutex.lock().await.unwrap();
    let inner = outer.reenter().unwrap();
    assert_eq!(children(&client, &path).await.len(), 1, "a reentrant acquire created a node");
    assert_eq!(outer.node_path(), inner.node_path());
    outer.release().await.unwrap();
    assert!(mutex.is_held(), "the inner guard still holds");
    assert_eq!(children(&client, &path).await.len(), 1);
    inner.release().await.unwrap();
    assert!(children(&client, &path).await.is_empty());
    assert!(!mutex.is_held());
}

#[tokio::test]
async fn clones_and_handles_contend_as_separate_callers() {
    let client = client().await;
    let path = lock_path("two-handles");
    let mutex = Mutex::new(&client, &path).unwrap();
    let clone = mutex.clone();
    let other = Mutex::new(&client, &path).unwrap();
    let guard = mutex.lock().await.unwrap();
    for handle in [&mutex, &clone, &other] {
        assert_eq!(
            handle.lock_timeout(BLOCKED_FOR).await.unwrap_err(),
            LockError::Timeout(BLOCKED_FOR),
            "a second caller on the same session must contend, not reenter"
        );
    }
    assert_eq!(children(&client, &path).await.len(), 1, "timed-out callers left a node");
    guard.release().await.unwrap();
    other.lock().await.unwrap().release().await.unwrap();
}

#[tokio::test]
async fn concurrent_acquires_on_one_handle_exclude_each_other() {
    let client = client().await;
    let path = lock_path("concurrent-one-handle");
    let mutex = Mutex::new(&client, &path).unwrap();
    let (a, b) = tokio::join!(mutex.lock_timeout(BLOCKED_FOR), mutex.lock_timeout(BLOCKED_FOR));
    let (granted, refused): (Vec<_>, Vec<_>) = [a, b].into_iter().partition(Result::is_ok);
    assert_eq!((granted.len(), refused.len()), (1, 1), "one caller of the handle must wait for the other");
    for guard in granted {
        guard.unwrap().release().await.unwrap();
    }
    assert!(children(&client, &path).await.is_empty());
}

#[tokio::test]
async fn participant_nodes_are_in_lock_order() {
    let clients = [client().await, client().await, client().await];
    let path = lock_path("participants");
    let handles: Vec<Mutex> = clients.iter().map(|c| Mutex::new(c, &path).unwrap()).collect();
    let first = handles[0].lock().await.unwrap();
    let mut waiters = Vec::new();
    for handle in &handles[1..] {
        let handle = handle.clone();
        waiters.push(tokio::spawn(async move { handle.lock().await.map(drop) }));
        // Wait for the node so that the order is known.
        let expected = waiters.len() + 1;
        eventually(Duration::from_secs(5), "waiter node", || async {
            children(&clients[0], &path).await.len() == expected
        })
        .await;
    }
    let participants = handles[2].participant_nodes().await.unwrap();
    assert_eq!(participants.len(), 3);
    assert_eq!(participants[0], first.node_path());
    let mut by_sequence = participants.clone();
    by_sequence.sort_by_key(|p| p[p.len() - 10..].to_owned());
    assert_eq!(participants, by_sequence);
    assert!(participants.iter().all(|p| p.starts_with(&format!("{path}/_c_"))));
    drop(first);
    for waiter in waiters {
        waiter.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn max_leases_admits_n_holders() {
    let clients = [client().await, client().await, client().await];
    let path = lock_path("leases");
    let handles: Vec<Mutex> = clients.iter().map(|c| Mutex::builder(c, &path).max_leases(2).build().unwrap()).collect();
    let one = handles[0].lock_timeout(Duration::from_secs(2)).await.unwrap();
    let two = handles[1].lock_timeout(Duration::from_secs(2)).await.expect("second lease");
    assert!(matches!(handles[2].lock_timeout(BLOCKED_FOR).await, Err(LockError::Timeout(_))), "a third holder got in");
    one.release().await.unwrap();
    let three = handles[2].lock_timeout(Duration::from_secs(5)).await.expect("third after a release");
    two.release().await.unwrap();
    three.release().await.unwrap();
    wait_empty(&clients[0], &path).await;
}

#[tokio::test]
async fn lock_data_is_stored_in_the_node() {
    let client = client().await;
    let path = lock_path("data");
    let mutex = Mutex::builder(&client, &path).data(&b"owner=orders-7"[..]).build().unwrap();
    let guard = mutex.lock().await.unwrap();
    let (data, _) = client.get_data(guard.node_path()).await.unwrap();
    assert_eq!(data, b"owner=orders-7");
    drop(guard);

    let default = Mutex::new(&client, &lock_path("default-data")).unwrap();
    let guard = default.lock().await.unwrap();
    let (data, _) = client.get_data(guard.node_path()).await.unwrap();
    let text = String::from_utf8(data).unwrap();
    assert!(text.parse::<std::net::IpAddr>().is_ok(), "default data is not an address: {text:?}");
    assert_eq!(default.lock_path(), guard.node_path().rsplit_once('/').unwrap().0);
}

#[tokio::test]
async fn fencing_tokens_grow_from_holder_to_holder() {
    let (a, b) = (client().await, client().await);
    let path = lock_path("fencing");
    let first = Mutex::new(&a, &path).unwrap().lock().await.unwrap();
    let token = first.fencing_token();
    let (_, stat) = a.get_data(first.node_path()).await.unwrap();
    assert_eq!(token.as_i64(), stat.czxid);
    first.release().await.unwrap();
    let second = Mutex::new(&b, &path).unwrap().lock().await.unwrap();
    assert!(second.fencing_token() > token);
}

#[tokio::test]
async fn missing_parents_are_containers_removed_once_empty() {
    let client = client().await;
    let parent = lock_path("container");
    let path = format!("{parent}/deeper/lock");
    Mutex::new(&client, &path).unwrap().lock().await.unwrap().release().await.unwrap();
    let (_, stat) = client.get_data(&path).await.expect("parent created");
    assert_eq!(stat.ephemeral_owner, 0);
    // The server's container manager runs every znode.container.checkIntervalMs
    // (the test server sets it short); containers go once empty.
    eventually(Duration::from_secs(30), "empty container removed", || async {
        client.check_stat(&path).await.unwrap().is_none()
    })
    .await;
}

#[tokio::test]
async fn dropped_guard_releases_in_the_background() {
    let (a, b) = (client().await, client().await);
    let path = lock_path("drop-guard");
    let guard = Mutex::new(&a, &path).unwrap().lock().await.unwrap();
    drop(guard);
    Mutex::new(&b, &path).unwrap().lock_timeout(Duration::from_secs(5)).await.unwrap().release().await.unwrap();
    wait_empty(&a, &path).await;
}

#[tokio::test]
async fn foreign_children_take_part_as_in_curator() {
    let client = client().await;
    let path = lock_path("foreign");
    let mutex = Mutex::new(&client, &path).unwrap();
    // Make the directory, then a foreign child sorting before any sequence
    // ('+' < '0') and one sorting after ('z' > '9').
    mutex.lock().await.unwrap().release().await.unwrap();
    let persistent = zookeeper_client::CreateMode::Persistent.with_acls(zookeeper_client::Acls::anyone_all());
    client.create(&format!("{path}/zzz"), b"", &persistent).await.unwrap();
    mutex
        .lock_timeout(Duration::from_secs(2))
        .await
        .expect("a child sorting after us does not block")
        .release()
        .await
        .unwrap();
    client.create(&format!("{path}/+before"), b"", &persistent).await.unwrap();
    assert!(matches!(mutex.lock_timeout(BLOCKED_FOR).await, Err(LockError::Timeout(_))));
    client.delete(&format!("{path}/+before"), None).await.unwrap();
    mutex.lock_timeout(Duration::from_secs(2)).await.unwrap().release().await.unwrap();
    assert_eq!(children(&client, &path).await, vec!["zzz".to_string()], "only the foreign child is left");
}

/// With several leases a waiter must get in as soon as any lease is free, not
/// only when the node `max_leases` places ahead of it goes (where Curator's
/// waiter watches, and keeps sleeping while a lease is free).
#[tokio::test]
async fn lease_waiter_enters_when_any_earlier_lease_goes() {
    let clients = [client().await, client().await, client().await];
    let path = lock_path("lease-liveness");
    let lease = |c: &zookeeper_client::Client| Mutex::builder(c, &path).max_leases(2).build().unwrap();
    let first = lease(&clients[0]).lock().await.unwrap();
    let second = lease(&clients[1]).lock().await.unwrap();
    let waiter = lease(&clients[2]);
    let waiting = tokio::spawn(async move { waiter.lock().await.map(|g| (g, waiter)) });
    eventually(Duration::from_secs(5), "waiter queued", || async { children(&clients[0], &path).await.len() == 3 })
        .await;
    // The waiter's node is third: Curator's rule watches the first node. Free the second lease instead.
    second.release().await.unwrap();
    let (guard, _waiter) = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the waiter was not woken when a lease became free")
        .unwrap()
        .unwrap();
    guard.release().await.unwrap();
    first.release().await.unwrap();
}

/// Long queues where waiters in the middle time out, are cancelled or hold
/// for a while: a waiter that takes the lock on its predecessor's delete
/// (having learnt, by watching the node ahead of it, that the predecessor
/// was the holder) must never let two in, for the mutex and the read side.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queues_with_waiters_leaving_midway_never_let_two_in() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let clients = [client().await, client().await, client().await];
    let path = lock_path("long-queue");
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let granted = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for task in 0..12u64 {
        let mutex = Mutex::new(&clients[task as usize % 3], &path).unwrap();
        let (inside, most, granted) = (inside.clone(), most.clone(), granted.clone());
        tasks.push(tokio::spawn(async move {
            for round in 0..8u64 {
                let wait = Duration::from_millis((task * 7 + round * 13) % 40 + 1);
                let attempt = match (task + round) % 3 {
                    0 => mutex.lock().await.ok(),
                    1 => mutex.lock_timeout(wait).await.ok(),
                    _ => tokio::time::timeout(wait, mutex.lock()).await.ok().and_then(Result::ok),
                };
                let Some(guard) = attempt else { continue };
                granted.fetch_add(1, Ordering::SeqCst);
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(round % 3)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
                guard.release().await.unwrap();
            }
        }));
    }
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(60), task).await.expect("no waiter hangs").unwrap();
    }
    assert_eq!(most.load(Ordering::SeqCst), 1, "two holders at once");
    assert!(granted.load(Ordering::SeqCst) >= 32, "only {} grants", granted.load(Ordering::SeqCst));
    wait_empty(&clients[0], &path).await;
}
