//! Guarded writes and fencing tokens against a real ZooKeeper: a holder
//! writes only while its own lock node exists; a holder whose node was
//! deleted or whose session expired gets a typed error and nothing is
//! written; a plain write in the same situation goes through (the negative
//! control that shows the check is what protects the data).

mod common;

use common::*;
use zkurator::zookeeper_client::{Client, CreateMode, Error as ZkError};
use zkurator::{FencingToken, GuardedResult, LockError, Mutex, ReadWriteLock};

/// A data node no other test uses, holding `text`.
async fn data_node(client: &Client, test: &str, text: &str) -> String {
    let path = format!("{}-data", lock_path(test));
    match client.create("/zkurator-tests", b"", &persistent()).await {
        Ok(_) | Err(ZkError::NodeExists) => {}
        Err(e) => panic!("create /zkurator-tests: {e}"),
    }
    client.create(&path, text.as_bytes(), &persistent()).await.unwrap();
    path
}

fn persistent() -> zkurator::zookeeper_client::CreateOptions<'static> {
    CreateMode::Persistent.with_acls(zkurator::zookeeper_client::Acls::anyone_all())
}

async fn read(client: &Client, path: &str) -> String {
    String::from_utf8(client.get_data(path).await.unwrap().0).unwrap()
}

#[tokio::test]
async fn a_holder_writes_sets_creates_and_deletes_in_one_transaction() {
    let client = client().await;
    let data = data_node(&client, "guarded-ok", "0").await;
    let mutex = Mutex::new(&client, &lock_path("guarded-ok")).unwrap();
    let guard = mutex.lock().await.unwrap();
    let stat = guard.guarded_set_data(&data, b"1", Some(0)).await.unwrap();
    assert_eq!(stat.version, 1);
    assert_eq!(read(&client, &data).await, "1");

    let child = format!("{data}/child");
    let created = guard.guarded_create(&child, b"c", &persistent()).await.unwrap();
    assert_eq!(created, child);
    let mut write = guard.guarded();
    write.delete(&child, None).set_data(&data, b"2", None);
    let results = write.commit().await.unwrap();
    assert!(matches!(results.as_slice(), [GuardedResult::Deleted, GuardedResult::Set { .. }]), "{results:?}");
    assert_eq!(read(&client, &data).await, "2");
    assert_eq!(client.check_stat(&child).await.unwrap(), None);
    guard.release().await.unwrap();
}

#[tokio::test]
async fn a_holder_whose_node_was_deleted_cannot_write_but_a_plain_write_can() {
    let client = client().await;
    let data = data_node(&client, "guarded-deleted", "0").await;
    let mutex = Mutex::new(&client, &lock_path("guarded-deleted")).unwrap();
    let guard = mutex.lock().await.unwrap();
    let node = guard.node_path().to_owned();
    let admin = common::client().await;
    admin.delete(&node, None).await.unwrap();

    let refused = guard.guarded_set_data(&data, b"stale", None).await;
    assert_eq!(refused, Err(LockError::NotHeld { node: node.clone() }));
    assert!(!refused.unwrap_err().is_outcome_unknown());
    let mut write = guard.guarded();
    write.create(&format!("{data}/x"), b"", &persistent());
    write.set_data(&data, b"stale", None);
    assert!(matches!(write.commit().await, Err(LockError::NotHeld { .. })));
    assert_eq!(read(&client, &data).await, "0", "a refused guarded write changed the data");
    assert_eq!(client.check_stat(&format!("{data}/x")).await.unwrap(), None, "half a transaction applied");

    // Negative control: the same holder's plain write is not stopped.
    client.set_data(&data, b"stale", None).await.unwrap();
    assert_eq!(read(&client, &data).await, "stale");
    drop(guard);
}

#[tokio::test]
async fn a_holder_whose_session_expired_cannot_write_after_the_next_holder_took_over() {
    let old_client = client().await;
    let new_client = client().await;
    let data = data_node(&new_client, "guarded-expired", "0").await;
    let path = lock_path("guarded-expired");
    let old = Mutex::new(&old_client, &path).unwrap().lock().await.unwrap();
    let old_token = old.fencing_token();
    kill_session(&old_client).await;
    let new = Mutex::new(&new_client, &path).unwrap().lock().await.unwrap();
    assert!(new.fencing_token() > old_token, "tokens must grow from holder to holder");
    new.guarded_set_data(&data, b"new", None).await.unwrap();

    let refused = old.guarded_set_data(&data, b"old", None).await;
    assert!(matches!(refused, Err(LockError::SessionLost(_))), "{refused:?}");
    assert_eq!(read(&new_client, &data).await, "new");
    new.release().await.unwrap();
}

#[tokio::test]
async fn a_failed_operation_applies_nothing_and_names_its_path() {
    let client = client().await;
    let data = data_node(&client, "guarded-badversion", "0").await;
    let lock = ReadWriteLock::new(&client, &lock_path("guarded-badversion")).unwrap();
    let write = lock.write().await.unwrap();
    let mut tx = write.guarded();
    tx.set_data(&data, b"1", None).set_data(&data, b"2", Some(7));
    match tx.commit().await {
        Err(LockError::ZooKeeper { operation: "set data", path, source: ZkError::BadVersion }) => {
            assert_eq!(path, data)
        }
        other => panic!("expected BadVersion on {data}, got {other:?}"),
    }
    assert_eq!(read(&client, &data).await, "0");
    write.release().await.unwrap();
}

#[tokio::test]
async fn fencing_tokens_are_czxids_ordered_by_holder() {
    let client = client().await;
    let path = lock_path("fencing-type");
    let mutex = Mutex::new(&client, &path).unwrap();
    let first = mutex.lock().await.unwrap();
    let token = first.fencing_token();
    let (_, stat) = client.get_data(first.node_path()).await.unwrap();
    assert_eq!(token, FencingToken::from_czxid(stat.czxid));
    assert_eq!(token.to_string().parse::<FencingToken>().unwrap(), token);
    first.release().await.unwrap();
    let second = mutex.lock().await.unwrap();
    assert!(second.fencing_token() > token);
    second.release().await.unwrap();
}
