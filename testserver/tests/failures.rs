//! Startup failures surface as errors carrying the server log, and leave nothing behind.
//!
//! This binary changes `ZK_CLASSPATH` and `JAVA_HOME`, which are process-wide: keep it to
//! this one test.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use zkurator_testserver::{ServerError, ZkServer, DEBIAN_JAVA_DIR};

#[test]
fn failed_startups_give_exited_and_start_timeout_with_the_log() {
    // A real JVM without the server classes exits at once.
    std::env::set_var("ZK_CLASSPATH", format!("{DEBIAN_JAVA_DIR}/zookeeper-jute.jar"));
    let err = ZkServer::start().expect_err("started without zookeeper.jar");
    std::env::remove_var("ZK_CLASSPATH");
    match &err {
        ServerError::Exited { log_tail, log, .. } => {
            assert!(log_tail.contains("ZooKeeperServerMain"), "{log_tail}");
            assert!(!log.exists(), "{} left behind", log.display());
        }
        other => panic!("expected Exited, got {other:?}"),
    }
    assert!(err.to_string().contains("exited during startup"), "{err}");

    // A "JVM" that stays up but never answers: a timeout, and the process is killed.
    let java_home = tempfile::tempdir().unwrap();
    let java = java_home.path().join("bin/java");
    fs::create_dir_all(java.parent().unwrap()).unwrap();
    fs::write(&java, "#!/bin/sh\necho \"hung jvm started\" >&2\nexec sleep 60\n").unwrap();
    fs::set_permissions(&java, fs::Permissions::from_mode(0o755)).unwrap();
    std::env::set_var("JAVA_HOME", java_home.path());
    let started = Instant::now();
    let err =
        ZkServer::builder().startup_timeout(Duration::from_secs(2)).start().expect_err("a hung JVM counted as ready");
    std::env::remove_var("JAVA_HOME");
    assert!(started.elapsed() < Duration::from_secs(10));
    match &err {
        ServerError::StartTimeout { log_tail, log, .. } => {
            assert!(log_tail.contains("hung jvm started"), "{log_tail}");
            assert!(!log.exists(), "{} left behind", log.display());
        }
        other => panic!("expected StartTimeout, got {other:?}"),
    }
    assert!(err.to_string().contains("was not serving within"), "{err}");
}
