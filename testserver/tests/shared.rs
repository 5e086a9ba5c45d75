//! The process-wide shared server.

use std::thread;

use zkurator_testserver::{external_connect_string, server_version, shared_connect_string};

#[test]
fn shared_server_is_started_once_for_all_threads() {
    // Cold start from many threads at once: all must get the same server.
    let from_threads: Vec<String> = (0..8)
        .map(|_| thread::spawn(|| shared_connect_string().expect("shared server")))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|handle| handle.join().expect("thread"))
        .collect();
    let first = from_threads[0].clone();
    assert!(from_threads.iter().all(|c| *c == first), "{from_threads:?}");
    assert_eq!(shared_connect_string().expect("shared server"), first);
    assert_eq!(shared_connect_string().expect("shared server"), first);
    if std::env::var_os("ZK_CONNECT").is_none() {
        assert!(server_version(&first).expect("srvr").starts_with("3."));
    }
}

#[test]
fn zk_connect_picks_an_external_server() {
    assert_eq!(external_connect_string(None), None);
    assert_eq!(external_connect_string(Some("")), None);
    assert_eq!(external_connect_string(Some("   ")), None);
    assert_eq!(
        external_connect_string(Some("zk1:2181,zk2:2181/chroot\n")).as_deref(),
        Some("zk1:2181,zk2:2181/chroot")
    );
}
