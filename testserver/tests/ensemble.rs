//! A three-server ensemble, against the real ZooKeeper.

mod common;

use std::time::Duration;

use common::{create_persistent, get_data, processes_mentioning};
use zkurator_testserver::{ServerError, ZkEnsemble};

#[test]
fn leader_failover_keeps_the_ensemble_writable() {
    let mut ensemble = ZkEnsemble::start(3).expect("start a 3-server ensemble");
    assert_eq!(ensemble.len(), 3);
    let all = ensemble.connect_string();
    assert_eq!(all.split(',').count(), 3);
    for i in 0..3 {
        assert!(ensemble.is_member_running(i));
        let myid = std::fs::read_to_string(ensemble.member_data_dir(i).join("myid")).unwrap();
        assert_eq!(myid.trim(), (i + 1).to_string());
    }

    let leader = ensemble.leader().expect("a leader after startup");
    create_persistent(&all, "/before-failover", b"1", Duration::from_secs(15));

    ensemble.kill(leader).expect("kill the leader");
    assert!(!ensemble.is_member_running(leader));
    let new_leader = ensemble.wait_for_leader(Duration::from_secs(20)).expect("a new leader");
    assert_ne!(new_leader, leader);

    create_persistent(&all, "/after-failover", b"2", Duration::from_secs(15));
    assert_eq!(get_data(&all, "/before-failover").as_deref(), Some(&b"1"[..]));

    // The old leader rejoins as a follower and has the data written without it.
    ensemble.start_member(leader).expect("restart the old leader");
    assert!(ensemble.is_member_running(leader));
    assert_eq!(ensemble.leader(), Some(new_leader));
    let old_leader_alone = ensemble.member_connect_string(leader);
    assert_eq!(get_data(&old_leader_alone, "/after-failover").as_deref(), Some(&b"2"[..]));

    assert!(matches!(ensemble.kill(3), Err(ServerError::NoSuchMember { index: 3, size: 3 })));
    let root = ensemble.member_data_dir(0).parent().unwrap().parent().unwrap().to_path_buf();
    drop(ensemble);
    assert!(!root.exists(), "{} still exists", root.display());
    assert_eq!(processes_mentioning(&root), Vec::<u32>::new());
}

#[test]
fn empty_ensemble_is_rejected() {
    let err = ZkEnsemble::start(0).expect_err("empty ensemble started");
    assert!(matches!(err, ServerError::InvalidConfig(_)), "{err:?}");
}
