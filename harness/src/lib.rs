//! Interop harness for zkurator: Rust (zkurator), real Apache Curator and real
//! kazurator contenders hitting one real ZooKeeper, driven by scenarios and
//! checked against a model of the lock queue and by checkers over the history.
pub mod backend;
pub mod bench;
pub mod checkers;
pub mod contender;
pub mod differential;
pub mod expectations;
pub mod faults;
pub mod generate;
pub mod history;
pub mod layout;
pub mod model;
pub mod nemesis;
pub mod proxy;
pub mod report;
pub mod runner;
pub mod runtime;
pub mod scenario;

pub mod suite;
