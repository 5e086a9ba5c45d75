//! What a scenario asks of each contender's runtime, and which of that the
//! runtime lacks: a run whose runtimes lack something is skipped (reported
//! with what is missing), never failed.
//!
//! Pure: walks the steps through the [`Model`] (so "a second acquire while
//! holding" is known) and compares with [`Runtime::capabilities`].

use crate::capabilities::Capabilities;
use crate::model::Model;
use crate::protocol::{LockKind, Side};
use crate::runtimes::Runtime;
use crate::scenario::{Action, Scenario};
use crate::workload::DataStep;

/// One thing a contender needs, named as the capability it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// The scenario's lock kind.
    Kind,
    /// A finite acquire timeout.
    Timeouts,
    /// A second acquire of a held side.
    Reentrant,
    /// `acquire read` while holding `write`.
    Downgrade,
    /// `revocable`, `revoke`, `await-revoked`.
    Revocation,
    /// Lock data stored and checked.
    LockData,
    /// `participants`.
    Participants,
    /// A workload write with this protection.
    Workload(crate::protocol::Protection),
    /// An expiry of its session.
    Expire,
}

impl Need {
    /// Whether `capabilities` cover this need on a lock of `kind`.
    pub fn met_by(self, capabilities: &Capabilities, kind: LockKind) -> bool {
        match self {
            Need::Kind => capabilities.has_kind(kind),
            Need::Timeouts => capabilities.timeouts,
            Need::Reentrant => capabilities.reentrant_on(kind),
            Need::Downgrade => capabilities.downgrade,
            Need::Revocation => capabilities.revocation,
            Need::LockData => capabilities.lock_data,
            Need::Participants => capabilities.participants,
            Need::Workload(protection) => capabilities.workloads.contains(&protection),
            Need::Expire => capabilities.can_expire(),
        }
    }

    /// The capability's name, as the hello spells it.
    pub fn name(self, kind: LockKind) -> String {
        match self {
            Need::Kind => match kind {
                LockKind::Mutex { max_leases } if max_leases > 1 => "leases".into(),
                other => format!("kinds: {}", crate::capabilities::KindName::of(other).name()),
            },
            Need::Timeouts => "timeouts".into(),
            Need::Reentrant => "reentrant".into(),
            Need::Downgrade => "downgrade".into(),
            Need::Revocation => "revocation".into(),
            Need::LockData => "lock_data".into(),
            Need::Participants => "participants".into(),
            Need::Workload(protection) => format!("workloads: {}", protection.name()),
            Need::Expire => "session_credentials".into(),
        }
    }
}

/// Each contender's needs, in contender order.
pub fn needs(scenario: &Scenario) -> Vec<(String, Vec<Need>)> {
    let mut out: Vec<(String, Vec<Need>)> =
        scenario.contenders.iter().map(|(id, _)| (id.clone(), vec![Need::Kind])).collect();
    let mut add = |id: &str, need: Need| {
        if let Some((_, list)) = out.iter_mut().find(|(c, _)| c == id) {
            if !list.contains(&need) {
                list.push(need);
            }
        }
    };
    if scenario.lock_data.is_some() {
        for step in &scenario.steps {
            if let Action::ExpectData { contender, .. } = &step.action {
                add(contender, Need::LockData);
            }
        }
    }
    let mut model = Model::new(scenario.kind, &scenario.contenders);
    for step in &scenario.steps {
        match &step.action {
            Action::Acquire { contender, side, timeout } => {
                if timeout.is_some() {
                    add(contender, Need::Timeouts);
                }
                if model.holds(contender, *side) {
                    add(contender, Need::Reentrant);
                } else if *side == Side::Read && model.holds(contender, Side::Write) {
                    add(contender, Need::Downgrade);
                }
            }
            Action::Participants { contender } => add(contender, Need::Participants),
            Action::Revocable { contender, .. }
            | Action::Revoke { contender, .. }
            | Action::AwaitRevoked { contender, .. } => add(contender, Need::Revocation),
            Action::Expire { contender } => add(contender, Need::Expire),
            Action::Data { contender, step } => match step {
                DataStep::Write { protection, .. } | DataStep::Increment { protection, .. } => {
                    add(contender, Need::Workload(*protection))
                }
                DataStep::Read => add(contender, Need::Workload(crate::protocol::Protection::Plain)),
                DataStep::Pause(_) => {}
            },
            _ => {}
        }
        // The model refuses what the scenario's own check refused already.
        let _ = model.step(&step.action);
    }
    out
}

/// What the scenario's runtimes lack, as `contender (runtime): capability`
/// items; empty when every contender can do its part.
pub fn gaps(scenario: &Scenario) -> Vec<String> {
    let runtime_of = |id: &str| scenario.runtime_of(id).unwrap_or(Runtime::Rust);
    needs(scenario)
        .into_iter()
        .flat_map(|(id, needs)| {
            let runtime = runtime_of(&id);
            let capabilities = runtime.capabilities();
            needs
                .into_iter()
                .filter(move |need| !need.met_by(&capabilities, scenario.kind))
                .map(move |need| format!("{id} ({runtime}): {}", need.name(scenario.kind)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scenario(text: &str, pairing_runtime: &str) -> Scenario {
        let text = text.replace("RUNTIME", pairing_runtime);
        crate::scenario::parse(Path::new("t.toml"), &text).unwrap().remove(0)
    }

    const MUTEX: &str = r#"
description = "t"
lock = "mutex"
contenders = { a = "RUNTIME", b = "rust" }
steps = ["a acquire mutex => granted", "a acquire mutex => granted", "b acquire mutex 100ms => timeout",
         "a release mutex", "a release mutex", "b participants"]
"#;

    #[test]
    fn needs_come_from_the_steps_through_the_model() {
        let s = scenario(MUTEX, "curator");
        let needs = needs(&s);
        assert_eq!(needs[0], ("a".into(), vec![Need::Kind, Need::Reentrant]));
        assert_eq!(needs[1], ("b".into(), vec![Need::Kind, Need::Timeouts, Need::Participants]));
        assert!(gaps(&s).is_empty());
    }

    #[test]
    fn a_runtime_without_reentrancy_or_read_write_locks_has_gaps() {
        assert_eq!(gaps(&scenario(MUTEX, "go-zk")), vec!["a (go-zk): reentrant"]);
        assert!(gaps(&scenario(MUTEX, "zk-client")).contains(&"a (zk-client): reentrant".to_string()));
        let rw = r#"
description = "t"
lock = "read-write"
contenders = { a = "RUNTIME" }
steps = ["a acquire write => granted", "a acquire read => granted", "a release read", "a release write"]
"#;
        assert_eq!(gaps(&scenario(rw, "go-zk")), vec!["a (go-zk): kinds: read-write", "a (go-zk): downgrade"]);
        assert_eq!(gaps(&scenario(rw, "kazoo-native")), vec!["a (kazoo-native): downgrade"]);
        assert!(gaps(&scenario(rw, "kazurator")).is_empty());
    }
}
