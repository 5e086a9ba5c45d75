//! Peer releases: the pure types ([`Version`], ranges, [`RunVersions`]) are
//! the core's `versions`; here, picking releases, resolving them from Maven
//! Central, running one child process per combination and merging their reports.

pub use zkurator_harness_core::versions::selection;
pub use zkurator_harness_core::versions::*;

pub mod axis;
pub mod choices;
pub mod maven;
pub mod reports;

pub use choices::PeerChoices;
