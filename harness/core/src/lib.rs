//! The pure core of zkurator's conformance harness: everything that decides
//! what a run should do and whether it did, with no I/O beyond reading
//! scenario files: no async runtime, no JVM, no ZooKeeper client, no CLI.
//!
//! - the contender protocol's types ([`protocol`]), the runtimes that exist
//!   ([`runtimes`]) and what each can do ([`capabilities`]);
//! - scenario files: the step language with a printer that round-trips
//!   ([`steps`]), files and their expansion over runtimes ([`scenario`]),
//!   the corpus ([`corpus`]), limits and positions ([`limits`], [`lines`]),
//!   bounded reading of input files ([`bounded`]), checks of steps beyond
//!   the model ([`step_checks`]),
//!   workload steps ([`workload`]), network faults ([`network`]);
//! - the lock model ([`model`]) and what a scenario needs of its runtimes
//!   ([`needs`]);
//! - histories ([`history`]) and their saved form ([`record`]), the checkers
//!   ([`checkers`], [`checkers_data`], the complete [`linearizability`] one),
//!   the model replayed over a saved history ([`replay`]) and every offline
//!   check together ([`offline`]),
//!   outcomes ([`outcome`]), recorded deviations ([`expectations`]), fault
//!   figures ([`fault_figures`]), generated-run conclusions ([`regression`]),
//!   what a finished selection covered ([`coverage`]) and peer releases
//!   ([`versions`]).
//!
//! The `zkurator-harness` crate executes all this against real peers.

pub mod bounded;
pub mod capabilities;
pub mod checker;
pub mod checkers;
pub mod checkers_data;
pub mod checkers_partition;
pub mod corpus;
pub mod coverage;
pub mod expectations;
pub mod fault_figures;
pub mod history;
pub mod limits;
pub mod linearizability;
pub mod lines;
pub mod model;
pub mod needs;
pub mod network;
pub mod offline;
pub mod outcome;
pub mod protocol;
pub mod record;
pub mod regression;
pub mod replay;
pub mod runtimes;
pub mod scenario;
pub mod step_checks;
pub mod steps;
pub mod versions;
pub mod workload;
