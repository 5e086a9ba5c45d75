//! Peer releases: the pure types ([`Version`], ranges, [`RunVersions`]) are
//! the core's `versions`; here, picking releases, resolving them from Maven
//! Central and running one child process per combination.

pub use zkurator_harness_core::versions::selection;
pub use zkurator_harness_core::versions::*;

pub mod axis;
pub mod maven;
