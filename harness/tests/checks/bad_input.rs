//! Bad input and missing pieces: every case gets a clear, typed error or
//! message naming the problem (and, where there is one, the fix), promptly,
//! without a panic and without leaving a node behind. Scenario files (syntax,
//! types, grammar, model, fault steps), lock paths through the harness, the
//! peers' prerequisites (Java, Curator jars, Python with kazurator, the
//! harness binary), an unreachable ZooKeeper, and an ACL the contender has no
//! credentials for. The scenario parser is fuzzed with arbitrary bytes and
//! with mutations of the corpus.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use zkurator_harness::checkers::Checker;
use zkurator_harness::contender::{
    Command, Contender, ContenderSpec, ErrorKind, LockKind, Reply, Runtime, Side, StartError,
};
use zkurator_harness::expectations::Expectations;
use zkurator_harness::runner::{self, Peers, Timing};
use zkurator_harness::runtime::rust::RustContender;
use zkurator_harness::scenario::{self, ScenarioError};

const GOOD: &str = r#"description = "a holder and a waiter"
lock = "mutex"
contenders = { a = "$A", b = "$B" }
steps = [
  "a acquire mutex => granted",
  "b acquire mutex => blocked",
  "a release mutex",
  "b release mutex",
]
"#;

fn parse(text: &str) -> Result<Vec<scenario::Scenario>, ScenarioError> {
    scenario::parse(Path::new("bad.toml"), text)
}

/// Parses `text`, which must fail, and checks the error names the file, a
/// line, and contains every one of `words`.
#[track_caller]
fn rejected(text: &str, words: &[&str]) -> ScenarioError {
    let error = parse(text).expect_err("the scenario must be rejected");
    let shown = error.to_string();
    assert!(shown.starts_with("bad.toml:"), "the file is named: {shown}");
    assert!(error.line >= 1, "a line is named: {shown}");
    for word in words {
        assert!(shown.contains(word), "{word:?} missing from: {shown}");
    }
    error
}

#[test]
fn the_good_file_parses() {
    assert_eq!(parse(GOOD).unwrap().len(), 9);
}

#[test]
fn unknown_runtime_lists_the_known_ones() {
    let e = rejected(&GOOD.replace("a = \"$A\"", "a = \"cobol\""), &["unknown runtime \"cobol\"", "rust-process"]);
    assert_eq!(e.line, 3);
    rejected(&GOOD.replace("lock = \"mutex\"", "lock = \"mutex\"\nruntimes = [\"rust\", \"go\"]"), &["\"go\""]);
}

#[test]
fn unknown_op_lists_the_ops() {
    let e = rejected(&GOOD.replace("a release mutex", "a fly mutex"), &["unknown op \"fly\"", "expire", "kill"]);
    assert_eq!((e.line, e.column), (7, 6));
    rejected(&GOOD.replace("a release mutex", "zk explode"), &["unknown runner op \"explode\"", "restart"]);
}

#[test]
fn duplicate_contender_id_is_located() {
    let e = rejected(&GOOD.replace("b = \"$B\"", "a = \"$B\""), &["duplicate key"]);
    assert_eq!(e.line, 3, "{e}");
    assert!(e.column > 1, "{e}");
}

#[test]
fn release_before_acquire_says_how_to_mean_it() {
    let e = rejected(
        &GOOD.replace("\"a acquire mutex => granted\",", "\"a release mutex\",\n  \"a acquire mutex => granted\","),
        &["release before acquire", "error not-held"],
    );
    assert_eq!(e.line, 5);
}

#[test]
fn wrong_types_are_named() {
    rejected(&GOOD.replace("lock = \"mutex\"", "lock = 7"), &["string"]);
    rejected(
        &GOOD.replace("lock = \"mutex\"", "lock = \"mutex\"\nmax_leases = \"two\""),
        &["max_leases", "expected u32"],
    );
    rejected(&GOOD.replace("lock = \"mutex\"", "lock = \"mutex\"\nmax_leases = 0"), &["at least 1"]);
    rejected(&GOOD.replace("lock = \"mutex\"", "lock = \"mutex\"\nsession_timeout_ms = -5"), &["session_timeout_ms"]);
    rejected(
        "description = \"x\"\nlock = \"mutex\"\ncontenders = { a = \"rust\" }\nsteps = \"a acquire mutex\"\n",
        &["sequence"],
    );
    rejected(&GOOD.replace("lock = \"mutex\"", "lock = \"barrier\""), &["unknown lock \"barrier\""]);
}

#[test]
fn truncated_and_unreadable_files() {
    for cut in [10, GOOD.len() / 2, GOOD.len() - 20] {
        let e = parse(&GOOD[..cut]).expect_err("a truncated file is rejected");
        assert!(e.to_string().starts_with("bad.toml:"), "{e}");
    }
    let missing = scenario::load(Path::new("/nonexistent/scenario.toml")).unwrap_err();
    assert!(missing.to_string().contains("cannot read"), "{missing}");
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("binary.toml");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x80]).unwrap();
    let e = scenario::load(&binary).unwrap_err();
    assert!(e.to_string().contains("binary.toml") && e.to_string().contains("UTF-8"), "{e}");
}

#[test]
fn structure_errors() {
    rejected(&GOOD.replace("description", "descripton"), &["descripton"]);
    rejected(&GOOD.replace("contenders = { a = \"$A\", b = \"$B\" }", "contenders = {}"), &["no contenders"]);
    rejected("description = \"x\"\nlock = \"mutex\"\ncontenders = { a = \"rust\" }\nsteps = []\n", &["no steps"]);
    rejected(&GOOD.replace("b = \"$B\"", "zk = \"$B\""), &["reserved"]);
    rejected(&GOOD.replace("b = \"$B\"", "b = \"$b\""), &["bad placeholder"]);
    rejected(&GOOD.replace("a acquire mutex => granted", "a acquire read => granted"), &["mutex"]);
    rejected(&GOOD.replace("=> blocked", "=> maybe"), &["unknown expectation \"maybe\""]);
    rejected(&GOOD.replace("=> blocked", "=> error boom"), &["unknown error kind \"boom\""]);
    rejected(&GOOD.replace("a release mutex", "a release mutex now"), &["unexpected \"now\""]);
}

#[test]
fn bad_durations() {
    for bad in ["3 hours", "-5ms", "99999999999999999999s", "5m", "ms"] {
        rejected(
            &GOOD.replace("b acquire mutex => blocked", &format!("b acquire mutex {bad} => timeout")),
            &["duration"],
        );
    }
}

#[test]
fn fault_steps_are_checked() {
    // Ensemble ops need an ensemble, and an ensemble needs them.
    rejected(
        &GOOD.replace("\"a release mutex\",", "\"zk kill-leader\",\n  \"a release mutex\","),
        &["needs an ensemble", "zk = \"ensemble\""],
    );
    rejected(&format!("zk = \"ensemble\"\n{GOOD}"), &["no step uses the ensemble"]);
    rejected(&format!("zk = \"cluster\"\n{GOOD}"), &["unknown zk \"cluster\""]);
    // A contender in the harness's own process cannot be killed.
    rejected(
        &GOOD.replace("\"a release mutex\",\n  \"b release mutex\",", "\"a kill\","),
        &["cannot be killed", "rust-process"],
    );
    // Nothing may follow a crash, or an expiry but expect-lost, except that a
    // zkurator contender carries on after an expiry on a new session.
    let text = GOOD
        .replace("\"a release mutex\",\n  \"b release mutex\",", "\"a expire\",\n  \"a acquire mutex\",")
        .replace("\"b acquire mutex => blocked\",", "");
    rejected(&text.replace("\"$A\"", "\"curator\""), &["a expire", "no more commands"]);
    assert!(parse(&text.replace("\"$A\"", "\"rust\"")).is_ok(), "an expired zkurator contender carries on");
    let crashed = text.replace("a expire", "a crash");
    rejected(&crashed.replace("\"$A\"", "\"rust\""), &["a crash", "no more commands"]);
    // A kazurator waiter whose session expires leaves the queue: it held nothing.
    let text =
        GOOD.replace("\"a release mutex\",\n  \"b release mutex\",", "\"b expire\",\n  \"b expect-lost mutex\",");
    rejected(&text.replace("\"$B\"", "\"kazurator\""), &["did not hold"]);
}

#[test]
fn bad_expectations_files() {
    let e = Expectations::parse("[[known]]\nscenario = \"x\"\npairing = \"*\"\nwhy = \"typo\"\n").unwrap_err();
    assert!(e.contains("why"), "{e}");
    let e = Expectations::load(Path::new("/nonexistent/expectations.toml")).unwrap_err();
    assert!(e.contains("cannot read"), "{e}");
}

#[test]
fn missing_java_names_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let e = zkurator_testserver::find_java(None, Some(OsStr::new(dir.path().to_str().unwrap()))).unwrap_err();
    assert!(e.to_string().contains("apt-get install"), "{e}");
    let e = zkurator_testserver::find_java(Some(dir.path().as_os_str()), None).unwrap_err();
    assert!(e.to_string().contains("JAVA_HOME"), "{e}");
}

#[test]
fn missing_curator_jars_name_the_fix() {
    use zkurator_harness::runtime::curator::find_curator_jars;
    let empty = tempfile::tempdir().unwrap();
    let e = find_curator_jars(None, empty.path()).unwrap_err();
    assert!(matches!(e, StartError::Missing { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("curator-client.jar") && text.contains("libcurator-recipes-java"), "{text}");
    let e = find_curator_jars(Some(OsStr::new("/nonexistent/curator.jar")), empty.path()).unwrap_err();
    assert!(e.to_string().contains("CURATOR_CLASSPATH"), "{e}");
}

#[test]
fn missing_python_or_kazurator_names_the_fix() {
    use zkurator_harness::runtime::kazurator::check_interpreter;
    let e = check_interpreter(Path::new("/nonexistent/python3")).unwrap_err();
    assert!(matches!(e, StartError::Missing { .. }) && e.to_string().contains("pip install kazurator"), "{e}");
    // An interpreter without kazurator (the system one, if there is one).
    if let Ok(python) = which("python3") {
        if let Err(e) = check_interpreter(&python) {
            assert!(e.to_string().contains("cannot import kazurator"), "{e}");
        }
    }
}

#[test]
fn missing_harness_binary_names_the_fix() {
    use zkurator_harness::runtime::rust_process::locate_binary;
    let dir = tempfile::tempdir().unwrap();
    let e = locate_binary(None, Some(dir.path().join("deps").join("test-exe"))).unwrap_err();
    assert!(e.to_string().contains("cargo build -p zkurator-harness"), "{e}");
}

fn which(name: &str) -> Result<PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()).ok_or(())
}

fn server() -> String {
    zkurator_testserver::shared_connect_string().expect("a ZooKeeper server")
}

#[test]
fn unreachable_zookeeper_is_a_prompt_setup_error_naming_the_address() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let connect = format!("127.0.0.1:{port}");
    let scenarios = parse(&GOOD.replace("\"$A\"", "\"rust\"").replace("\"$B\"", "\"rust\"")).unwrap();
    let started = Instant::now();
    let result = runner::run(&scenarios[0], &connect, &Peers::default(), &Timing::default());
    assert!(!result.passed());
    let setup = result.violations.iter().find(|v| v.checker == Checker::Setup).expect("a setup violation");
    assert!(setup.message.contains(&connect), "{}", setup.message);
    assert!(
        started.elapsed() < runner::RUNNER_CONNECT_TIMEOUT + Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );

    let spec = ContenderSpec {
        id: "lost".into(),
        connect: connect.clone(),
        lock_path: "/zkurator-bad-input/unreachable".into(),
        kind: LockKind::Mutex { max_leases: 1 },
        lock_data: None,
        session_timeout: Duration::from_secs(2),
    };
    let started = Instant::now();
    let e =
        RustContender::start(Runtime::Rust, &spec, &Default::default()).err().expect("no contender without a server");
    assert!(e.to_string().contains(&connect), "{e}");
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
}

#[test]
fn invalid_lock_paths_fail_the_contender_start_with_the_path() {
    for path in ["", "locks/a", "/locks/a/", "/locks//a", "/locks/../a", "/zookeeper/quota", "/locks/\u{7}"] {
        let spec = ContenderSpec {
            id: "bad-path".into(),
            connect: server(),
            lock_path: path.into(),
            kind: LockKind::ReadWrite,
            lock_data: None,
            session_timeout: Duration::from_secs(4),
        };
        let e =
            RustContender::start(Runtime::Rust, &spec, &Default::default()).err().expect("an invalid path is refused");
        assert!(e.to_string().contains("invalid lock path"), "{path:?}: {e}");
    }
}

/// The lock path exists with a digest ACL for its owner only.
fn acl_protected_path() -> String {
    use zookeeper_client::{Acl, Acls, AuthId, Client, CreateMode, Permission};
    let path = format!("/zkurator-bad-input/acl-{}", uuid::Uuid::new_v4());
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    tokio.block_on(async {
        let owner = Client::connector().with_auth("digest", b"locker:secret").connect(&server()).await.unwrap();
        let parent = path.rsplit_once('/').unwrap().0;
        owner.mkdir(parent, &CreateMode::Persistent.with_acls(Acls::anyone_all())).await.unwrap();
        let acls = [Acl::new(Permission::ALL, AuthId::new("auth", ""))];
        owner.create(&path, b"", &CreateMode::Persistent.with_acls(Acls::new(&acls))).await.unwrap();
    });
    path
}

fn children(path: &str) -> Vec<String> {
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    tokio.block_on(async {
        let admin = zookeeper_client::Client::connector()
            .with_auth("digest", b"locker:secret")
            .connect(&server())
            .await
            .unwrap();
        admin.list_children(path).await.unwrap_or_default()
    })
}

fn spec_on(path: &str) -> ContenderSpec {
    ContenderSpec {
        id: "stranger".into(),
        connect: server(),
        lock_path: path.into(),
        kind: LockKind::Mutex { max_leases: 1 },
        lock_data: None,
        session_timeout: Duration::from_secs(4),
    }
}

/// Acquires through `contender` on an ACL-protected path: a prompt NoAuth.
fn denied(contender: &mut dyn Contender, path: &str) {
    let started = Instant::now();
    let reply = contender.execute(Command::Acquire { side: Side::Mutex, timeout: Some(Duration::from_secs(20)) });
    assert!(
        matches!(&reply, Reply::Error { kind: ErrorKind::NoAuth, .. }),
        "{}: expected no-auth, got {reply:?}",
        contender.runtime()
    );
    assert!(started.elapsed() < Duration::from_secs(5), "{}: took {:?}", contender.runtime(), started.elapsed());
    assert!(children(path).is_empty(), "{}: left {:?}", contender.runtime(), children(path));
    assert_eq!(contender.execute(Command::Close), Reply::Ok);
}

#[test]
fn acl_denial_is_a_prompt_no_auth_in_the_harness() {
    let path = acl_protected_path();
    let mut rust = RustContender::start(Runtime::Rust, &spec_on(&path), &Default::default()).unwrap();
    denied(&mut rust, &path);
}

/// The same across runtimes: Curator and kazurator report NoAuth too.
#[cfg(feature = "interop")]
#[test]
fn acl_denial_is_a_prompt_no_auth_for_every_runtime() {
    use zkurator_harness::contender::Runtime;
    let path = acl_protected_path();
    let peers = Peers::default();
    let mut curator = peers.curator().unwrap().start_contender(&spec_on(&path)).unwrap();
    denied(&mut curator, &path);
    let mut kazurator = peers.kazurator().unwrap().start_contender(Runtime::Kazurator, &spec_on(&path)).unwrap();
    denied(&mut kazurator, &path);
}

/// Every mutation of a corpus file: bytes deleted, inserted or replaced,
/// lines swapped or repeated.
#[derive(Clone, Debug)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Replace { at: usize, text: String },
    SwapLines { a: usize, b: usize },
    RepeatLine { at: usize },
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let clamp = |at: usize| {
        let mut at = at % (text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    match mutation {
        Mutation::Delete { at, len } => {
            let start = clamp(*at);
            let end = clamp(start + len).max(start);
            format!("{}{}", &text[..start], &text[end..])
        }
        Mutation::Insert { at, text: inserted } => {
            let at = clamp(*at);
            format!("{}{inserted}{}", &text[..at], &text[at..])
        }
        Mutation::Replace { at, text: with } => {
            let start = clamp(*at);
            let end = clamp(start + with.len()).max(start);
            format!("{}{with}{}", &text[..start], &text[end..])
        }
        Mutation::SwapLines { a, b } => {
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let (a, b) = (a % lines.len(), b % lines.len());
                lines.swap(a, b);
            }
            lines.join("\n")
        }
        Mutation::RepeatLine { at } => {
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let at = at % lines.len();
                lines.insert(at, lines[at]);
            }
            lines.join("\n")
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    static TOKENS: [&str; 12] =
        ["\"", "=>", "[", "]", "{", " zk ", " expire ", " kill-leader", "$A", "9999999999999999999s", "\u{0}", "é"];
    let token = prop_oneof![
        12 => proptest::sample::select(&TOKENS[..]).prop_map(str::to_owned),
        1 => "\\PC{0,12}",
    ];
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), token.clone()).prop_map(|(at, text)| Mutation::Insert { at, text }),
        (any::<usize>(), token).prop_map(|(at, text)| Mutation::Replace { at, text }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        any::<usize>().prop_map(|at| Mutation::RepeatLine { at }),
    ]
}

fn corpus() -> &'static [(PathBuf, String)] {
    static CORPUS: std::sync::OnceLock<Vec<(PathBuf, String)>> = std::sync::OnceLock::new();
    CORPUS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let mut files = Vec::new();
        for dir in [root.clone(), root.join("faults"), root.join("regressions")] {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "toml") && !path.ends_with(scenario::EXPECTATIONS_FILE) {
                    let text = std::fs::read_to_string(&path).unwrap();
                    files.push((path, text));
                }
            }
        }
        files.sort();
        assert!(files.len() > 10, "the corpus was found");
        files
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_the_parser(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = parse(&text) {
            prop_assert!(e.to_string().starts_with("bad.toml:"));
        }
    }

    #[test]
    fn arbitrary_steps_never_panic(step in "\\PC{0,60}") {
        let _ = scenario::parse_step(&step, &["a", "b"]);
    }

    #[test]
    fn mutated_corpus_files_never_panic_the_parser(
        file in any::<prop::sample::Index>(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let (path, original) = &corpus()[file.index(corpus().len())];
        let mut text = original.clone();
        for m in &mutations {
            text = apply(&text, m);
        }
        match scenario::parse(path, &text) {
            Ok(scenarios) => prop_assert!(!scenarios.is_empty()),
            Err(e) => {
                prop_assert_eq!(&e.file, path);
                prop_assert!(e.line <= text.lines().count() + 1, "line {} of {}", e.line, text.lines().count());
            }
        }
    }
}

#[test]
fn every_corpus_file_parses_unmutated() {
    for (path, text) in corpus() {
        scenario::parse(path, text).unwrap_or_else(|e| panic!("{e}"));
    }
}
