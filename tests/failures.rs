//! Lock loss, revocation, cancellation, timeouts and bad input against a real
//! ZooKeeper.

mod common;

use std::time::Duration;

use common::*;
use zkurator::{HoldStatus, LockError, LossReason, Mutex, PathProblem, ReadWriteLock};
use zookeeper_client::{Acl, Client, CreateMode};

#[tokio::test]
async fn killed_session_frees_the_lock_and_signals_loss() {
    let (a, b) = (client().await, client().await);
    let path = lock_path("killed-session");
    let guard = Mutex::new(&a, &path).unwrap().lock().await.unwrap();
    assert_eq!(guard.status(), HoldStatus::Held);
    let waiter = Mutex::new(&b, &path).unwrap();
    let waiting = tokio::spawn(async move { waiter.lock().await.map(|g| (g, waiter)) });
    tokio::time::sleep(BLOCKED_FOR).await;
    assert!(!waiting.is_finished());
    kill_session(&a).await;
    let reason = tokio::time::timeout(SESSION_TIMEOUT, guard.lost()).await.expect("loss signalled");
    assert_eq!(reason, LossReason::SessionEnded);
    assert!(guard.is_lost());
    let (granted, _) = tokio::time::timeout(SESSION_TIMEOUT, waiting).await.unwrap().unwrap().unwrap();
    granted.release().await.unwrap();
}

#[tokio::test]
async fn deleted_node_signals_loss() {
    let client = client().await;
    let admin = common::client().await;
    let guard = Mutex::new(&client, &lock_path("deleted")).unwrap().lock().await.unwrap();
    admin.delete(guard.node_path(), None).await.unwrap();
    let reason = tokio::time::timeout(Duration::from_secs(5), guard.lost()).await.unwrap();
    assert_eq!(reason, LossReason::NodeDeleted);
    guard.release().await.expect("releasing a lost hold is fine: the node is gone already");
}

/// Whether the server has a watch on `path` (four-letter word `wchp`).
fn server_watches(path: &str) -> bool {
    let server = connect_string();
    let address = server.split(',').next().unwrap();
    let report = zkurator_testserver::four_letter(address, "wchp", Duration::from_secs(5)).expect("wchp");
    report.lines().any(|line| line.trim() == path)
}

#[tokio::test]
async fn hold_is_watched_by_the_server_from_the_acquire_on() {
    let client = client().await;
    let guard = Mutex::new(&client, &lock_path("eager-watch")).unwrap().lock().await.unwrap();
    // Any later reply of the session comes after the exists watch was set.
    client.check_stat("/").await.unwrap();
    assert!(server_watches(guard.node_path()), "a hold nobody asked about has no watch on its node");
    let node = guard.node_path().to_owned();
    guard.release().await.unwrap();
    assert!(!server_watches(&node), "the watch outlived the release");
}

#[tokio::test]
async fn first_status_after_an_expiry_is_already_lost() {
    let client = client().await;
    let guard = Mutex::new(&client, &lock_path("expired-unwatched")).unwrap().lock().await.unwrap();
    kill_session(&client).await;
    eventually(SESSION_TIMEOUT, "client sees its session end", || {
        let ended = client.state().is_terminated();
        async move { ended }
    })
    .await;
    assert_eq!(guard.status(), HoldStatus::Lost(LossReason::SessionEnded), "first answer, no request needed");
}

#[tokio::test]
async fn deleted_node_is_seen_by_a_status_poller() {
    let client = client().await;
    let admin = common::client().await;
    let guard = Mutex::new(&client, &lock_path("deleted-polled")).unwrap().lock().await.unwrap();
    admin.delete(guard.node_path(), None).await.unwrap();
    eventually(Duration::from_secs(1), "status shows the deleted node", || async {
        guard.status() == HoldStatus::Lost(LossReason::NodeDeleted)
    })
    .await;
}

#[tokio::test]
async fn revocation_reaches_revocable_holders_only() {
    let client = client().await;
    let path = lock_path("revoke");
    let revocable = Mutex::builder(&client, &path).revocable(true).build().unwrap();
    let guard = revocable.lock().await.unwrap();
    assert!(zkurator::revoke(&client, guard.node_path()).await.unwrap());
    tokio::time::timeout(Duration::from_secs(5), guard.revocation_requested()).await.expect("revocation seen");
    assert_eq!(guard.status(), HoldStatus::Held, "a revocation request is not a loss");
    guard.release().await.unwrap();

    let plain = ReadWriteLock::new(&client, &lock_path("no-revoke")).unwrap();
    let guard = plain.write().await.unwrap();
    assert!(zkurator::revoke(&client, guard.node_path()).await.unwrap());
    let heard = tokio::time::timeout(BLOCKED_FOR, guard.revocation_requested()).await;
    assert!(heard.is_err(), "a handle that did not opt in was told of a revocation");
    let node = guard.node_path().to_owned();
    guard.release().await.unwrap();
    assert!(!zkurator::revoke(&client, &node).await.unwrap(), "revoking a gone node reports false");
}

#[tokio::test]
async fn timeout_leaves_no_node() {
    let (a, b) = (client().await, client().await);
    let path = lock_path("timeout");
    let held = Mutex::new(&a, &path).unwrap().lock().await.unwrap();
    let started = std::time::Instant::now();
    let err = Mutex::new(&b, &path).unwrap().lock_timeout(Duration::from_millis(300)).await.unwrap_err();
    assert_eq!(err, LockError::Timeout(Duration::from_millis(300)));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(children(&a, &path).await.len(), 1, "a timed-out attempt left its node");
    held.release().await.unwrap();
}

#[tokio::test]
async fn zero_timeout_tries_once() {
    let (a, b) = (client().await, client().await);
    let path = lock_path("zero-timeout");
    let mutex = Mutex::new(&a, &path).unwrap();
    for timeout in [Duration::ZERO, Duration::from_millis(1)] {
        let guard = mutex.lock_timeout(timeout).await.expect("a free lock is taken with a zero or 1 ms timeout");
        let other = Mutex::new(&b, &path).unwrap();
        let refused = if timeout.is_zero() { LockError::WouldBlock } else { LockError::Timeout(timeout) };
        assert_eq!(other.lock_timeout(timeout).await.unwrap_err(), refused, "a zero timeout is a try");
        assert_eq!(children(&a, &path).await.len(), 1, "the refused attempt left its node");
        guard.release().await.unwrap();
    }
    assert!(children(&a, &path).await.is_empty());
}

#[tokio::test]
async fn cancelled_acquire_leaves_no_node() {
    let (a, b) = (client().await, client().await);
    let path = lock_path("cancel");
    let held = Mutex::new(&a, &path).unwrap().lock().await.unwrap();
    let waiter = Mutex::new(&b, &path).unwrap();
    // Drop the acquire future at several points of its life.
    for delay_ms in [0, 1, 5, 50, 200] {
        let outcome = tokio::time::timeout(Duration::from_millis(delay_ms), waiter.lock()).await;
        assert!(outcome.is_err(), "the lock is held elsewhere");
        eventually(Duration::from_secs(5), "cancelled attempt cleaned up", || async {
            children(&a, &path).await.len() == 1
        })
        .await;
    }
    assert!(!waiter.is_held());
    held.release().await.unwrap();
    waiter.lock().await.unwrap().release().await.unwrap();
}

#[tokio::test]
async fn closed_session_is_a_typed_error_not_a_hang() {
    let client = client().await;
    kill_session(&client).await;
    let mutex = Mutex::new(&client, &lock_path("closed")).unwrap();
    let err = tokio::time::timeout(Duration::from_secs(10), mutex.lock()).await.expect("no hang").unwrap_err();
    assert!(matches!(err, LockError::SessionLost(_)), "{err:?}");
}

#[tokio::test]
async fn invalid_paths_are_rejected_before_any_request() {
    let client = client().await;
    let cases = [
        ("", PathProblem::Empty),
        ("locks/a", PathProblem::Relative),
        ("/", PathProblem::Root),
        ("/locks/a/", PathProblem::TrailingSlash),
        ("/locks//a", PathProblem::EmptyComponent),
        ("/locks/./a", PathProblem::RelativeComponent),
        ("/locks/../a", PathProblem::RelativeComponent),
        ("/locks/a\0", PathProblem::ControlCharacter),
        ("/locks/\u{1b}[31m", PathProblem::ControlCharacter),
        ("/zookeeper/config", PathProblem::Reserved),
    ];
    for (path, problem) in cases {
        let err = Mutex::new(&client, path).unwrap_err();
        assert_eq!(err, LockError::InvalidPath { path: path.to_owned(), problem });
        assert!(err.to_string().contains("invalid lock path"), "{err}");
        assert!(ReadWriteLock::new(&client, path).is_err());
    }
}

#[tokio::test]
async fn acl_denial_is_a_prompt_typed_error() {
    let owner = Client::connector()
        .with_session_timeout(SESSION_TIMEOUT)
        .with_auth("digest", b"locker:secret")
        .connect(&connect_string())
        .await
        .unwrap();
    let stranger = client().await;
    let path = lock_path("acl");
    let acls = [Acl::new(zookeeper_client::Permission::ALL, zookeeper_client::AuthId::new("auth", ""))];
    let parent = path.rsplit_once('/').unwrap().0;
    owner.mkdir(parent, &CreateMode::Persistent.with_acls(zookeeper_client::Acls::anyone_all())).await.unwrap();
    owner.create(&path, b"", &CreateMode::Persistent.with_acls(zookeeper_client::Acls::new(&acls))).await.unwrap();

    let denied = Mutex::new(&stranger, &path).unwrap();
    let err = tokio::time::timeout(Duration::from_secs(5), denied.lock()).await.expect("no hang").unwrap_err();
    assert!(matches!(err, LockError::NoAuth { .. }), "{err:?}");
    assert!(err.to_string().contains(&path), "the error names the path: {err}");
    assert!(children(&owner, &path).await.is_empty());

    let allowed = Mutex::builder(&owner, &path).acls(acls.to_vec()).build().unwrap();
    allowed.lock().await.unwrap().release().await.unwrap();
}

/// The characters the library refuses are the ones the server refuses: a
/// path the library accepts is created by the server, and one it refuses the
/// server refuses too (checked with a raw create, around each range's edge).
#[tokio::test]
async fn the_library_refuses_the_characters_the_server_refuses() {
    let client = client().await;
    let persistent = CreateMode::Persistent.with_acls(zookeeper_client::Acls::anyone_all());
    client.mkdir("/zkurator-tests", &persistent).await.ok();
    let base = format!("/zkurator-tests/chars-{}", uuid_like());
    client.create(&base, b"", &persistent).await.unwrap();
    for (name, accepted) in [
        ("plain-é-ü-中", true),
        ("edge-\u{d7ff}", true),
        ("edge-\u{ffef}", true),
        ("private-\u{e000}", false),
        ("private-\u{f8ff}", false),
        ("special-\u{fff0}", false),
        ("lock-\u{1f512}", false),
    ] {
        let path = format!("{base}/{name}");
        let library = Mutex::new(&client, &path);
        let server = client.create(&path, b"", &persistent).await;
        assert_eq!(library.is_ok(), accepted, "{name:?}: the library said {:?}", library.err());
        assert_eq!(server.is_ok(), accepted, "{name:?}: the server said {server:?}");
        if !accepted {
            let problem = library.unwrap_err();
            assert!(
                matches!(problem, LockError::InvalidPath { problem: PathProblem::UnsupportedCharacter, .. }),
                "{problem:?}"
            );
        }
    }
}

fn uuid_like() -> String {
    format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos())
}
