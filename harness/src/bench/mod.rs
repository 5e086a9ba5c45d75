//! `zkurator-harness bench`: zkurator's locks against the raw ZooKeeper floor,
//! the zookeeper-client crate's `Client::lock`, Apache Curator and kazurator,
//! side by side, in one process run against one local ZooKeeper server.
//!
//! # What is measured
//!
//! * **uncontended**: acquire+release cycles on one session: cycles per second
//!   and p50/p99 cycle latency, for the floor (create ephemeral-sequential,
//!   list children, delete: three sequential round trips with
//!   zookeeper-client), zkurator's mutex, write lock and read lock,
//!   zookeeper-client's `Client::lock` (awaiting the delete), Curator's and
//!   kazurator's mutex and read/write lock sides. Curator's loop runs inside
//!   the JVM ([`curator`]), kazurator's inside Python ([`kazurator`]), so
//!   calls across languages are not measured. The iterations are split in
//!   rounds taken in turn by every subject, each round after a warm-up.
//! * **contended**: 2, 8 and 32 writers, each with its own session, on one
//!   mutex: completed acquire→release handoffs per second in a fixed window
//!   after a warm-up.
//! * **readers**: 100 readers sharing one session take the read lock at once
//!   (time until all hold it); a writer on its own session then queues behind
//!   them and, once its node exists, the readers release (the writer's wait).
//! * **waiters**: 1,000 zkurator waiters on one session in one Rust process
//!   (a child process of the benchmark): VmRSS growth while they are queued,
//!   and the time to drain them when each releases right after acquiring.
//!
//! Each section runs in two network settings: loopback, and every client
//! going through the same [`LatencyProxy`] adding 1 ms each way; and with
//! two servers: `forceSync=no` (the figures show client overhead; the targets
//! apply to these) and ZooKeeper's default, durable `forceSync=yes`.
//!
//! The output is a table per setting on stdout, the targets of tracker issue
//! 6 as MET / MISSED with their figures, and a JSON file with everything
//! ([`results::BenchReport`]). Build with `--release` for real figures.

pub mod curator;
pub mod floor;
pub mod kazurator;
pub mod machine;
pub mod report;
pub mod results;
pub mod stats;
pub mod targets;
pub mod waiters;
pub mod zkclient;
pub mod zkurator;

use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use zookeeper_client::{Acls, Client, CreateMode};

use crate::proxy::LatencyProxy;
use machine::Machine;
use results::{
    BenchReport, ConfigReport, Contended, Flavor, Lock, Network, Readers, Section, ServerMode, Settings, Subject,
    Uncontended, Versions,
};
use stats::{median, rate, Samples};

/// The longest any single acquire may take before a measurement fails.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(60);
/// Session timeout of every Rust client of the benchmark.
const SESSION_TIMEOUT: Duration = Duration::from_secs(30);
/// Connection timeout of every Rust client of the benchmark.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The ZooKeeper node under which every lock path of a run lives.
const BENCH_ROOT: &str = "/zkurator-bench";

/// Options of `zkurator-harness bench`.
#[derive(clap::Args, Clone, Debug)]
pub struct BenchArgs {
    /// Small counts and short windows: a smoke run of every section in under a minute (for CI).
    #[arg(long)]
    pub quick: bool,
    /// Run only these sections (comma separated).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Section>,
    /// Measured uncontended cycles per subject and lock [default: 1000; quick: 60].
    #[arg(long)]
    pub iterations: Option<u32>,
    /// Unmeasured cycles before each uncontended round [default: 200; quick: 20].
    #[arg(long)]
    pub warmup: Option<u32>,
    /// Rounds the uncontended iterations are split into [default: 3; quick: 1].
    #[arg(long)]
    pub rounds: Option<u32>,
    /// Measured window of each contended run, seconds [default: 3; quick: 0.5].
    #[arg(long)]
    pub duration_secs: Option<f64>,
    /// Writer counts of the contended section [default: 2,8,32; quick: 2,8].
    #[arg(long, value_delimiter = ',')]
    pub writers: Option<Vec<u32>>,
    /// Readers of the readers section [default: 100].
    #[arg(long)]
    pub readers: Option<u32>,
    /// Waiters of the waiters section [default: 1000].
    #[arg(long)]
    pub waiters: Option<u32>,
    /// Measure only these (comma separated) [default: all].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub runtimes: Vec<Subject>,
    /// Network settings [default: loopback,latency].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub network: Vec<Network>,
    /// Server settings: fast is forceSync=no, durable ZooKeeper's default [default: fast,durable; quick: fast].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub server: Vec<ServerMode>,
    /// The tokio runtime the Rust subjects run on.
    #[arg(long, value_enum, default_value = "multi-thread")]
    pub tokio: Flavor,
    /// Latency the proxy adds in each direction in the latency setting, ms.
    #[arg(long, default_value_t = 1.0)]
    pub latency_ms: f64,
    /// Where the JSON report goes.
    #[arg(long, default_value = "target/bench.json")]
    pub json: PathBuf,
    /// Internal: measure the waiters section against this server in this
    /// process and print it as JSON (the benchmark runs itself this way).
    #[arg(long, hide = true)]
    pub waiters_child: Option<String>,
}

impl BenchArgs {
    /// The counts and durations these options stand for.
    pub fn settings(&self) -> Settings {
        let quick = self.quick;
        let pick = |given: Option<u32>, full: u32, smoke: u32| given.unwrap_or(if quick { smoke } else { full });
        let all_or = |given: &[Section]| if given.is_empty() { SECTIONS.to_vec() } else { given.to_vec() };
        Settings {
            quick,
            iterations: pick(self.iterations, 1000, 60).max(1),
            warmup: pick(self.warmup, 200, 20),
            rounds: pick(self.rounds, 3, 1).max(1),
            duration_secs: self.duration_secs.unwrap_or(if quick { 0.5 } else { 3.0 }).max(0.01),
            contended_warmup_secs: if quick { 0.2 } else { 1.0 },
            writers: self.writers.clone().unwrap_or_else(|| if quick { vec![2, 8] } else { vec![2, 8, 32] }),
            readers: pick(self.readers, 100, 100).max(1),
            server_warmup: if quick { 2000 } else { 8000 },
            jvm_warmup: if quick { 300 } else { 2000 },
            reader_repeats: if quick { 1 } else { 5 },
            waiters: pick(self.waiters, 1000, 1000).max(1),
            tokio: self.tokio,
            sections: all_or(&self.only),
            subjects: if self.runtimes.is_empty() { Subject::ALL.to_vec() } else { self.runtimes.clone() },
        }
    }
}

const SECTIONS: [Section; 4] = [Section::Uncontended, Section::Contended, Section::Readers, Section::Waiters];

/// Runs `zkurator-harness bench`. Exit code 0 when every measurement ran
/// (whatever the targets say), 1 when some failed, 2 when nothing could run.
pub fn main(args: BenchArgs) -> ExitCode {
    if let Some(connect) = &args.waiters_child {
        return waiters::child_main(connect, args.waiters.unwrap_or(1000), args.tokio);
    }
    if !args.latency_ms.is_finite() || args.latency_ms < 0.0 {
        eprintln!("error: --latency-ms must be a non-negative number");
        return ExitCode::from(2);
    }
    let started = Instant::now();
    let settings = args.settings();
    let mut bench = Bench::new(settings.clone());
    let servers = match (args.server.is_empty(), args.quick) {
        (false, _) => args.server.clone(),
        // The smoke run keeps to the setting the targets are about.
        (true, true) => vec![ServerMode::Fast],
        (true, false) => vec![ServerMode::Fast, ServerMode::Durable],
    };
    let networks =
        if args.network.is_empty() { vec![Network::Loopback, Network::Latency] } else { args.network.clone() };
    let latency = Duration::from_secs_f64(args.latency_ms / 1e3);

    let mut configs = Vec::new();
    let mut header_printed = false;
    for mode in servers {
        progress(&format!("starting ZooKeeper ({})", mode.label()));
        let server = match zkurator_testserver::ZkServer::builder().force_sync(mode == ServerMode::Durable).start() {
            Ok(server) => server,
            Err(e) => {
                eprintln!("error: cannot start a ZooKeeper server: {e}");
                for &network in &networks {
                    let mut config = ConfigReport::new(mode, network, 0.0);
                    config.errors.push(format!("ZooKeeper server did not start: {e}"));
                    configs.push(config);
                }
                continue;
            }
        };
        if bench.versions.zookeeper.is_none() {
            // Debian's build reports `3.8.0-${mvngit.commit.id}`: keep the release.
            bench.versions.zookeeper = zkurator_testserver::server_version(&server.connect_string())
                .ok()
                .map(|v| v.split("-$").next().unwrap_or_default().to_owned());
        }
        // A fresh server's JVM has compiled nothing yet: the first thousands of
        // requests are several times slower, and the first subject would pay.
        progress(&format!("warming up the server ({} create+list+delete cycles)", settings.server_warmup));
        if let Err(e) = bench.block_on(warm_up_server(&server.connect_string(), settings.server_warmup)) {
            eprintln!("warning: server warm-up failed: {e}");
        }
        bench.warm_up_jvm(&server.connect_string());
        if !header_printed {
            print!("{}", report::header(&bench.machine, &bench.versions, &settings));
            header_printed = true;
        }
        for &network in &networks {
            let mut config = ConfigReport::new(
                mode,
                network,
                if network == Network::Latency { latency.as_secs_f64() * 1e3 } else { 0.0 },
            );
            let proxy = match network {
                Network::Loopback => None,
                Network::Latency => match LatencyProxy::start(server.connect_string(), latency) {
                    Ok(proxy) => Some(proxy),
                    Err(e) => {
                        config.errors.push(format!("latency proxy did not start: {e}"));
                        print!("{}", report::config_table(&config));
                        configs.push(config);
                        continue;
                    }
                },
            };
            let connect = proxy.as_ref().map_or_else(|| server.connect_string(), LatencyProxy::connect_string);
            bench.run_config(&mut config, &connect);
            drop(proxy);
            config.ratios = targets::ratios(&config);
            print!("{}", report::config_table(&config));
            configs.push(config);
        }
    }
    if configs.is_empty() {
        eprintln!("error: nothing to measure");
        return ExitCode::from(2);
    }
    let targets = targets::evaluate(&configs, &settings.writers);
    print!("{}", report::targets_table(&targets));
    let failed = configs.iter().any(|c| !c.errors.is_empty());
    let nothing_ran = configs
        .iter()
        .all(|c| c.uncontended.is_empty() && c.contended.is_empty() && c.readers.is_empty() && c.waiters.is_empty());
    let report = BenchReport {
        machine: bench.machine.clone(),
        versions: bench.versions,
        settings,
        configs,
        targets,
        wall_secs: started.elapsed().as_secs_f64(),
    };
    match report::write_json(&report, &args.json) {
        Ok(()) => println!("\nJSON report: {} (whole run {:.0} s)", args.json.display(), report.wall_secs),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    if nothing_ran {
        ExitCode::from(2)
    } else if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// A progress line on stderr (the tables go to stdout), with the time since the first one.
fn progress(what: &str) {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let since = START.get_or_init(Instant::now).elapsed().as_secs_f64();
    eprintln!("bench: {since:6.1} s  {what}");
}

/// What an uncontended job measured, per (subject, lock).
type Measured = Vec<((Subject, Lock), Samples)>;

/// One uncontended job: what it measures and how.
#[derive(Clone, Debug)]
enum Job {
    Floor,
    Zkurator(Lock),
    /// zkurator's mutex on the stock socket.
    ZkuratorNagle,
    ZkClient,
    Curator(Lock),
    /// All kazurator kinds in one process.
    Kazurator(Vec<Lock>),
}

impl Job {
    fn subject(&self) -> Subject {
        match self {
            Job::Floor => Subject::Floor,
            Job::Zkurator(_) => Subject::Zkurator,
            Job::ZkuratorNagle => Subject::ZkuratorNagle,
            Job::ZkClient => Subject::ZkClient,
            Job::Curator(_) => Subject::Curator,
            Job::Kazurator(_) => Subject::Kazurator,
        }
    }
}

/// The state of a run: settings, the peers (started once), versions.
struct Bench {
    settings: Settings,
    machine: Machine,
    versions: Versions,
    curator: Result<(), String>,
    python: Result<kazurator::Python, String>,
    jvm_warmed: bool,
}

const KINDS: [Lock; 3] = [Lock::Mutex, Lock::Write, Lock::Read];

impl Bench {
    fn new(settings: Settings) -> Bench {
        let machine = Machine::this();
        let mut versions = Versions {
            zkurator_harness: env!("CARGO_PKG_VERSION").to_owned(),
            optimized: !cfg!(debug_assertions),
            ..Versions::default()
        };
        // The waiters section is zkurator's alone: no need for the peers.
        let peers = settings.sections.iter().any(|s| *s != Section::Waiters);
        let wants = |s: Subject| peers && settings.subjects.contains(&s);
        let curator = if wants(Subject::Curator) {
            progress("starting the JVM for Curator");
            curator::start().map(|version| versions.curator = Some(version))
        } else {
            Err("not selected".to_owned())
        };
        let python = if wants(Subject::Kazurator) {
            progress("finding Python with kazurator");
            kazurator::Python::find().inspect(|python| {
                versions.kazurator = Some(python.versions.0.clone());
                versions.kazoo = Some(python.versions.1.clone());
            })
        } else {
            Err("not selected".to_owned())
        };
        Bench { settings, machine, versions, curator, python, jvm_warmed: false }
    }

    /// Runs Curator's lock loops unmeasured once per process, so that the JIT
    /// compiler has compiled them before any Curator figure is taken (each
    /// measurement still has its own warm-up cycles).
    fn warm_up_jvm(&mut self, connect: &str) {
        let measured = [Section::Uncontended, Section::Contended, Section::Readers];
        if self.jvm_warmed || self.curator.is_err() || !measured.iter().any(|s| self.wants_section(*s)) {
            return;
        }
        self.jvm_warmed = true;
        let cycles = self.settings.jvm_warmup;
        progress(&format!("warming up Curator in the JVM ({cycles} cycles per lock kind)"));
        let path = format!("{BENCH_ROOT}/jvm-warm-up-{}", &uuid::Uuid::new_v4().to_string()[..8]);
        for lock in KINDS {
            if let Err(e) = curator::uncontended(connect, &format!("{path}-{}", lock.wire()), lock, cycles, 1) {
                eprintln!("warning: Curator warm-up failed: {e}");
                return;
            }
        }
    }

    /// Runs a future on a fresh tokio runtime of the chosen flavour, so that no
    /// measurement inherits another's leftover tasks.
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        let runtime = self.settings.tokio.runtime().expect("a tokio runtime");
        let output = runtime.block_on(future);
        runtime.shutdown_timeout(Duration::from_secs(2));
        output
    }

    fn wants(&self, subject: Subject) -> bool {
        self.settings.subjects.contains(&subject)
    }

    fn wants_section(&self, section: Section) -> bool {
        self.settings.sections.contains(&section)
    }

    /// Whether `subject` can run; records why not (once per setting) otherwise.
    fn available(&self, subject: Subject, config: &mut ConfigReport) -> bool {
        if !self.wants(subject) {
            return false;
        }
        let missing = match subject {
            Subject::Curator => self.curator.as_ref().err(),
            Subject::Kazurator => self.python.as_ref().err(),
            _ => None,
        };
        match missing {
            None => true,
            Some(why) => {
                let line = format!("{}: cannot run: {why}", subject.label());
                if !config.errors.contains(&line) {
                    config.errors.push(line);
                }
                false
            }
        }
    }

    fn run_config(&self, config: &mut ConfigReport, connect: &str) {
        let label = config.label();
        let base = format!("{BENCH_ROOT}/{}", &uuid::Uuid::new_v4().to_string()[..8]);
        match self.block_on(prepare(connect, &base)) {
            Ok(rtt) => config.zk_round_trip_ms = Some(rtt),
            Err(e) => {
                config.errors.push(format!("cannot use ZooKeeper at {connect}: {e}"));
                return;
            }
        }
        if self.wants_section(Section::Uncontended) {
            progress(&format!("[{label}] uncontended"));
            self.uncontended(config, connect, &base);
        }
        if self.wants_section(Section::Contended) {
            progress(&format!("[{label}] contended"));
            self.contended(config, connect, &base);
        }
        if self.wants_section(Section::Readers) {
            progress(&format!("[{label}] readers"));
            self.readers(config, connect, &base);
        }
        if self.wants_section(Section::Waiters) && self.wants(Subject::Zkurator) {
            progress(&format!("[{label}] waiters"));
            match waiters::measure(connect, self.settings.waiters, self.settings.tokio) {
                Ok(w) => config.waiters.push(w),
                Err(e) => config.errors.push(format!("zkurator waiters: {e}")),
            }
        }
    }

    fn uncontended(&self, config: &mut ConfigReport, connect: &str, base: &str) {
        let mut jobs = Vec::new();
        if self.available(Subject::Floor, config) {
            jobs.push(Job::Floor);
        }
        if self.available(Subject::Zkurator, config) {
            jobs.extend(KINDS.map(Job::Zkurator));
            jobs.push(Job::Zkurator(Lock::Lease));
        }
        if self.available(Subject::ZkuratorNagle, config) {
            jobs.push(Job::ZkuratorNagle);
        }
        if self.available(Subject::ZkClient, config) {
            jobs.push(Job::ZkClient);
        }
        if self.available(Subject::Curator, config) {
            jobs.extend(KINDS.map(Job::Curator));
            jobs.push(Job::Curator(Lock::Lease));
        }
        if self.available(Subject::Kazurator, config) {
            jobs.push(Job::Kazurator(KINDS.to_vec()));
        }
        let s = &self.settings;
        let mut merged: Vec<((Subject, Lock), Samples)> = Vec::new();
        let mut failed: Vec<Subject> = Vec::new();
        for round in 0..s.rounds {
            let iterations = s.iterations / s.rounds + u32::from(round < s.iterations % s.rounds);
            if iterations == 0 {
                continue;
            }
            for job in &jobs {
                if failed.contains(&job.subject()) {
                    continue;
                }
                match self.run_job(job, connect, base, iterations) {
                    Ok(results) => {
                        for (key, samples) in results {
                            match merged.iter_mut().find(|(k, _)| *k == key) {
                                Some((_, all)) => {
                                    all.latencies_ns.extend(samples.latencies_ns);
                                    all.elapsed_ns += samples.elapsed_ns;
                                }
                                None => merged.push((key, samples)),
                            }
                        }
                    }
                    Err(e) => {
                        config.errors.push(format!("{} uncontended: {e}", job.subject().label()));
                        failed.push(job.subject());
                        merged.retain(|((subject, _), _)| *subject != job.subject());
                    }
                }
            }
        }
        for ((subject, lock), samples) in merged {
            if let Some(summary) = stats::summarize(&samples) {
                config.uncontended.push(Uncontended { subject, lock, summary });
            }
        }
    }

    fn run_job(&self, job: &Job, connect: &str, base: &str, iterations: u32) -> Result<Measured, String> {
        let warmup = self.settings.warmup;
        let path = |name: &str| format!("{base}/uncontended-{name}");
        let one = |key: (Subject, Lock), samples: Result<Samples, String>| samples.map(|s| vec![(key, s)]);
        match job {
            Job::Floor => {
                one((Subject::Floor, Lock::Raw), self.block_on(floor::run(connect, &path("floor"), warmup, iterations)))
            }
            Job::Zkurator(lock) => one(
                (Subject::Zkurator, *lock),
                self.block_on(zkurator::uncontended(
                    connect,
                    &path(&format!("zkurator-{}", lock.wire())),
                    *lock,
                    zkurator::Socket::Nodelay,
                    warmup,
                    iterations,
                )),
            ),
            Job::ZkuratorNagle => one(
                (Subject::ZkuratorNagle, Lock::Mutex),
                self.block_on(zkurator::uncontended(
                    connect,
                    &path("zkurator-nagle"),
                    Lock::Mutex,
                    zkurator::Socket::Nagle,
                    warmup,
                    iterations,
                )),
            ),
            Job::ZkClient => one(
                (Subject::ZkClient, Lock::Mutex),
                self.block_on(zkclient::uncontended(connect, &path("zk-client"), warmup, iterations)),
            ),
            Job::Curator(lock) => one(
                (Subject::Curator, *lock),
                curator::uncontended(connect, &path(&format!("curator-{}", lock.wire())), *lock, warmup, iterations),
            ),
            Job::Kazurator(locks) => {
                let python = self.python.as_ref().map_err(Clone::clone)?;
                let runs = kazurator::uncontended(python, connect, &path("kazurator"), locks, warmup, iterations)?;
                Ok(runs.into_iter().map(|(lock, samples)| ((Subject::Kazurator, lock), samples)).collect())
            }
        }
    }

    fn contended(&self, config: &mut ConfigReport, connect: &str, base: &str) {
        let s = &self.settings;
        let warmup = Duration::from_secs_f64(s.contended_warmup_secs);
        let duration = Duration::from_secs_f64(s.duration_secs);
        let subjects: Vec<Subject> =
            [Subject::Zkurator, Subject::ZkuratorNagle, Subject::ZkClient, Subject::Curator, Subject::Kazurator]
                .into_iter()
                .filter(|&subject| self.available(subject, config))
                .collect();
        for &writers in &s.writers {
            for &subject in &subjects {
                let path = format!("{base}/contended-{}-{writers}", subject.label().to_lowercase());
                let handoffs = match subject {
                    Subject::Zkurator | Subject::ZkuratorNagle => {
                        let socket = zkurator::Socket::of(subject);
                        self.block_on(zkurator::contended(connect, &path, writers, socket, warmup, duration))
                    }
                    Subject::ZkClient => self.block_on(zkclient::contended(connect, &path, writers, warmup, duration)),
                    Subject::Curator => curator::contended(connect, &path, writers, false, warmup, duration),
                    Subject::Kazurator => self
                        .python
                        .as_ref()
                        .map_err(Clone::clone)
                        .and_then(|python| kazurator::contended(python, connect, &path, writers, warmup, duration)),
                    Subject::Floor => continue,
                };
                match handoffs {
                    Ok(handoffs) => config.contended.push(Contended {
                        subject,
                        writers,
                        shared: false,
                        handoffs,
                        seconds: duration.as_secs_f64(),
                        per_sec: rate(handoffs, duration.as_secs_f64()).unwrap_or(0.0),
                    }),
                    Err(e) => config.errors.push(format!("{} contended, {writers} writers: {e}", subject.label())),
                }
            }
        }
        // Tasks (threads) sharing one session and one handle, as app state holds a lock.
        let writers = targets::SHARED_WRITERS;
        for subject in subjects.into_iter().filter(|s| matches!(s, Subject::Zkurator | Subject::Curator)) {
            let path = format!("{base}/shared-{}-{writers}", subject.label().to_lowercase());
            let handoffs = match subject {
                Subject::Zkurator => {
                    self.block_on(zkurator::contended_shared(connect, &path, writers, warmup, duration))
                }
                _ => curator::contended(connect, &path, writers, true, warmup, duration),
            };
            match handoffs {
                Ok(handoffs) => config.contended.push(Contended {
                    subject,
                    writers,
                    shared: true,
                    handoffs,
                    seconds: duration.as_secs_f64(),
                    per_sec: rate(handoffs, duration.as_secs_f64()).unwrap_or(0.0),
                }),
                Err(e) => config.errors.push(format!("{} shared handle, {writers} tasks: {e}", subject.label())),
            }
        }
    }

    fn readers(&self, config: &mut ConfigReport, connect: &str, base: &str) {
        let s = &self.settings;
        for subject in [Subject::Zkurator, Subject::Curator, Subject::Kazurator] {
            if !self.available(subject, config) {
                continue;
            }
            let path = format!("{base}/readers-{}", subject.label().to_lowercase());
            let repeats = match subject {
                Subject::Zkurator => self.block_on(zkurator::readers(connect, &path, s.readers, s.reader_repeats)),
                Subject::Curator => curator::readers(connect, &path, s.readers, s.reader_repeats),
                _ => self
                    .python
                    .as_ref()
                    .map_err(Clone::clone)
                    .and_then(|python| kazurator::readers(python, connect, &path, s.readers, s.reader_repeats)),
            };
            match repeats {
                Ok(repeats) if !repeats.is_empty() => {
                    let ms = |d: Duration| d.as_secs_f64() * 1e3;
                    let repeats: Vec<(f64, f64)> = repeats.into_iter().map(|(r, w)| (ms(r), ms(w))).collect();
                    let acquire: Vec<f64> = repeats.iter().map(|r| r.0).collect();
                    let wait: Vec<f64> = repeats.iter().map(|r| r.1).collect();
                    config.readers.push(Readers {
                        subject,
                        readers: s.readers,
                        readers_acquire_ms: median(&acquire).unwrap_or(f64::NAN),
                        writer_wait_ms: median(&wait).unwrap_or(f64::NAN),
                        repeats,
                    });
                }
                Ok(_) => {}
                Err(e) => config.errors.push(format!("{} readers: {e}", subject.label())),
            }
        }
    }
}

/// Runs `cycles` create + list + delete cycles on 8 sessions at once.
async fn warm_up_server(connect: &str, cycles: u32) -> Result<(), String> {
    const SESSIONS: u32 = 8;
    let dir = format!("{BENCH_ROOT}/warm-up-{}", &uuid::Uuid::new_v4().to_string()[..8]);
    let client = zk_connect(connect).await?;
    let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
    client.mkdir(&dir, &persistent).await.map_err(|e| format!("create {dir}: {e}"))?;
    let mut tasks = JoinSet::new();
    for _ in 0..SESSIONS {
        let (connect, dir) = (connect.to_owned(), dir.clone());
        tasks.spawn(async move {
            let client = zk_connect(&connect).await?;
            let prefix = format!("{dir}/_c_{}-lock-", uuid::Uuid::new_v4());
            let ephemeral = CreateMode::EphemeralSequential.with_acls(Acls::anyone_all());
            for _ in 0..cycles / SESSIONS {
                let (_, sequence) = client.create(&prefix, b"", &ephemeral).await.map_err(|e| e.to_string())?;
                client.list_children(&dir).await.map_err(|e| e.to_string())?;
                client.delete(&format!("{prefix}{sequence}"), None).await.map_err(|e| e.to_string())?;
            }
            Ok::<u64, String>(0)
        });
    }
    sum_counts(tasks, LOCK_TIMEOUT).await?;
    let _ = client.delete(&dir, None).await;
    Ok(())
}

/// Creates the run's base path and measures a ZooKeeper read's round trip (median, ms).
async fn prepare(connect: &str, base: &str) -> Result<f64, String> {
    let client = zk_connect(connect).await?;
    let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
    client.mkdir(base, &persistent).await.map_err(|e| format!("create {base}: {e}"))?;
    let mut samples = Vec::new();
    for i in 0..120 {
        let t = Instant::now();
        client.check_stat("/").await.map_err(|e| format!("exists /: {e}"))?;
        if i >= 20 {
            samples.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    median(&samples).ok_or_else(|| "no round trip measured".to_owned())
}

/// A client with the benchmark's session settings.
pub(crate) async fn zk_connect(connect: &str) -> Result<Client, String> {
    Client::connector()
        .with_session_timeout(SESSION_TIMEOUT)
        .with_connection_timeout(CONNECT_TIMEOUT)
        .connect(connect)
        .await
        .map_err(|e| format!("cannot connect to ZooKeeper at {connect}: {e}"))
}

/// Runs `warmup` unmeasured, then `iterations` measured calls of `cycle`.
pub(crate) async fn measure<F, Fut>(warmup: u32, iterations: u32, mut cycle: F) -> Result<Samples, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    for _ in 0..warmup {
        cycle().await?;
    }
    let mut latencies_ns = Vec::with_capacity(iterations as usize);
    let started = Instant::now();
    for _ in 0..iterations {
        let t = Instant::now();
        cycle().await?;
        latencies_ns.push(t.elapsed().as_nanos() as u64);
    }
    Ok(Samples { latencies_ns, elapsed_ns: started.elapsed().as_nanos() as u64 })
}

/// The measured window of a contended run: cycles completing between
/// `warm_end` and `end` count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// End of the unmeasured warm-up.
    pub warm_end: Instant,
    /// End of the measured window.
    pub end: Instant,
}

impl Window {
    /// The window after `warmup` from `start`, lasting `duration`.
    pub fn starting(start: Instant, warmup: Duration, duration: Duration) -> Window {
        let warm_end = start + warmup;
        Window { warm_end, end: warm_end + duration }
    }

    /// Counts a cycle that completed at `now` if it falls in the window;
    /// returns whether the writer should go on.
    pub fn record(&self, now: Instant, count: &mut u64) -> bool {
        if now >= self.warm_end && now <= self.end {
            *count += 1;
        }
        now < self.end
    }
}

/// Sums the writers' counts; fails if any writer fails or they take longer than `bound`.
/// One boxed acquire+release cycle of a writer.
pub(crate) type CycleFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>>;

/// Runs one task per writer, all let go at the same instant; each repeats
/// `cycle(&writer)` until the measuring window (after `warmup`, lasting
/// `duration`) ends. Returns the cycles completed inside the window.
pub(crate) async fn run_writers<W, F>(
    writers: Vec<W>,
    warmup: Duration,
    duration: Duration,
    cycle: F,
) -> Result<u64, String>
where
    W: Send + Sync + 'static,
    F: for<'a> Fn(&'a W) -> CycleFuture<'a> + Send + Sync + 'static,
{
    let cycle = std::sync::Arc::new(cycle);
    let (go, started) = tokio::sync::watch::channel(None::<Instant>);
    let mut tasks = JoinSet::new();
    for writer in writers {
        let mut started = started.clone();
        let cycle = std::sync::Arc::clone(&cycle);
        tasks.spawn(async move {
            let start = loop {
                if let Some(start) = *started.borrow_and_update() {
                    break start;
                }
                started.changed().await.map_err(|_| "never started".to_owned())?;
            };
            let window = Window::starting(start, warmup, duration);
            let mut count = 0;
            loop {
                cycle(&writer).await?;
                if !window.record(Instant::now(), &mut count) {
                    break;
                }
            }
            Ok::<u64, String>(count)
        });
    }
    let _ = go.send(Some(Instant::now()));
    sum_counts(tasks, warmup + duration + LOCK_TIMEOUT).await
}

pub(crate) async fn sum_counts(mut tasks: JoinSet<Result<u64, String>>, bound: Duration) -> Result<u64, String> {
    let deadline = tokio::time::Instant::now() + bound;
    let mut total = 0;
    loop {
        let joined = tokio::time::timeout_at(deadline, tasks.join_next())
            .await
            .map_err(|_| format!("writers did not finish within {bound:?}"))?;
        match joined {
            None => return Ok(total),
            Some(Ok(count)) => total += count?,
            Some(Err(e)) => return Err(format!("writer task: {e}")),
        }
    }
}

/// Polls until `path` has at least `count` children (at most [`LOCK_TIMEOUT`]).
pub(crate) async fn wait_for_children(client: &Client, path: &str, count: usize) -> Result<(), String> {
    let deadline = Instant::now() + LOCK_TIMEOUT;
    // Listing a thousand children every millisecond would load the server being measured.
    let pause = Duration::from_millis(if count > 200 { 20 } else { 1 });
    loop {
        match client.list_children(path).await {
            Ok(children) if children.len() >= count => return Ok(()),
            Ok(_) | Err(zookeeper_client::Error::NoNode) => {}
            Err(e) => return Err(format!("list {path}: {e}")),
        }
        if Instant::now() >= deadline {
            return Err(format!("{path} did not reach {count} children within {LOCK_TIMEOUT:?}"));
        }
        tokio::time::sleep(pause).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_counts_cycles_after_the_warm_up() {
        let start = Instant::now();
        let w = Window::starting(start, Duration::from_secs(1), Duration::from_secs(3));
        let mut count = 0;
        assert!(w.record(start + Duration::from_millis(500), &mut count));
        assert_eq!(count, 0);
        assert!(w.record(start + Duration::from_secs(1), &mut count));
        assert!(w.record(start + Duration::from_secs(2), &mut count));
        assert_eq!(count, 2);
        // The last cycle at the end still counts; then the writer stops.
        assert!(!w.record(start + Duration::from_secs(4), &mut count));
        assert_eq!(count, 3);
        assert!(!w.record(start + Duration::from_secs(5), &mut count));
        assert_eq!(count, 3);
    }

    #[test]
    fn quick_and_full_settings() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            bench: BenchArgs,
        }
        let full = Cli::parse_from(["bench"]).bench.settings();
        assert_eq!((full.iterations, full.rounds, full.writers.clone()), (1000, 3, vec![2, 8, 32]));
        assert_eq!((full.readers, full.waiters), (100, 1000));
        assert_eq!(full.sections.len(), 4);
        assert_eq!(full.subjects, Subject::ALL.to_vec());
        let quick = Cli::parse_from(["bench", "--quick", "--iterations", "10", "--only", "uncontended,waiters"])
            .bench
            .settings();
        assert!(quick.quick);
        assert_eq!(quick.iterations, 10);
        assert_eq!(quick.writers, vec![2, 8]);
        assert_eq!(quick.sections, vec![Section::Uncontended, Section::Waiters]);
        let some =
            Cli::parse_from(["bench", "--runtimes", "floor,zkurator,zk-client", "--writers", "4"]).bench.settings();
        assert_eq!(some.subjects, vec![Subject::Floor, Subject::Zkurator, Subject::ZkClient]);
        assert_eq!(some.writers, vec![4]);
    }
}
