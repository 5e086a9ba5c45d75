//! Interop harness for zkurator: Rust (zkurator), real Apache Curator and real
//! kazurator contenders hitting one real ZooKeeper, driven by scenarios and
//! checked against a model of the lock queue and by checkers over the history.
pub mod assets;
pub mod backend;
pub mod bench;
pub mod capabilities;
pub mod checkers;
pub mod checkers_data;
pub mod contender;
pub mod corpus;
pub mod differential;
pub mod expectations;
pub mod fault_figures;
pub mod faults;
pub mod generate;
pub mod history;
pub mod layout;
pub mod limits;
pub mod lines;
pub mod logging;
pub mod model;
pub mod needs;
pub mod nemesis;
pub mod outcome;
pub mod preflight;
pub mod protocol;
pub mod proxy;
pub mod regression;
pub mod report;
pub mod runner;
pub mod runtime;
pub mod runtimes;
pub mod scenario;

pub mod steps;
pub mod suite;
pub mod versions;
pub mod workload;
pub mod workload_report;
