//! A standalone server, against the real ZooKeeper.

mod common;

use std::time::Duration;

use common::{accepts_connections, create_persistent, eventually, get_data, processes_mentioning};
use zkurator_testserver::{four_letter, server_version, ZkServer};

#[test]
fn starts_answers_ruok_and_reports_3_8() {
    let server = ZkServer::start().expect("start ZooKeeper");
    let addr = server.connect_string();
    assert_eq!(addr, format!("127.0.0.1:{}", server.port()));
    assert!(server.is_running());
    assert_eq!(four_letter(&addr, "ruok", Duration::from_secs(5)).expect("ruok"), "imok");
    let version = server_version(&addr).expect("srvr");
    assert!(version.starts_with("3.8."), "version {version:?}");
    let mntr = four_letter(&addr, "mntr", Duration::from_secs(5)).expect("mntr");
    assert!(mntr.contains("zk_server_state\tstandalone"), "mntr: {mntr}");
    let config = std::fs::read_to_string(server.data_dir().parent().unwrap().join("zoo.cfg")).expect("zoo.cfg");
    assert!(!config.contains("forceSync"), "forceSync on by default:\n{config}");
}

#[test]
fn restart_keeps_data_and_port() {
    let mut server = ZkServer::builder().force_sync(false).start().expect("start ZooKeeper");
    let addr = server.connect_string();
    create_persistent(&addr, "/kept", b"across restarts", Duration::from_secs(10));

    server.restart().expect("restart");
    assert_eq!(server.connect_string(), addr);
    assert!(server.is_running());
    assert_eq!(get_data(&addr, "/kept").as_deref(), Some(&b"across restarts"[..]));
}

#[test]
fn stopped_server_refuses_clients_until_restarted() {
    let mut server = ZkServer::start().expect("start ZooKeeper");
    let addr = server.connect_string();
    create_persistent(&addr, "/before-stop", b"", Duration::from_secs(10));
    let data_dir = server.data_dir().to_path_buf();
    let pid = server.pid().expect("a running server has a pid");
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists(), "no process {pid}");

    server.stop();
    assert!(!server.is_running());
    assert_eq!(server.pid(), None, "a stopped server has no pid");
    assert!(data_dir.is_dir(), "stop must keep the data");
    assert!(!accepts_connections(&addr));
    let connected = common::runtime().block_on(common::connect(&addr));
    assert!(connected.is_err(), "connected to a stopped server");
    assert!(four_letter(&addr, "ruok", Duration::from_secs(1)).is_err());
    server.stop(); // idempotent

    server.restart().expect("restart");
    assert!(server.pid().is_some_and(|again| again != pid), "the restarted JVM is a new process");
    assert_eq!(get_data(&addr, "/before-stop").as_deref(), Some(&b""[..]));
}

#[test]
fn drop_kills_the_process_and_removes_the_directory() {
    let server = ZkServer::start().expect("start ZooKeeper");
    let addr = server.connect_string();
    let dir = server.data_dir().parent().unwrap().to_path_buf();
    assert!(server.log_file().starts_with(&dir));
    assert!(!processes_mentioning(&dir).is_empty(), "expected the JVM and its watchdog to mention {}", dir.display());

    drop(server);
    assert!(!dir.exists(), "{} still exists", dir.display());
    assert_eq!(processes_mentioning(&dir), Vec::<u32>::new());
    assert!(eventually(Duration::from_secs(2), || !accepts_connections(&addr)));
}

#[test]
fn builder_rejects_zero_tick() {
    let err = ZkServer::builder().tick_time(Duration::ZERO).start().expect_err("zero tick accepted");
    assert!(err.to_string().contains("tick_time"), "{err}");
}

#[test]
fn short_sessions_are_granted() {
    // tickTime 200 ms => minSessionTimeout 400 ms; maxSessionTimeout 60 s.
    let server = ZkServer::builder().tick_time(Duration::from_millis(100)).start().expect("start ZooKeeper");
    let conf = four_letter(&server.connect_string(), "conf", Duration::from_secs(5)).expect("conf");
    assert!(conf.contains("tickTime=100"), "{conf}");
    assert!(conf.contains("minSessionTimeout=200"), "{conf}");
    assert!(conf.contains("maxSessionTimeout=60000"), "{conf}");
}
