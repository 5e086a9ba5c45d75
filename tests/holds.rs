//! Locks held the way tokio code holds them, against a real ZooKeeper: one
//! handle shared by tasks, guards kept past a release or dropped outside a
//! runtime, holds lost under their guards, sessions that end and a handle
//! that carries on, `try_lock`, and lock data too large for a request.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use zkurator::{LockError, LossReason, Mutex, ReadWriteLock, SessionSource};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tasks_sharing_a_mutex_handle_exclude_each_other() {
    let client = client().await;
    let path = lock_path("shared-mutex");
    let mutex = Arc::new(Mutex::new(&client, &path).unwrap());
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (mutex, inside, most) = (mutex.clone(), inside.clone(), most.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..5 {
                let guard = mutex.lock().await.unwrap();
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
                guard.release().await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(most.load(Ordering::SeqCst), 1, "two tasks of one handle held the mutex at once");
    assert!(children(&client, &path).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_sharing_a_read_write_handle_exclude_each_other() {
    let client = client().await;
    let lock = Arc::new(ReadWriteLock::new(&client, &lock_path("shared-rw")).unwrap());
    let write = lock.write().await.unwrap();
    let other = lock.clone();
    let other_task = tokio::spawn(async move {
        let write = other.write_timeout(BLOCKED_FOR).await.map(drop);
        let read = other.read_timeout(BLOCKED_FOR).await.map(drop);
        (write, read)
    });
    let (write_again, read_as_downgrade) = other_task.await.unwrap();
    assert_eq!(write_again, Err(LockError::Timeout(BLOCKED_FOR)), "another task took the held write lock");
    assert_eq!(read_as_downgrade, Err(LockError::Timeout(BLOCKED_FOR)), "another task's read was a downgrade");
    write.release().await.unwrap();

    let read = lock.read().await.unwrap();
    let other = lock.clone();
    let writer = tokio::spawn(async move { other.write_timeout(BLOCKED_FOR).await.map(drop) });
    assert_eq!(writer.await.unwrap(), Err(LockError::Timeout(BLOCKED_FOR)), "waits for the reader, no Upgrade error");
    let other = lock.clone();
    let reader = tokio::spawn(async move { other.read_timeout(BLOCKED_FOR).await.map(|g| g.node_path().to_owned()) });
    let shared = reader.await.unwrap().expect("readers of one handle share");
    assert_ne!(shared, read.node_path(), "each reader has its own node");
    read.release().await.unwrap();
    assert!(children(&client, lock.lock_path()).await.is_empty());
}

#[tokio::test]
async fn a_guard_kept_past_a_loss_never_touches_a_later_hold() {
    let (a, b) = (client().await, client().await);
    let path = lock_path("stale-guard");
    let mutex = Mutex::new(&a, &path).unwrap();
    let stale = mutex.lock().await.unwrap();
    a.delete(stale.node_path(), None).await.unwrap();
    eventually(Duration::from_secs(5), "loss seen", || async { stale.is_lost() }).await;
    let current = mutex.lock().await.expect("a new caller contends afresh");
    assert_ne!(current.node_path(), stale.node_path());
    drop(stale);
    tokio::time::sleep(BLOCKED_FOR).await;
    assert_eq!(children(&a, &path).await.len(), 1, "dropping the stale guard deleted the current hold's node");
    let other = Mutex::new(&b, &path).unwrap();
    assert_eq!(other.try_lock().await.unwrap_err(), LockError::WouldBlock);
    current.release().await.unwrap();
}

#[tokio::test]
async fn a_lost_hold_is_not_held_and_not_reentered() {
    let (a, b) = (client().await, client().await);
    let path = lock_path("lost-hold");
    let mutex = Mutex::new(&a, &path).unwrap();
    let guard = mutex.lock().await.unwrap();
    assert!(mutex.is_held());
    a.delete(guard.node_path(), None).await.unwrap();
    assert_eq!(tokio::time::timeout(Duration::from_secs(5), guard.lost()).await.unwrap(), LossReason::NodeDeleted);
    assert!(!mutex.is_held(), "a lost hold counted as held");
    assert_eq!(guard.reenter().unwrap_err(), LockError::Lost(LossReason::NodeDeleted));
    let other = Mutex::new(&b, &path).unwrap().lock().await.unwrap();
    assert_eq!(
        mutex.lock_timeout(BLOCKED_FOR).await.unwrap_err(),
        LockError::Timeout(BLOCKED_FOR),
        "the lost holder got the lock while another process holds it"
    );
    guard.release().await.expect("releasing a lost hold has nothing left to do");
    other.release().await.unwrap();
}

#[tokio::test]
async fn try_lock_takes_a_free_lock_and_leaves_no_node_on_a_busy_one() {
    let (a, b) = (client().await, client().await);
    let path = lock_path("try-lock");
    let held = Mutex::new(&a, &path).unwrap().try_lock().await.expect("a free lock");
    let mutex = Mutex::new(&b, &path).unwrap();
    assert_eq!(mutex.try_lock().await.unwrap_err(), LockError::WouldBlock);
    assert_eq!(children(&a, &path).await.len(), 1, "a refused try_lock left its node");
    held.release().await.unwrap();
    mutex.try_lock().await.unwrap().release().await.unwrap();

    let rw = ReadWriteLock::new(&a, &lock_path("try-rw")).unwrap();
    let read = rw.try_read().await.unwrap();
    let second = rw.try_read().await.expect("readers share");
    assert_eq!(rw.try_write().await.unwrap_err(), LockError::WouldBlock);
    assert_eq!(children(&a, rw.lock_path()).await.len(), 2);
    drop((read, second));
    wait_empty(&a, rw.lock_path()).await;
}

#[test]
fn a_guard_dropped_outside_a_runtime_deletes_its_node() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let path = lock_path("drop-outside");
    let (client, mutex, guard) = runtime.block_on(async {
        let client = client().await;
        let mutex = Mutex::new(&client, &path).unwrap();
        let guard = mutex.lock().await.unwrap();
        (client, mutex, guard)
    });
    // Not inside any runtime here: the hold deletes on the runtime it was acquired on.
    std::thread::spawn(move || drop(guard)).join().unwrap();
    runtime.block_on(async {
        wait_empty(&client, &path).await;
        mutex.try_lock().await.expect("no orphan left to queue behind").release().await.unwrap();
    });
}

#[tokio::test]
async fn a_renewing_source_carries_on_after_the_session_expires() {
    let connector = zookeeper_client::Client::connector().with_session_timeout(SESSION_TIMEOUT);
    let sessions = SessionSource::renewing(connector, connect_string());
    let mutex = Mutex::new(&sessions, &lock_path("renewing")).unwrap();
    let old = mutex.lock().await.unwrap();
    let first = sessions.client().await.unwrap();
    kill_session(&first).await;
    assert_eq!(tokio::time::timeout(SESSION_TIMEOUT, old.lost()).await.unwrap(), LossReason::SessionEnded);
    let new = tokio::time::timeout(Duration::from_secs(10), mutex.lock()).await.unwrap().expect("a new session");
    let second = sessions.client().await.unwrap();
    assert_ne!(first.session_id(), second.session_id());
    let (_, stat) = second.get_data(new.node_path()).await.unwrap();
    assert_eq!(stat.ephemeral_owner, second.session_id().0, "the new hold rests on the new session");
    assert!(new.fencing_token() > old.fencing_token());
    old.release().await.unwrap();
    new.release().await.unwrap();

    let fixed_client = client().await;
    let fixed = Mutex::new(&fixed_client, &lock_path("fixed")).unwrap();
    kill_session(&fixed_client).await;
    assert!(matches!(fixed.lock().await.unwrap_err(), LockError::SessionLost(_)));
}

#[tokio::test]
async fn lock_data_too_large_for_a_request_is_refused_before_any_request() {
    let client = client().await;
    let path = lock_path("big-data");
    let refused = Mutex::builder(&client, &path).data(vec![7u8; 2 << 20]).build().unwrap_err();
    assert!(matches!(refused, LockError::DataTooLarge { len, limit } if len == 2 << 20 && limit == 0xfffff));
    assert!(ReadWriteLock::builder(&client, &path).data(vec![0u8; 0xfffff]).build().is_err());
    // The largest data the check lets through does fit the server's default limit.
    let fits = |n: usize| Mutex::builder(&client, &path).data(vec![1u8; n]).build().is_ok();
    let most = 0xfffff - path.len() - 512;
    assert!(fits(most) && !fits(most + 1));
    let mutex = Mutex::builder(&client, &path).data(vec![1u8; most]).build().unwrap();
    let guard = tokio::time::timeout(Duration::from_secs(10), mutex.lock()).await.expect("no hang").unwrap();
    assert_eq!(client.get_data(guard.node_path()).await.unwrap().0.len(), most);
    guard.release().await.unwrap();
}

/// The negative control: with holds shared per handle (zkurator before
/// per-caller holds), the shared-handle check above must see two tasks in.
#[cfg(zkurator_harness)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_that_shares_its_hold_lets_a_second_task_in() {
    let client = client().await;
    let path = lock_path("shared-hold-control");
    let broken = Mutex::builder(&client, &path)
        .negative_control(zkurator::negative::NegativeControl::SharedHold)
        .build()
        .unwrap();
    let first = broken.lock().await.unwrap();
    let other = broken.clone();
    let second = tokio::spawn(async move { other.lock_timeout(BLOCKED_FOR).await.map(drop) });
    assert_eq!(second.await.unwrap(), Ok(()), "the broken handle excluded a second task: the check cannot fail");
    first.release().await.unwrap();
}

#[test]
fn guards_and_handles_can_move_between_tasks() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<zkurator::MutexGuard>();
    send_sync::<zkurator::ReadGuard>();
    send_sync::<zkurator::WriteGuard>();
    send_sync::<Mutex>();
    send_sync::<ReadWriteLock>();
    send_sync::<SessionSource>();
}
