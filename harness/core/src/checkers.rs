//! Pure checkers over a history: exclusion, node names and participant lists.
//!
//! Soundness: the interval a checker treats as "holds the lock" runs from the
//! runner's receipt of the acquire's reply to the runner's sending of the
//! release (or crash, or revocation request), which lies inside the real hold,
//! so any overlap reported is real.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;

pub use crate::checker::Checker;
use crate::history::{Event, EventKind};
use crate::protocol::{Command, LockKind, Reply, Side};

/// A check that failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Which checker.
    pub checker: Checker,
    /// What it saw.
    pub message: String,
}

/// A hold interval as the checker sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interval {
    /// Holder.
    pub contender: String,
    /// Side held.
    pub side: Side,
    /// Acquire reply received.
    pub start: Duration,
    /// Release, crash or revocation request sent (or the end of the history).
    pub end: Duration,
}

/// Hold intervals reconstructed from the history.
pub fn intervals(events: &[Event]) -> Vec<Interval> {
    let mut last_invoke: HashMap<&str, &Command> = HashMap::new();
    let mut open: HashMap<(String, Side), (u32, Duration)> = HashMap::new();
    let mut node_owner: HashMap<&str, (String, Side)> = HashMap::new();
    // Contenders whose session end was requested after their last invoke: a
    // grant answered after that (a waiter let in while the runner was
    // already crashing it) ends at an unknown time after its start, so it
    // counts as no interval (sound: never longer than the real hold).
    let mut crashed: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut done = Vec::new();
    let end_of_history = events.last().map_or(Duration::ZERO, |e| e.at);
    let close =
        |open: &mut HashMap<(String, Side), (u32, Duration)>, key: (String, Side), at, done: &mut Vec<Interval>| {
            if let Some((_, start)) = open.remove(&key) {
                done.push(Interval { contender: key.0, side: key.1, start, end: at });
            }
        };
    for event in events {
        let who = event.contender.as_str();
        match &event.kind {
            EventKind::Invoke(command) => {
                last_invoke.insert(who, command);
                crashed.remove(who);
                match command {
                    Command::Release { side } => {
                        let key = (who.to_owned(), *side);
                        if let Some((count, _)) = open.get_mut(&key) {
                            *count -= 1;
                            if *count == 0 {
                                close(&mut open, key, event.at, &mut done);
                            }
                        }
                    }
                    Command::Revoke { node } => {
                        if let Some(key) = node_owner.get(node.as_str()).cloned() {
                            close(&mut open, key, event.at, &mut done);
                        }
                    }
                    Command::Close => {
                        for side in [Side::Mutex, Side::Read, Side::Write] {
                            close(&mut open, (who.to_owned(), side), event.at, &mut done);
                        }
                    }
                    _ => {}
                }
            }
            EventKind::Complete(Reply::Granted { .. }) if crashed.contains(who) => {}
            EventKind::Complete(Reply::Granted { node }) => {
                if let Some(Command::Acquire { side, .. }) = last_invoke.get(who) {
                    let entry = open.entry((who.to_owned(), *side)).or_insert((0, event.at));
                    entry.0 += 1;
                    node_owner.insert(node.as_str(), (who.to_owned(), *side));
                }
            }
            EventKind::Crash => {
                crashed.insert(who);
                for side in [Side::Mutex, Side::Read, Side::Write] {
                    close(&mut open, (who.to_owned(), side), event.at, &mut done);
                }
            }
            EventKind::Complete(_) | EventKind::Listing(_) | EventKind::Step { .. } | EventKind::Server(_) => {}
        }
    }
    let remaining: Vec<_> = open.keys().cloned().collect();
    for key in remaining {
        close(&mut open, key, end_of_history, &mut done);
    }
    done.sort_by_key(|i| i.start);
    done
}

/// Exclusion: a writer overlaps no other contender's hold; at most
/// `max_leases` contenders hold a mutex at once.
pub fn exclusion(events: &[Event], kind: LockKind) -> Vec<Violation> {
    let holds = intervals(events);
    let overlap = |a: &Interval, b: &Interval| a.start < b.end && b.start < a.end;
    let mut violations = Vec::new();
    match kind {
        LockKind::ReadWrite => {
            for w in holds.iter().filter(|i| i.side == Side::Write) {
                for other in holds.iter().filter(|o| o.contender != w.contender && overlap(w, o)) {
                    violations.push(Violation {
                        checker: Checker::Exclusion,
                        message: format!(
                            "{} held the write lock {:?}..{:?} while {} held the {:?} lock {:?}..{:?}",
                            w.contender, w.start, w.end, other.contender, other.side, other.start, other.end
                        ),
                    });
                }
            }
            violations.dedup_by(|a, b| a.message == b.message);
        }
        LockKind::Mutex { .. } | LockKind::Semaphore { .. } | LockKind::Multi { .. } => {
            let max_leases = match kind {
                LockKind::Mutex { max_leases } | LockKind::Semaphore { max_leases } => max_leases,
                _ => 1,
            };
            let mut edges: Vec<(Duration, i32, &str)> = Vec::new();
            for i in &holds {
                edges.push((i.start, 1, &i.contender));
                edges.push((i.end, -1, &i.contender));
            }
            // Ends before starts at the same instant: touching is not overlapping.
            edges.sort_by_key(|(at, delta, _)| (*at, *delta));
            let mut holders: Vec<&str> = Vec::new();
            for (at, delta, who) in edges {
                if delta > 0 {
                    holders.push(who);
                    if holders.len() > max_leases as usize {
                        violations.push(Violation {
                            checker: Checker::Exclusion,
                            message: format!(
                                "{} holders at {at:?} ({}) for {max_leases} lease(s)",
                                holders.len(),
                                holders.join(", ")
                            ),
                        });
                    }
                } else if let Some(i) = holders.iter().position(|h| *h == who) {
                    holders.remove(i);
                }
            }
        }
    }
    violations
}

/// The lock names a node of this lock kind may carry.
fn lock_names(kind: LockKind) -> &'static [&'static str] {
    match kind {
        LockKind::Mutex { .. } | LockKind::Multi { .. } => &["lock-"],
        LockKind::ReadWrite => &["__READ__", "__WRIT__"],
        LockKind::Semaphore { .. } => &["lease-"],
    }
}

/// Whether `name` is `_c_<lower-case uuid>-<lock name><sequence>`, the
/// sequence being ZooKeeper's `%010d` of a signed 32-bit counter.
///
/// A semaphore's children are listed as `locks/<name>` (the takers' mutex,
/// `lock-` nodes) and `leases/<name>` (`lease-` nodes).
pub fn follows_protocol(name: &str, kind: LockKind) -> bool {
    match (kind, name.split_once('/')) {
        (LockKind::Semaphore { .. }, Some(("locks", rest))) => follows_grammar(rest, LockKind::Mutex { max_leases: 1 }),
        (LockKind::Semaphore { .. }, Some(("leases", rest))) => follows_grammar(rest, kind),
        (LockKind::Semaphore { .. }, _) => false,
        (LockKind::Multi { .. }, Some((dir, rest))) => kind.node_dirs().contains(&dir) && follows_grammar(rest, kind),
        (LockKind::Multi { .. }, None) => false,
        _ => follows_grammar(name, kind),
    }
}

fn follows_grammar(name: &str, kind: LockKind) -> bool {
    let Some(rest) = name.strip_prefix("_c_") else { return false };
    let Some((id, rest)) = protected_id(rest) else { return false };
    let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    let id_ok = match id.len() {
        36 => id.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => hex(b),
        }),
        32 => id.bytes().all(hex),
        _ => false,
    };
    id_ok
        && lock_names(kind).iter().any(|lock| {
            rest.strip_prefix(lock)
                .map(|seq| seq.strip_prefix('-').unwrap_or(seq))
                .is_some_and(|seq| seq.len() == 10 && seq.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// Splits the protection id off `rest` (after `_c_`): Curator's dashed UUID
/// (36 characters) or the same 128 bits as 32 hex digits (go-zookeeper/zk's
/// `CreateProtectedEphemeralSequential`). Curator-protocol peers read only
/// their own id; the order comes from the lock name and sequence after it.
fn protected_id(rest: &str) -> Option<(&str, &str)> {
    [36, 32].into_iter().find_map(|len| {
        let (id, tail) = (rest.get(..len)?, rest.get(len..)?);
        Some((id, tail.strip_prefix('-')?))
    })
}

/// Naming: every child seen on the server, other than the runner's own
/// foreign children, follows the protocol's grammar for the lock kind.
pub fn names(events: &[Event], kind: LockKind, foreign: &[String]) -> Vec<Violation> {
    let mut seen: Vec<&str> = Vec::new();
    for event in events {
        if let EventKind::Listing(children) = &event.kind {
            for child in children {
                if !foreign.contains(child) && !follows_protocol(child, kind) && !seen.contains(&child.as_str()) {
                    seen.push(child);
                }
            }
        }
    }
    seen.into_iter()
        .map(|child| Violation {
            checker: Checker::Naming,
            message: format!("node {child:?} does not follow the Curator protocol"),
        })
        .collect()
}

/// Lock order of children names, stated independently of zkurator's driver:
/// by the text after the last lock name (the whole name if none), stable.
pub fn lock_order(children: &[String], kind: LockKind) -> Vec<String> {
    let key = |name: &str| -> String {
        let mut key = name;
        for lock in lock_names(kind) {
            if let Some(i) = key.rfind(lock) {
                key = &key[i + lock.len()..];
            }
        }
        key.to_owned()
    };
    let mut sorted = children.to_vec();
    sorted.sort_by_key(|c| key(c));
    sorted
}

/// Participant agreement: a runtime's list equals the server's children in
/// lock order, as full paths.
pub fn participants(reported: &[String], children: &[String], lock_path: &str, kind: LockKind) -> Option<Violation> {
    let expected: Vec<String> = lock_order(children, kind).iter().map(|c| format!("{lock_path}/{c}")).collect();
    (reported != expected).then(|| Violation {
        checker: Checker::Participants,
        message: format!("reported {reported:?}, server has {expected:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ms: u64, who: &str, kind: EventKind) -> Event {
        Event { at: Duration::from_millis(ms), contender: who.into(), kind }
    }

    fn acquire(side: Side) -> EventKind {
        EventKind::Invoke(Command::Acquire { side, timeout: None })
    }

    fn granted(node: &str) -> EventKind {
        EventKind::Complete(Reply::Granted { node: node.into() })
    }

    fn release(side: Side) -> EventKind {
        EventKind::Invoke(Command::Release { side })
    }

    #[test]
    fn handoff_is_not_an_overlap() {
        let h = vec![
            ev(0, "a", acquire(Side::Write)),
            ev(1, "a", granted("/l/a")),
            ev(2, "b", acquire(Side::Write)),
            ev(5, "a", release(Side::Write)),
            ev(6, "b", granted("/l/b")),
            ev(9, "b", release(Side::Write)),
        ];
        assert!(exclusion(&h, LockKind::ReadWrite).is_empty());
        assert_eq!(intervals(&h).len(), 2);
    }

    #[test]
    fn a_grant_answered_after_the_crash_request_is_no_hold() {
        // The runner crashes a waiter at the end of a run; the grant it got
        // meanwhile arrives after the crash request. Its hold ended with the
        // crash, before the next waiter's grant: no overlap.
        let h = vec![
            ev(0, "a", acquire(Side::Mutex)),
            ev(1, "a", granted("/l/a")),
            ev(2, "b", acquire(Side::Mutex)),
            ev(3, "c", acquire(Side::Mutex)),
            ev(5, "a", EventKind::Invoke(Command::Close)),
            ev(6, "b", EventKind::Crash),
            ev(7, "b", granted("/l/b")),
            ev(9, "c", granted("/l/c")),
        ];
        assert!(exclusion(&h, LockKind::Mutex { max_leases: 1 }).is_empty());
        // A grant after a new invoke counts again.
        let mut later = h.clone();
        later.push(ev(10, "b", acquire(Side::Mutex)));
        later.push(ev(11, "b", granted("/l/b2")));
        later.push(ev(20, "c", release(Side::Mutex)));
        assert_eq!(exclusion(&later, LockKind::Mutex { max_leases: 1 }).len(), 1);
    }

    #[test]
    fn reader_during_writer_is_caught() {
        let h = vec![
            ev(0, "a", acquire(Side::Write)),
            ev(1, "a", granted("/l/a")),
            ev(2, "b", acquire(Side::Read)),
            ev(3, "b", granted("/l/b")),
            ev(5, "a", release(Side::Write)),
        ];
        let v = exclusion(&h, LockKind::ReadWrite);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].message.contains("a held the write lock"));
    }

    #[test]
    fn own_downgrade_is_not_an_overlap_but_readers_share() {
        let h = vec![
            ev(0, "a", acquire(Side::Write)),
            ev(1, "a", granted("/l/w")),
            ev(2, "a", acquire(Side::Read)),
            ev(3, "a", granted("/l/r")),
            ev(4, "a", release(Side::Write)),
            ev(5, "b", acquire(Side::Read)),
            ev(6, "b", granted("/l/r2")),
        ];
        assert!(exclusion(&h, LockKind::ReadWrite).is_empty());
    }

    #[test]
    fn reentrant_holds_end_at_the_last_release() {
        let h = vec![
            ev(0, "a", acquire(Side::Mutex)),
            ev(1, "a", granted("/l/a")),
            ev(2, "a", acquire(Side::Mutex)),
            ev(3, "a", granted("/l/a")),
            ev(4, "a", release(Side::Mutex)),
            ev(5, "b", acquire(Side::Mutex)),
            ev(6, "b", granted("/l/b")),
            ev(8, "a", release(Side::Mutex)),
        ];
        let v = exclusion(&h, LockKind::Mutex { max_leases: 1 });
        assert_eq!(v.len(), 1, "b overlaps a's outer hold: {v:?}");
        assert!(exclusion(&h, LockKind::Mutex { max_leases: 2 }).is_empty());
    }

    #[test]
    fn crash_and_revocation_end_holds() {
        let h = vec![
            ev(0, "a", acquire(Side::Mutex)),
            ev(1, "a", granted("/l/a")),
            ev(2, "a", EventKind::Crash),
            ev(3, "b", acquire(Side::Mutex)),
            ev(4, "b", granted("/l/b")),
            ev(5, "c", EventKind::Invoke(Command::Revoke { node: "/l/b".into() })),
            ev(6, "c", acquire(Side::Mutex)),
            ev(7, "c", granted("/l/c")),
        ];
        assert!(exclusion(&h, LockKind::Mutex { max_leases: 1 }).is_empty());
        assert_eq!(intervals(&h).len(), 3);
    }

    #[test]
    fn protocol_names_and_foreign_ones() {
        let good = "_c_70e2a894-b29d-420a-b524-ff4ece7da046-__WRIT__0000000001";
        assert!(follows_protocol(good, LockKind::ReadWrite));
        assert!(!follows_protocol(good, LockKind::Mutex { max_leases: 1 }));
        // go-zk's protection id: the UUID's 32 hex digits without dashes.
        let go = "_c_0f3c9a2b7d4e4f1a9b2c3d4e5f6a7b8c-lock-0000000004";
        assert!(follows_protocol(go, LockKind::Mutex { max_leases: 1 }));
        assert!(!follows_protocol(
            "_c_0f3c9a2b7d4e4f1a9b2c3d4e5f6a7b8-lock-0000000004",
            LockKind::Mutex { max_leases: 1 }
        ));
        assert!(!follows_protocol("0f3c9a2b__rlock__0000000001", LockKind::ReadWrite));
        assert!(!follows_protocol("_c_70e2a894-b29d-420a-b524-ff4ece7da046-__WRIT__001", LockKind::ReadWrite));
        let h = vec![ev(0, "zk", EventKind::Listing(vec![good.into(), "x__lock__0000000002".into(), "mine".into()]))];
        let v = names(&h, LockKind::ReadWrite, &["mine".into()]);
        assert_eq!(v.len(), 1);
        assert!(v[0].message.contains("x__lock__"));
    }

    #[test]
    fn participants_follow_lock_order() {
        let kids = vec!["_c_b-__WRIT__0000000002".to_string(), "_c_a-__READ__0000000001".to_string()];
        let ok = vec!["/l/_c_a-__READ__0000000001".to_string(), "/l/_c_b-__WRIT__0000000002".to_string()];
        assert!(participants(&ok, &kids, "/l", LockKind::ReadWrite).is_none());
        let reversed: Vec<String> = ok.iter().rev().cloned().collect();
        assert!(participants(&reversed, &kids, "/l", LockKind::ReadWrite).is_some());
    }
}
