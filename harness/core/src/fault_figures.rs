//! Fault figures: what the runner injected in each run and what it measured,
//! and the table `zkurator-harness faults` prints (and `docs/faults.md` shows).
//!
//! Per run ([`FaultStats`]): every fault injected (kind, the runtime it hit and
//! the role the contender had: holder, waiter or idle; server faults count once
//! for every runtime in the run), the double grants (exclusion violations:
//! must be 0), the nodes left after the run (must be 0), the time from a
//! holder's death to the grant of the waiter behind it, and the time from a
//! holder's session expiry to its runtime reporting the hold lost.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::runtimes::Runtime;
use crate::steps::ServerOp;

/// The JSON `zkurator-harness faults --json` writes: the table, the totals
/// and every run's figures.
pub fn json(runs: &[RunFigures]) -> String {
    let (count, faults, double_grants, nodes_leaked) = totals(runs);
    let value = serde_json::json!({
        "table": table(runs),
        "totals": { "runs": count, "faults": faults, "double_grants": double_grants, "nodes_leaked": nodes_leaked },
        "runs": runs,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// A kind of fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// `C crash`: the session ends at once.
    Crash,
    /// `C expire`: the server expires the session; the contender runs on.
    Expire,
    /// `C kill`: the process dies; the session times out.
    Kill,
    /// `zk restart`.
    Restart,
    /// `zk kill-leader`.
    KillLeader,
    /// `zk kill-follower`.
    KillFollower,
    /// `zk start-all`.
    StartAll,
    /// `zk isolate-leader`: the leader cut off from its followers.
    IsolateLeader,
    /// `zk isolate-follower`: a follower cut off from the other members.
    IsolateFollower,
    /// `zk isolate-member C`: the member C is connected to cut off.
    IsolateMember,
    /// `zk heal-members`: the cut between members ends.
    HealMembers,
    /// `C partition` shorter than half the session timeout: the session survives.
    PartitionShort,
    /// `C partition` longer than the session timeout: the session expires at the server.
    PartitionLong,
    /// `C partition replies`: requests reach the server, replies are dropped.
    PartitionReplies,
    /// `C delay D`.
    Delay,
}

impl FaultKind {
    /// The step word.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Crash => "crash",
            FaultKind::Expire => "expire",
            FaultKind::Kill => "kill",
            FaultKind::Restart => "zk restart",
            FaultKind::KillLeader => "zk kill-leader",
            FaultKind::KillFollower => "zk kill-follower",
            FaultKind::StartAll => "zk start-all",
            FaultKind::IsolateLeader => "zk isolate-leader",
            FaultKind::IsolateFollower => "zk isolate-follower",
            FaultKind::IsolateMember => "zk isolate-member",
            FaultKind::HealMembers => "zk heal-members",
            FaultKind::PartitionShort => "partition (short)",
            FaultKind::PartitionLong => "partition (long)",
            FaultKind::PartitionReplies => "partition replies",
            FaultKind::Delay => "delay",
        }
    }

    /// The fault kind of a server op.
    pub fn of_server(op: ServerOp) -> FaultKind {
        match op {
            ServerOp::Restart => FaultKind::Restart,
            ServerOp::KillLeader => FaultKind::KillLeader,
            ServerOp::KillFollower => FaultKind::KillFollower,
            ServerOp::StartAll => FaultKind::StartAll,
            ServerOp::IsolateLeader => FaultKind::IsolateLeader,
            ServerOp::IsolateFollower => FaultKind::IsolateFollower,
            ServerOp::IsolateMember(_) => FaultKind::IsolateMember,
            ServerOp::HealMembers => FaultKind::HealMembers,
        }
    }
}

/// What the contender hit by a fault was doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// It held the lock.
    Holder,
    /// It waited in an acquire.
    Waiter,
    /// Neither.
    Idle,
    /// A server fault: it hit every contender of the run.
    Everyone,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Holder => "holder",
            Role::Waiter => "waiter",
            Role::Idle => "idle",
            Role::Everyone => "all",
        }
    }
}

/// One fault injected into a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Injected {
    /// What was done.
    pub kind: FaultKind,
    /// The runtime of the contender it hit.
    pub runtime: Runtime,
    /// What that contender was doing.
    pub role: Role,
}

/// One measured delay after a fault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Latency {
    /// The fault.
    pub kind: FaultKind,
    /// The runtime of the holder the fault hit.
    pub runtime: Runtime,
    /// From the fault's injection to the event.
    pub after: Duration,
}

/// The faults of one run and what they did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FaultStats {
    /// Every fault injected.
    pub injected: Vec<Injected>,
    /// Holder died (crash, kill, expire) → a waiter was granted.
    pub waiter_proceed: Vec<Latency>,
    /// Holder's session expired → its runtime reported the hold lost.
    pub loss_signals: Vec<Latency>,
    /// Exclusion violations found in the history.
    pub double_grants: usize,
    /// Lock nodes left on the server after the run.
    pub nodes_leaked: usize,
    /// Double grants the server's own listings show: a granted node with a
    /// node ahead of it that forbids the grant (see
    /// [`crate::checkers_partition::server_grant`]). Must be 0.
    #[serde(default)]
    pub server_double_grants: usize,
    /// Belief windows after partitions: how long an old holder's lock API
    /// still said "held" after the server had given the lock to another.
    #[serde(default)]
    pub belief_windows: Vec<Belief>,
    /// The lost-update workload's figures, when the run had workload steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<crate::checkers_data::DataStats>,
}

/// A belief window measured after a partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Belief {
    /// The partition's kind.
    pub kind: FaultKind,
    /// The runtime of the old holder.
    pub runtime: Runtime,
    /// From the new holder's grant to the first status of the old holder
    /// that no longer said "held" (zero when it said so before the grant);
    /// when `never`, how long it was watched and still said "held".
    pub window: Duration,
    /// The old holder's API never said the hold was lost while watched.
    pub never: bool,
}

/// One run's figures with its label and verdict.
#[derive(Clone, Debug, Serialize)]
pub struct RunFigures {
    /// `scenario[pairing]`.
    pub label: String,
    /// Whether the run agreed with the expectations.
    pub as_expected: bool,
    /// The recorded peer deviation explaining the run's failure, if any.
    pub deviation: Option<String>,
    /// The figures.
    pub stats: FaultStats,
}

/// One row of the fault table: a fault kind on a role of a runtime.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Row {
    /// Fault kind.
    pub kind: String,
    /// Role of the contender hit.
    pub role: String,
    /// Runtime hit.
    pub runtime: String,
    /// Faults of this kind injected.
    pub injected: usize,
    /// Runs that injected at least one.
    pub runs: usize,
    /// Double grants in those runs.
    pub double_grants: usize,
    /// Nodes left after those runs.
    pub nodes_leaked: usize,
    /// Worst holder-death → waiter-granted delay after such a fault.
    pub worst_waiter_proceed: Option<Duration>,
    /// Worst session-expiry → loss-reported delay after such a fault.
    pub worst_loss_signal: Option<Duration>,
    /// The fault's name again, under the key `fault` (`faults --json`).
    pub fault: String,
    /// Worst belief window after such a fault, in ms (a partition's old
    /// holder still saying "held" after another was granted).
    pub belief_window_ms: Option<u64>,
    /// Whether some old holder never said its hold was lost while watched
    /// (then `belief_window_ms` is how long it was watched: a lower bound).
    pub belief_never_ends: bool,
}

/// The table over many runs, one row per (kind, role, runtime).
pub fn table(runs: &[RunFigures]) -> Vec<Row> {
    let mut rows: BTreeMap<(FaultKind, Role, Runtime), (Row, BTreeSet<usize>)> = BTreeMap::new();
    for (index, run) in runs.iter().enumerate() {
        for fault in &run.stats.injected {
            let (row, seen) = rows.entry((fault.kind, fault.role, fault.runtime.clone())).or_insert_with(|| {
                let row = Row {
                    kind: fault.kind.name().into(),
                    fault: fault.kind.name().into(),
                    role: fault.role.name().into(),
                    runtime: fault.runtime.name().into(),
                    ..Row::default()
                };
                (row, BTreeSet::new())
            });
            row.injected += 1;
            if seen.insert(index) {
                row.runs += 1;
                row.double_grants += run.stats.double_grants + run.stats.server_double_grants;
                row.nodes_leaked += run.stats.nodes_leaked;
            }
        }
        let worst = |slot: &mut Option<Duration>, d: Duration| *slot = Some(slot.map_or(d, |w| w.max(d)));
        for l in &run.stats.waiter_proceed {
            if let Some((row, _)) = rows.get_mut(&(l.kind, Role::Holder, l.runtime.clone())) {
                worst(&mut row.worst_waiter_proceed, l.after);
            }
        }
        for b in &run.stats.belief_windows {
            if let Some((row, _)) = rows.get_mut(&(b.kind, Role::Holder, b.runtime.clone())) {
                let ms = u64::try_from(b.window.as_millis()).unwrap_or(u64::MAX);
                row.belief_window_ms = Some(row.belief_window_ms.map_or(ms, |w| w.max(ms)));
                row.belief_never_ends |= b.never;
            }
        }
        for l in &run.stats.loss_signals {
            if let Some((row, _)) = rows.get_mut(&(l.kind, Role::Holder, l.runtime.clone())) {
                worst(&mut row.worst_loss_signal, l.after);
            }
        }
    }
    rows.into_values().map(|(row, _)| row).collect()
}

/// Totals over every run: (runs, faults, double grants, nodes leaked).
pub fn totals(runs: &[RunFigures]) -> (usize, usize, usize, usize) {
    let faults = runs.iter().map(|r| r.stats.injected.len()).sum();
    let double = runs.iter().map(|r| r.stats.double_grants + r.stats.server_double_grants).sum();
    let leaked = runs.iter().map(|r| r.stats.nodes_leaked).sum();
    (runs.len(), faults, double, leaked)
}

fn ms(d: Option<Duration>) -> String {
    d.map_or_else(|| "-".into(), |d| format!("{} ms", d.as_millis()))
}

/// The table as Markdown (also readable in a terminal).
pub fn markdown(runs: &[RunFigures]) -> String {
    let mut out = String::new();
    out.push_str(
        "| fault | hit | runtime | injected | runs | double grants | nodes leaked | worst waiter proceeds after | worst loss signal after | worst belief window |\n",
    );
    out.push_str("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for row in table(runs) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.kind,
            row.role,
            row.runtime,
            row.injected,
            row.runs,
            row.double_grants,
            row.nodes_leaked,
            ms(row.worst_waiter_proceed),
            ms(row.worst_loss_signal),
            match (row.belief_window_ms, row.belief_never_ends) {
                (None, _) => "-".to_owned(),
                (Some(w), false) => format!("{w} ms"),
                (Some(w), true) => format!("never (> {w} ms)"),
            }
        );
    }
    let (count, faults, double, leaked) = totals(runs);
    let _ = writeln!(out, "\n{count} runs, {faults} faults injected, {double} double grants, {leaked} nodes leaked");
    let known: Vec<&RunFigures> =
        runs.iter().filter(|r| r.deviation.is_some() && (r.stats.double_grants + r.stats.nodes_leaked) > 0).collect();
    if !known.is_empty() {
        let double: usize = known.iter().map(|r| r.stats.double_grants).sum();
        let leaked: usize = known.iter().map(|r| r.stats.nodes_leaked).sum();
        let _ = writeln!(
            out,
            "(of which {double} double grants and {leaked} nodes leaked in {} runs with a recorded peer deviation)",
            known.len()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(label: &str, stats: FaultStats) -> RunFigures {
        RunFigures { label: label.into(), as_expected: true, deviation: None, stats }
    }

    #[test]
    fn rows_count_faults_runs_and_keep_the_worst_delays() {
        let expire_holder = Injected { kind: FaultKind::Expire, runtime: Runtime::Rust, role: Role::Holder };
        let kill_waiter = Injected { kind: FaultKind::Kill, runtime: Runtime::Kazurator, role: Role::Waiter };
        let a = FaultStats {
            injected: vec![expire_holder.clone(), expire_holder.clone(), kill_waiter],
            waiter_proceed: vec![
                Latency { kind: FaultKind::Expire, runtime: Runtime::Rust, after: Duration::from_millis(40) },
                Latency { kind: FaultKind::Expire, runtime: Runtime::Rust, after: Duration::from_millis(90) },
            ],
            loss_signals: vec![Latency {
                kind: FaultKind::Expire,
                runtime: Runtime::Rust,
                after: Duration::from_millis(7),
            }],
            double_grants: 0,
            nodes_leaked: 1,
            ..FaultStats::default()
        };
        let b = FaultStats { injected: vec![expire_holder], double_grants: 2, ..FaultStats::default() };
        let runs = [run("a", a), run("b", b)];
        let rows = table(&runs);
        assert_eq!(rows.len(), 2);
        let expire = rows.iter().find(|r| r.kind == "expire").unwrap();
        assert_eq!((expire.injected, expire.runs, expire.double_grants, expire.nodes_leaked), (3, 2, 2, 1));
        assert_eq!(expire.worst_waiter_proceed, Some(Duration::from_millis(90)));
        assert_eq!(expire.worst_loss_signal, Some(Duration::from_millis(7)));
        let kill = rows.iter().find(|r| r.kind == "kill").unwrap();
        assert_eq!((kill.role.as_str(), kill.runs, kill.worst_waiter_proceed), ("waiter", 1, None));
        assert_eq!(totals(&runs), (2, 4, 2, 1));
        let text = markdown(&runs);
        assert!(text.contains("| expire | holder | rust | 3 | 2 | 2 | 1 | 90 ms | 7 ms | - |"), "{text}");
        assert!(text.contains("2 runs, 4 faults injected, 2 double grants, 1 nodes leaked"), "{text}");
    }

    #[test]
    fn partition_rows_add_server_double_grants_and_keep_the_worst_belief() {
        let long = Injected { kind: FaultKind::PartitionLong, runtime: Runtime::Kazurator, role: Role::Holder };
        let belief = |ms, never| Belief {
            kind: FaultKind::PartitionLong,
            runtime: Runtime::Kazurator,
            window: Duration::from_millis(ms),
            never,
        };
        let a = FaultStats {
            injected: vec![long],
            server_double_grants: 1,
            belief_windows: vec![belief(300, false), belief(2500, true)],
            ..FaultStats::default()
        };
        let runs = [run("a", a)];
        let rows = table(&runs);
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].fault.as_str(), rows[0].double_grants), ("partition (long)", 1));
        assert_eq!((rows[0].belief_window_ms, rows[0].belief_never_ends), (Some(2500), true));
        let json = json(&runs);
        for key in ["\"fault\"", "\"runtime\"", "\"double_grants\"", "\"belief_window_ms\""] {
            assert!(json.contains(key), "{key} in {json}");
        }
        assert!(markdown(&runs).contains("never (> 2500 ms)"));
        assert_eq!(totals(&runs).2, 1);
    }
}
