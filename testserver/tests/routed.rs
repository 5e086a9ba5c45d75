//! A routed ensemble against the real ZooKeeper: the router is asked once
//! for every ordered pair of members and peer port, with the member's real
//! address as the target, and an ensemble whose routes are those targets
//! serves like a plain one.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{create_persistent, get_data};
use zkurator_testserver::{PeerLink, PeerPort, ServerBuilder, ServerError};

#[test]
fn the_router_is_asked_for_every_link_and_its_answers_are_used() {
    let mut asked: Vec<PeerLink> = Vec::new();
    let ensemble = ServerBuilder::new()
        .start_ensemble_routed(3, &mut |link| {
            asked.push(link);
            Ok(link.target)
        })
        .expect("a routed ensemble with direct routes starts");
    // A retry on fresh ports asks again; the last round is the one in use.
    let last: Vec<PeerLink> = asked[asked.len() - 12..].to_vec();
    let links: BTreeSet<(usize, usize, PeerPort)> = last.iter().map(|l| (l.from, l.to, l.port)).collect();
    assert_eq!(links.len(), 12, "3 members × 2 others × 2 ports: {last:?}");
    assert!(last.iter().all(|l| l.from != l.to && l.from < 3 && l.to < 3 && l.target.ip().is_loopback()));
    // Every member's quorum and election ports are distinct, and each is the
    // same target whoever connects to it.
    let targets: BTreeSet<_> = last.iter().map(|l| (l.to, l.port, l.target)).collect();
    assert_eq!(targets.len(), 6, "{targets:?}");

    let all = ensemble.connect_string();
    create_persistent(&all, "/routed", b"1", Duration::from_secs(15));
    for i in 0..3 {
        assert!(ensemble.member_mode(i).is_some(), "member {i} serves");
        assert_eq!(get_data(&ensemble.member_connect_string(i), "/routed").as_deref(), Some(&b"1"[..]));
    }
    let leader = ensemble.wait_for_leader_among(&[0, 1, 2], Duration::from_secs(5)).expect("a leader");
    let others: Vec<usize> = (0..3).filter(|&i| i != leader).collect();
    let err = ensemble.wait_for_leader_among(&others, Duration::from_millis(300)).expect_err("followers only");
    assert!(matches!(err, ServerError::NoLeader { .. }), "{err:?}");
}

#[test]
fn a_router_error_fails_the_start_and_names_the_link() {
    let err = ServerBuilder::new()
        .start_ensemble_routed(3, &mut |link| {
            if link.from == 2 && link.to == 0 && link.port == PeerPort::Election {
                Err(std::io::Error::other("no proxy today"))
            } else {
                Ok(link.target)
            }
        })
        .expect_err("the router failed");
    let message = err.to_string();
    assert!(
        message.contains("member 2") && message.contains("member 0") && message.contains("no proxy today"),
        "{message}"
    );
}
