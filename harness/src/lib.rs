//! Interop harness for zkurator: see the crate README.
pub mod contender;
pub mod runtime;
