//! The README's promises that broke in an order no test tried (issue 18),
//! each as a test that failed before its fix: a lost hold re-entered when
//! nobody asked first, an acquire dropped outside a runtime, huge timeouts, a
//! multi-lock over one path twice, a guarded write over the request limit,
//! and a release racing `is_held`.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use zkurator::{HoldStatus, LockError, LossReason, Member, MultiLock, Mutex, ReadWriteLock, Semaphore, SemaphoreMutex};

/// A reply on `client`'s session: ZooKeeper delivers the session's watch
/// events before it, so whatever the server told the client is in by then.
async fn round_trip(client: &zookeeper_client::Client) {
    client.check_stat("/").await.expect("a round trip");
}

#[tokio::test]
async fn a_node_deleted_under_a_holder_nobody_asked_about_is_neither_held_nor_reentered() {
    let (a, b, operator) = (client().await, client().await, client().await);
    let path = lock_path("unasked-loss");
    let mutex = Mutex::new(&a, &path).unwrap();
    let guard = mutex.lock().await.unwrap();
    operator.delete(guard.node_path(), None).await.unwrap();
    let rival = Mutex::new(&b, &path).unwrap().lock_timeout(Duration::from_secs(5)).await.expect("the rival gets in");
    round_trip(&a).await;
    // In this order, with no status() or lost() before.
    assert!(!mutex.is_held(), "a lost hold counted as held beside the rival");
    assert_eq!(guard.reenter().unwrap_err(), LockError::Lost(LossReason::NodeDeleted), "a lost hold re-entered");
    assert_eq!(guard.status(), HoldStatus::Lost(LossReason::NodeDeleted));
    guard.release().await.unwrap();
    assert_eq!(children(&a, &path).await.len(), 1, "releasing the lost hold touched the rival's node");
    rival.release().await.unwrap();

    // The write side and a semaphore's leases alike.
    let rw = ReadWriteLock::new(&a, &lock_path("unasked-loss-rw")).unwrap();
    let write = rw.write().await.unwrap();
    operator.delete(write.node_path(), None).await.unwrap();
    round_trip(&a).await;
    assert!(!rw.is_write_held());
    assert!(write.reenter().is_err() && write.read().await.is_err(), "a lost write hold re-entered or read");
    let pool = Semaphore::new(&a, &lock_path("unasked-loss-lease"), 2).unwrap();
    let lease = pool.acquire().await.unwrap();
    operator.delete(lease.node_path(), None).await.unwrap();
    round_trip(&a).await;
    assert_eq!(pool.leases_held(), 0, "a deleted lease counted as held");
}

#[test]
fn an_acquire_dropped_outside_a_runtime_leaves_no_node() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let path = lock_path("acquire-dropped-outside");
    let (client, holder, queued) = runtime.block_on(async {
        let client = client().await;
        let holder = Mutex::new(&client, &path).unwrap().lock().await.unwrap();
        let waiter = Mutex::new(&client, &path).unwrap();
        let mut queued = Box::pin(async move { waiter.lock().await });
        assert!(tokio::time::timeout(BLOCKED_FOR, &mut queued).await.is_err(), "the lock is held");
        assert_eq!(children(&client, &path).await.len(), 2, "the waiter's node is queued");
        (client, holder, queued)
    });
    // Not inside any runtime here: the attempt cleans up on the one it started on.
    std::thread::spawn(move || drop(queued)).join().unwrap();
    runtime.block_on(async {
        eventually(Duration::from_secs(5), "the dropped attempt's node deleted", || async {
            children(&client, &path).await.len() == 1
        })
        .await;
        holder.release().await.unwrap();
        let next = Mutex::new(&client, &path).unwrap().try_lock().await.expect("no orphan holds the lock");
        next.release().await.unwrap();
    });
}

#[tokio::test]
async fn a_huge_timeout_means_wait_in_every_lock_type() {
    let client = client().await;
    let huge = Duration::MAX;
    let mutex = Mutex::new(&client, &lock_path("huge-mutex")).unwrap();
    mutex.lock_timeout(huge).await.expect("a free mutex").release().await.unwrap();
    let rw = ReadWriteLock::new(&client, &lock_path("huge-rw")).unwrap();
    rw.read_timeout(huge).await.expect("a free read lock").release().await.unwrap();
    rw.write_timeout(huge).await.expect("a free write lock").release().await.unwrap();
    let pool = Semaphore::new(&client, &lock_path("huge-semaphore"), 2).unwrap();
    pool.acquire_timeout(huge).await.expect("a free lease").release().await.unwrap();
    drop(pool.acquire_many_timeout(2, huge).await.expect("two free leases"));
    let single = SemaphoreMutex::new(&client, &lock_path("huge-semaphore-mutex")).unwrap();
    single.lock_timeout(huge).await.expect("a free semaphore mutex").release().await.unwrap();
    let multi = MultiLock::new(&client, &[&lock_path("huge-multi-a"), &lock_path("huge-multi-b")]).unwrap();
    multi.lock_timeout(huge).await.expect("free members").release().await.unwrap();

    // On a held lock a huge timeout waits, as no timeout does.
    let held = mutex.lock().await.unwrap();
    let waiting = tokio::time::timeout(BLOCKED_FOR, mutex.lock_timeout(huge)).await;
    assert!(waiting.is_err(), "a huge timeout gave up: {waiting:?}");
    held.release().await.unwrap();
}

#[tokio::test]
async fn a_multi_lock_over_one_path_twice_takes_it_once() {
    let client = client().await;
    let account = lock_path("self-transfer");
    let transfer = MultiLock::new(&client, &[&account, &account]).unwrap();
    assert_eq!(transfer.members().len(), 1, "a duplicate path is one member");
    let guard = transfer.lock_timeout(Duration::from_secs(5)).await.expect("a transfer to the same account");
    assert_eq!(guard.holds().count(), 1);
    assert_eq!(children(&client, &account).await.len(), 1);
    guard.release().await.unwrap();
    assert!(children(&client, &account).await.is_empty());

    let rw = ReadWriteLock::new(&client, &lock_path("self-upgrade")).unwrap();
    let conflict = MultiLock::of(vec![Member::Read(rw.clone()), Member::Write(rw.clone())]).unwrap_err();
    assert!(matches!(conflict, LockError::ConflictingMembers { .. }), "{conflict:?}");
    let same = MultiLock::of(vec![Member::Write(rw.clone()), Member::Write(rw)]).unwrap();
    assert_eq!(same.members().len(), 1);
}

#[tokio::test]
async fn a_guarded_write_over_the_request_limit_is_refused_before_any_request() {
    let client = client().await;
    let data = lock_path("big-guarded-data");
    let persistent = zookeeper_client::CreateMode::Persistent.with_acls(zookeeper_client::Acls::anyone_all());
    client.mkdir("/zkurator-tests", &persistent).await.ok();
    client.create(&data, b"0", &persistent).await.unwrap();
    let guard = Mutex::new(&client, &lock_path("big-guarded")).unwrap().lock().await.unwrap();
    let session = client.session_id();
    let in_flight = client.get_data(&data);
    let refused = guard.guarded_set_data(&data, &vec![7u8; 2 << 20], None).await.unwrap_err();
    assert!(matches!(refused, LockError::DataTooLarge { limit: 0xfffff, .. }), "{refused:?}");
    assert!(!refused.is_outcome_unknown(), "nothing was sent, so nothing is unknown");
    assert!(in_flight.await.is_ok(), "a request in flight on the session failed with the refused write");
    assert_eq!(client.session_id(), session);
    assert_eq!(guard.status(), HoldStatus::Held);
    // A transaction of several operations counts as one request.
    let mut tx = guard.guarded();
    for _ in 0..3 {
        tx.set_data(&data, &vec![1u8; 400_000], None);
    }
    assert!(matches!(tx.commit().await, Err(LockError::DataTooLarge { .. })));
    // A bad path is reported by commit, which sends nothing.
    let mut bad = guard.guarded();
    bad.set_data("no-leading-slash", b"x", None).set_data(&data, b"1", None);
    assert!(bad.commit().await.is_err());
    assert_eq!(client.get_data(&data).await.unwrap().0, b"0", "a refused transaction wrote");
    guard.guarded_set_data(&data, b"fits", None).await.expect("a small guarded write");
    guard.release().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_waits_for_its_delete_while_another_thread_asks_is_held() {
    let client = client().await;
    let path = lock_path("release-vs-is-held");
    let mutex = Mutex::new(&client, &path).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let asker = {
        let (mutex, stop) = (mutex.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut asked = 0u64;
            while !stop.load(Ordering::Relaxed) {
                std::hint::black_box(mutex.is_held());
                asked += 1;
            }
            asked
        })
    };
    for round in 0..100 {
        let guard = mutex.lock().await.unwrap();
        let nested = guard.reenter().unwrap();
        drop(nested);
        guard.release().await.unwrap();
        let left = children(&client, &path).await;
        assert!(left.is_empty(), "round {round}: release returned before its delete: {left:?}");
    }
    stop.store(true, Ordering::Relaxed);
    assert!(asker.join().unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn a_session_expires_and_the_handle_carries_on_on_a_multi_thread_runtime() {
    let connector = zookeeper_client::Client::connector().with_session_timeout(SESSION_TIMEOUT);
    let sessions = zkurator::SessionSource::renewing(connector, connect_string());
    let mutex = Mutex::new(&sessions, &lock_path("expiry-multi-thread")).unwrap();
    let old = mutex.lock().await.unwrap();
    kill_session(old.client()).await;
    assert_eq!(tokio::time::timeout(SESSION_TIMEOUT, old.lost()).await.unwrap(), LossReason::SessionEnded);
    let new = mutex.lock_timeout(Duration::from_secs(10)).await.expect("a new session");
    assert_ne!(new.client().session_id(), old.client().session_id());
    assert!(!mutex.source().client().await.unwrap().state().is_terminated());
    new.release().await.unwrap();
}
