//! The `curator` runtime against a real ZooKeeper: real Apache Curator in the
//! embedded JVM (one per test process, shared by all tests here).

use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use zkurator_harness::contender::{
    Command, Contender, ContenderSpec, ErrorKind, LockKind, Reply, Side, StartError, Status,
};
use zkurator_harness::runtime::curator::{CuratorContender, CuratorRuntime};

const SESSION_TIMEOUT: Duration = Duration::from_secs(10);
const SHORT: Duration = Duration::from_millis(300);
const LONG: Duration = Duration::from_secs(20);

fn runtime() -> CuratorRuntime {
    CuratorRuntime::start().unwrap_or_else(|e| panic!("Curator runtime: {e}"))
}

fn connect() -> String {
    zkurator_testserver::shared_connect_string().unwrap_or_else(|e| panic!("test ZooKeeper server: {e}"))
}

/// A lock path no other test (or earlier run) uses.
fn lock_path(test: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("/curator-runtime/{test}-{nanos}-{}", N.fetch_add(1, Ordering::Relaxed))
}

fn spec(id: &str, path: &str, kind: LockKind) -> ContenderSpec {
    ContenderSpec {
        id: id.to_string(),
        connect: connect(),
        lock_path: path.to_string(),
        kind,
        lock_data: None,
        session_timeout: SESSION_TIMEOUT,
    }
}

fn start(id: &str, path: &str, kind: LockKind) -> CuratorContender {
    runtime().start_contender(&spec(id, path, kind)).unwrap_or_else(|e| panic!("start {id}: {e}"))
}

const MUTEX: LockKind = LockKind::Mutex { max_leases: 1 };

fn acquire(c: &mut CuratorContender, side: Side, timeout: Option<Duration>) -> Reply {
    c.execute(Command::Acquire { side, timeout })
}

fn granted(reply: Reply) -> String {
    match reply {
        Reply::Granted { node } => node,
        other => panic!("expected a grant, got {other:?}"),
    }
}

fn error_kind(reply: &Reply) -> ErrorKind {
    match reply {
        Reply::Error { kind, .. } => *kind,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn participants(c: &mut CuratorContender) -> Vec<String> {
    match c.execute(Command::Participants) {
        Reply::Participants { nodes } => nodes,
        other => panic!("expected participants, got {other:?}"),
    }
}

fn status(c: &mut CuratorContender) -> Status {
    match c.execute(Command::Status) {
        Reply::Status(s) => s,
        other => panic!("expected a status, got {other:?}"),
    }
}

fn ok(reply: Reply) {
    assert_eq!(reply, Reply::Ok);
}

/// Asserts `node` is `<lock_path>/_c_<uuid>-<lock_name><10 digits>`; returns the sequence.
fn check_node(node: &str, lock_path: &str, lock_name: &str) -> u64 {
    let name = node
        .strip_prefix(lock_path)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or_else(|| panic!("{node} is not directly under {lock_path}"));
    let rest = name.strip_prefix("_c_").unwrap_or_else(|| panic!("{name} lacks the _c_ protection prefix"));
    assert!(rest.len() > 37, "{name} too short");
    let (uuid, rest) = rest.split_at(36);
    for (i, ch) in uuid.chars().enumerate() {
        if [8, 13, 18, 23].contains(&i) {
            assert_eq!(ch, '-', "{name}: bad UUID {uuid}");
        } else {
            assert!(ch.is_ascii_digit() || ('a'..='f').contains(&ch), "{name}: bad UUID {uuid}");
        }
    }
    let rest = rest.strip_prefix('-').unwrap_or_else(|| panic!("{name}: no '-' after the UUID"));
    let seq = rest.strip_prefix(lock_name).unwrap_or_else(|| panic!("{name}: lock name is not {lock_name}"));
    assert_eq!(seq.len(), 10, "{name}: sequence is not 10 digits");
    assert!(seq.chars().all(|c| c.is_ascii_digit()), "{name}: bad sequence");
    seq.parse().unwrap()
}

/// Runs one command on a contender in its own thread (for commands that block).
fn spawn_execute(mut c: CuratorContender, command: Command) -> thread::JoinHandle<(CuratorContender, Reply, Duration)> {
    thread::spawn(move || {
        let t0 = Instant::now();
        let reply = c.execute(command);
        (c, reply, t0.elapsed())
    })
}

/// Joins a command thread, failing (instead of hanging) if it takes longer than `within`.
fn join_within<T>(handle: thread::JoinHandle<T>, within: Duration) -> T {
    let deadline = Instant::now() + within;
    while !handle.is_finished() {
        assert!(Instant::now() < deadline, "command still running after {within:?}");
        thread::sleep(Duration::from_millis(20));
    }
    handle.join().expect("command thread panicked")
}

/// Waits until `check` holds (polling), or fails with `what`.
fn eventually(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn reports_a_curator_5_version() {
    let rt = runtime();
    let version = rt.version();
    assert!(version.starts_with("5."), "Curator version {version:?}");
    assert!(rt.classpath().ends_with("-jar-with-dependencies.jar"), "j4rs's jar must come last: {}", rt.classpath());
}

#[test]
fn write_locks_exclude_each_other() {
    let path = lock_path("write-excl");
    let mut a = start("a", &path, LockKind::ReadWrite);
    let mut b = start("b", &path, LockKind::ReadWrite);

    let node_a = granted(acquire(&mut a, Side::Write, Some(LONG)));
    check_node(&node_a, &path, "__WRIT__");

    let t0 = Instant::now();
    let reply = acquire(&mut b, Side::Write, Some(SHORT));
    assert_eq!(error_kind(&reply), ErrorKind::Timeout, "{reply:?}");
    assert!(t0.elapsed() >= SHORT, "timed out too early");
    // The timed-out attempt removed its node.
    assert_eq!(participants(&mut a), vec![node_a.clone()]);

    let waiter = spawn_execute(b, Command::Acquire { side: Side::Write, timeout: Some(LONG) });
    thread::sleep(SHORT);
    assert!(!waiter.is_finished(), "second writer got in while the first held the lock");
    ok(a.execute(Command::Release { side: Side::Write }));
    let (mut b, reply, _) = join_within(waiter, LONG * 2);
    let node_b = granted(reply);
    check_node(&node_b, &path, "__WRIT__");
    assert_ne!(node_a, node_b);
    assert_eq!(participants(&mut a), vec![node_b.clone()]);

    ok(b.execute(Command::Close));
    ok(a.execute(Command::Close));
}

#[test]
fn readers_share_and_keep_writers_out() {
    let path = lock_path("readers");
    let mut a = start("a", &path, LockKind::ReadWrite);
    let mut b = start("b", &path, LockKind::ReadWrite);
    let mut w = start("w", &path, LockKind::ReadWrite);

    let node_a = granted(acquire(&mut a, Side::Read, Some(LONG)));
    let node_b = granted(acquire(&mut b, Side::Read, Some(SHORT)));
    let seq_a = check_node(&node_a, &path, "__READ__");
    let seq_b = check_node(&node_b, &path, "__READ__");
    assert!(seq_a < seq_b);

    let reply = acquire(&mut w, Side::Write, Some(SHORT));
    assert_eq!(error_kind(&reply), ErrorKind::Timeout, "{reply:?}");

    ok(a.execute(Command::Release { side: Side::Read }));
    ok(b.execute(Command::Release { side: Side::Read }));
    let node_w = granted(acquire(&mut w, Side::Write, Some(LONG)));
    check_node(&node_w, &path, "__WRIT__");
}

#[test]
fn mutex_nodes_and_reentrancy() {
    let path = lock_path("mutex-reentrant");
    let mut a = start("a", &path, MUTEX);
    let mut b = start("b", &path, MUTEX);

    let node = granted(acquire(&mut a, Side::Mutex, None));
    check_node(&node, &path, "lock-");
    // Reentrant: same node, no new node.
    assert_eq!(granted(acquire(&mut a, Side::Mutex, Some(SHORT))), node);
    assert_eq!(participants(&mut b), vec![node.clone()]);
    let s = status(&mut a);
    assert_eq!(s.held, vec![(Side::Mutex, 2)]);
    assert_eq!(s.nodes, vec![node.clone()]);
    assert!(s.revoked.is_empty());

    // One release keeps the lock.
    ok(a.execute(Command::Release { side: Side::Mutex }));
    assert_eq!(participants(&mut b), vec![node.clone()]);
    assert_eq!(error_kind(&acquire(&mut b, Side::Mutex, Some(SHORT))), ErrorKind::Timeout);
    assert_eq!(status(&mut a).held, vec![(Side::Mutex, 1)]);

    // The last release deletes the node.
    ok(a.execute(Command::Release { side: Side::Mutex }));
    assert!(participants(&mut b).is_empty());
    let s = status(&mut a);
    assert!(s.held.is_empty(), "{s:?}");
    assert!(s.nodes.is_empty(), "{s:?}");
    granted(acquire(&mut b, Side::Mutex, Some(SHORT)));
}

#[test]
fn reentrant_write_and_downgrade_nodes() {
    let path = lock_path("rw-reentrant");
    let mut a = start("a", &path, LockKind::ReadWrite);
    let w = granted(acquire(&mut a, Side::Write, None));
    assert_eq!(granted(acquire(&mut a, Side::Write, None)), w);
    // Downgrade: the write owner may take the read lock (a second node).
    let r = granted(acquire(&mut a, Side::Read, Some(SHORT)));
    check_node(&r, &path, "__READ__");
    let s = status(&mut a);
    assert_eq!(s.held, vec![(Side::Read, 1), (Side::Write, 2)]);
    assert_eq!(s.nodes, vec![w.clone(), r.clone()]);
    assert_eq!(participants(&mut a), vec![w, r]);
}

#[test]
fn releasing_what_is_not_held_is_not_held() {
    let path = lock_path("not-held");
    let mut m = start("m", &path, MUTEX);
    let reply = m.execute(Command::Release { side: Side::Mutex });
    assert_eq!(error_kind(&reply), ErrorKind::NotHeld, "{reply:?}");

    let path = lock_path("not-held-rw");
    let mut rw = start("rw", &path, LockKind::ReadWrite);
    granted(acquire(&mut rw, Side::Read, None));
    let reply = rw.execute(Command::Release { side: Side::Write });
    assert_eq!(error_kind(&reply), ErrorKind::NotHeld, "{reply:?}");
    ok(rw.execute(Command::Release { side: Side::Read }));
    let reply = rw.execute(Command::Release { side: Side::Read });
    assert_eq!(error_kind(&reply), ErrorKind::NotHeld, "{reply:?}");

    let path = lock_path("not-held-sem");
    let mut sem = start("sem", &path, LockKind::Mutex { max_leases: 2 });
    let reply = sem.execute(Command::Release { side: Side::Mutex });
    assert_eq!(error_kind(&reply), ErrorKind::NotHeld, "{reply:?}");
}

#[test]
fn upgrade_waits_on_itself_until_the_timeout() {
    let path = lock_path("upgrade");
    let mut a = start("a", &path, LockKind::ReadWrite);
    granted(acquire(&mut a, Side::Read, None));
    let reply = acquire(&mut a, Side::Write, Some(SHORT));
    assert_eq!(error_kind(&reply), ErrorKind::Timeout, "{reply:?}");
    assert_eq!(status(&mut a).held, vec![(Side::Read, 1)]);
}

#[test]
fn crash_while_holding_frees_the_lock() {
    let path = lock_path("crash-holder");
    let mut a = start("a", &path, MUTEX);
    let b = start("b", &path, MUTEX);
    let node_a = granted(acquire(&mut a, Side::Mutex, None));

    let waiter = spawn_execute(b, Command::Acquire { side: Side::Mutex, timeout: Some(LONG) });
    thread::sleep(SHORT);
    assert!(!waiter.is_finished(), "b got the lock while a held it");

    let crash = a.crasher();
    let t0 = Instant::now();
    crash();
    let (mut b, reply, _) = join_within(waiter, LONG + SESSION_TIMEOUT);
    let waited = t0.elapsed();
    let node_b = granted(reply);
    assert_ne!(node_a, node_b);
    assert!(waited < SESSION_TIMEOUT, "lock freed only after {waited:?} (session timeout {SESSION_TIMEOUT:?})");
    assert_eq!(participants(&mut b), vec![node_b]);

    // The crashed contender is gone for good, and says so.
    let reply = a.execute(Command::Status);
    assert_eq!(error_kind(&reply), ErrorKind::SessionLost, "{reply:?}");
    let reply = acquire(&mut a, Side::Mutex, Some(SHORT));
    assert_eq!(error_kind(&reply), ErrorKind::SessionLost, "{reply:?}");
}

#[test]
fn kill_leaves_the_lock_to_session_expiry() {
    let path = lock_path("kill-holder");
    let killed_timeout = Duration::from_secs(4);
    let mut spec_a = spec("a", &path, MUTEX);
    spec_a.session_timeout = killed_timeout;
    let mut a = runtime().start_contender(&spec_a).unwrap();
    let mut b = start("b", &path, MUTEX);
    let node_a = granted(acquire(&mut a, Side::Mutex, None));

    let kill = a.killer();
    let t0 = Instant::now();
    kill();
    // a stops at once ...
    let reply = a.execute(Command::Status);
    assert_eq!(error_kind(&reply), ErrorKind::SessionLost, "{reply:?}");
    // ... but its node stays until the server expires the session.
    assert_eq!(participants(&mut b), vec![node_a.clone()]);
    let node_b = granted(acquire(&mut b, Side::Mutex, Some(LONG)));
    let waited = t0.elapsed();
    assert_ne!(node_b, node_a);
    assert!(waited >= killed_timeout / 2, "lock freed after {waited:?}: the session was closed, not left to expire");
    assert!(waited < killed_timeout * 3, "lock freed only after {waited:?}");
}

#[test]
fn crash_while_blocked_in_acquire_returns_promptly() {
    let path = lock_path("crash-waiter");
    let mut a = start("a", &path, MUTEX);
    let b = start("b", &path, MUTEX);
    let node_a = granted(acquire(&mut a, Side::Mutex, None));

    let crash_b = b.crasher();
    let waiter = spawn_execute(b, Command::Acquire { side: Side::Mutex, timeout: None });
    eventually("b's node to appear", LONG, || participants(&mut a).len() == 2);
    assert!(!waiter.is_finished());

    let t0 = Instant::now();
    crash_b();
    let (_b, reply, _) = join_within(waiter, Duration::from_secs(5));
    assert!(t0.elapsed() < Duration::from_secs(5), "acquire returned only after {:?}", t0.elapsed());
    assert_eq!(error_kind(&reply), ErrorKind::SessionLost, "{reply:?}");
    // b's ephemeral node went with its session; a still holds the lock.
    eventually("b's node to go", LONG, || participants(&mut a) == vec![node_a.clone()]);
    assert_eq!(status(&mut a).held, vec![(Side::Mutex, 1)]);
}

#[test]
fn participants_are_in_lock_order() {
    let path = lock_path("order");
    let mut a = start("a", &path, LockKind::ReadWrite);
    let b = start("b", &path, LockKind::ReadWrite);
    let c = start("c", &path, LockKind::ReadWrite);

    let node_a = granted(acquire(&mut a, Side::Write, None));
    let acquire_for = |side| Command::Acquire { side, timeout: Some(LONG) };
    let wb = spawn_execute(b, acquire_for(Side::Read));
    eventually("b queued", LONG, || participants(&mut a).len() == 2);
    let wc = spawn_execute(c, acquire_for(Side::Write));
    eventually("c queued", LONG, || participants(&mut a).len() == 3);

    let nodes = participants(&mut a);
    assert_eq!(nodes[0], node_a);
    let s0 = check_node(&nodes[0], &path, "__WRIT__");
    let s1 = check_node(&nodes[1], &path, "__READ__");
    let s2 = check_node(&nodes[2], &path, "__WRIT__");
    assert!(s0 < s1 && s1 < s2, "not in sequence order: {nodes:?}");

    // The lock is granted in that order.
    ok(a.execute(Command::Release { side: Side::Write }));
    let (mut b, reply, _) = join_within(wb, LONG * 2);
    assert_eq!(granted(reply), nodes[1]);
    thread::sleep(SHORT);
    assert!(!wc.is_finished(), "writer got in while a reader held the lock");
    ok(b.execute(Command::Release { side: Side::Read }));
    let (_c, reply, _) = join_within(wc, LONG * 2);
    assert_eq!(granted(reply), nodes[2]);
}

#[test]
fn leases_use_the_mutex_layout() {
    let path = lock_path("leases");
    let kind = LockKind::Mutex { max_leases: 2 };
    let mut a = start("a", &path, kind);
    let mut b = start("b", &path, kind);
    let mut c = start("c", &path, kind);
    let na = granted(acquire(&mut a, Side::Mutex, None));
    let nb = granted(acquire(&mut b, Side::Mutex, Some(SHORT)));
    check_node(&na, &path, "lock-");
    check_node(&nb, &path, "lock-");
    let reply = acquire(&mut c, Side::Mutex, Some(SHORT));
    assert_eq!(error_kind(&reply), ErrorKind::Timeout, "{reply:?}");
    assert_eq!(participants(&mut c), vec![na, nb.clone()]);
    ok(a.execute(Command::Release { side: Side::Mutex }));
    let nc = granted(acquire(&mut c, Side::Mutex, Some(LONG)));
    assert_eq!(participants(&mut c), vec![nb, nc]);
}

#[test]
fn revocation_releases_the_holder() {
    let path = lock_path("revoke");
    let mut a = start("a", &path, MUTEX);
    let mut b = start("b", &path, MUTEX);
    // Curator watches for revocation from the next acquisition on.
    ok(a.execute(Command::MakeRevocable { side: Side::Mutex }));
    let node = granted(acquire(&mut a, Side::Mutex, None));
    ok(b.execute(Command::Revoke { node: node.clone() }));
    let nb = granted(acquire(&mut b, Side::Mutex, Some(LONG)));
    assert_ne!(nb, node);
    let s = status(&mut a);
    assert_eq!(s.revoked, vec![Side::Mutex]);
    assert!(s.held.is_empty(), "{s:?}");
    // Reported once.
    assert!(status(&mut a).revoked.is_empty());
}

#[test]
fn revocable_after_acquire_does_not_watch_the_held_node() {
    // Real Curator 5.4 behaviour: makeRevocable only applies to later acquisitions.
    let path = lock_path("revoke-late");
    let mut a = start("a", &path, MUTEX);
    let mut b = start("b", &path, MUTEX);
    let node = granted(acquire(&mut a, Side::Mutex, None));
    ok(a.execute(Command::MakeRevocable { side: Side::Mutex }));
    ok(b.execute(Command::Revoke { node: node.clone() }));
    let reply = acquire(&mut b, Side::Mutex, Some(Duration::from_secs(1)));
    assert_eq!(error_kind(&reply), ErrorKind::Timeout, "{reply:?}");
    let s = status(&mut a);
    assert_eq!(s.held, vec![(Side::Mutex, 1)]);
    assert!(s.revoked.is_empty());
}

#[test]
fn lock_data_on_leases_is_refused() {
    let path = lock_path("lease-data");
    let mut spec = spec("d", &path, LockKind::Mutex { max_leases: 3 });
    spec.lock_data = Some(b"hello".to_vec());
    match runtime().start_contender(&spec) {
        Err(StartError::Failed { message, .. }) => {
            assert!(message.contains("InterProcessSemaphore"), "{message}")
        }
        Ok(_) => panic!("lock data on a semaphore was accepted"),
        Err(other) => panic!("unexpected error {other}"),
    }
    // Data on a mutex and a read/write lock is fine.
    for kind in [MUTEX, LockKind::ReadWrite] {
        let mut spec = spec.clone();
        spec.kind = kind;
        let side = if kind == MUTEX { Side::Mutex } else { Side::Write };
        let mut c = runtime().start_contender(&spec).unwrap();
        let node = granted(acquire(&mut c, side, Some(LONG)));
        assert_eq!(c.node_data(&node).unwrap(), Some(b"hello".to_vec()));
    }
    // Without lock data Curator stores its default (the local IP address), not nothing.
    let path = lock_path("default-data");
    let mut c = start("e", &path, MUTEX);
    let node = granted(acquire(&mut c, Side::Mutex, None));
    let data = c.node_data(&node).unwrap().expect("node exists");
    assert!(!data.is_empty());
    assert_eq!(c.node_data(&format!("{path}/nope")).unwrap(), None);
}

#[test]
fn unreachable_server_fails_to_start() {
    let mut spec = spec("x", "/x", MUTEX);
    spec.connect = "127.0.0.1:1".to_string();
    spec.session_timeout = Duration::from_secs(1);
    let t0 = Instant::now();
    match runtime().start_contender(&spec) {
        Err(StartError::Failed { .. }) => {}
        Ok(_) => panic!("connected to nothing"),
        Err(other) => panic!("unexpected error {other}"),
    }
    assert!(t0.elapsed() < Duration::from_secs(30));
}
