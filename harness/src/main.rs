//! `zkurator-harness`: runs interop scenarios with Rust, Curator and kazurator
//! contenders on one ZooKeeper.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use zkurator_harness::backend::Backend;
use zkurator_harness::expectations::Expectations;
use zkurator_harness::runner::Peers;
use zkurator_harness::scenario::{self, Scenario};
use zkurator_harness::suite;

#[derive(Parser)]
#[command(version, about = "Rust, Apache Curator and kazurator lock users contending on one ZooKeeper")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Curator releases for run, gen, faults and bench: a comma list (5.4.0,5.9.0),
    /// `all` (every 5.x), `newest` or `debian` (/usr/share/java). Default: the
    /// newest if Maven Central or the cache has it, else Debian's.
    #[arg(long, global = true)]
    curator: Option<String>,
    /// ZooKeeper server releases for the local server: 3.8.x/3.9.x (Maven
    /// Central), `newest` (3.9.5) or `debian` (3.8.0). Default: Debian's.
    #[arg(long, global = true)]
    zookeeper: Option<String>,
    /// kazurator releases for the Python contenders: 0.1.1, 0.2.0 or `all`
    /// (a venv each, from PyPI). Default: 0.2.0.
    #[arg(long, global = true)]
    kazurator: Option<String>,
    /// Adds a lock implementation speaking the contender protocol
    /// (docs/contender-protocol.md): NAME=COMMAND, the command run by `sh -c`.
    /// Repeatable. The name then works wherever a runtime name does.
    #[arg(long = "runtime", global = true, value_name = "NAME=COMMAND")]
    added_runtimes: Vec<String>,
    /// A TOML file of added runtimes (`[runtime.NAME] command = [...]`);
    /// default: ./runtimes.toml when it exists.
    #[arg(long, global = true)]
    runtimes_file: Option<PathBuf>,
    /// Runtimes `$A`, `$B`... also range over (comma separated, e.g. go-zk),
    /// besides rust, curator, kazurator and the added ones.
    #[arg(long, global = true, value_delimiter = ',')]
    placeholder_runtimes: Vec<String>,
    /// The scenario corpus (run, list, check, faults, workload, gen's
    /// regressions). Default: ./scenarios if it exists, else the built-in one.
    #[arg(long, global = true, value_name = "DIR")]
    scenarios: Option<PathBuf>,
    /// More logs on stderr: -v info, -vv debug (the log file in the cache
    /// directory always gets debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Zk {
    /// A server process started by the harness (Debian's zookeeper jars).
    Local,
    /// The official zookeeper image through testcontainers (needs Docker).
    Docker,
}

#[derive(Subcommand)]
enum Command {
    /// Runs scenarios (default: all of the corpus) and prints the matrix.
    Run {
        /// Scenario files or directories, or names of the corpus's scenarios (mutex-exclusion).
        paths: Vec<PathBuf>,
        /// Use an existing server or ensemble, HOST:PORT[,HOST:PORT...].
        #[arg(long, conflicts_with = "zk")]
        zk_connect: Option<String>,
        /// Where the ZooKeeper comes from when --zk-connect is not given.
        #[arg(long, value_enum, default_value = "local")]
        zk: Zk,
        /// Only runs whose contenders all use these runtimes (comma separated).
        #[arg(long, value_delimiter = ',')]
        runtimes: Option<Vec<String>>,
        /// Known peer deviations (default: expectations.toml of the corpus).
        #[arg(long)]
        expectations: Option<PathBuf>,
        /// Writes a JSON report.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Writes a JUnit XML report.
        #[arg(long)]
        junit: Option<PathBuf>,
    },
    /// Lists the scenarios and their runtime pairings.
    List {
        /// Scenario files or directories, or scenario names (default: the corpus).
        paths: Vec<PathBuf>,
    },
    /// Validates scenario files (syntax, and every step against the lock model).
    Check {
        /// Scenario files or directories, or scenario names (default: the corpus).
        paths: Vec<PathBuf>,
    },
    /// Shows what was found (Java, Curator, ZooKeeper, Python, kazurator) and how to install what is missing.
    Doctor,
    /// Measures zkurator against the ZooKeeper floor, zookeeper-client, Curator and kazurator (build with --release).
    Bench(zkurator_harness::bench::BenchArgs),
    /// Runs the fault scenarios (faults/ of the corpus) and prints the fault table.
    Faults {
        /// Writes the table and every run's figures as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Writes a JUnit XML report (one test case per run).
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Leaves out the slow scenarios (server restarts, ensembles): the CI subset.
        #[arg(long)]
        skip_slow: bool,
    },
    /// Runs the lost-update workloads (workloads/ of the corpus) and prints the figures table.
    Workload {
        /// Only runs whose contenders all use these runtimes (comma separated).
        #[arg(long, value_delimiter = ',')]
        runtimes: Option<Vec<String>>,
    },
    /// A rust-process (or Curator worker) contender: JSON lines on stdin and stdout (internal).
    #[command(hide = true)]
    Contender {
        /// `rust` (zkurator) or `curator` (a JVM with CURATOR_CLASSPATH's jars).
        #[arg(long, default_value = "rust")]
        serve: String,
        /// A deliberately broken zkurator for negative controls:
        /// `write-ignores-readers` or `read-ignores-writers`.
        #[arg(long)]
        negative_control: Option<String>,
    },
    /// Plays proptest-generated schedules; a failure shrinks to a scenario in regressions/ of the
    /// corpus (of the cache directory with the built-in corpus).
    Gen {
        /// Schedules to play.
        #[arg(long, default_value_t = 20)]
        cases: u32,
        /// RNG seed (same seed, same schedules).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Runtimes contenders are drawn from (comma separated).
        #[arg(long, value_delimiter = ',', default_value = "rust,rust-tasks,curator,kazurator,zk-client")]
        runtimes: Vec<String>,
        /// Use an existing server or ensemble instead of a local one.
        #[arg(long)]
        zk_connect: Option<String>,
        /// Shrinking budget after a failure (runs).
        #[arg(long, default_value_t = 40)]
        max_shrink_iters: u32,
        /// Writes a JSON report (the cases that passed, the minimal failing schedule).
        #[arg(long)]
        json: Option<PathBuf>,
        /// Writes a JUnit XML report.
        #[arg(long)]
        junit: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    use zkurator_harness::logging;
    let file_log = if matches!(cli.command, Command::Bench(_)) { logging::FILE_BENCH } else { logging::FILE_DEBUG };
    let log = logging::init(cli.verbose, file_log);
    tracing::debug!(args = ?std::env::args().collect::<Vec<_>>(), pid = std::process::id(), "zkurator-harness");
    let code = dispatch(cli);
    if code != ExitCode::SUCCESS {
        if let Some(log) = log {
            eprintln!("log: {}", log.display());
        }
    }
    code
}

fn dispatch(cli: Cli) -> ExitCode {
    if !matches!(cli.command, Command::Contender { .. }) {
        use zkurator_harness::runtime::external;
        if let Err(e) = external::setup(&cli.added_runtimes, cli.runtimes_file.as_deref(), &cli.placeholder_runtimes) {
            return fail(e);
        }
    }
    if matches!(
        cli.command,
        Command::Run { .. }
            | Command::Gen { .. }
            | Command::Faults { .. }
            | Command::Workload { .. }
            | Command::Bench(_)
    ) {
        use zkurator_harness::versions::axis;
        let combos = match axis::combos(cli.curator.as_deref(), cli.zookeeper.as_deref(), cli.kazurator.as_deref()) {
            Ok(combos) => combos,
            Err(e) => return fail(e),
        };
        if combos.len() > 1 {
            let is_run = matches!(cli.command, Command::Run { .. });
            return axis::run_each(&combos, &without_version_args(std::env::args_os().skip(1)), is_run);
        }
        if let Err(e) = axis::apply(&combos[0]) {
            return fail(e);
        }
    }
    let corpus = || zkurator_harness::assets::scenario_dir(cli.scenarios.as_deref());
    match cli.command {
        Command::Run { paths, zk_connect, zk, runtimes, expectations, json, junit } => match corpus() {
            Ok(corpus) => run(&corpus, paths, zk_connect, zk, runtimes, expectations, json, junit),
            Err(e) => fail(e),
        },
        Command::List { paths } => corpus().map_or_else(fail, |corpus| list(&corpus, paths)),
        Command::Check { paths } => corpus().map_or_else(fail, |corpus| check(&corpus, paths)),
        Command::Doctor => doctor(&cli.scenarios, [&cli.curator, &cli.zookeeper, &cli.kazurator]),
        Command::Bench(args) => zkurator_harness::bench::main(args),
        Command::Faults { json, junit, skip_slow } => {
            corpus().map_or_else(fail, |corpus| faults(&corpus, json, junit, skip_slow))
        }
        Command::Workload { runtimes } => {
            let runtimes = match runtimes.as_deref().map(runtimes_named).transpose() {
                Ok(runtimes) => runtimes,
                Err(e) => return fail(e),
            };
            let corpus = match corpus() {
                Ok(corpus) => corpus,
                Err(e) => return fail(e),
            };
            match Backend::local() {
                Ok(backend) => zkurator_harness::workload_report::main(
                    &corpus.join(zkurator_harness::workload::WORKLOAD_SUBDIR),
                    runtimes.as_deref(),
                    &backend,
                ),
                Err(e) => fail(e),
            }
        }
        Command::Contender { serve, negative_control } => {
            use zkurator::negative::NegativeControl;
            let control = match negative_control.as_deref() {
                None => None,
                Some("write-ignores-readers") => Some(NegativeControl::WriteIgnoresReaders),
                Some("read-ignores-writers") => Some(NegativeControl::ReadIgnoresWriters),
                Some(other) => return fail(format!("unknown --negative-control {other:?}")),
            };
            zkurator_harness::runtime::rust::set_negative_control(control);
            let runtime = match serve.as_str() {
                "curator" => zkurator_harness::contender::Runtime::Curator,
                _ => zkurator_harness::contender::Runtime::Rust,
            };
            ExitCode::from(zkurator_harness::runtime::rust_process::serve_stdio(runtime) as u8)
        }
        Command::Gen { cases, seed, runtimes, zk_connect, max_shrink_iters, json, junit } => {
            let regressions = regressions_dir(cli.scenarios.as_deref());
            generate(GenArgs { cases, seed, runtimes, zk_connect, max_shrink_iters, regressions, json, junit })
        }
    }
}

/// The command line without `--curator` and `--zookeeper` (each child of the
/// version axis gets its own).
fn without_version_args(args: impl Iterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out = Vec::new();
    let mut skip_value = false;
    for arg in args {
        let text = arg.to_string_lossy();
        if std::mem::take(&mut skip_value) {
            continue;
        }
        let versioned = ["--curator", "--zookeeper", "--kazurator"];
        if versioned.contains(&text.as_ref()) {
            skip_value = true;
        } else if !versioned.iter().any(|flag| text.starts_with(&format!("{flag}="))) {
            out.push(arg);
        }
    }
    out
}

fn faults(corpus: &Path, json: Option<PathBuf>, junit: Option<PathBuf>, skip_slow: bool) -> ExitCode {
    use zkurator_harness::{faults, preflight};
    if let Err(e) = preflight::report_paths(json.iter().chain(junit.iter()).map(PathBuf::as_path)) {
        return fail(e);
    }
    let backend = match Backend::local() {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let dir = &corpus.join(scenario::FAULT_SUBDIR);
    let peers = Peers::default();
    let used = zkurator_harness::corpus::load_dir(dir).map(|s| preflight::used(&s)).unwrap_or_default();
    if let Err(e) = preflight::server(&backend.connect_string()).and_then(|()| preflight::runtimes(&used, &peers)) {
        return fail(e);
    }
    let ran = faults::run_corpus(dir, !skip_slow, &backend, &peers, console::user_attended_stderr());
    let (report, figures) = match ran {
        Ok(ran) => ran,
        Err(e) => return fail(e),
    };
    print!("{}", report.matrix(console::colors_enabled()));
    println!("\n{}", faults::markdown(&figures));
    if let Err(e) = write_reports([(json, faults::json(&figures)), (junit, report.junit())]) {
        return fail(e);
    }
    // Runs without a recorded peer deviation must have no double grant and no leak.
    let unexplained: Vec<_> = figures.iter().filter(|f| f.deviation.is_none()).cloned().collect();
    let (_, _, double_grants, leaked) = faults::totals(&unexplained);
    if report.as_expected() && double_grants == 0 && leaked == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The scenarios of `paths` (files, directories or names of `corpus`'s
/// scenarios; none: all of `corpus`).
fn load(corpus: &Path, paths: &[PathBuf]) -> Result<Vec<Scenario>, String> {
    let paths = zkurator_harness::corpus::resolve(paths, corpus)?;
    zkurator_harness::corpus::load_paths(&paths).map_err(|e| e.to_string())
}

/// Writes each report that has a path.
fn write_reports<const N: usize>(reports: [(Option<PathBuf>, String); N]) -> Result<(), String> {
    for (path, text) in reports {
        if let Some(path) = path {
            std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// Where `gen` writes a minimal failing schedule: `regressions/` of the
/// corpus when it is a directory of the user's (`--scenarios DIR` or
/// `./scenarios`), else of the cache directory (the built-in corpus is a
/// read-only copy).
fn regressions_dir(explicit: Option<&Path>) -> PathBuf {
    match explicit {
        Some(dir) => dir.join("regressions"),
        None if Path::new("scenarios").is_dir() => Path::new("scenarios").join("regressions"),
        None => zkurator_harness::assets::cache_dir().join("regressions"),
    }
}

fn runtimes_named(names: &[String]) -> Result<Vec<zkurator_harness::contender::Runtime>, String> {
    names.iter().map(|name| scenario::parse_runtime(name).ok_or_else(|| format!("unknown runtime {name:?}"))).collect()
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

#[allow(clippy::too_many_arguments)]
fn run(
    corpus: &Path,
    paths: Vec<PathBuf>,
    zk_connect: Option<String>,
    zk: Zk,
    runtimes: Option<Vec<String>>,
    expectations: Option<PathBuf>,
    json: Option<PathBuf>,
    junit: Option<PathBuf>,
) -> ExitCode {
    use zkurator_harness::preflight;
    let scenarios = match load(corpus, &paths) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let wanted = match runtimes.as_deref().map(runtimes_named).transpose() {
        Ok(wanted) => wanted,
        Err(e) => return fail(e),
    };
    let scenarios = match zkurator_harness::corpus::select(scenarios, wanted.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let expectations_path = expectations.unwrap_or_else(|| corpus.join(scenario::EXPECTATIONS_FILE));
    let expectations = match Expectations::load(&expectations_path) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let backend = match (zk_connect, zk) {
        (Some(connect), _) => Ok(Backend::external(&connect)),
        (None, Zk::Local) => Backend::local(),
        (None, Zk::Docker) => Backend::docker(),
    };
    if let Err(e) = preflight::report_paths(json.iter().chain(junit.iter()).map(PathBuf::as_path)) {
        return fail(e);
    }
    let backend = match backend {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let peers = Peers::default();
    let ready = preflight::server(&backend.connect_string())
        .and_then(|()| preflight::runtimes(&preflight::used(&scenarios), &peers));
    if let Err(e) = ready {
        return fail(e);
    }
    let report = suite::run_suite(&scenarios, &backend, &peers, &expectations, console::user_attended_stderr());
    print!("{}", report.matrix(console::colors_enabled()));
    if let Err(e) = write_reports([(json, report.json()), (junit, report.junit())]) {
        return fail(e);
    }
    if report.as_expected() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn list(corpus: &Path, paths: Vec<PathBuf>) -> ExitCode {
    let scenarios = match load(corpus, &paths) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    // A closed pipe (`list | head`) ends the listing quietly.
    let _ = print_list(&scenarios, &mut std::io::stdout().lock());
    ExitCode::SUCCESS
}

fn print_list(scenarios: &[Scenario], out: &mut impl std::io::Write) -> std::io::Result<()> {
    let mut last = String::new();
    for scenario in scenarios {
        if scenario.name != last {
            writeln!(out, "{}: {}", scenario.name, scenario.description)?;
            last = scenario.name.clone();
        }
        let who: Vec<String> = scenario.contenders.iter().map(|(id, r)| format!("{id}={r}")).collect();
        writeln!(out, "    {}  ({})", scenario.label(), who.join(" "))?;
    }
    writeln!(out, "{} runs", scenarios.len())?;
    out.flush()
}

fn check(corpus: &Path, paths: Vec<PathBuf>) -> ExitCode {
    match load(corpus, &paths) {
        Ok(scenarios) => {
            println!("ok: {} runs", scenarios.len());
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// What `gen` was asked for.
struct GenArgs {
    cases: u32,
    seed: u64,
    runtimes: Vec<String>,
    zk_connect: Option<String>,
    max_shrink_iters: u32,
    regressions: PathBuf,
    json: Option<PathBuf>,
    junit: Option<PathBuf>,
}

fn generate(args: GenArgs) -> ExitCode {
    use zkurator_harness::generate::{GenConfig, Space};
    use zkurator_harness::preflight;
    let GenArgs { cases, seed, runtimes, zk_connect, max_shrink_iters, regressions, json, junit } = args;
    if let Err(e) = preflight::report_paths(json.iter().chain(junit.iter()).map(PathBuf::as_path)) {
        return fail(e);
    }
    let pool = match runtimes_named(&runtimes) {
        Ok(pool) if !pool.is_empty() => pool,
        Ok(_) => return fail("--runtimes names no runtime"),
        Err(e) => return fail(e),
    };
    let backend = match zk_connect {
        Some(connect) => Backend::external(&connect),
        None => match Backend::local() {
            Ok(b) => b,
            Err(e) => return fail(e),
        },
    };
    let peers = Peers::default();
    if let Err(e) = preflight::server(&backend.connect_string()).and_then(|()| preflight::runtimes(&pool, &peers)) {
        return fail(e);
    }
    let config = GenConfig { cases, seed, max_shrink_iters, regressions: Some(regressions) };
    let report = zkurator_harness::generate::run_generated(
        &Space::mixed(pool.clone()),
        &config,
        &backend.connect_string(),
        &peers,
    );
    println!(
        "{} cases in {:.1} s ({:.1} cases/min), {} runs with shrinking, violations: {}",
        report.cases,
        report.elapsed.as_secs_f64(),
        report.cases_per_minute(),
        report.runs,
        if report.failure.is_some() { 1 } else { 0 }
    );
    let written = zkurator_harness::report::generated(&report, seed, &pool);
    if let Err(e) = write_reports([(json, written.json()), (junit, written.junit())]) {
        return fail(e);
    }
    if let Some(error) = &report.setup_error {
        return fail(format!("a run could not start, so nothing was shrunk or written: {error}"));
    }
    match report.failure {
        None => ExitCode::SUCCESS,
        Some((scenario, violations)) => {
            println!("minimal failing schedule ({} steps, {}):", scenario.steps.len(), scenario.pairing);
            for step in &scenario.steps {
                println!("    {}", step.text);
            }
            for v in violations {
                println!("  [{}] {}", v.checker, v.message);
            }
            if let Some(path) = report.written {
                println!("written to {}", path.display());
            }
            ExitCode::FAILURE
        }
    }
}

/// Every flag and environment variable that selects a peer or a path, with its
/// current value (or what is used without it) and what it selects.
fn settings(scenarios: &Option<PathBuf>, versions: [&Option<String>; 3]) -> Vec<(String, String, &'static str)> {
    use zkurator_harness::assets;
    let corpus = match assets::scenario_dir(scenarios.as_deref()) {
        Ok(dir) => dir.display().to_string(),
        Err(e) => format!("({e})"),
    };
    let flag =
        |value: &Option<String>, default: &str| value.clone().unwrap_or_else(|| format!("(not given: {default})"));
    let mut rows = vec![
        ("--scenarios".to_owned(), corpus, "the scenario corpus (./scenarios, else the built-in one)"),
        ("--curator".to_owned(), flag(versions[0], "the newest cached, else Debian's"), "Curator releases"),
        ("--zookeeper".to_owned(), flag(versions[1], "Debian's"), "ZooKeeper server releases"),
        ("--kazurator".to_owned(), flag(versions[2], "0.2.0"), "kazurator releases (a venv each)"),
    ];
    let env: [(&str, &'static str); 14] = [
        ("ZK_CLASSPATH", "server jars (replaces Debian's, set by --zookeeper)"),
        ("ZOOKEEPER_HOME", "a ZooKeeper installation's jars"),
        ("ZK_CONNECT", "tests: an existing server instead of a local one"),
        ("CURATOR_CLASSPATH", "Curator jars (replaces --curator and Debian's)"),
        ("JAVA_HOME", "the JDK (java, javac, libjvm)"),
        (zkurator_harness::runtime::kazurator::PYTHON_ENV, "a python with kazurator and kazoo (no venv is built)"),
        (
            zkurator_harness::runtime::kazurator::KAZURATOR_RELEASE_ENV,
            "the kazurator release of the venv (set by --kazurator)",
        ),
        (zkurator_harness::logging::LOG_ENV, "stderr log filter without -v (default warn)"),
        (zkurator_harness::runtime::rust_process::HARNESS_BIN_ENV, "the binary of rust-process contenders"),
        (assets::CACHE_ENV, "the cache directory (venvs, Maven jars, classes, unpacked adapters, log)"),
        (zkurator_harness::suite::SLOW_FAULTS_ENV, "=1: the slow fault scenarios in the tests"),
        ("CARGO_TARGET_DIR", "the target dir (the cache of a binary run from its checkout)"),
        ("XDG_CACHE_HOME", "the cache's parent without ZKURATOR_CACHE outside a checkout"),
        ("HOME", "~/.cache/zkurator-harness without the two above"),
    ];
    for (name, what) in env {
        let value = std::env::var_os(name).map_or_else(|| "(unset)".to_owned(), |v| v.to_string_lossy().into_owned());
        rows.push((name.to_owned(), value, what));
    }
    let cache = assets::cache_dir();
    rows.push(("cache directory".to_owned(), cache.display().to_string(), "in use"));
    rows.push(("log file".to_owned(), cache.join(assets::LOG_FILE).display().to_string(), "every run's debug log"));
    rows
}

fn doctor(scenarios: &Option<PathBuf>, versions: [&Option<String>; 3]) -> ExitCode {
    let mut ok = true;
    let mut line = |what: &str, found: Result<String, String>| match found {
        Ok(v) => println!("ok      {what}: {v}"),
        Err(e) => {
            ok = false;
            println!("MISSING {what}: {e}");
        }
    };
    line("java", zkurator_testserver::java_binary().map(|p| p.display().to_string()).map_err(|e| e.to_string()));
    line(
        "ZooKeeper jars",
        zkurator_testserver::zookeeper_classpath()
            .map(|jars| format!("{} jars", jars.len()))
            .map_err(|e| e.to_string()),
    );
    let peers = Peers::default();
    line("Curator", peers.curator().map(|c| format!("{} ({})", c.version(), c.curator_location())));
    line(
        "Python + kazurator",
        peers.kazurator().map(|k| {
            let (kazurator, kazoo) = k.versions();
            format!("kazurator {kazurator}, kazoo {kazoo} ({})", k.python().display())
        }),
    );
    line("ZooKeeper server", Backend::local().map(|b| b.server_version()));
    line("Go + go-zk adapter (runtime go-zk)", peers.go_zk().map(|g| g.binary().display().to_string()));
    for (what, found) in zkurator_harness::runtime::external::describe() {
        line(&what, Ok(found));
    }
    line(
        "Maven (other Curator and ZooKeeper releases, --curator/--zookeeper)",
        std::process::Command::new("mvn")
            // Batch mode: no colour codes.
            .args(["--batch-mode", "--version"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or_default().to_owned())
            .ok_or_else(|| "not found: apt-get install -y maven (or use --curator debian)".to_owned()),
    );
    println!("\npaths and peers (flags and environment variables, current values):");
    let rows = settings(scenarios, versions);
    let width = rows.iter().map(|(_, value, _)| value.chars().count()).max().unwrap_or(0).min(48);
    for (name, value, what) in rows {
        println!("        {name:<22} {value:<width$}  {what}");
    }
    let docker = std::path::Path::new("/var/run/docker.sock").exists();
    println!(
        "{}  Docker engine (only for --zk docker): {}",
        if docker { "ok     " } else { "absent " },
        if docker { "socket found" } else { "no /var/run/docker.sock; the default local server needs none" }
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
