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

/// The scenario corpus shipped with the repository.
const SCENARIO_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios");

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
    /// Runs scenarios (default: all of scenarios/) and prints the matrix.
    Run {
        /// Scenario files or directories.
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
        /// Known peer deviations (default: scenarios/expectations.toml).
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
        /// Scenario files or directories.
        paths: Vec<PathBuf>,
    },
    /// Validates scenario files (syntax, and every step against the lock model).
    Check {
        /// Scenario files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Shows what was found (Java, Curator, ZooKeeper, Python, kazurator) and how to install what is missing.
    Doctor,
    /// Measures zkurator against the ZooKeeper floor, zookeeper-client, Curator and kazurator (build with --release).
    Bench(zkurator_harness::bench::BenchArgs),
    /// Runs the fault scenarios (scenarios/faults) and prints the fault table.
    Faults {
        /// Writes the table and every run's figures as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Leaves out the slow scenarios (server restarts, ensembles): the CI subset.
        #[arg(long)]
        skip_slow: bool,
    },
    /// Runs the lost-update workloads (scenarios/workloads) and prints the figures table.
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
    /// Plays proptest-generated schedules; a failure shrinks to a scenario in scenarios/regressions/.
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
    },
}

fn main() -> ExitCode {
    // Quiet by default: the ZooKeeper client's own warnings (reconnects,
    // sessions the faults expire on purpose) stay out unless ZKURATOR_LOG asks;
    // colours only on a terminal.
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ZKURATOR_LOG")
                .unwrap_or_else(|_| "warn,zookeeper_client=off".into()),
        )
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
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
    match cli.command {
        Command::Run { paths, zk_connect, zk, runtimes, expectations, json, junit } => {
            run(paths, zk_connect, zk, runtimes, expectations, json, junit)
        }
        Command::List { paths } => list(paths),
        Command::Check { paths } => check(paths),
        Command::Doctor => doctor(),
        Command::Bench(args) => zkurator_harness::bench::main(args),
        Command::Faults { json, skip_slow } => faults(json, skip_slow),
        Command::Workload { runtimes } => {
            let runtimes = match runtimes.as_deref().map(runtimes_named).transpose() {
                Ok(runtimes) => runtimes,
                Err(e) => return fail(e),
            };
            match Backend::local() {
                Ok(backend) => zkurator_harness::workload_report::main(runtimes.as_deref(), &backend),
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
        Command::Gen { cases, seed, runtimes, zk_connect, max_shrink_iters } => {
            generate(cases, seed, runtimes, zk_connect, max_shrink_iters)
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

fn faults(json: Option<PathBuf>, skip_slow: bool) -> ExitCode {
    use zkurator_harness::{faults, preflight};
    if let Err(e) = preflight::report_paths(json.iter().map(PathBuf::as_path)) {
        return fail(e);
    }
    let backend = match Backend::local() {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let dir = Path::new(faults::FAULT_DIR);
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
    if let Some(path) = json {
        if let Err(e) = std::fs::write(&path, faults::json(&figures)) {
            return fail(format!("cannot write {}: {e}", path.display()));
        }
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

fn load(paths: &[PathBuf]) -> Result<Vec<Scenario>, String> {
    let defaults = [PathBuf::from(SCENARIO_DIR)];
    let paths = if paths.is_empty() { &defaults[..] } else { paths };
    zkurator_harness::corpus::load_paths(paths).map_err(|e| e.to_string())
}

fn runtimes_named(names: &[String]) -> Result<Vec<zkurator_harness::contender::Runtime>, String> {
    names.iter().map(|name| scenario::parse_runtime(name).ok_or_else(|| format!("unknown runtime {name:?}"))).collect()
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn run(
    paths: Vec<PathBuf>,
    zk_connect: Option<String>,
    zk: Zk,
    runtimes: Option<Vec<String>>,
    expectations: Option<PathBuf>,
    json: Option<PathBuf>,
    junit: Option<PathBuf>,
) -> ExitCode {
    use zkurator_harness::{corpus, preflight};
    let scenarios = match load(&paths) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let wanted = match runtimes.as_deref().map(runtimes_named).transpose() {
        Ok(wanted) => wanted,
        Err(e) => return fail(e),
    };
    let scenarios = match corpus::select(scenarios, wanted.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let expectations_path = expectations.unwrap_or_else(|| Path::new(SCENARIO_DIR).join(scenario::EXPECTATIONS_FILE));
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
    for (path, text) in [(json, report.json()), (junit, report.junit())] {
        if let Some(path) = path {
            if let Err(e) = std::fs::write(&path, text) {
                return fail(format!("cannot write {}: {e}", path.display()));
            }
        }
    }
    if report.as_expected() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn list(paths: Vec<PathBuf>) -> ExitCode {
    let scenarios = match load(&paths) {
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

fn check(paths: Vec<PathBuf>) -> ExitCode {
    match load(&paths) {
        Ok(scenarios) => {
            println!("ok: {} runs", scenarios.len());
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn generate(
    cases: u32,
    seed: u64,
    runtimes: Vec<String>,
    zk_connect: Option<String>,
    max_shrink_iters: u32,
) -> ExitCode {
    use zkurator_harness::generate::{self, GenConfig, Space};
    use zkurator_harness::preflight;
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
    let config = GenConfig { cases, seed, max_shrink_iters, regressions: Some(generate::regressions_dir()) };
    let report = generate::run_generated(&Space::mixed(pool), &config, &backend.connect_string(), &peers);
    println!(
        "{} cases in {:.1} s ({:.1} cases/min), {} runs with shrinking, violations: {}",
        report.cases,
        report.elapsed.as_secs_f64(),
        report.cases_per_minute(),
        report.runs,
        if report.failure.is_some() { 1 } else { 0 }
    );
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

fn doctor() -> ExitCode {
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
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or_default().to_owned())
            .ok_or_else(|| "not found: apt-get install -y maven (or use --curator debian)".to_owned()),
    );
    println!(
        "        environment: CURATOR_CLASSPATH (Curator jars, replaces --curator), ZK_CLASSPATH / ZOOKEEPER_HOME \
         (server jars), ZK_CONNECT (tests: an existing server), ZKURATOR_PYTHON (the kazurator venv's python), \
         ZKURATOR_HARNESS_BIN (the binary for worker processes), ZKURATOR_LOG (log filter, default warn), \
         ZKURATOR_SLOW_FAULTS=1 (slow fault scenarios in the tests)"
    );
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
