//! Multi-locks all or none across runtimes, with real Curator: a member held
//! by a plain mutex of the other runtime makes a multi-lock (Curator
//! InterProcessMultiLock or zkurator MultiLock) time out holding nothing,
//! and once free it takes every member. Part of `cargo test --features interop`.
#![cfg(feature = "interop")]

use std::time::Duration;

use zkurator_harness::contender::{Command, Contender, ContenderSpec, ErrorKind, LockKind, Reply, Runtime, Side};
use zkurator_harness::runtime::curator::CuratorRuntime;
use zkurator_harness::runtime::rust::RustContender;

const SESSION_TIMEOUT: Duration = Duration::from_secs(10);

fn start(runtime: Runtime, id: &str, path: &str, kind: LockKind) -> Box<dyn Contender> {
    let connect = zkurator_testserver::shared_connect_string().expect("a ZooKeeper for the tests");
    let spec = ContenderSpec {
        id: id.into(),
        connect,
        lock_path: path.into(),
        kind,
        lock_data: None,
        session_timeout: SESSION_TIMEOUT,
    };
    match runtime {
        Runtime::Curator => Box::new(CuratorRuntime::start().expect("Curator").start_contender(&spec).expect("start")),
        _ => Box::new(RustContender::start(Runtime::Rust, &spec, &Default::default()).expect("start")),
    }
}

fn acquire(contender: &mut dyn Contender, timeout: Duration) -> Reply {
    contender.execute(Command::Acquire { side: Side::Mutex, timeout: Some(timeout) })
}

fn children(tokio: &tokio::runtime::Runtime, zk: &zookeeper_client::Client, path: &str) -> Vec<String> {
    match tokio.block_on(zk.list_children(path)) {
        Ok(children) => children,
        Err(zookeeper_client::Error::NoNode) => Vec::new(),
        Err(error) => panic!("list {path}: {error}"),
    }
}

#[test]
fn a_multi_lock_takes_all_members_or_none_across_runtimes() {
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let connect = zkurator_testserver::shared_connect_string().expect("a ZooKeeper for the tests");
    let zk = tokio.block_on(zookeeper_client::Client::connect(&connect)).expect("connect");
    let pairs = [
        (Runtime::Curator, Runtime::Rust),
        (Runtime::Rust, Runtime::Curator),
        (Runtime::Curator, Runtime::Curator),
        (Runtime::Rust, Runtime::Rust),
    ];
    for (blocker_runtime, multi_runtime) in pairs {
        let path = format!("/multi-interop/{blocker_runtime}-{multi_runtime}-{}", std::process::id());
        let (m0, m1) = (format!("{path}/m0"), format!("{path}/m1"));
        let what = format!("{blocker_runtime} mutex on m1, {multi_runtime} multi-lock");
        let mut blocker = start(blocker_runtime, "blocker", &m1, LockKind::Mutex { max_leases: 1 });
        let mut multi = start(multi_runtime, "multi", &path, LockKind::Multi { members: 2 });

        assert!(matches!(acquire(blocker.as_mut(), Duration::from_secs(5)), Reply::Granted { .. }), "{what}");
        match acquire(multi.as_mut(), Duration::from_millis(400)) {
            Reply::Error { kind: ErrorKind::Timeout, .. } => {}
            other => panic!("{what}: the multi-lock should time out, got {other:?}"),
        }
        assert!(children(&tokio, &zk, &m0).is_empty(), "{what}: the timed-out multi-lock kept its first member");
        assert_eq!(children(&tokio, &zk, &m1).len(), 1, "{what}: only the blocker's node on m1");

        assert_eq!(blocker.execute(Command::Release { side: Side::Mutex }), Reply::Ok, "{what}");
        let granted = acquire(multi.as_mut(), Duration::from_secs(5));
        let Reply::Granted { node } = granted else { panic!("{what}: {granted:?}") };
        assert!(node.starts_with(&format!("{m0}/_c_")), "{what}: {node}");
        assert_eq!((children(&tokio, &zk, &m0).len(), children(&tokio, &zk, &m1).len()), (1, 1), "{what}");
        match acquire(blocker.as_mut(), Duration::ZERO) {
            Reply::Error { kind: ErrorKind::Timeout, .. } => {}
            other => panic!("{what}: the member is held by the multi-lock, got {other:?}"),
        }
        assert_eq!(multi.execute(Command::Release { side: Side::Mutex }), Reply::Ok, "{what}");
        assert!(children(&tokio, &zk, &m0).is_empty() && children(&tokio, &zk, &m1).is_empty(), "{what}");
        blocker.execute(Command::Close);
        multi.execute(Command::Close);
    }
}
