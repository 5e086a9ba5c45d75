//! Interop harness for zkurator: Rust (zkurator), real Apache Curator, real
//! kazurator, go-zk and any runtime given as a command, contending on one
//! real ZooKeeper, driven by scenarios and checked against a model of the lock
//! queue and by checkers over the history.
//!
//! Layers, each using only the ones above it:
//! - the pure core, the crate `zkurator-harness-core` (re-exported here under
//!   the same module names): protocol types, capabilities, scenarios, the
//!   model, histories, checkers, expectations, outcomes;
//! - runtimes ([`runtime`]): one module (or folder) per implementation, and
//!   the one line-protocol client every process runtime uses;
//! - execution: [`runner`], [`suite`], [`faults`], [`generate`], [`nemesis`],
//!   [`proxy`], [`backend`], [`preflight`], [`differential`], [`bench`](mod@bench),
//!   and the [`reaper`] that kills what they started when the harness dies;
//! - reports ([`report`], [`workload_report`]), every run's saved evidence
//!   and its HTML, and `recheck` ([`evidence`]), and the files the binary
//!   unpacks and writes ([`assets`], [`logging`]); the CLI is in the binary.

pub use zkurator_harness_core::{
    bounded, capabilities, checker, checkers, checkers_data, checkers_partition, corpus, coverage, expectations,
    fault_figures, history, limits, linearizability, lines, model, needs, network, offline, outcome, protocol, record,
    regression, replay, runtimes, scenario, steps, workload,
};

pub mod assets;
pub mod backend;
pub mod bench;
pub mod contender;
pub mod differential;
pub mod evidence;
pub mod exclusivity;
pub mod faults;
pub mod generate;
pub mod host_gate;
pub mod layout;
pub mod logging;
pub mod nemesis;
pub mod preflight;
pub mod proxy;
pub mod reaper;
pub mod report;
pub mod runner;
pub mod runtime;
pub mod split;
pub mod suite;
pub mod versions;
pub mod workload_report;
