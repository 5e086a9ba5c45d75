//! `MultiLock` (Curator's `InterProcessMultiLock`) against a real ZooKeeper:
//! all members or none (Curator's testSomeLocksFailToLock), every member
//! released when one release fails (testSomeReleasesFail), mixed members,
//! cancellation, the loss signal and bad input.

mod common;

use std::time::Duration;

use common::*;
use zkurator::zookeeper_client::{Acl, AuthId, Permission};
use zkurator::{LockError, LossReason, Member, MultiLock, Mutex, ReadWriteLock, SemaphoreMutex};

#[tokio::test]
async fn all_members_are_taken_and_released() {
    let client = client().await;
    let (one, two) = (lock_path("multi-one"), lock_path("multi-two"));
    let multi = MultiLock::new(&client, &[&one, &two]).unwrap();
    let guard = multi.lock().await.unwrap();
    let nodes: Vec<&str> = guard.holds().map(|h| h.node_path()).collect();
    assert!(nodes[0].starts_with(&format!("{one}/_c_")) && nodes[0].contains("-lock-"), "{nodes:?}");
    assert!(nodes[1].starts_with(&format!("{two}/_c_")), "{nodes:?}");
    assert_eq!(guard.fencing_tokens().len(), 2);
    assert!(guard.fencing_tokens()[0] < guard.fencing_tokens()[1], "taken in order");
    assert!(matches!(Mutex::new(&client, &two).unwrap().try_lock().await, Err(LockError::WouldBlock)));
    guard.release().await.unwrap();
    assert!(children(&client, &one).await.is_empty());
    assert!(children(&client, &two).await.is_empty());
}

/// Curator's testSomeLocksFailToLock: when one member cannot be had, the
/// members already taken are released.
#[tokio::test]
async fn a_member_that_cannot_be_had_releases_the_rest() {
    let (client, other) = (client().await, client().await);
    let (one, two) = (lock_path("multi-fail-one"), lock_path("multi-fail-two"));
    let held = Mutex::new(&other, &two).unwrap().lock().await.unwrap();
    let multi = MultiLock::new(&client, &[&one, &two]).unwrap();
    assert_eq!(multi.lock_timeout(BLOCKED_FOR).await.err(), Some(LockError::Timeout(BLOCKED_FOR)));
    assert!(children(&client, &one).await.is_empty(), "the first member was let go");
    assert_eq!(children(&client, &two).await.len(), 1, "only the other holder's node");
    assert!(matches!(multi.try_lock().await, Err(LockError::WouldBlock)));
    assert!(children(&client, &one).await.is_empty());
    held.release().await.unwrap();
    multi.try_lock().await.expect("all free now").release().await.unwrap();
}

/// Curator's testSomeReleasesFail: a member whose release fails does not keep
/// the others held, and the failure is reported.
#[tokio::test]
async fn every_member_is_released_when_one_release_fails() {
    let client = client().await;
    let (one, two) = (lock_path("multi-rel-one"), lock_path("multi-rel-two"));
    let guard = MultiLock::new(&client, &[&one, &two]).unwrap().lock().await.unwrap();
    let first_node = guard.holds().next().unwrap().node_path().to_owned();
    // Nobody may delete children of the first member's directory any more.
    let no_delete =
        [Acl::new(Permission::READ | Permission::WRITE | Permission::CREATE | Permission::ADMIN, AuthId::anyone())];
    client.set_acl(&one, &no_delete, None).await.unwrap();
    let released = guard.release().await;
    assert!(matches!(released, Err(LockError::NoAuth { .. })), "{released:?}");
    assert!(children(&client, &two).await.is_empty(), "the second member was released all the same");
    client.set_acl(&one, &[Acl::new(Permission::ALL, AuthId::anyone())], None).await.unwrap();
    client.delete(&first_node, None).await.unwrap();
}

#[tokio::test]
async fn mixed_members_wait_for_each_other_and_a_cancel_leaves_no_node() {
    let (client, other) = (client().await, client().await);
    let (catalog, job) = (lock_path("multi-catalog"), lock_path("multi-job"));
    let writer = ReadWriteLock::new(&other, &catalog).unwrap().write().await.unwrap();
    let multi = MultiLock::of(vec![
        SemaphoreMutex::new(&client, &job).unwrap().into(),
        Member::Read(ReadWriteLock::new(&client, &catalog).unwrap()),
    ])
    .unwrap();
    assert!(tokio::time::timeout(BLOCKED_FOR, multi.lock()).await.is_err(), "the read member waits for the writer");
    eventually(Duration::from_secs(5), "the cancelled multi-lock's nodes gone", || async {
        children(&client, &catalog).await.len() == 1 && children(&client, &format!("{job}/leases")).await.is_empty()
    })
    .await;
    let waiting = tokio::spawn({
        let multi = multi.clone();
        async move { multi.lock_timeout(Duration::from_secs(10)).await }
    });
    tokio::time::sleep(BLOCKED_FOR).await;
    writer.release().await.unwrap();
    let guard = waiting.await.unwrap().expect("granted once the writer left");
    assert_eq!(guard.holds().count(), 2);
    drop(guard);
    wait_empty(&client, &catalog).await;
    wait_empty(&client, &format!("{job}/leases")).await;
}

#[tokio::test]
async fn the_loss_of_any_member_is_signalled() {
    let client = client().await;
    let (one, two) = (lock_path("multi-lost-one"), lock_path("multi-lost-two"));
    let guard = MultiLock::new(&client, &[&one, &two]).unwrap().lock().await.unwrap();
    let second = guard.holds().nth(1).unwrap().node_path().to_owned();
    let observer = common::client().await;
    observer.delete(&second, None).await.unwrap();
    let reason = tokio::time::timeout(Duration::from_secs(5), guard.lost()).await.expect("loss signalled");
    assert_eq!(reason, LossReason::NodeDeleted);
    drop(guard);
    wait_empty(&observer, &one).await;
}

#[tokio::test]
async fn bad_input_is_rejected() {
    let client = client().await;
    assert_eq!(MultiLock::of(Vec::new()).err(), Some(LockError::NoMembers));
    assert_eq!(MultiLock::new(&client, &[]).err(), Some(LockError::NoMembers));
    assert!(matches!(MultiLock::new(&client, &["/fine", "bad"]), Err(LockError::InvalidPath { .. })));
}
