//! `keep_nodelay` against a real server: the client's socket has Nagle's
//! algorithm on until it is called, off after, and off again on the new socket
//! after the server restarts. Linux only, like the function.
#![cfg(target_os = "linux")]

mod common;

use std::time::Duration;

use common::eventually;
use zkurator::{keep_nodelay, NodelayError};
use zkurator_testserver::ZkServer;
use zookeeper_client::{Client, SessionState};

/// `TCP_NODELAY` of every TCP socket of this process connected to `port`,
/// read back with `getsockopt` on a `pidfd_getfd` copy.
fn nodelay_of_sockets_to(port: u16) -> Vec<bool> {
    use rustix::process::{getpid, pidfd_getfd, pidfd_open, PidfdFlags, PidfdGetfdFlags};
    let this_process = pidfd_open(getpid(), PidfdFlags::empty()).expect("pidfd_open");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Some(fd) = entry.file_name().to_str().and_then(|name| name.parse().ok()) else { continue };
        let Ok(copy) = pidfd_getfd(&this_process, fd, PidfdGetfdFlags::empty()) else { continue };
        let socket = socket2::SockRef::from(&copy);
        let peer = socket.peer_addr().ok().and_then(|peer| peer.as_socket());
        if peer.is_some_and(|peer| peer.port() == port) && matches!(socket.r#type(), Ok(socket2::Type::STREAM)) {
            found.push(socket.tcp_nodelay().unwrap());
        }
    }
    found
}

#[tokio::test]
async fn nodelay_is_set_now_and_after_a_reconnection() {
    let mut server = ZkServer::builder().start().expect("a ZooKeeper server");
    let servers = server.connect_string();
    let client =
        Client::connector().with_session_timeout(Duration::from_secs(20)).connect(&servers).await.expect("connect");
    let before = nodelay_of_sockets_to(server.port());
    assert_eq!(before, vec![false], "zookeeper-client now sets TCP_NODELAY itself: keep_nodelay can go");

    let switched = keep_nodelay(&client, &servers).await.expect("keep_nodelay");
    assert_eq!(switched, 1);
    assert_eq!(nodelay_of_sockets_to(server.port()), vec![true]);

    let mut state = client.state_watcher();
    server.restart().expect("restart");
    let reconnected = async {
        let mut disconnected = false;
        loop {
            match state.changed().await {
                SessionState::SyncConnected if disconnected => return,
                now if now.is_terminated() => panic!("session ended over a restart: {now:?}"),
                SessionState::SyncConnected => {}
                _ => disconnected = true,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), reconnected).await.expect("client connected again");
    eventually(Duration::from_secs(5), "the new socket has TCP_NODELAY", || async {
        nodelay_of_sockets_to(server.port()) == vec![true]
    })
    .await;
}

#[tokio::test]
async fn bad_connect_strings_are_typed_errors() {
    let client = common::client().await;
    for bad in ["", "/chroot-only", "host:notaport", "[::1]x", "a:1,:2"] {
        match keep_nodelay(&client, bad).await {
            Err(NodelayError::BadConnectString { connect_string, .. }) => assert_eq!(connect_string, bad),
            other => panic!("{bad:?}: expected BadConnectString, got {other:?}"),
        }
    }
    match keep_nodelay(&client, "no-such-host.invalid:2181").await {
        Err(NodelayError::Resolve { host, .. }) => assert_eq!(host, "no-such-host.invalid:2181"),
        other => panic!("expected Resolve, got {other:?}"),
    }
}

/// What the Quick start builds (`zkurator::connect`) and every client a
/// renewing session source makes have Nagle's algorithm off, with no feature
/// and no call of the user's.
#[tokio::test]
async fn the_default_clients_have_nagle_off() {
    let server = ZkServer::builder().start().expect("a ZooKeeper server");
    let servers = server.connect_string();
    let client = zkurator::connect(Client::connector(), &servers).await.expect("connect");
    assert_eq!(nodelay_of_sockets_to(server.port()), vec![true], "zkurator::connect left Nagle on");
    drop(client);
    eventually(Duration::from_secs(5), "the first client closed", || async {
        nodelay_of_sockets_to(server.port()).is_empty()
    })
    .await;
    let sessions = zkurator::SessionSource::renewing(Client::connector(), servers.clone());
    let renewed = sessions.client().await.expect("a session");
    assert_eq!(nodelay_of_sockets_to(server.port()), vec![true], "a renewing source's client kept Nagle on");
    drop(renewed);
}
