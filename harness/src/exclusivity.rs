//! Which runs may overlap others: a run is *exclusive* when it acts on the
//! servers (restarts, kills, ensembles) or when its verdict compares a
//! wall-clock interval with a session or acquire timeout (network faults,
//! pauses, loss signals, killed processes, short sessions, a grant the model
//! expects within an acquire timeout). Pure: the scheduler (`suite::schedule`)
//! and the runner's host gate ([`crate::host_gate`]) both decide by it.

use crate::model::{Model, Outcome};
use crate::scenario::{Action, Scenario};
use crate::workload::DataStep;

/// Sessions shorter than this (the corpus's default, 4 s) make a run
/// exclusive: a client that gets no CPU for a third of it or so loses its
/// connection (zookeeper-client: "no response from connection in 800ms" at
/// 2 s), which load beside it can cause.
pub const SHORT_SESSION: std::time::Duration = std::time::Duration::from_secs(4);

/// What a run may overlap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exclusivity {
    /// Any other run: its verdict is timed by nothing load can stretch.
    Shared,
    /// At most [`crate::host_gate::TIMED_AT_ONCE`] - 1 other timed runs, and nothing else
    /// anywhere on the host: its verdict compares a wall-clock interval with a
    /// session or acquire timeout. The reason says which.
    Timed(&'static str),
    /// Nothing at all: it acts on the servers (restarts, kills, splits), which
    /// any other run would see.
    Alone(&'static str),
}

/// What `scenario` may overlap ([`Exclusivity`]).
pub fn exclusivity(scenario: &Scenario) -> Exclusivity {
    if scenario.is_slow() || scenario.needs_ensemble() {
        return Exclusivity::Alone(SERVER_REASON);
    }
    timed_reason(scenario).map_or(Exclusivity::Shared, Exclusivity::Timed)
}

/// The reason of every run that acts on servers.
const SERVER_REASON: &str = "restarts, kills or splits servers";

/// Why `scenario` must not run beside shared runs (it acts on servers, or it
/// is timed against a timeout), or `None` when it may overlap other runs.
pub fn exclusive_reason(scenario: &Scenario) -> Option<&'static str> {
    match exclusivity(scenario) {
        Exclusivity::Shared => None,
        Exclusivity::Timed(reason) | Exclusivity::Alone(reason) => Some(reason),
    }
}

/// Why `scenario`'s verdict is timed against a timeout, if it is.
fn timed_reason(scenario: &Scenario) -> Option<&'static str> {
    if scenario.session_timeout < SHORT_SESSION {
        return Some("a short session timeout, which a contender starved under load outlives");
    }
    let mut model = Model::new(scenario.kind, &scenario.contenders).with_session_timeout(scenario.session_timeout);
    for step in &scenario.steps {
        let reason = match &step.action {
            Action::Network { .. } => Some("a network fault timed against the session timeout"),
            Action::Data { step: DataStep::Pause(_), .. } => Some("a pause timed against the session timeout"),
            Action::ExpectLost { .. } => Some("a loss signal timed against the session timeout"),
            Action::Kill { .. } => Some("a killed process's session expiry timed against the checks"),
            _ => None,
        };
        if reason.is_some() {
            return reason;
        }
        match model.step(&step.action) {
            // A grant expected within the contender's own acquire timeout:
            // a slow contender would time out instead.
            Ok(prediction) => {
                let timed = matches!(step.action, Action::Acquire { timeout: Some(_), .. });
                if timed && prediction.outcome == Some(Outcome::Granted) {
                    return Some("a grant expected within an acquire timeout");
                }
            }
            // The run stops there (a scenario error): nothing timed follows.
            Err(_) => return None,
        }
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A one-scenario file of `steps` for two contenders, parsed.
    pub(crate) fn scenario(steps: &[&str]) -> Scenario {
        let steps: Vec<String> = steps.iter().map(|s| format!("{s:?}")).collect();
        let text = format!(
            "description = \"x\"\nlock = \"mutex\"\ncontenders = {{ a = \"rust-process\", b = \"rust\" }}\nsteps = [{}]\n",
            steps.join(", ")
        );
        crate::scenario::parse(std::path::Path::new("x.toml"), &text).expect("parses").remove(0)
    }

    #[test]
    fn runs_timed_against_a_timeout_or_acting_on_servers_are_exclusive() {
        let shared = ["a acquire mutex => granted", "b acquire mutex => blocked", "a crash", "b release mutex"];
        assert_eq!(exclusive_reason(&scenario(&shared)), None);
        // Waiting out a timeout is the contender's own clock: still shared.
        let times_out = ["a acquire mutex", "b acquire mutex 100ms => timeout", "a release mutex"];
        assert_eq!(exclusive_reason(&scenario(&times_out)), None);
        let restart = scenario(&["a acquire mutex", "zk restart", "a release mutex"]);
        assert_eq!(exclusivity(&restart), Exclusivity::Alone(SERVER_REASON));
        let cases: [&[&str]; 5] = [
            &["a acquire mutex", "b acquire mutex => blocked", "a kill", "b release mutex"],
            &["a acquire mutex", "a partition for 1500ms", "sleep 2s"],
            &["a acquire mutex", "a pause 2500ms"],
            &["a acquire mutex", "a expire", "a expect-lost mutex 4s"],
            &["a acquire mutex 200ms => granted", "a release mutex"],
        ];
        for steps in cases {
            assert!(matches!(exclusivity(&scenario(steps)), Exclusivity::Timed(_)), "{steps:?}");
        }
        let split = "description = \"x\"\nlock = \"mutex\"\nzk = \"ensemble\"\ncontenders = { a = \"rust\" }\n\
                     steps = [\"a acquire mutex\", \"zk isolate-member a\", \"zk heal-members\", \"a release mutex\"]\n";
        let split = crate::scenario::parse(std::path::Path::new("x.toml"), split).expect("parses").remove(0);
        assert_eq!(exclusivity(&split), Exclusivity::Alone(SERVER_REASON), "an ensemble split");
        let mut short = scenario(&shared);
        short.session_timeout = std::time::Duration::from_millis(2000);
        assert!(matches!(exclusivity(&short), Exclusivity::Timed(_)), "a 2 s session");
        assert_eq!(
            exclusive_reason(&short),
            Some("a short session timeout, which a contender starved under load outlives")
        );
    }
}
