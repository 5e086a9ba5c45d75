//! The benchmark's figures as data: what the measuring modules produce, what
//! the report prints and what the JSON file holds.

use serde::{Deserialize, Serialize};

use super::machine::Machine;
use super::stats::Summary;

/// What a figure measures: a lock implementation, or the raw floor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Subject {
    /// Create ephemeral-sequential, list children, delete: three sequential round
    /// trips with the zookeeper-client crate, no lock logic.
    Floor,
    /// The same cycle on Java's ZooKeeper client (in the JVM). "vs floor" is
    /// against the faster of the two floors.
    FloorJava,
    /// This repository's library as the Quick start builds it
    /// ([`zkurator::connect`]: `TCP_NODELAY` on), no metrics recorder.
    Zkurator,
    /// The same, its `metrics` feature recording into a Prometheus recorder:
    /// what the figures cost.
    ZkuratorMetrics,
    /// The same library on zookeeper-client's stock socket (Nagle's algorithm
    /// on): what a user who skips `keep_nodelay` gets.
    ZkuratorNagle,
    /// The zookeeper-client crate's `Client::lock` (release awaits the delete).
    ZkClient,
    /// Apache Curator in the embedded JVM.
    Curator,
    /// kazurator in Python processes.
    Kazurator,
}

impl Subject {
    /// Every subject, in report order.
    pub const ALL: [Subject; 8] = [
        Subject::Floor,
        Subject::FloorJava,
        Subject::Zkurator,
        Subject::ZkuratorMetrics,
        Subject::ZkuratorNagle,
        Subject::ZkClient,
        Subject::Curator,
        Subject::Kazurator,
    ];

    /// The name used in the table.
    pub fn label(self) -> &'static str {
        match self {
            Subject::Floor => "floor",
            Subject::FloorJava => "floor-java",
            Subject::Zkurator => "zkurator",
            Subject::ZkuratorMetrics => "zkurator-metrics",
            Subject::ZkuratorNagle => "zkurator-nagle",
            Subject::ZkClient => "zk-client",
            Subject::Curator => "Curator",
            Subject::Kazurator => "kazurator",
        }
    }
}

/// Which lock (side) a figure is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lock {
    /// No lock: the floor's create + list + delete.
    Raw,
    /// Curator InterProcessMutex layout.
    Mutex,
    /// Write side of a read/write lock.
    Write,
    /// Read side of a read/write lock.
    Read,
    /// One lease of a Curator InterProcessSemaphoreV2 with three leases
    /// (`locks/` mutex, then a `leases/` node).
    Lease,
}

impl Lock {
    /// The name used in the table.
    pub fn label(self) -> &'static str {
        match self {
            Lock::Raw => "create+list+delete",
            Lock::Mutex => "mutex",
            Lock::Write => "write lock",
            Lock::Read => "read lock",
            Lock::Lease => "lease (semaphore v2)",
        }
    }

    /// The name the Java and Python bench code use.
    pub fn wire(self) -> &'static str {
        match self {
            Lock::Raw => "raw",
            Lock::Mutex => "mutex",
            Lock::Write => "write",
            Lock::Read => "read",
            Lock::Lease => "lease",
        }
    }
}

/// How the ZooKeeper server was configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ServerMode {
    /// `forceSync=no`: no fsync per write, so the figures show client overhead.
    Fast,
    /// ZooKeeper's default `forceSync=yes`: every write waits for the disk.
    Durable,
}

impl ServerMode {
    /// The name used in the table.
    pub fn label(self) -> &'static str {
        match self {
            ServerMode::Fast => "forceSync=no (client overhead)",
            ServerMode::Durable => "forceSync=yes (durable, ZooKeeper's default)",
        }
    }
}

/// How clients reach the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Network {
    /// Straight to the server on 127.0.0.1.
    Loopback,
    /// Through a latency-injecting TCP proxy on 127.0.0.1 (`--latency-ms` each way).
    Latency,
}

/// The tokio runtime the Rust subjects (floor, zkurator, zk-client) run on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Flavor {
    /// `#[tokio::main]`'s default: one worker thread per CPU.
    #[default]
    MultiThread,
    /// Everything on the calling thread.
    CurrentThread,
}

impl Flavor {
    /// A runtime of this flavour with I/O and time enabled.
    pub fn runtime(self) -> std::io::Result<tokio::runtime::Runtime> {
        match self {
            Flavor::MultiThread => tokio::runtime::Builder::new_multi_thread().enable_all().build(),
            Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        }
    }

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::MultiThread => "multi-thread",
            Flavor::CurrentThread => "current-thread",
        }
    }
}

/// The benchmark's sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Section {
    /// Acquire+release cycles with nobody else around.
    Uncontended,
    /// Writers on their own sessions handing one lock to each other.
    Contended,
    /// Many readers sharing while a writer queues behind them.
    Readers,
    /// Many waiters on one session in one Rust process: memory and drain time.
    Waiters,
}

/// One uncontended run: acquire+release cycles on one session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Uncontended {
    /// What was measured.
    pub subject: Subject,
    /// Which lock.
    pub lock: Lock,
    /// Throughput and latency of the cycles.
    #[serde(flatten)]
    pub summary: Summary,
    /// The local server's CPU per cycle, microseconds (its JVM's run time
    /// over the job, warm-up cycles and the session's set-up included, over
    /// every cycle the job made); `None` where it could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_cpu_us: Option<f64>,
}

/// One contended run: `writers` sessions handing one mutex around.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contended {
    /// What was measured.
    pub subject: Subject,
    /// Writers, each with its own session (unless `shared`).
    pub writers: u32,
    /// The writers share one session and one lock handle (tokio tasks,
    /// Curator threads).
    #[serde(default)]
    pub shared: bool,
    /// Acquire→release cycles completed in the measured window.
    pub handoffs: u64,
    /// Length of the measured window, seconds.
    pub seconds: f64,
    /// `handoffs / seconds`.
    pub per_sec: f64,
}

/// Readers sharing the read lock while a writer queues behind them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Readers {
    /// What was measured.
    pub subject: Subject,
    /// Readers, sharing one session (one lock handle each).
    pub readers: u32,
    /// Median over the repeats: from the start until the last reader holds the lock, ms.
    pub readers_acquire_ms: f64,
    /// Median over the repeats: from the readers' release until the queued writer holds it, ms.
    pub writer_wait_ms: f64,
    /// Every repeat's (readers_acquire_ms, writer_wait_ms).
    pub repeats: Vec<(f64, f64)>,
}

/// Many waiters queued on one session, then drained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Waiters {
    /// What was measured.
    pub subject: Subject,
    /// Waiters (tasks, each with its own lock handle) on one session.
    pub waiters: u32,
    /// VmRSS before the waiters were created, MiB.
    pub rss_before_mb: f64,
    /// VmRSS with every waiter queued, MiB.
    pub rss_waiting_mb: f64,
    /// `rss_waiting_mb - rss_before_mb`.
    pub rss_growth_mb: f64,
    /// The process's peak RSS (VmHWM) at the end, MiB.
    pub peak_rss_mb: f64,
    /// From the holder's release until the last waiter released, ms.
    pub drain_ms: f64,
    /// Waiters served per second while draining.
    pub drain_per_sec: f64,
}

/// A zkurator figure over another subject's, so that above 1 means zkurator is
/// faster: throughputs are divided as they are, times the other way round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ratio {
    /// What is compared, e.g. `uncontended mutex cycles/s`.
    pub metric: String,
    /// The other subject.
    pub versus: Subject,
    /// zkurator's figure.
    pub zkurator: f64,
    /// The other subject's figure.
    pub other: f64,
    /// How many times faster zkurator is.
    pub ratio: f64,
}

/// Every figure of one server setting and one network setting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigReport {
    /// Server durability setting.
    pub server: ServerMode,
    /// Network setting.
    pub network: Network,
    /// Latency the proxy added in each direction (0 on loopback), ms.
    pub added_latency_ms: f64,
    /// Median round trip of a ZooKeeper read (`exists /`) in this setting, ms.
    pub zk_round_trip_ms: Option<f64>,
    /// Uncontended runs.
    pub uncontended: Vec<Uncontended>,
    /// Contended runs.
    pub contended: Vec<Contended>,
    /// Reader runs.
    pub readers: Vec<Readers>,
    /// Waiter runs.
    pub waiters: Vec<Waiters>,
    /// zkurator over the others, from this setting's figures.
    pub ratios: Vec<Ratio>,
    /// Measurements that failed, with why.
    pub errors: Vec<String>,
}

impl ConfigReport {
    /// An empty report for a setting.
    pub fn new(server: ServerMode, network: Network, added_latency_ms: f64) -> ConfigReport {
        ConfigReport {
            server,
            network,
            added_latency_ms,
            zk_round_trip_ms: None,
            uncontended: Vec::new(),
            contended: Vec::new(),
            readers: Vec::new(),
            waiters: Vec::new(),
            ratios: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// `loopback` or `N ms each way`.
    pub fn network_label(&self) -> String {
        match self.network {
            Network::Loopback => "loopback".to_owned(),
            Network::Latency => format!("proxy adding {} ms each way", self.added_latency_ms),
        }
    }

    /// Server and network, for headings and target lines.
    pub fn label(&self) -> String {
        format!("{}, {}", self.server.label(), self.network_label())
    }

    /// The uncontended figure of `subject` on `lock`.
    pub fn uncontended_of(&self, subject: Subject, lock: Lock) -> Option<&Uncontended> {
        self.uncontended.iter().find(|u| u.subject == subject && u.lock == lock)
    }

    /// The floor: the faster raw cycle of zookeeper-client's and Java's
    /// client, so "vs floor" is against the best any client here achieves.
    pub fn best_floor(&self) -> Option<&Uncontended> {
        [Subject::Floor, Subject::FloorJava]
            .into_iter()
            .filter_map(|subject| self.uncontended_of(subject, Lock::Raw))
            .max_by(|a, b| a.summary.per_sec.total_cmp(&b.summary.per_sec))
    }

    /// The figure `subject` is compared by on `lock`: the best floor for
    /// [`Subject::Floor`] (whatever `lock`), else its own on `lock`.
    pub fn compared_of(&self, subject: Subject, lock: Lock) -> Option<&Uncontended> {
        match subject {
            Subject::Floor => self.best_floor(),
            _ => self.uncontended_of(subject, lock),
        }
    }

    /// The contended figure of `subject` with `writers` writers.
    pub fn contended_of(&self, subject: Subject, writers: u32) -> Option<&Contended> {
        self.contended.iter().find(|c| c.subject == subject && c.writers == writers && !c.shared)
    }

    /// The figure of `writers` tasks (threads) of `subject` sharing one handle.
    pub fn shared_of(&self, subject: Subject, writers: u32) -> Option<&Contended> {
        self.contended.iter().find(|c| c.subject == subject && c.writers == writers && c.shared)
    }

    /// The readers figure of `subject`.
    pub fn readers_of(&self, subject: Subject) -> Option<&Readers> {
        self.readers.iter().find(|r| r.subject == subject)
    }
}

/// Versions of everything that was measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Versions {
    /// The ZooKeeper server (`srvr`).
    pub zookeeper: Option<String>,
    /// Curator, as loaded in the JVM.
    pub curator: Option<String>,
    /// kazurator in the venv.
    pub kazurator: Option<String>,
    /// kazoo in the venv.
    pub kazoo: Option<String>,
    /// This harness (and zkurator with it).
    pub zkurator_harness: String,
    /// Whether this binary was built with optimisations (numbers from debug
    /// builds are not comparable).
    pub optimized: bool,
}

/// The counts and durations a run used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// `--quick` smoke mode.
    pub quick: bool,
    /// Measured uncontended cycles per subject and lock (over all rounds).
    pub iterations: u32,
    /// Unmeasured cycles before each uncontended round (JIT, connections, caches).
    pub warmup: u32,
    /// Rounds the uncontended iterations are split into; subjects take turns
    /// round by round, so slow drift in the machine's load hits all alike.
    pub rounds: u32,
    /// Measured window of each contended run, seconds.
    pub duration_secs: f64,
    /// Unmeasured time before each contended window, seconds.
    pub contended_warmup_secs: f64,
    /// Writer counts of the contended section.
    pub writers: Vec<u32>,
    /// Readers of the readers section.
    pub readers: u32,
    /// Create+list+delete cycles run on each fresh server before anything is
    /// measured (its JIT compiler warms up).
    pub server_warmup: u32,
    /// Unmeasured Curator cycles per lock kind when the JVM is new (its JIT warms up).
    pub jvm_warmup: u32,
    /// Repeats of the readers section (medians are reported).
    pub reader_repeats: u32,
    /// Waiters of the waiters section.
    pub waiters: u32,
    /// The tokio runtime of the Rust subjects.
    pub tokio: Flavor,
    /// Sections run.
    pub sections: Vec<Section>,
    /// Subjects measured.
    pub subjects: Vec<Subject>,
}

/// Whether a target was met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The figure is on the right side of the bound.
    Met,
    /// It is not.
    Missed,
    /// A figure it needs was not measured (section or subject not run, or failed).
    NotMeasured,
}

impl Verdict {
    /// `MET`, `MISSED` or `NOT MEASURED`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Met => "MET",
            Verdict::Missed => "MISSED",
            Verdict::NotMeasured => "NOT MEASURED",
        }
    }
}

/// One performance target and how the run did against it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetResult {
    /// What is required, e.g. `uncontended mutex ≥ 1.30× Curator`.
    pub target: String,
    /// The setting it applies to.
    pub config: String,
    /// The measured ratio or value.
    pub measured: Option<f64>,
    /// The bound it is compared with.
    pub bound: f64,
    /// Met, missed or not measured.
    pub verdict: Verdict,
    /// The figures behind it.
    pub detail: String,
}

/// Everything one `bench` run measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// The machine.
    pub machine: Machine,
    /// Versions of the measured software.
    pub versions: Versions,
    /// Counts and durations used.
    pub settings: Settings,
    /// One entry per (server, network) setting, in run order.
    pub configs: Vec<ConfigReport>,
    /// The performance targets (on the `forceSync=no` figures).
    pub targets: Vec<TargetResult>,
    /// Wall time of the whole run, seconds.
    pub wall_secs: f64,
}
