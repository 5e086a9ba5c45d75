//! `zkurator-harness`: runs interop scenarios with Rust, Curator and kazurator
//! contenders on one ZooKeeper.

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cli::common::fail;
use cli::generate::{self, GenArgs};
use cli::run::Zk;
use cli::versions_args::without_version_args;
use cli::{contender, doctor, faults, list_check, recheck, run, workload};
use zkurator_harness::runner::{PeerChoices, Peers};
use zkurator_harness::runtimes::RuntimeTable;

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
    /// (docs/contender-protocol.md): NAME=COMMAND, the command run by `sh -c`
    /// (`exec`ed when it is a simple command).
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
        /// Where every run's history, scenario, verdict and timeline go, with
        /// index.html (default: a new directory under the cache's reports/).
        #[arg(long, value_name = "DIR")]
        report_dir: Option<PathBuf>,
        /// Runs at a time (default: from the cores and memory, or
        /// ZKURATOR_JOBS). Runs whose verdict is timed against a session
        /// timeout run at most three at a time with nothing else on the host;
        /// runs that restart or kill servers run alone; 1 runs every scenario
        /// in order, one at a time.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        jobs: Option<u32>,
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
        /// Where every run's history, scenario, verdict and timeline go, with
        /// index.html (default: a new directory under the cache's reports/).
        #[arg(long, value_name = "DIR")]
        report_dir: Option<PathBuf>,
        /// Runs at a time (default: from the cores and memory, or
        /// ZKURATOR_JOBS). Runs whose verdict is timed against a session
        /// timeout run at most three at a time with nothing else on the host;
        /// runs that restart or kill servers run alone; 1 runs every scenario
        /// in order, one at a time.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        jobs: Option<u32>,
    },
    /// Runs the lost-update workloads (workloads/ of the corpus) and prints the figures table.
    Workload {
        /// Only runs whose contenders all use these runtimes (comma separated).
        #[arg(long, value_delimiter = ',')]
        runtimes: Option<Vec<String>>,
        /// Where every run's history, scenario, verdict and timeline go, with
        /// index.html (default: a new directory under the cache's reports/).
        #[arg(long, value_name = "DIR")]
        report_dir: Option<PathBuf>,
        /// Runs at a time (default: from the cores and memory, or
        /// ZKURATOR_JOBS). Runs whose verdict is timed against a session
        /// timeout run at most three at a time with nothing else on the host;
        /// runs that restart or kill servers run alone; 1 runs every scenario
        /// in order, one at a time.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        jobs: Option<u32>,
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
        /// Schedules to play (at least 1).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
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
        /// Where every run's history, scenario, verdict and timeline go, with
        /// index.html (default: a new directory under the cache's reports/).
        #[arg(long, value_name = "DIR")]
        report_dir: Option<PathBuf>,
    },
    /// Checks saved runs again (a run's directory, a report directory, or a
    /// directory of them): the model and every offline checker, no ZooKeeper
    /// and no peer. Exit code 1 when a verdict differs from the saved one.
    Recheck {
        /// A run directory (with history.jsonl) or a directory holding run directories.
        path: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    use zkurator_harness::logging;
    let file_log = if matches!(cli.command, Command::Bench(_)) { logging::FILE_BENCH } else { logging::FILE_DEBUG };
    let log = logging::init(cli.verbose, file_log);
    tracing::debug!(args = ?std::env::args().collect::<Vec<_>>(), pid = std::process::id(), "zkurator-harness");
    let code = dispatch(cli);
    // Whatever is still running (nothing, normally) goes now, not after we exit.
    zkurator_harness::reaper::finish();
    if code != ExitCode::SUCCESS {
        if let Some(log) = log {
            eprintln!("log: {}", log.display());
        }
    }
    code
}

fn dispatch(cli: Cli) -> ExitCode {
    // The runtime table: built once here, passed on as a value.
    let table = if matches!(cli.command, Command::Contender { .. }) {
        RuntimeTable::default()
    } else {
        use zkurator_harness::runtime::external;
        // `check` and `list` run no code, so they start no added runtime either.
        let set_up = if matches!(cli.command, Command::Check { .. } | Command::List { .. }) {
            external::declare
        } else {
            external::setup
        };
        match set_up(&cli.added_runtimes, cli.runtimes_file.as_deref(), &cli.placeholder_runtimes) {
            Ok(table) => table,
            Err(e) => return fail(e),
        }
    };
    let mut choices = PeerChoices::from_env();
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
            use zkurator_harness::versions::reports::ReportFlags;
            let is_run = matches!(cli.command, Command::Run { .. });
            let reports = match cli.command {
                Command::Workload { .. } => ReportFlags::NONE,
                Command::Bench(_) => ReportFlags::BENCH,
                _ => ReportFlags::BOTH,
            };
            let args = without_version_args(std::env::args_os().skip(1));
            // Children of run, faults and workload overlap, at most one per
            // core (each is a whole harness: a server, a JVM, its own --jobs
            // runs; its exclusive runs stay alone host-wide); bench and gen
            // take turns.
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let at_once = match &cli.command {
                Command::Run { jobs, .. } | Command::Faults { jobs, .. } | Command::Workload { jobs, .. } => {
                    jobs_or_default(*jobs).min(cores)
                }
                _ => 1,
            };
            return axis::run_each(&combos, &args, reports, is_run, at_once);
        }
        match axis::apply(&combos[0]) {
            Ok(chosen) => choices = chosen,
            Err(e) => return fail(e),
        }
    }
    // One adapter per runtime; each prepares on first use.
    let peers = Peers::new(table, choices);
    let corpus = || zkurator_harness::assets::scenario_dir(cli.scenarios.as_deref());
    match cli.command {
        Command::Run { paths, zk_connect, zk, runtimes, expectations, json, junit, report_dir, jobs } => match corpus()
        {
            Ok(corpus) => {
                let reports = [json, junit, report_dir];
                let jobs = jobs_or_default(jobs);
                run::run(&peers, &corpus, paths, zk_connect, zk, runtimes, expectations, reports, jobs)
            }
            Err(e) => fail(e),
        },
        Command::List { paths } => corpus().map_or_else(fail, |corpus| list_check::list(peers.table(), &corpus, paths)),
        Command::Check { paths } => {
            corpus().map_or_else(fail, |corpus| list_check::check(peers.table(), &corpus, paths))
        }
        Command::Doctor => doctor::doctor(&peers, &cli.scenarios, [&cli.curator, &cli.zookeeper, &cli.kazurator]),
        Command::Bench(args) => zkurator_harness::bench::main(args, &peers),
        Command::Faults { json, junit, skip_slow, report_dir, jobs } => corpus().map_or_else(fail, |corpus| {
            faults::faults(&peers, &corpus, [json, junit, report_dir], skip_slow, jobs_or_default(jobs))
        }),
        Command::Workload { runtimes, report_dir, jobs } => {
            workload::workload(&peers, runtimes.as_deref(), corpus, report_dir, jobs_or_default(jobs))
        }
        Command::Recheck { path } => recheck::recheck(peers.table(), &path),
        Command::Contender { serve, negative_control } => contender::serve(&serve, negative_control.as_deref()),
        Command::Gen { cases, seed, runtimes, zk_connect, max_shrink_iters, json, junit, report_dir } => {
            let regressions = generate::regressions_dir(cli.scenarios.as_deref());
            generate::generate(
                &peers,
                GenArgs { cases, seed, runtimes, zk_connect, max_shrink_iters, regressions, json, junit, report_dir },
            )
        }
    }
}

/// `--jobs`, or the default from the cores and memory.
fn jobs_or_default(jobs: Option<u32>) -> usize {
    jobs.map_or_else(zkurator_harness::suite::default_jobs, |n| n as usize)
}
