//! The Python runtimes (kazurator 0.2.0 and kazoo's own locks) against a real
//! ZooKeeper server: the JSON line protocol round trip, the node layout, and
//! what kazurator actually does (exclusion, sharing, leases, reentrancy,
//! crashes).

use std::sync::{mpsc, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use zkurator_harness::contender::{
    Command, Contender, ContenderSpec, ErrorKind, LockKind, Reply, Runtime, Side, StartError,
};
use zkurator_harness::runtime::kazurator::{KazuratorRuntime, PythonContender};

const SHORT: Duration = Duration::from_millis(300);
const LONG: Duration = Duration::from_secs(20);

fn python() -> &'static KazuratorRuntime {
    static RUNTIME: OnceLock<KazuratorRuntime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let started = Instant::now();
        let runtime = KazuratorRuntime::new().unwrap_or_else(|e| panic!("python runtime: {e}"));
        eprintln!("python runtime ready in {:?} ({:?})", started.elapsed(), runtime.versions());
        runtime
    })
}

fn connect() -> String {
    zkurator_testserver::shared_connect_string().unwrap_or_else(|e| panic!("ZooKeeper test server: {e}"))
}

fn lock_path(test: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("/zkurator-kazurator-runtime/{test}-{nanos}")
}

fn spec(id: &str, path: &str, kind: LockKind) -> ContenderSpec {
    ContenderSpec {
        id: id.to_string(),
        connect: connect(),
        lock_path: path.to_string(),
        kind,
        lock_data: None,
        session_timeout: Duration::from_secs(2),
    }
}

fn start(runtime: Runtime, id: &str, path: &str, kind: LockKind) -> PythonContender {
    let started = Instant::now();
    let contender = python()
        .start_contender(runtime.clone(), &spec(id, path, kind))
        .unwrap_or_else(|e| panic!("start {runtime} contender {id}: {e}"));
    eprintln!("{runtime} contender {id} started in {:?}", started.elapsed());
    contender
}

fn acquire(c: &mut PythonContender, side: Side, timeout: Option<Duration>) -> Reply {
    c.execute(Command::Acquire { side, timeout })
}

fn granted(reply: Reply) -> String {
    match reply {
        Reply::Granted { node } => node,
        other => panic!("expected a grant, got {other:?}"),
    }
}

fn ok(reply: Reply) {
    assert_eq!(reply, Reply::Ok);
}

fn error(reply: Reply, expected: ErrorKind) -> String {
    match reply {
        Reply::Error { kind, message } if kind == expected => message,
        other => panic!("expected a {expected:?} error, got {other:?}"),
    }
}

fn participants(c: &mut PythonContender) -> Vec<String> {
    match c.execute(Command::Participants) {
        Reply::Participants { nodes } => nodes,
        other => panic!("expected participants, got {other:?}"),
    }
}

/// Waits until `c` lists `n` participants (a contender in another thread has
/// created its node and is waiting).
fn wait_for_participants(c: &mut PythonContender, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let nodes = participants(c);
        if nodes.len() == n {
            return nodes;
        }
        assert!(Instant::now() < deadline, "expected {n} participants, have {nodes:?}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// `<path>/_c_<uuid>-<name><10 digits>`: the Curator protocol's node name.
fn is_curator_node(node: &str, path: &str, name: &str) -> bool {
    let Some(child) = node.strip_prefix(path).and_then(|c| c.strip_prefix('/')) else {
        return false;
    };
    let Some(rest) = child.strip_prefix("_c_") else { return false };
    if rest.len() < 37 + name.len() + 10 {
        return false;
    }
    let (uuid, rest) = rest.split_at(36);
    let uuid_ok = uuid.char_indices().all(|(i, ch)| match i {
        8 | 13 | 18 | 23 => ch == '-',
        _ => ch.is_ascii_digit() || ('a'..='f').contains(&ch),
    });
    let Some(rest) = rest.strip_prefix('-').and_then(|r| r.strip_prefix(name)) else {
        return false;
    };
    uuid_ok && rest.len() == 10 && rest.bytes().all(|b| b.is_ascii_digit())
}

/// `<path>/<32 hex>__lock__<10 digits>`: kazoo's own node name.
fn is_kazoo_node(node: &str, path: &str, name: &str) -> bool {
    let Some(child) = node.strip_prefix(path).and_then(|c| c.strip_prefix('/')) else {
        return false;
    };
    if child.len() != 32 + name.len() + 10 {
        return false;
    }
    let (hex, rest) = child.split_at(32);
    hex.bytes().all(|b| b.is_ascii_hexdigit())
        && rest.starts_with(name)
        && rest[name.len()..].bytes().all(|b| b.is_ascii_digit())
}

#[test]
fn node_name_matchers_tell_the_layouts_apart() {
    let p = "/l";
    let curator = "/l/_c_70e2a894-b29d-420a-b524-ff4ece7da046-__WRIT__0000000001";
    assert!(is_curator_node(curator, p, "__WRIT__"));
    assert!(!is_curator_node(curator, p, "__READ__"));
    assert!(!is_curator_node(curator, "/m", "__WRIT__"));
    assert!(!is_curator_node("/l/_c_70e2a894-b29d-420a-b524-ff4ece7da046-lock-000000001", p, "lock-"));
    let kazoo = "/l/0123456789abcdef0123456789abcdef__lock__0000000003";
    assert!(is_kazoo_node(kazoo, p, "__lock__"));
    assert!(!is_kazoo_node(kazoo, p, "__rlock__"));
    assert!(!is_curator_node(kazoo, p, "__lock__"));
}

#[test]
fn versions_are_the_pinned_releases() {
    let (kazurator, kazoo) = python().versions();
    assert_eq!((kazurator.as_str(), kazoo.as_str()), ("0.2.0", "2.11.0"));
    let path = lock_path("versions");
    let c = start(Runtime::Kazurator, "v", &path, LockKind::Mutex { max_leases: 1 });
    assert_eq!((c.version_of("kazurator"), c.version_of("kazoo")), (kazurator, kazoo));
    assert!(c.session_id().is_some_and(|s| s.starts_with("0x")));
    assert!(!c.stores_lock_data(), "kazurator 0.2.0 cannot store lock data");
}

#[test]
fn kazurator_write_locks_exclude_each_other() {
    let path = lock_path("write-excludes");
    let mut a = start(Runtime::Kazurator, "a", &path, LockKind::ReadWrite);
    let mut b = start(Runtime::Kazurator, "b", &path, LockKind::ReadWrite);

    let node = granted(acquire(&mut a, Side::Write, Some(LONG)));
    assert!(is_curator_node(&node, &path, "__WRIT__"), "{node}");

    let started = Instant::now();
    error(acquire(&mut b, Side::Write, Some(SHORT)), ErrorKind::Timeout);
    assert!(started.elapsed() >= SHORT, "timed out early: {:?}", started.elapsed());
    // The timed-out attempt removed its node.
    assert_eq!(participants(&mut b), vec![node.clone()]);
    // Readers are excluded by the writer too.
    error(acquire(&mut b, Side::Read, Some(SHORT)), ErrorKind::Timeout);

    ok(a.execute(Command::Release { side: Side::Write }));
    let b_node = granted(acquire(&mut b, Side::Write, Some(LONG)));
    assert!(is_curator_node(&b_node, &path, "__WRIT__"), "{b_node}");
    assert_ne!(b_node, node);
    assert_eq!(participants(&mut a), vec![b_node.clone()]);
    error(acquire(&mut a, Side::Write, Some(SHORT)), ErrorKind::Timeout);
    ok(b.execute(Command::Close));
    ok(a.execute(Command::Close));
}

#[test]
fn kazurator_readers_share_and_participants_list_reads_first() {
    let path = lock_path("readers-share");
    let mut a = start(Runtime::Kazurator, "a", &path, LockKind::ReadWrite);
    let mut w = start(Runtime::Kazurator, "w", &path, LockKind::ReadWrite);
    let mut b = start(Runtime::Kazurator, "b", &path, LockKind::ReadWrite);

    let a_read = granted(acquire(&mut a, Side::Read, Some(LONG)));
    assert!(is_curator_node(&a_read, &path, "__READ__"), "{a_read}");
    let b_read = granted(acquire(&mut b, Side::Read, Some(LONG)));
    assert!(is_curator_node(&b_read, &path, "__READ__"), "{b_read}");
    error(acquire(&mut w, Side::Write, Some(SHORT)), ErrorKind::Timeout);
    ok(b.execute(Command::Release { side: Side::Read }));

    // a holds a read lock; w queues for the write lock; b's read queues
    // behind w. Lock order is READ, WRIT, READ.
    let writer = thread::spawn(move || {
        let node = granted(acquire(&mut w, Side::Write, Some(LONG)));
        (w, node)
    });
    let queued = wait_for_participants(&mut a, 2);
    let reader = thread::spawn(move || {
        let node = granted(acquire(&mut b, Side::Read, Some(LONG)));
        (b, node)
    });
    let order = wait_for_participants(&mut a, 3);
    // kazurator's own list (passed through unchanged) has the read nodes first,
    // then the write nodes: not the lock order READ, WRIT, READ.
    assert_eq!(order[0], a_read);
    assert!(is_curator_node(&order[1], &path, "__READ__"), "{order:?}");
    assert!(is_curator_node(&order[2], &path, "__WRIT__"), "{order:?}");
    assert_eq!(order[2], queued[1], "the queued writer");

    thread::sleep(SHORT);
    assert!(!writer.is_finished() && !reader.is_finished(), "nobody may pass the read holder");
    ok(a.execute(Command::Release { side: Side::Read }));
    let (mut w, w_node) = writer.join().unwrap();
    assert_eq!(w_node, order[2]);
    thread::sleep(SHORT);
    assert!(!reader.is_finished(), "a reader behind a writer waits for it");
    ok(w.execute(Command::Release { side: Side::Write }));
    let (mut b, b_node) = reader.join().unwrap();
    assert_eq!(b_node, order[1]);
    ok(b.execute(Command::Close));
}

#[test]
fn kazurator_mutex_with_two_leases_admits_two() {
    let path = lock_path("leases");
    let kind = LockKind::Mutex { max_leases: 2 };
    let mut a = start(Runtime::Kazurator, "a", &path, kind);
    let mut b = start(Runtime::Kazurator, "b", &path, kind);
    let mut c = start(Runtime::Kazurator, "c", &path, kind);

    let a_node = granted(acquire(&mut a, Side::Mutex, Some(LONG)));
    let b_node = granted(acquire(&mut b, Side::Mutex, Some(LONG)));
    for node in [&a_node, &b_node] {
        assert!(is_curator_node(node, &path, "lock-"), "{node}");
    }
    error(acquire(&mut c, Side::Mutex, Some(SHORT)), ErrorKind::Timeout);
    assert_eq!(participants(&mut c), vec![a_node, b_node.clone()]);
    ok(a.execute(Command::Release { side: Side::Mutex }));
    let c_node = granted(acquire(&mut c, Side::Mutex, Some(LONG)));
    assert_eq!(participants(&mut a), vec![b_node, c_node]);
    error(acquire(&mut a, Side::Mutex, Some(SHORT)), ErrorKind::Timeout);
}

#[test]
fn kazurator_reentrant_acquire_creates_no_node() {
    let path = lock_path("reentrant");
    let kind = LockKind::Mutex { max_leases: 1 };
    let mut a = start(Runtime::Kazurator, "a", &path, kind);
    let mut b = start(Runtime::Kazurator, "b", &path, kind);

    let first = granted(acquire(&mut a, Side::Mutex, Some(LONG)));
    let second = granted(acquire(&mut a, Side::Mutex, Some(LONG)));
    assert_eq!(first, second);
    assert_eq!(participants(&mut a), vec![first.clone()]);
    match a.execute(Command::Status) {
        Reply::Status(status) => {
            assert_eq!(status.held, vec![(Side::Mutex, 2)]);
            assert_eq!(status.nodes, vec![first.clone()]);
            assert!(status.revoked.is_empty());
        }
        other => panic!("expected a status, got {other:?}"),
    }
    ok(a.execute(Command::Release { side: Side::Mutex }));
    error(acquire(&mut b, Side::Mutex, Some(SHORT)), ErrorKind::Timeout);
    ok(a.execute(Command::Release { side: Side::Mutex }));
    error(a.execute(Command::Release { side: Side::Mutex }), ErrorKind::NotHeld);
    granted(acquire(&mut b, Side::Mutex, Some(LONG)));
}

#[test]
fn kazurator_downgrade_is_granted_and_upgrade_waits_on_itself() {
    let path = lock_path("upgrade");
    let mut a = start(Runtime::Kazurator, "a", &path, LockKind::ReadWrite);
    let write = granted(acquire(&mut a, Side::Write, Some(LONG)));
    let read = granted(acquire(&mut a, Side::Read, Some(SHORT)));
    assert!(is_curator_node(&read, &path, "__READ__"), "{read}");
    ok(a.execute(Command::Release { side: Side::Write }));
    assert_eq!(participants(&mut a), vec![read.clone()]);
    assert_ne!(write, read);

    // Upgrade: the write node queues behind our own read node.
    let started = Instant::now();
    error(acquire(&mut a, Side::Write, Some(SHORT)), ErrorKind::Timeout);
    assert!(started.elapsed() >= SHORT);
    assert_eq!(participants(&mut a), vec![read]);
}

#[test]
fn protocol_round_trip_of_every_command() {
    let path = lock_path("round-trip");
    let mut a = start(Runtime::Kazurator, "a", &path, LockKind::ReadWrite);
    assert_eq!(a.runtime(), Runtime::Kazurator);
    error(a.execute(Command::Release { side: Side::Read }), ErrorKind::NotHeld);
    error(acquire(&mut a, Side::Mutex, Some(SHORT)), ErrorKind::Other);
    let node = granted(acquire(&mut a, Side::Write, None));
    let message = error(a.execute(Command::MakeRevocable { side: Side::Write }), ErrorKind::Unsupported);
    assert!(message.contains("revocation"), "{message}");
    // A revocation request lands in the node but kazurator does not react.
    ok(a.execute(Command::Revoke { node: node.clone() }));
    ok(a.execute(Command::Revoke { node: format!("{path}/no-such-node") }));
    match a.execute(Command::Status) {
        Reply::Status(status) => {
            assert_eq!(status.held, vec![(Side::Write, 1)]);
            assert_eq!(status.nodes, vec![node.clone()]);
            assert!(status.revoked.is_empty());
        }
        other => panic!("expected a status, got {other:?}"),
    }
    assert_eq!(participants(&mut a), vec![node]);
    ok(a.execute(Command::Close));
    error(a.execute(Command::Status), ErrorKind::SessionLost);

    // Close released and ended the session: the lock is free at once.
    let mut b = start(Runtime::Kazurator, "b", &path, LockKind::ReadWrite);
    assert_eq!(participants(&mut b), Vec::<String>::new());
    granted(acquire(&mut b, Side::Write, Some(SHORT)));
}

#[test]
fn kazoo_native_nodes_do_not_follow_the_curator_protocol() {
    let path = lock_path("kazoo-native");
    let mut k = start(Runtime::KazooNative, "k", &path, LockKind::ReadWrite);
    let mut z = start(Runtime::Kazurator, "z", &path, LockKind::ReadWrite);
    assert!(k.stores_lock_data());

    let k_write = granted(acquire(&mut k, Side::Write, Some(LONG)));
    assert!(is_kazoo_node(&k_write, &path, "__lock__"), "{k_write}");
    assert!(!is_curator_node(&k_write, &path, "__WRIT__"), "{k_write}");
    // kazoo's write lock is invisible to kazurator's reader (the negative
    // control: both hold at once).
    let z_read = granted(acquire(&mut z, Side::Read, Some(SHORT)));
    assert_eq!(participants(&mut k), vec![k_write.clone()]);
    assert_eq!(participants(&mut z), vec![z_read]);
    // Not reentrant: a second acquire of the held side does not succeed.
    error(acquire(&mut k, Side::Write, Some(SHORT)), ErrorKind::Timeout);
    ok(k.execute(Command::Release { side: Side::Write }));
    error(k.execute(Command::Release { side: Side::Write }), ErrorKind::NotHeld);
    let k_read = granted(acquire(&mut k, Side::Read, Some(LONG)));
    assert!(is_kazoo_node(&k_read, &path, "__rlock__"), "{k_read}");

    let mutex_path = lock_path("kazoo-native-mutex");
    let mut m = start(Runtime::KazooNative, "m", &mutex_path, LockKind::Mutex { max_leases: 1 });
    let node = granted(acquire(&mut m, Side::Mutex, Some(LONG)));
    assert!(is_kazoo_node(&node, &mutex_path, "__lock__"), "{node}");
    assert!(!is_curator_node(&node, &mutex_path, "lock-"), "{node}");

    let leases =
        python().start_contender(Runtime::KazooNative, &spec("l", &mutex_path, LockKind::Mutex { max_leases: 2 }));
    match leases {
        Err(StartError::Failed { message, .. }) => {
            assert!(message.starts_with("unsupported:"), "{message}")
        }
        other => panic!("expected an unsupported start, got {other:?}"),
    }
}

#[test]
fn crash_while_holding_frees_the_lock_after_the_session_timeout() {
    let path = lock_path("crash-holding");
    let kind = LockKind::Mutex { max_leases: 1 };
    let mut a = start(Runtime::Kazurator, "a", &path, kind);
    let mut b = start(Runtime::Kazurator, "b", &path, kind);
    let session_timeout = a.session_timeout().expect("session timeout");
    let node = granted(acquire(&mut a, Side::Mutex, Some(LONG)));

    let crashed = Instant::now();
    (a.crasher())();
    // The session (and its node) outlives the process until the server expires it.
    error(acquire(&mut b, Side::Mutex, Some(SHORT)), ErrorKind::Timeout);
    assert_eq!(participants(&mut b), vec![node]);
    granted(acquire(&mut b, Side::Mutex, Some(LONG)));
    let freed = crashed.elapsed();
    eprintln!("lock freed {freed:?} after the crash (session timeout {session_timeout:?})");
    assert!(freed >= session_timeout / 2, "freed after {freed:?}, session timeout {session_timeout:?}");
    error(a.execute(Command::Status), ErrorKind::SessionLost);
}

#[test]
fn crash_while_blocked_returns_session_lost_promptly() {
    let path = lock_path("crash-blocked");
    let kind = LockKind::Mutex { max_leases: 1 };
    let mut a = start(Runtime::Kazurator, "a", &path, kind);
    let mut b = start(Runtime::Kazurator, "b", &path, kind);
    granted(acquire(&mut a, Side::Mutex, Some(LONG)));

    let crash_b = b.crasher();
    // No timeout: waits until the crash.
    let (done, outcome) = mpsc::channel();
    thread::spawn(move || {
        let reply = acquire(&mut b, Side::Mutex, None);
        let _ = done.send((reply, Instant::now()));
    });
    wait_for_participants(&mut a, 2);
    assert!(
        outcome.recv_timeout(Duration::from_secs(1)).is_err(),
        "acquire without a timeout returned instead of waiting"
    );

    let crashed = Instant::now();
    crash_b();
    let (reply, returned) =
        outcome.recv_timeout(Duration::from_secs(10)).expect("the blocked execute returns after the crash");
    let message = error(reply, ErrorKind::SessionLost);
    let delay = returned.duration_since(crashed);
    assert!(delay < Duration::from_secs(2), "blocked execute returned after {delay:?}");
    assert!(message.contains("signal: 9") || message.contains("SIGKILL"), "{message}");
}

#[test]
fn kazurator_downgrade_lets_a_queued_writer_in_like_curator_621() {
    let path = lock_path("curator-621");
    let mut a = start(Runtime::Kazurator, "a", &path, LockKind::ReadWrite);
    let mut b = start(Runtime::Kazurator, "b", &path, LockKind::ReadWrite);
    let a_write = granted(acquire(&mut a, Side::Write, Some(LONG)));
    let (done, outcome) = mpsc::channel();
    thread::spawn(move || {
        let reply = acquire(&mut b, Side::Write, Some(LONG));
        let _ = done.send((reply, b));
    });
    wait_for_participants(&mut a, 2);
    // The downgrade's read node gets a new sequence number, after b's write node.
    let a_read = granted(acquire(&mut a, Side::Read, Some(SHORT)));
    let mut order = participants(&mut a);
    order.sort_by_key(|node| node[node.len() - 10..].to_owned());
    assert_eq!(order.len(), 3);
    assert_eq!((order[0].as_str(), order[2].as_str()), (a_write.as_str(), a_read.as_str()));
    ok(a.execute(Command::Release { side: Side::Write }));
    // kazurator 0.2.0 follows the pre-5.5.0 Curator algorithm: b now holds the
    // write lock while a still holds the read lock.
    let (reply, _b) = outcome.recv_timeout(Duration::from_secs(10)).expect("b's acquire returns");
    assert_eq!(granted(reply), order[1]);
    match a.execute(Command::Status) {
        Reply::Status(status) => assert_eq!(status.held, vec![(Side::Read, 1)]),
        other => panic!("expected a status, got {other:?}"),
    }
}

/// A zero acquire timeout means "try once" for every runtime: a held lock
/// times out at once (kazurator reads 0 itself as "forever"; its adapter must
/// not pass it on), a free lock is taken. Played through the runner, which
/// gives a reply 10 s (its grant bound) before calling the run failed.
#[test]
fn a_zero_timeout_tries_once_in_every_runtime() {
    use zkurator_harness::runner::{self, Peers, Timing};
    let held =
        "description = \"0 ms on a held lock\"\nlock = \"mutex\"\nruntimes = [\"kazurator\", \"curator\", \"rust\", \"rust-tasks\"]\n\
                contenders = { h = \"rust\", w = \"$A\" }\n\
                steps = [\"h acquire mutex => granted\", \"w acquire mutex 0ms => timeout\", \"h release mutex\"]\n";
    let free = "description = \"0 ms on a free lock\"\nlock = \"mutex\"\nruntimes = [\"kazurator\", \"curator\", \"rust\", \"rust-tasks\"]\n\
                contenders = { w = \"$A\" }\n\
                steps = [\"w acquire mutex 0ms => granted\", \"w release mutex\"]\n";
    let peers = Peers::default();
    let mut failed = Vec::new();
    for (name, text) in [("zero-timeout-held", held), ("zero-timeout-free", free)] {
        let file = std::path::PathBuf::from(format!("{name}.toml"));
        for scenario in zkurator_harness::scenario::parse(&file, text).unwrap() {
            let started = Instant::now();
            let result = runner::run(&scenario, &connect(), &peers, &Timing::default());
            eprintln!("{} in {:?}: {:?}", result.label, started.elapsed(), result.violations);
            if !result.passed() {
                failed.push((result.label, result.violations));
            }
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}
