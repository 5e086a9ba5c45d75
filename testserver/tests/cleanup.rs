//! Servers must not outlive the test process, however it ends.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{accepts_connections, eventually, processes_mentioning};
use zkurator_testserver::{ZkEnsemble, ZkServer};

const CHILD_ENV: &str = "ZKURATOR_TESTSERVER_ORPHAN_CHILD";

/// Not a test of its own: the body of the child process that `sigkilled_test_process_*`
/// starts. It starts servers, reports where they live, then waits to be killed.
#[test]
fn orphan_child() {
    let Some(kind) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let mut dirs_and_addrs = Vec::new();
    let mut servers = Vec::new();
    let mut ensembles = Vec::new();
    if kind == "server" {
        let server = ZkServer::start().expect("start ZooKeeper");
        let dir = server.data_dir().parent().unwrap().to_path_buf();
        dirs_and_addrs.push((dir, server.connect_string()));
        servers.push(server);
    } else {
        let ensemble = ZkEnsemble::start(2).expect("start ensemble");
        for i in 0..ensemble.len() {
            let dir = ensemble.member_data_dir(i).parent().unwrap().to_path_buf();
            dirs_and_addrs.push((dir, ensemble.member_connect_string(i)));
        }
        ensembles.push(ensemble);
    }
    for (dir, addr) in dirs_and_addrs {
        println!("SERVER {addr} {}", dir.display());
    }
    println!("READY");
    std::thread::sleep(Duration::from_secs(120));
}

fn run_and_sigkill_child(kind: &str) -> Vec<(String, PathBuf)> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "orphan_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, kind)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("re-run this test binary");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut servers = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        // libtest may have printed "test orphan_child ... " on the same line.
        if let Some(rest) = line.find("SERVER ").map(|at| &line[at + "SERVER ".len()..]) {
            let (addr, dir) = rest.split_once(' ').unwrap();
            servers.push((addr.to_owned(), PathBuf::from(dir)));
        }
        if line.ends_with("READY") {
            break;
        }
    }
    let up: Vec<bool> = servers.iter().map(|(addr, _)| accepts_connections(addr)).collect();
    child.kill().unwrap(); // SIGKILL: no destructor runs.
    child.wait().unwrap();
    assert!(!servers.is_empty(), "the child reported no server");
    assert!(up.iter().all(|&up| up), "not all up: {servers:?} {up:?}");
    servers
}

fn assert_gone(servers: Vec<(String, PathBuf)>) {
    for (addr, dir) in servers {
        assert!(
            eventually(Duration::from_secs(10), || !accepts_connections(&addr)),
            "{addr} survived its test process"
        );
        assert!(eventually(Duration::from_secs(10), || !dir.exists()), "{} survived its test process", dir.display());
        assert_eq!(processes_mentioning(&dir), Vec::<u32>::new());
    }
}

#[test]
fn sigkilled_test_process_leaves_no_server_or_directory() {
    assert_gone(run_and_sigkill_child("server"));
}

#[test]
fn sigkilled_test_process_leaves_no_ensemble_member_or_directory() {
    assert_gone(run_and_sigkill_child("ensemble"));
}
