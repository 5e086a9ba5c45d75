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
//!
//! [`LatencyProxy`]: crate::proxy::LatencyProxy

mod args;
pub mod curator;
pub mod floor;
pub mod kazurator;
pub mod machine;
mod measure;
mod metrics_switch;
pub mod report;
pub mod results;
mod run;
mod runner;
mod sections;
mod server_cpu;
pub mod stats;
pub mod targets;
pub mod waiters;
mod zk;
pub mod zkclient;
pub mod zkurator;

pub use args::BenchArgs;
pub(crate) use measure::{measure, run_writers};
pub use measure::{Window, LOCK_TIMEOUT};
pub use run::main;
pub(crate) use zk::{wait_for_children, zk_connect};
