//! Hostile contenders as negative controls of the gate: small scripts in
//! `tests/hostile/` given to the real harness binary as `--runtime f=...`
//! against a real ZooKeeper. Each must get its verdict and exit code within
//! its time, and leave nothing running (every pid the scripts record, and
//! every process naming the test's directory) and no file in the harness's
//! temporary directory but the run gate's two lock files, also when the
//! harness is killed mid-run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use zkurator_harness::suite::schedule::GATE_FILES;

const BIN: &str = env!("CARGO_BIN_EXE_zkurator-harness");

/// An added runtime on one mutex with zkurator: one run, which only a real
/// lock implementation passes.
const F_AND_RUST: &str = r#"description = "An added runtime and zkurator on one mutex."
lock = "mutex"
contenders = { a = "f", b = "rust" }
steps = [
  "a acquire mutex => granted",
  "b acquire mutex 300ms => timeout",
  "a release mutex",
  "b acquire mutex => granted",
  "b release mutex",
]
"#;

/// An added runtime and a zkurator contender process on one mutex.
const F_AND_RUST_PROCESS: &str = r#"description = "An added runtime and a zkurator process on one mutex."
lock = "mutex"
contenders = { a = "rust-process", b = "f" }
steps = ["a acquire mutex => granted", "b acquire mutex => blocked", "a release mutex", "b release mutex"]
"#;

/// zkurator alone: a run that always executes.
const RUST_ONLY: &str = r#"description = "zkurator alone."
lock = "mutex"
contenders = { a = "rust" }
steps = ["a acquire mutex => granted", "a release mutex"]
"#;

/// One hostile run's world: its directory, the files in it and the harness's
/// environment.
struct World {
    dir: tempfile::TempDir,
    /// How long the harness waits for a contender's hello (milliseconds):
    /// long by default, so a loaded machine never turns a slow start into a
    /// refusal; short only where the test is that refusal.
    hello_limit_ms: u64,
}

/// What a finished harness did.
#[derive(Debug)]
struct Played {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
    /// The harness's peak resident memory as last seen (`VmHWM`), in KiB.
    peak_kib: u64,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["tmp", "cache"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        std::fs::write(dir.path().join("f-rust.toml"), F_AND_RUST).unwrap();
        std::fs::write(dir.path().join("rust-only.toml"), RUST_ONLY).unwrap();
        std::fs::write(dir.path().join("f-rust-process.toml"), F_AND_RUST_PROCESS).unwrap();
        World { dir, hello_limit_ms: 20_000 }
    }

    /// A world whose harness waits only `ms` for a hello.
    fn with_hello_limit(ms: u64) -> World {
        World { hello_limit_ms: ms, ..World::new() }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }

    /// The harness with `args`, `f` the fixture `fixture`.
    fn command(&self, fixture: &str, args: &[&str]) -> Command {
        self.command_line(&format!("sh {}", fixture_path(fixture).display()), args)
    }

    /// The harness with `args`, `f` the command line `line`.
    fn command_line(&self, line: &str, args: &[&str]) -> Command {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let mut command = Command::new(BIN);
        command
            .args(args)
            .arg("--scenarios")
            .arg(corpus)
            .arg("--runtime")
            .arg(format!("f={line}"))
            .arg("--curator")
            .arg("debian")
            .env("TMPDIR", self.path("tmp"))
            .env("ZKURATOR_CACHE", self.path("cache"))
            .env("ZKURATOR_HELLO_LIMIT_MS", self.hello_limit_ms.to_string())
            .env("ZKH_PIDS", self.path("pids"))
            .env_remove("ZKURATOR_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs the harness to its end (killed after `limit`, failing the test).
    fn play(&self, fixture: &str, args: &[&str], limit: Duration) -> Played {
        let started = Instant::now();
        let child = self.command(fixture, args).spawn().unwrap();
        let (out, peak_kib) = wait_output(child, limit);
        Played {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            took: started.elapsed(),
            peak_kib,
        }
    }

    /// The pids the fixtures recorded.
    fn pids(&self) -> Vec<u32> {
        let text = std::fs::read_to_string(self.path("pids")).unwrap_or_default();
        text.lines().filter_map(|l| l.trim().parse().ok()).collect()
    }

    /// Waits up to `limit` for every recorded pid and every process naming
    /// this world's directory to be gone, and for the harness's TMPDIR to be
    /// empty (a reaper removes directories after the processes are gone);
    /// panics with what is left.
    fn assert_nothing_left(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let mut left: Vec<String> = self.pids().into_iter().filter(|p| alive(*p)).map(describe).collect();
            left.extend(processes_naming(self.dir.path()));
            // The run gate's two lock files stay by design (reused by every
            // harness on the host); anything else is left behind.
            let files: Vec<PathBuf> = std::fs::read_dir(self.path("tmp"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| !GATE_FILES.iter().any(|gate| p.file_name() == Some(std::ffi::OsStr::new(gate))))
                .collect();
            if left.is_empty() && files.is_empty() {
                return;
            }
            if Instant::now() > deadline {
                for pid in self.pids() {
                    let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
                }
                panic!("left after {limit:?}: running {left:#?}, in TMPDIR {files:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the harness, waits until the fixtures recorded `pids` pids and
    /// every process whose command line contains one of `wanted` runs (60 s
    /// at most), and a moment more, sends `signal`, and returns how the
    /// harness ended and what ran under it just before.
    fn kill_mid_run(
        &self,
        fixture: &str,
        args: &[&str],
        pids: usize,
        wanted: &[&str],
        signal: &str,
    ) -> (std::process::ExitStatus, Vec<String>) {
        let stderr = std::fs::File::create(self.path("harness.stderr")).unwrap();
        let mut child = self.command(fixture, args).stdout(Stdio::null()).stderr(stderr).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let said = || std::fs::read_to_string(self.path("harness.stderr")).unwrap_or_default();
        while self.pids().len() < pids {
            assert!(Instant::now() < deadline, "the contenders never started: {:?}\n{}", self.pids(), said());
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the harness ended ({status}) before its contenders started:\n{}", said());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Then until every `wanted` process runs (children start side by
        // side, in no fixed order), and a moment more.
        let all_up = |running: &[String]| wanted.iter().all(|w| running.iter().any(|p| p.contains(w)));
        while !all_up(&processes_naming(self.dir.path())) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(500));
        let running = processes_naming(self.dir.path());
        let sent = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
        assert!(sent.success());
        (child.wait().unwrap(), running)
    }
}

fn fixture_path(fixture: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile").join(format!("{fixture}.sh"))
}

/// The child's output, and its peak resident memory (KiB) as last seen
/// while it ran (polled every 20 ms).
fn wait_output(mut child: Child, limit: Duration) -> (std::process::Output, u64) {
    let deadline = Instant::now() + limit;
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let read = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let (out, err) = (read(Box::new(stdout)), read(Box::new(stderr)));
    let mut peak = 0;
    let status = loop {
        peak = peak.max(peak_kib(child.id()).unwrap_or(0));
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the harness took longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (std::process::Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() }, peak)
}

/// `VmHWM` of a running process, in KiB.
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The most memory a harness fed a hostile contender may take (a debug
/// build runs in about 20 MiB; the 300 MB hello line used to take 587 MiB).
const PEAK_KIB: u64 = 96 << 10;

/// Whether `pid` runs (a zombie does not).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !matches!(stat.rsplit(") ").next().and_then(|s| s.chars().next()), Some('Z' | 'X')),
        Err(_) => false,
    }
}

fn describe(pid: u32) -> String {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    format!("{pid}: {}", String::from_utf8_lossy(&cmdline).replace('\0', " "))
}

/// Live processes whose command line or environment names `dir`: child
/// harnesses, their servers, and every process started under the harness
/// (they inherit its environment, which names the world's directory).
fn processes_naming(dir: &Path) -> Vec<String> {
    let needle = dir.to_str().unwrap();
    let environ = |pid: u32| {
        String::from_utf8_lossy(&std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default()).into_owned()
    };
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != std::process::id() && alive(*pid))
        .filter(|pid| describe(*pid).contains(needle) || environ(*pid).contains(needle))
        .map(describe)
        .collect()
}

fn server() -> String {
    zkurator_testserver::shared_connect_string().expect("a ZooKeeper server")
}

/// `run` of both scenario files against the shared server, `--runtimes f,rust`.
fn run_args<'a>(world: &'a World, server: &'a str, files: &'a [String]) -> Vec<&'a str> {
    let _ = world;
    let mut args = vec!["run"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--zk-connect", server, "--runtimes", "f,rust"]);
    args
}

fn expect(played: &Played, code: i32, words: &[&str], limit: Duration) {
    let all = format!("{}\n{}", played.stdout, played.stderr);
    assert_eq!(played.code, Some(code), "{played:#?}");
    for word in words {
        assert!(all.contains(word), "{word:?} missing: {played:#?}");
    }
    assert!(played.took < limit, "took {:?}, more than {limit:?}", played.took);
}

const SETTLE: Duration = Duration::from_secs(3);

/// Refused when added: exit code 2 before anything runs, the reason named.
#[test]
fn contenders_without_a_proper_hello_are_refused_at_once() {
    let server = server();
    for (fixture, words) in [
        ("no-hello", &["runtime \"f\"", "no hello within 1.5s"][..]),
        ("garbage", &["not a hello", "Welcome to my lock service"]),
        ("wrong-protocol", &["protocol 7 is not 1"]),
        ("huge-line", &["longer than the limit of 1048576 bytes", "…"]),
    ] {
        let world = World::with_hello_limit(1500);
        let files = [world.path("f-rust.toml")];
        let played = world.play(fixture, &run_args(&world, &server, &files), Duration::from_secs(30));
        expect(&played, 2, words, Duration::from_secs(8));
        assert!(played.stderr.len() < 4096, "{fixture}: the error quotes too much ({} bytes)", played.stderr.len());
        assert!(played.peak_kib < PEAK_KIB, "{fixture}: {} KiB of memory", played.peak_kib);
        world.assert_nothing_left(SETTLE);
    }
}

/// Declaring nothing never passes: run (with and without `--runtimes`) and gen.
#[test]
fn a_runtime_that_declares_nothing_never_passes() {
    let server = server();
    let world = World::new();
    let files = [world.path("f-rust.toml"), world.path("rust-only.toml")];
    let played = world.play("empty-capabilities", &run_args(&world, &server, &files), Duration::from_secs(30));
    expect(&played, 1, &["no run of f executed", "kinds: mutex"], Duration::from_secs(10));

    let only_f = ["run", &files[0], "--zk-connect", &server];
    let played = world.play("empty-capabilities", &only_f, Duration::from_secs(30));
    expect(&played, 1, &["all 1 runs were skipped"], Duration::from_secs(10));

    let gen = ["gen", "--runtimes", "f", "--cases", "3", "--zk-connect", &server];
    let played = world.play("empty-capabilities", &gen, Duration::from_secs(30));
    expect(&played, 2, &["nothing can be generated for f: it declares kinds []"], Duration::from_secs(5));

    // A version matrix of such runs is not green either.
    let matrix = [&run_args(&world, &server, &files)[..], &["--kazurator", "0.1.1,0.2.0"]].concat();
    let played = world.play("empty-capabilities", &matrix, Duration::from_secs(60));
    expect(&played, 1, &["no run of f executed", "version matrix"], Duration::from_secs(20));

    // Nor the workloads (on a server of their own).
    let workload = ["workload", "--runtimes", "f,rust"];
    let played = world.play("empty-capabilities", &workload, Duration::from_secs(120));
    expect(&played, 1, &["no run of f executed", "workloads: plain"], Duration::from_secs(60));
    world.assert_nothing_left(SETTLE);
}

/// `gen --cases 0` would play nothing and pass: refused.
#[test]
fn gen_without_cases_is_refused() {
    let world = World::new();
    let played = world.play("lies", &["gen", "--cases", "0", "--runtimes", "rust"], Duration::from_secs(30));
    expect(&played, 2, &["--cases", "0 is not in 1.."], Duration::from_secs(5));
}

/// Lies, fakes and failures in the middle of a run: FAIL or ERROR, exit code 1.
#[test]
fn contenders_that_misbehave_after_their_hello_fail_the_run() {
    let server = server();
    for (fixture, words, limit) in [
        ("lies", &["ERROR f-rust", "unsupported: mutex? never heard of it"][..], 10),
        ("grants-without-zk", &["FAIL f-rust", "server has 0 nodes"], 30),
        ("hangs-after-ready", &["FAIL f-rust", "got no reply"], 30),
        ("exits-mid-run", &["FAIL f-rust", "exit status: 3", "bye"], 30),
    ] {
        let world = World::new();
        let files = [world.path("f-rust.toml"), world.path("rust-only.toml")];
        let played = world.play(fixture, &run_args(&world, &server, &files), Duration::from_secs(60));
        expect(&played, 1, words, Duration::from_secs(limit));
        world.assert_nothing_left(SETTLE);
    }
}

/// 64 MiB on one stderr line, 200,000 more lines, 200,000 stdout lines that are
/// no replies: a FAIL, and the log grows by well under a MiB.
#[test]
fn a_flooding_contender_is_cut_in_the_log() {
    let server = server();
    let world = World::new();
    let files = [world.path("f-rust.toml")];
    let played = world.play("floods", &run_args(&world, &server, &files), Duration::from_secs(60));
    expect(&played, 1, &["FAIL f-rust", "bad reply line", "stderr cut"], Duration::from_secs(30));
    assert!(played.peak_kib < PEAK_KIB, "{} KiB of memory", played.peak_kib);
    let log = std::fs::metadata(world.path("cache/zkurator-harness.log")).unwrap().len();
    assert!(log < 1 << 20, "the log grew to {log} bytes");
    world.assert_nothing_left(SETTLE);
}

/// A contender that ignores SIGTERM, and one whose grandchild does, die with
/// the harness: SIGKILL and SIGTERM mid-run, and a run that ends normally.
#[test]
fn nothing_a_contender_starts_outlives_the_harness() {
    let server = server();
    // The registration probe's script records itself; its grandchild may
    // be killed with the probe's process group before it records itself, so
    // the forking fixture waits for three pids (both scripts and at least
    // one grandchild) and for the run's grandchild (`sleep 600`) to run.
    for (fixture, pids, wanted) in [("ignores-sigterm", 2, &[][..]), ("forks-grandchild", 3, &["sleep 600"])] {
        for signal in ["KILL", "TERM"] {
            let world = World::new();
            let files = [world.path("f-rust.toml")];
            let (status, running) =
                world.kill_mid_run(fixture, &run_args(&world, &server, &files), pids, wanted, signal);
            assert!(!status.success(), "{fixture} {signal}: {status:?}");
            for what in wanted {
                assert!(running.iter().any(|p| p.contains(what)), "{what} was not running: {running:#?}");
            }
            world.assert_nothing_left(SETTLE);
        }
    }
    let world = World::new();
    let files = [world.path("f-rust.toml")];
    let played = world.play("forks-grandchild", &run_args(&world, &server, &files), Duration::from_secs(60));
    expect(&played, 1, &["FAIL f-rust"], Duration::from_secs(30));
    world.assert_nothing_left(SETTLE);
}

/// A version matrix killed mid-run: its child harnesses, their ZooKeeper
/// servers, their contenders (a rust-process one and an added one) and its
/// `zkurator-versions-PID` directory go.
#[test]
fn a_killed_version_matrix_leaves_nothing() {
    for signal in ["KILL", "TERM"] {
        let world = World::new();
        let file = world.path("f-rust-process.toml");
        let args = ["run", &file, "--kazurator", "0.1.1,0.2.0"];
        // Three hello probes (the parent's and one per child: the children
        // run side by side), then a child's contender; killed once a child's
        // server, its rust-process contender and the added one run.
        let wanted = ["ZooKeeperServerMain", "zkurator-harness contender", "hangs-after-ready.sh", "--kazurator 0.1.1"];
        let (status, running) = world.kill_mid_run("hangs-after-ready", &args, 4, &wanted, signal);
        assert!(!status.success(), "{signal}: {status:?}");
        for what in wanted {
            assert!(
                running.iter().any(|p| p.contains(what)),
                "{what} was not running before the {signal}: {running:#?}"
            );
        }
        world.assert_nothing_left(Duration::from_secs(5));
    }
}

/// `--runtime f='FOO=1 cmd'` and `'cd d && cmd'` run through `sh -c` as
/// written; a `runtimes.toml` in the working directory runs nothing for
/// `check` and `list`.
#[test]
fn added_commands_run_as_shell_lines_and_check_runs_none() {
    let server = server();
    let world = World::new();
    let files = [world.path("f-rust.toml")];
    let lies = fixture_path("lies");
    for line in
        [format!("ZKH_UNUSED=1 sh {}", lies.display()), format!("cd {} && sh {}", world.path("tmp"), lies.display())]
    {
        let child = world.command_line(&line, &run_args(&world, &server, &files)).spawn().unwrap();
        let (out, _) = wait_output(child, Duration::from_secs(30));
        let all = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{line}: {all}");
        assert!(all.contains("unsupported: mutex? never heard of it"), "{line}: {all}");
    }
    let marker = world.path("marker");
    let file = format!("[runtime.f]\ncommand = \"touch {marker}; sh {}\"\n", lies.display());
    std::fs::write(world.path("runtimes.toml"), file).unwrap();
    for command in ["check", "list"] {
        let out = Command::new(BIN)
            .args([command, &files[0]])
            .current_dir(world.dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{command}: {out:?}");
        assert!(!Path::new(&marker).exists(), "{command} ran the command of ./runtimes.toml");
    }
    world.assert_nothing_left(SETTLE);
}
