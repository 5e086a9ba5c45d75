//! [`Checker`]: which check a [`crate::checkers::Violation`] comes from.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Which check found a violation. Written as its kebab-case name in reports
/// and saved runs (`"lost-updates"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Checker {
    /// The lock model: a grant, a block or an outcome it did not predict.
    Model,
    /// The scenario's own expectations (`expect` steps, lock data).
    Scenario,
    /// Two holders at once (intervals that certainly overlap).
    Exclusion,
    /// Two holders at once by the server's own order: a holder's node with
    /// another session's node still listed ahead of it.
    #[serde(rename = "exclusion-at-server")]
    ServerExclusion,
    /// Lock node names that do not follow the protocol.
    Naming,
    /// A lock node's data differs from what its holder wrote.
    #[serde(rename = "data")]
    LockData,
    /// The workload counter lost an increment.
    LostUpdates,
    /// No order of the operations explains the history (Wing–Gong).
    Linearizability,
    /// Lock nodes left behind after the run.
    Cleanup,
    /// A participant list that disagrees with the holders.
    Participants,
    /// A revoked holder that did not release.
    Revocation,
    /// A loss signal that did not come within the session timeout.
    LossSignal,
    /// The runner could not go on (a contender stopped answering).
    Runner,
    /// A runtime could not do what a step asked.
    Runtime,
    /// A server fault could not be injected.
    Server,
    /// A contender did not move off an ensemble member that was cut off.
    Split,
    /// The run could not start (server, runtime): no verdict on the lock.
    Setup,
    /// A generated schedule's failure that did not reproduce.
    Generated,
}

impl Checker {
    /// Every checker, in declaration order.
    pub const ALL: [Checker; 18] = [
        Checker::Model,
        Checker::Scenario,
        Checker::Exclusion,
        Checker::ServerExclusion,
        Checker::Naming,
        Checker::LockData,
        Checker::LostUpdates,
        Checker::Linearizability,
        Checker::Cleanup,
        Checker::Participants,
        Checker::Revocation,
        Checker::LossSignal,
        Checker::Runner,
        Checker::Runtime,
        Checker::Server,
        Checker::Split,
        Checker::Setup,
        Checker::Generated,
    ];

    /// The checkers whose violations are recomputed from a saved history
    /// alone (`recheck`).
    pub const OFFLINE: [Checker; 5] =
        [Checker::Model, Checker::Scenario, Checker::Exclusion, Checker::Naming, Checker::LostUpdates];

    /// The name reports and saved runs use.
    pub fn name(self) -> &'static str {
        match self {
            Checker::Model => "model",
            Checker::Scenario => "scenario",
            Checker::Exclusion => "exclusion",
            Checker::ServerExclusion => "exclusion-at-server",
            Checker::Naming => "naming",
            Checker::LockData => "data",
            Checker::LostUpdates => "lost-updates",
            Checker::Linearizability => "linearizability",
            Checker::Cleanup => "cleanup",
            Checker::Participants => "participants",
            Checker::Revocation => "revocation",
            Checker::LossSignal => "loss-signal",
            Checker::Runner => "runner",
            Checker::Runtime => "runtime",
            Checker::Server => "server",
            Checker::Split => "split",
            Checker::Setup => "setup",
            Checker::Generated => "generated",
        }
    }
}

impl fmt::Display for Checker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serialized_forms() {
        for checker in Checker::ALL {
            assert_eq!(serde_json::to_string(&checker).unwrap(), format!("\"{checker}\""));
            assert_eq!(serde_json::from_str::<Checker>(&format!("\"{checker}\"")).unwrap(), checker);
        }
        assert!(serde_json::from_str::<Checker>("\"names\"").is_err());
    }
}
