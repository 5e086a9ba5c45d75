//! Differential tests of the lock predicates: zkurator's pure driver
//! ([`zkurator::driver`]) against Apache Curator's real drivers (in the embedded
//! JVM) and kazurator's (in a Python process), on generated child lists.
//!
//! For each [`Case`] (the children as ZooKeeper lists them, our node's name, and
//! the question: mutex/lease lock, write side or read side) every [`Oracle`]
//! answers with the sorted children and a [`Verdict`]: holds, watch a node, or
//! our node is missing. zkurator's driver is the reference; every difference
//! of a peer is a [`Disagreement`], grouped by kind in a [`Report`] with one
//! minimal example per kind (shrunk by asking the oracles again).
//!
//! The oracles:
//! - [`RustOracle`]: `zkurator::driver::{sort_children, decide_exclusive,
//!   decide_read}` in process, or any replacement functions ([`PredicateFns`])
//!   for negative controls;
//! - [`CuratorOracle`]: `zkurator.interop.DriverProbe` (`java/src/…`) in the JVM
//!   of [`CuratorRuntime::start`]; one JNI call per batch; it calls Curator's
//!   `LockInternals.getSortedChildren` and the `getsTheLock` of
//!   `StandardLockInternalsDriver` and of a real `InterProcessReadWriteLock`'s
//!   drivers (see that class for the exact call paths and the reflection used);
//! - [`KazuratorOracle`]: `harness/python/driver_probe.py` in the kazurator venv
//!   of [`KazuratorRuntime::new`]; one JSON line per batch.
//!
//! Kinds: `sort-order` when the sorted lists differ; otherwise a [`Deviation`]'s
//! kind when switching on exactly that deviation in [`model_verdict`] (an
//! independent transcription of the predicates) turns zkurator's answer into the
//! peer's; otherwise `unexplained-<question>-<ours>-vs-<theirs>`. Known kinds
//! and their reasons live in `harness/predicate-expectations.toml`
//! ([`PredicateExpectations`]; not under `scenarios/`, where every `*.toml` but
//! `expectations.toml` is loaded as a scenario); an unknown kind, or a known one that no longer
//! occurs, is a [`Problem`].
//!
//! Cases come from one builder driven by a [`Choices`] source: [`SplitMix64`]
//! for the fixed-seed, reproducible runs of [`generate_cases`], or a proptest
//! "choice tape" in the unit tests (choice 0 is always the simplest option, so
//! proptest's shrinking of the tape shrinks the case).
//!
//! [`CuratorRuntime::start`]: crate::runtime::curator::CuratorRuntime::start
//! [`KazuratorRuntime::new`]: crate::runtime::kazurator::KazuratorRuntime::new

mod cases;
mod compare;
mod curator;
mod expectations;
mod generator;
mod kazurator;
mod model;
mod oracle;
mod render;
mod report;
mod run;
mod rust;
mod wire;

#[cfg(test)]
mod tests;

pub use cases::{Case, Question};
pub use compare::{classify, compare, Disagreement, SORT_ORDER};
pub use curator::{CuratorOracle, CURATOR_PROBE_CLASS};
pub use expectations::{KnownDisagreement, PredicateExpectations, Problem};
pub use generator::{build_case, generate_cases, is_valid_child_name, Choices, SplitMix64};
pub use kazurator::KazuratorOracle;
pub use model::{model_verdict, Deviation};
pub use oracle::{Answer, Oracle, OracleError, Verdict};
pub use report::{Group, Report, Timing};
pub use run::run_differential;
pub use rust::{PredicateFns, RustOracle};
