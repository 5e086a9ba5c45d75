//! A gate that never lies: setup failures are errors of their own (never
//! violations, never shrunk, never written to the corpus), a run with nothing
//! in it fails, the server, the runtimes and the report paths are checked
//! before anything runs, and no contender process outlives the harness,
//! whether it ends normally, by SIGTERM or by SIGKILL. Against the real
//! server of `zkurator-testserver` and the real peers.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use zkurator_harness::contender::{ContenderSpec, LockKind, Runtime};
use zkurator_harness::expectations::{Expectations, Verdict};
use zkurator_harness::generate::{self, GenConfig, Space};
use zkurator_harness::runner::Peers;
use zkurator_harness::{backend::Backend, scenario, suite};

const BIN: &str = env!("CARGO_BIN_EXE_zkurator-harness");

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn server() -> String {
    zkurator_testserver::shared_connect_string().expect("a ZooKeeper server")
}

fn harness(args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let out = Command::new(BIN).args(args).stdin(Stdio::null()).output().expect("the harness runs");
    (out, started.elapsed())
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A port nobody listens on.
fn dead_port() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("127.0.0.1:{port}")
}

#[test]
fn a_run_with_nothing_in_it_fails() {
    let file = corpus().join("mutex-exclusion.toml");
    let (out, _) = harness(&["run", file.to_str().unwrap(), "--runtimes", "zk-client"]);
    assert!(!out.status.success() && stderr(&out).contains("0 runs"), "{out:?}");

    let (out, _) = harness(&["run", file.to_str().unwrap(), "--runtimes", "rust,kazoo-native"]);
    assert!(!out.status.success() && stderr(&out).contains("no run uses kazoo-native"), "{out:?}");

    let empty = tempfile::tempdir().unwrap();
    for command in ["run", "check", "list"] {
        let (out, _) = harness(&[command, empty.path().to_str().unwrap()]);
        assert!(!out.status.success() && stderr(&out).contains("no scenario files"), "{command}: {out:?}");
    }

    let no_runtimes = empty.path().join("none.toml");
    std::fs::write(
        &no_runtimes,
        "description = \"x\"\nlock = \"mutex\"\nruntimes = []\ncontenders = { a = \"$A\" }\nsteps = [\"a acquire mutex\"]\n",
    )
    .unwrap();
    let (out, _) = harness(&["check", no_runtimes.to_str().unwrap()]);
    assert!(!out.status.success() && stderr(&out).contains("runtimes = []"), "{out:?}");
}

#[test]
fn an_unreachable_server_fails_the_suite_in_seconds() {
    let dead = dead_port();
    let (out, took) = harness(&["run", "--zk-connect", &dead]);
    assert!(!out.status.success(), "{out:?}");
    assert!(stderr(&out).contains(&dead) && stderr(&out).contains("drop --zk-connect"), "{}", stderr(&out));
    // Well under one run's connect timeout (15 s): nothing was tried. (The
    // tests beside it load the machine: the harness alone takes 0.05 s.)
    assert!(took < Duration::from_secs(12), "took {took:?}");

    // A port that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_at = silent.local_addr().unwrap().to_string();
    let (out, took) = harness(&["run", "--zk-connect", &silent_at]);
    assert!(!out.status.success() && stderr(&out).contains("no session"), "{}", stderr(&out));
    assert!(took < Duration::from_secs(12), "took {took:?}");
}

#[test]
fn report_paths_are_checked_before_anything_runs() {
    for flag in ["--junit", "--json"] {
        let (out, took) = harness(&["run", "--zk-connect", &server(), flag, "nodir/x.xml"]);
        assert!(!out.status.success() && stderr(&out).contains("nodir/x.xml"), "{out:?}");
        // The corpus takes minutes; the tests beside it load the machine.
        assert!(took < Duration::from_secs(20), "{flag}: the suite ran first ({took:?})");
    }
}

#[test]
fn gen_against_an_unreachable_server_is_an_error_and_writes_nothing() {
    let regressions = tempfile::tempdir().unwrap();
    let config =
        GenConfig { cases: 5, seed: 1, max_shrink_iters: 40, regressions: Some(regressions.path().to_owned()) };
    let started = Instant::now();
    let report = generate::run_generated(&Space::mixed(vec![Runtime::Rust]), &config, &dead_port(), &Peers::default());
    assert!(report.setup_error.as_deref().is_some_and(|e| e.contains("cannot connect")), "{report:?}");
    assert!(report.failure.is_none() && report.written.is_none(), "{report:?}");
    assert_eq!(report.runs, 1, "nothing is shrunk or played after a setup error");
    let written: Vec<_> = std::fs::read_dir(regressions.path()).unwrap().collect();
    assert!(written.is_empty(), "{written:?}");
    // One connect timeout (15 s), not one per case and shrink step; plus the
    // wait for the host gate, behind timed runs other tests make meanwhile.
    assert!(started.elapsed() < Duration::from_secs(120), "took {:?}", started.elapsed());

    // The command: no regression file in the corpus, a setup message, rc 2.
    let before = std::fs::read_dir(corpus().join("regressions")).unwrap().count();
    let (out, took) = harness(&["gen", "--cases", "3", "--runtimes", "rust", "--zk-connect", &dead_port()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    // Under one case's connect timeout (15 s): no case was played.
    assert!(took < Duration::from_secs(12), "took {took:?}");
    assert_eq!(std::fs::read_dir(corpus().join("regressions")).unwrap().count(), before);
}

#[test]
fn a_contender_that_cannot_start_is_an_error_not_a_failure_or_a_known_deviation() {
    let text = "description = \"x\"\nlock = \"mutex\"\ncontenders = { a = \"rust-process\" }\n\
                steps = [\"a acquire mutex => granted\", \"a release mutex\"]\n";
    let scenarios = scenario::parse(Path::new("cannot-start.toml"), text).unwrap();
    let known = "[[known]]\nscenario = \"cannot-start\"\npairing = \"*\"\nreason = \"would mask it\"\n";
    let expectations = Expectations::parse(known).unwrap();
    let peers = Peers::with_harness_binary(PathBuf::from("/nonexistent/zkurator-harness"));
    let report =
        suite::run_suite(&scenarios, &Backend::external(&server()), &peers, &expectations, suite::Options::default());
    assert!(matches!(&report.entries[0].verdict, Verdict::Error { message } if message.contains("did not start")));
    assert!(!report.as_expected());
    assert_eq!(report.errors(), 1);
    assert!(report.junit().contains("<error message="), "{}", report.junit());
    assert!(report.matrix(false).contains("1 ERROR"), "{}", report.matrix(false));
}

/// Children of `pid` whose command line contains `needle`.
fn children_of(pid: u32, needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(child) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else { continue };
        let Some(after) = stat.rsplit_once(')').map(|(_, rest)| rest) else { continue };
        let ppid = after.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok());
        let cmdline = std::fs::read(format!("/proc/{child}/cmdline")).unwrap_or_default();
        if ppid == Some(pid) && String::from_utf8_lossy(&cmdline).contains(needle) {
            found.push(child);
        }
    }
    found
}

/// Whether `pid` still runs (a zombie waiting for a reaper does not).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with('Z')))
        .is_some_and(|zombie| !zombie)
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

/// The lock nodes left under the harness's directory for `scenario`.
fn nodes_left(scenario: &str) -> usize {
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    tokio.block_on(async {
        let zk = zookeeper_client::Client::connect(&server()).await.unwrap();
        let dir = format!("/zkurator-harness/{scenario}");
        let mut count = 0;
        for run in zk.list_children(&dir).await.unwrap_or_default() {
            count += zk.list_children(&format!("{dir}/{run}")).await.unwrap_or_default().len();
        }
        count
    })
}

/// The harness, killed by `signal` while a kazurator and a rust-process
/// contender wait in an untimed acquire that nothing will end (kazurator
/// waits on its own read node for the write lock, the rust-process writer
/// behind that read node), leaves no contender running and, once their
/// sessions are closed or expired, no node.
fn killed_harness_leaves_nothing(signal: &str) {
    let name = format!("outlive-{}-{}", signal.to_lowercase(), std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{name}.toml"));
    std::fs::write(
        &file,
        "description = \"waiters when the harness dies\"\nlock = \"read-write\"\nsession_timeout_ms = 2000\n\
         contenders = { k = \"kazurator\", p = \"rust-process\" }\n\
         steps = [\"k acquire read => granted\", \"k acquire write => blocked\", \"p acquire write => blocked\",\n\
         \"sleep 600s\"]\n",
    )
    .unwrap();
    let mut harness = Command::new(BIN)
        .args(["run", file.to_str().unwrap(), "--zk-connect", &server()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = harness.id();
    // A failed check below must not leave the harness holding the host gate
    // for its 600 s sleep.
    let mut reap = KillOnDrop(Some(pid));
    let stderr = harness.stderr.take().unwrap();
    std::thread::spawn(move || BufReader::new(stderr).lines().map_while(Result::ok).for_each(|l| eprintln!("{l}")));
    let mut contenders = Vec::new();
    // The run waits its turn at the host gate behind other tests' timed runs.
    let started = wait_until(Duration::from_secs(180), || {
        contenders = [children_of(pid, "contender.py"), children_of(pid, "contender")].concat();
        contenders.sort();
        contenders.dedup();
        contenders.len() == 2 && nodes_left(&name) == 3
    });
    assert!(started, "contenders {contenders:?}, nodes {}", nodes_left(&name));
    // Both waiters are in their acquire now (the runner's blocked window is 300 ms).
    std::thread::sleep(Duration::from_secs(1));
    assert!(Command::new("kill").args(["-s", signal, &pid.to_string()]).status().unwrap().success());
    let _ = harness.wait();
    reap.0 = None;
    let gone = wait_until(Duration::from_secs(5), || contenders.iter().all(|c| !alive(*c)));
    let survivors: Vec<_> = contenders.iter().filter(|c| alive(**c)).collect();
    for c in &survivors {
        let _ = Command::new("kill").args(["-9", &c.to_string()]).status();
    }
    assert!(gone, "after {signal} of the harness these contenders still run: {survivors:?}");
    // Sessions end (closed, or expired after the 2 s session timeout): no node stays.
    assert!(wait_until(Duration::from_secs(15), || nodes_left(&name) == 0), "{} nodes left", nodes_left(&name));
}

/// Kills a harness process still running when a test fails.
struct KillOnDrop(Option<u32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(pid) = self.0.take() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

#[test]
fn no_contender_outlives_a_sigkilled_harness() {
    killed_harness_leaves_nothing("KILL");
}

#[test]
fn no_contender_outlives_a_sigtermed_harness() {
    killed_harness_leaves_nothing("TERM");
}

#[test]
fn a_contender_that_does_not_get_ready_is_killed_not_abandoned() {
    let python = zkurator_harness::runtime::kazurator::KazuratorRuntime::new().expect("python with kazurator");
    // Accepts connections, never answers: kazoo waits in client.start.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let spec = ContenderSpec {
        id: "silent".into(),
        connect: silent.local_addr().unwrap().to_string(),
        lock_path: "/zkurator-gate/silent".into(),
        kind: LockKind::Mutex { max_leases: 1 },
        lock_data: None,
        session_timeout: Duration::from_secs(60),
    };
    let started = Instant::now();
    let e = python.start_contender_within(Runtime::Kazurator, &spec, Duration::from_secs(2)).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}: {e}", started.elapsed());
    // The contender is gone when every connection it made to the silent
    // port is closed. (Not by its process: other tests of this binary run
    // python contenders of their own meanwhile.)
    silent.set_nonblocking(true).unwrap();
    let mut open = Vec::new();
    while let Ok((stream, _)) = silent.accept() {
        open.push(stream);
    }
    assert!(!open.is_empty(), "the contender never connected to the silent port");
    for mut stream in open {
        stream.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        // Its connect request may come first; then the end of the stream.
        let mut buffer = [0u8; 512];
        let closed = loop {
            match std::io::Read::read(&mut stream, &mut buffer) {
                Ok(0) => break true,
                Ok(_) => continue,
                Err(e) => break !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
            }
        };
        assert!(closed, "a python contender still holds its connection to the silent port");
    }
    // Nor does it come back (kazoo retries a connection that gets no answer).
    std::thread::sleep(Duration::from_secs(2));
    assert!(silent.accept().is_err(), "a python contender connected again after it was given up");
}
