//! Read/write lock behaviour against a real ZooKeeper: Curator's
//! `TestInterProcessReadWriteLock` cases and kazurator's, as behaviour.

mod common;

use std::time::Duration;

use common::*;
use zkurator::names::{parse_node_name, READ_LOCK_NAME, WRITE_LOCK_NAME};
use zkurator::{LockError, ReadWriteLock};

#[tokio::test]
async fn readers_share() {
    let (a, b) = (client().await, client().await);
    let path = lock_path("readers-share");
    let r1 = ReadWriteLock::new(&a, &path).unwrap().read().await.unwrap();
    let r2 = ReadWriteLock::new(&b, &path).unwrap().read_timeout(Duration::from_secs(2)).await.expect("readers share");
    let nodes = children(&a, &path).await;
    assert_eq!(nodes.len(), 2);
    assert!(nodes.iter().all(|n| parse_node_name(n, READ_LOCK_NAME).is_some()), "{nodes:?}");
    r1.release().await.unwrap();
    r2.release().await.unwrap();
}

#[tokio::test]
async fn writer_blocks_reader_and_reader_blocks_writer() {
    let (a, b) = (client().await, client().await);
    let path = lock_path("exclusion");
    let lock_a = ReadWriteLock::new(&a, &path).unwrap();
    let lock_b = ReadWriteLock::new(&b, &path).unwrap();

    let write = lock_a.write().await.unwrap();
    let name = children(&a, &path).await.remove(0);
    assert!(parse_node_name(&name, WRITE_LOCK_NAME).is_some(), "{name}");
    assert!(matches!(lock_b.read_timeout(BLOCKED_FOR).await, Err(LockError::Timeout(_))), "writer let a reader in");
    assert!(matches!(lock_b.write_timeout(BLOCKED_FOR).await, Err(LockError::Timeout(_))), "writer let a writer in");
    write.release().await.unwrap();

    let read = lock_a.read().await.unwrap();
    assert!(matches!(lock_b.write_timeout(BLOCKED_FOR).await, Err(LockError::Timeout(_))), "reader let a writer in");
    read.release().await.unwrap();
    lock_b.write_timeout(Duration::from_secs(2)).await.unwrap().release().await.unwrap();
    assert!(children(&a, &path).await.is_empty(), "timeouts left nodes behind");
}

#[tokio::test]
async fn reader_queued_behind_a_writer_waits_for_it() {
    let clients = [client().await, client().await, client().await];
    let path = lock_path("fifo");
    let locks: Vec<ReadWriteLock> = clients.iter().map(|c| ReadWriteLock::new(c, &path).unwrap()).collect();
    let first_read = locks[0].read().await.unwrap();
    let writer = locks[1].clone();
    let queued_writer = tokio::spawn(async move { writer.write().await.map(|g| (g, writer)) });
    eventually(Duration::from_secs(5), "writer queued", || async { children(&clients[0], &path).await.len() == 2 })
        .await;
    assert!(
        matches!(locks[2].read_timeout(BLOCKED_FOR).await, Err(LockError::Timeout(_))),
        "a reader overtook a queued writer"
    );
    first_read.release().await.unwrap();
    let (write, _) = tokio::time::timeout(Duration::from_secs(5), queued_writer).await.unwrap().unwrap().unwrap();
    write.release().await.unwrap();
}

#[tokio::test]
async fn upgrade_is_refused_at_once() {
    let client = client().await;
    let lock = ReadWriteLock::new(&client, &lock_path("upgrade")).unwrap();
    let read = lock.read().await.unwrap();
    let started = std::time::Instant::now();
    assert_eq!(read.upgrade().unwrap_err(), LockError::Upgrade);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(children(&client, lock.lock_path()).await.len(), 1, "the refused upgrade left a node");
    read.release().await.unwrap();
}

#[tokio::test]
async fn downgrade_keeps_the_read_lock() {
    let (a, b) = (client().await, client().await);
    let path = lock_path("downgrade");
    let lock = ReadWriteLock::new(&a, &path).unwrap();
    let other = ReadWriteLock::new(&b, &path).unwrap();
    let write = lock.write().await.unwrap();
    let read = write.read().await.expect("the write holder may read");
    let write_seq = &write.node_path()[write.node_path().len() - 10..];
    assert!(
        read.node_path().ends_with(&format!("{READ_LOCK_NAME}{write_seq}")),
        "CURATOR-621 naming: {}",
        read.node_path()
    );
    write.release().await.unwrap();
    assert!(lock.is_read_held() && !lock.is_write_held());
    other
        .read_timeout(Duration::from_secs(2))
        .await
        .expect("readers share after the downgrade")
        .release()
        .await
        .unwrap();
    assert!(matches!(other.write_timeout(BLOCKED_FOR).await, Err(LockError::Timeout(_))));
    read.release().await.unwrap();
    other.write_timeout(Duration::from_secs(2)).await.unwrap().release().await.unwrap();
}

/// CURATOR-621: a writer queued while the owner downgrades must not get the
/// write lock while the owner still holds its read lock.
#[tokio::test]
async fn contended_downgrade_keeps_the_queued_writer_out() {
    let (a, b) = (client().await, client().await);
    let path = lock_path("contended-downgrade");
    let owner = ReadWriteLock::new(&a, &path).unwrap();
    let write = owner.write().await.unwrap();
    let contender = ReadWriteLock::new(&b, &path).unwrap();
    let queued = contender.clone();
    let queued_writer = tokio::spawn(async move { queued.write().await.map(|g| (g, queued)) });
    eventually(Duration::from_secs(5), "writer queued", || async { children(&a, &path).await.len() == 2 }).await;
    let read = write.downgrade().await.unwrap();
    tokio::time::sleep(BLOCKED_FOR).await;
    assert!(!queued_writer.is_finished(), "the queued writer slipped in while the owner holds the read lock");
    read.release().await.unwrap();
    let (granted, _) = tokio::time::timeout(Duration::from_secs(5), queued_writer).await.unwrap().unwrap().unwrap();
    granted.release().await.unwrap();
    wait_empty(&a, &path).await;
}

#[tokio::test]
async fn participant_nodes_span_both_sides() {
    let (a, b) = (client().await, client().await);
    let path = lock_path("rw-participants");
    let reader = ReadWriteLock::new(&a, &path).unwrap();
    let writer = ReadWriteLock::new(&b, &path).unwrap();
    let read = reader.read().await.unwrap();
    let w = writer.clone();
    let waiting = tokio::spawn(async move { w.write().await.map(drop) });
    eventually(Duration::from_secs(5), "writer queued", || async { children(&a, &path).await.len() == 2 }).await;
    for handle in [&reader, &writer] {
        let participants = handle.participant_nodes().await.unwrap();
        assert_eq!(participants.len(), 2);
        assert_eq!(participants[0], read.node_path());
        assert!(participants[1].contains(WRITE_LOCK_NAME));
    }
    read.release().await.unwrap();
    waiting.await.unwrap().unwrap();
}

#[tokio::test]
async fn lock_data_is_on_both_sides() {
    let client = client().await;
    let lock = ReadWriteLock::builder(&client, &lock_path("rw-data")).data(&b"svc-a"[..]).build().unwrap();
    let write = lock.write().await.unwrap();
    let read = write.read().await.unwrap();
    for node in [write.node_path(), read.node_path()] {
        assert_eq!(client.get_data(node).await.unwrap().0, b"svc-a");
    }
}
