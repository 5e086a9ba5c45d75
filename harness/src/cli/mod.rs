//! The bodies of the `zkurator-harness` subcommands, one file each (main.rs
//! holds the clap types and the dispatch). Binary only: the library knows
//! nothing of the command line.

pub mod common;
pub mod contender;
pub mod doctor;
pub mod faults;
pub mod generate;
pub mod list_check;
pub mod recheck;
pub mod run;
pub mod versions_args;
pub mod workload;
