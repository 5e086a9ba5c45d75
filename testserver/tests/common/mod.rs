//! Helpers shared by the integration tests: a small blocking facade over
//! `zookeeper-client`, and a scan of `/proc` for leftover server processes.

#![allow(dead_code)] // Each test binary uses a different subset.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use zookeeper_client as zk;

/// A current-thread Tokio runtime for running client calls from plain `#[test]`s.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime")
}

/// Connects to `connect`, failing fast when no server answers.
pub async fn connect(connect: &str) -> Result<zk::Client, zk::Error> {
    zk::Client::connector().with_session_timeout(Duration::from_secs(10)).with_fail_eagerly().connect(connect).await
}

/// Creates a persistent node, retrying connection problems (e.g. during a leader
/// election) until `timeout` passes.
pub fn create_persistent(connect_string: &str, path: &str, data: &[u8], timeout: Duration) {
    let deadline = Instant::now() + timeout;
    runtime().block_on(async {
        let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
        loop {
            let result = match connect(connect_string).await {
                Ok(client) => client.create(path, data, &options).await.map(|_| ()),
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => return,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("create {path} on {connect_string} failed ({e}); retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("create {path} on {connect_string}: {e}"),
            }
        }
    });
}

/// The data of `path`, or `None` if it does not exist.
pub fn get_data(connect_string: &str, path: &str) -> Option<Vec<u8>> {
    runtime().block_on(async {
        let client = connect(connect_string).await.expect("connect");
        match client.get_data(path).await {
            Ok((data, _stat)) => Some(data),
            Err(zk::Error::NoNode) => None,
            Err(e) => panic!("get_data {path}: {e}"),
        }
    })
}

/// Pids of live (non-zombie) processes whose command line mentions `needle`.
pub fn processes_mentioning(needle: &Path) -> Vec<u32> {
    let needle = needle.to_string_lossy().into_owned();
    let me = std::process::id();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let zombie = stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z'));
            cmdline.contains(&needle) && !zombie
        })
        .collect()
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
pub fn eventually(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether something accepts TCP connections at `addr`.
pub fn accepts_connections(addr: &str) -> bool {
    std::net::TcpStream::connect_timeout(&addr.parse().expect("addr"), Duration::from_secs(1)).is_ok()
}
