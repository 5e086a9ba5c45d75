//! Scenario files: parsing, validation and expansion over runtime pairings.
//!
//! A scenario is a TOML file:
//!
//! ```toml
//! description = "a reader blocks a writer"
//! lock = "read-write"              # or "mutex"; max_leases = 2 for a lease lock
//! runtimes = ["rust", "curator", "kazurator"]   # what $A, $B... range over
//! contenders = { a = "$A", b = "$B" }
//! steps = [
//!   "a acquire read => granted",
//!   "b acquire write 300ms => timeout",
//!   "b acquire write => blocked",
//!   "a release read",                # the model now expects b's pending acquire granted
//!   "b release write",
//! ]
//! ```
//!
//! Step grammar, one string per step (`=> expectation` optional; when given it
//! must agree with the model, which `zkurator-harness check` verifies):
//!
//! | step | meaning |
//! | --- | --- |
//! | `C acquire SIDE [DURATION]` | acquire read, write or mutex, waiting at most DURATION |
//! | `C release SIDE` | release once |
//! | `C participants` | ask for participant nodes; checked against the server |
//! | `C revocable SIDE` | opt the held SIDE in to revocation |
//! | `C revoke D SIDE` | C writes `__REVOKE__` into D's node of SIDE |
//! | `C await-revoked SIDE` | C must release SIDE by itself (revoked) within the grant bound |
//! | `C crash` | C's session ends at once without releasing (C takes no more commands) |
//! | `C expire` | fault: the server expires C's session while C keeps running (see below) |
//! | `C kill` | fault: C's process dies (SIGKILL); its session and nodes stay until the session timeout |
//! | `C expect-lost SIDE [DURATION]` | C, whose session expired while it held SIDE, must report the hold lost within DURATION (default: session timeout + grant bound) |
//! | `C partition [replies] [for DURATION]` | fault: C's proxies drop both ways (or only the replies), until `C heal` or for DURATION (see [`crate::network`]) |
//! | `C heal` | the partition of C ends (its cut connections are closed; C reconnects) |
//! | `C delay DURATION` | C's proxies delay every chunk by DURATION each way |
//! | `sleep DURATION` | wait (partitioned holders' lock APIs are watched meanwhile) |
//! | `zk foreign NAME` | the runner creates a foreign persistent child NAME |
//! | `zk remove NAME` | the runner deletes child NAME |
//! | `zk expect-data C SIDE TEXT` | C's node of SIDE holds the bytes TEXT |
//! | `zk expect-gone [DURATION]` | the lock directory is deleted (container) within DURATION |
//! | `zk restart` | fault: the standalone server is killed and started again with the same data |
//! | `zk kill-leader` | fault: the ensemble's leader is killed (`zk = "ensemble"` only) |
//! | `zk kill-follower` | fault: one follower is killed (`zk = "ensemble"` only) |
//! | `zk start-all` | every killed ensemble member is started again; waits for a leader |
//! | `zk isolate-leader` | fault: the leader is cut off from its followers; returns once they serve under a new leader and the old one stopped serving |
//! | `zk isolate-follower` | fault: one follower is cut off from the other members; returns once it stopped serving |
//! | `zk isolate-member C` | fault: the member C is connected to (leader or follower) is cut off from the other two; C must move to the majority |
//! | `zk heal-members` | every cut between members ends; returns once every running member serves |
//!
//! Expectations: `granted`, `blocked` (no reply yet; the acquire stays
//! pending), `timeout`, `denied` (not granted: an error, a timeout or still
//! blocked), `error KIND` (`not-held`, `upgrade`, ...), `ok`.
//!
//! # Faults
//!
//! `C expire` ends C's session from outside (a second connection takes the
//! session over with its id and password and closes it, as Curator's
//! `KillSession` does): the server deletes C's nodes at once and C learns of
//! the expiry when it reconnects. A holder's hold ends there (waiters behind it
//! proceed); a waiter's acquire ends with an error, except Curator's, which
//! queues again with a new node (Curator retries an acquire whose node
//! vanished). After it only `C expect-lost` may name C. Every runtime can be
//! expired: zkurator and zk-client through their own client, kazurator and
//! Curator with the credentials their adapters report.
//!
//! `C kill` is a process death: the connection drops without a close, so the
//! server keeps C's session and nodes until the session timeout; waiters behind
//! C proceed after it. It needs a contender in a process of its own:
//! `rust-process`, `curator` (the adapter drops the connection the same way)
//! or `kazurator`. `C crash`, by contrast, ends the session at once (except for
//! kazurator, whose crash has always been a SIGKILL).
//!
//! `zk restart` and the ensemble ops need servers the harness started. A
//! scenario using the ensemble ops declares `zk = "ensemble"` at the top and
//! runs on a 3-server ensemble on 127.0.0.1. Server faults change nothing in
//! the lock model: sessions survive an outage shorter than their timeout, so
//! such scenarios set a generous `session_timeout_ms`. Scenarios with server
//! faults are slow ([`Scenario::is_slow`]).
//!
//! Ensemble splits (`zk isolate-leader`, `zk isolate-follower`,
//! `zk isolate-member C`, `zk heal-members`) cut members apart: the
//! ensemble's members reach each other only through a proxy per ordered pair
//! of members and peer port, which the split drops both ways. The member cut
//! off loses its quorum and stops serving, so its clients lose their
//! connection and move to the majority within their session timeout; the lock
//! model is unchanged, as for the other server faults (its writes cannot
//! commit, so no grant can come from the minority side). See
//! [`Scenario::has_split_steps`].
//!
//! Network steps (`C partition`, `C heal`, `C delay`) put a proxy of its own
//! between every contender of the scenario and every server. The model
//! counts the `sleep`s a partition lasts: at most half the session timeout
//! keeps the session; at least the timeout plus
//! [`crate::network::EXPIRY_MARGIN`] expires it at the server (holds end,
//! waiters proceed, C may only `expect-lost`, heal or write late); in
//! between is refused.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::protocol::LockKind;
use crate::runtimes::{Runtime, RuntimeTable};
use crate::steps::side_fits;
pub use crate::steps::{parse_step, Action, Expect, Step};

/// A scenario file problem, located in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ScenarioError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

/// One runnable scenario: a file with its placeholders bound to runtimes.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The file's stem, e.g. `reader-blocks-writer`.
    pub name: String,
    /// The file.
    pub file: PathBuf,
    /// What it shows.
    pub description: String,
    /// The lock kind every contender uses.
    pub kind: LockKind,
    /// Bytes for lock nodes, where runtimes support it.
    pub lock_data: Option<String>,
    /// Session timeout of every contender.
    pub session_timeout: Duration,
    /// Contender ids and runtimes, in file order of ids.
    pub contenders: Vec<(String, Runtime)>,
    /// The placeholder binding, e.g. `curator+kazurator`; empty when none.
    pub pairing: String,
    /// Contenders pinned to a Curator release (`curator@5.4.0`): each runs in
    /// a worker process of its own with that release's jars.
    pub pins: Vec<(String, crate::versions::Version)>,
    /// The steps.
    pub steps: Vec<Step>,
}

impl Scenario {
    /// The runtime of contender `id`.
    pub fn runtime_of(&self, id: &str) -> Option<Runtime> {
        self.contenders.iter().find(|(c, _)| c == id).map(|(_, r)| r.clone())
    }

    /// Whether the scenario needs a ZooKeeper ensemble (it uses `zk kill-leader`,
    /// `zk kill-follower`, `zk start-all` or a split; such files declare
    /// `zk = "ensemble"`).
    pub fn needs_ensemble(&self) -> bool {
        self.steps.iter().any(|s| s.action.needs_ensemble())
    }

    /// Whether a step splits the ensemble (`zk isolate-...`,
    /// `zk heal-members`): then, as with network steps, every contender talks
    /// to the servers through proxies of its own (`zk isolate-member C` finds
    /// C's member by them) and every hold is checked against the server.
    pub fn has_split_steps(&self) -> bool {
        self.steps.iter().any(|s| s.action.is_split())
    }

    /// Whether a step is a network fault (`C partition`, `C heal`,
    /// `C delay`): then every contender talks to the servers through a
    /// proxy of its own.
    pub fn has_network_steps(&self) -> bool {
        self.steps.iter().any(|s| matches!(s.action, Action::Network { .. }))
    }

    /// Whether the scenario injects server faults (restarts, ensemble member
    /// kills): these take tens of seconds per run and are left out of the
    /// default test run unless `ZKURATOR_SLOW_FAULTS=1`.
    pub fn is_slow(&self) -> bool {
        self.steps.iter().any(|s| matches!(s.action, Action::Server(_) | Action::IsolateMemberOf { .. }))
    }

    /// Whether a contender of `runtime` takes part.
    pub fn runtime_used(&self, runtime: &Runtime) -> bool {
        self.contenders.iter().any(|(_, r)| r == runtime)
    }

    /// Steps the lock model through the scenario ([`crate::model::dry_run`]):
    /// every step possible, every written expectation agreeing; errors carry
    /// the step's line.
    pub fn dry_run(&self) -> Result<(), (usize, String)> {
        let model = crate::model::Model::new(self.kind, &self.contenders).with_session_timeout(self.session_timeout);
        crate::model::dry_run_timed(model, &self.steps)
    }

    /// `name[pairing]`, the row label in reports.
    pub fn label(&self) -> String {
        if self.pairing.is_empty() {
            self.name.clone()
        } else {
            format!("{}[{}]", self.name, self.pairing)
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    description: String,
    lock: Spanned<String>,
    max_leases: Option<Spanned<u32>>,
    zk: Option<Spanned<String>>,
    runtimes: Option<Vec<Spanned<String>>>,
    lock_data: Option<String>,
    session_timeout_ms: Option<u64>,
    contenders: BTreeMap<String, Spanned<String>>,
    steps: Vec<Spanned<String>>,
}

/// Reads and expands one scenario file that names built-in runtimes only
/// ([`load_in`] with the default table).
pub fn load(path: &Path) -> Result<Vec<Scenario>, ScenarioError> {
    load_in(&RuntimeTable::default(), path)
}

/// Reads and expands one scenario file, resolving runtime names in `table`.
pub fn load_in(table: &RuntimeTable, path: &Path) -> Result<Vec<Scenario>, ScenarioError> {
    let text = crate::bounded::read_text(path).map_err(|error| ScenarioError {
        file: path.to_owned(),
        line: 0,
        column: 0,
        message: format!("cannot read: {error}"),
    })?;
    parse_in(table, path, &text)
}

/// The expectations file's name; it lives beside the scenarios and is not one.
pub const EXPECTATIONS_FILE: &str = "expectations.toml";

/// The subdirectory of the corpus holding the fault scenarios, which
/// [`crate::corpus::load_dir`] leaves out: they run through `zkurator-harness faults` and the
/// fault gate (`harness/tests/faults.rs`), not with the compatibility corpus.
pub const FAULT_SUBDIR: &str = "faults";

/// Parses scenario text that names built-in runtimes only ([`parse_in`]
/// with the default table).
pub fn parse(path: &Path, text: &str) -> Result<Vec<Scenario>, ScenarioError> {
    parse_in(&RuntimeTable::default(), path, text)
}

/// Parses scenario text, resolving runtime names (and what `$A`, `$B`...
/// range over) in `table`; `path` names the file in errors and gives the name.
pub fn parse_in(table: &RuntimeTable, path: &Path, text: &str) -> Result<Vec<Scenario>, ScenarioError> {
    let lines = crate::lines::LineIndex::new(text);
    let at = |offset: usize, message: String| {
        let (line, column) = lines.line_column(offset);
        ScenarioError { file: path.to_owned(), line, column, message }
    };
    let raw: RawScenario = toml::from_str(text).map_err(|error| {
        let offset = error.span().map_or(0, |span| span.start);
        let mut message = error.message().trim().to_owned();
        // Quote the line, so that the key in question is named too.
        let (line, _) = lines.line_column(offset);
        if let Some(source) = text.lines().nth(line - 1).map(str::trim).filter(|l| !l.is_empty()) {
            let source: String = source.chars().take(80).collect();
            message = format!("{message} (in `{source}`)");
        }
        at(offset, message)
    })?;

    let kind = match (raw.lock.get_ref().as_str(), &raw.max_leases) {
        ("mutex", None) => LockKind::Mutex { max_leases: 1 },
        ("mutex", Some(n)) if *n.get_ref() >= 1 => LockKind::Mutex { max_leases: *n.get_ref() },
        ("mutex", Some(n)) => return Err(at(n.span().start, "max_leases must be at least 1".into())),
        ("read-write", None) => LockKind::ReadWrite,
        ("semaphore", None) => LockKind::Semaphore { max_leases: 1 },
        ("semaphore", Some(n)) if *n.get_ref() >= 1 => LockKind::Semaphore { max_leases: *n.get_ref() },
        ("semaphore", Some(n)) => return Err(at(n.span().start, "max_leases must be at least 1".into())),
        ("semaphore-mutex", None) => LockKind::Semaphore { max_leases: 1 },
        ("multi-lock", None) => LockKind::Multi { members: 2 },
        ("read-write", Some(n)) => {
            return Err(at(n.span().start, "max_leases applies to lock = \"mutex\" or \"semaphore\" only".into()))
        }
        (other, _) => {
            return Err(at(
                raw.lock.span().start,
                format!(
                    "unknown lock {other:?}: expected \"mutex\", \"read-write\", \"semaphore\", \"semaphore-mutex\" or \"multi-lock\""
                ),
            ))
        }
    };
    let runtimes = match &raw.runtimes {
        None => table.placeholders().to_vec(),
        Some(names) => names
            .iter()
            .map(|name| {
                table.named(name.get_ref()).ok_or_else(|| at(name.span().start, unknown_runtime(table, name.get_ref())))
            })
            .collect::<Result<_, _>>()?,
    };
    if raw.runtimes.as_ref().is_some_and(Vec::is_empty) {
        return Err(at(0, "runtimes = [] gives placeholders nothing to range over: name at least one runtime".into()));
    }
    if raw.contenders.is_empty() {
        return Err(at(0, "no contenders: add e.g. contenders = { a = \"rust\" }".into()));
    }
    crate::limits::contenders(raw.contenders.len()).map_err(|e| at(contenders_at(text), e.to_string()))?;
    let mut placeholders: Vec<String> = Vec::new();
    let mut pins: Vec<(String, crate::versions::Version)> = Vec::new();
    for (id, runtime) in &raw.contenders {
        if id == "zk" || id == "sleep" {
            return Err(at(runtime.span().start, format!("contender id {id:?} is reserved")));
        }
        crate::limits::contender_id(id).map_err(|e| at(runtime.span().start, e.to_string()))?;
        let value = runtime.get_ref();
        if let Some(placeholder) = value.strip_prefix('$') {
            if placeholder.is_empty() || !placeholder.chars().all(|c| c.is_ascii_uppercase()) {
                return Err(at(runtime.span().start, format!("bad placeholder {value:?}: expected $A, $B...")));
            }
            if !placeholders.contains(&value.to_string()) {
                placeholders.push(value.clone());
            }
        } else if let Some((name, release)) = value.split_once('@') {
            if name != "curator" {
                return Err(at(runtime.span().start, format!("{value:?}: only curator contenders can name a release")));
            }
            let pin = crate::versions::selection::parse_curator(release)
                .map_err(|e| at(runtime.span().start, e.to_string()))?;
            match pin.as_slice() {
                [one] => pins.push((id.clone(), one.version)),
                _ => return Err(at(runtime.span().start, format!("{value:?}: name one release, e.g. curator@5.4.0"))),
            }
        } else if table.named(value).is_none() {
            return Err(at(runtime.span().start, unknown_runtime(table, value)));
        }
    }
    placeholders.sort();
    crate::limits::pairings(placeholders.len(), runtimes.len()).map_err(|e| at(0, e.to_string()))?;

    let ids: Vec<&str> = raw.contenders.keys().map(String::as_str).collect();
    let mut steps = Vec::new();
    for step in &raw.steps {
        // The string's content starts after its opening quote.
        let base = step.span().start + 1;
        let parsed = parse_step(step.get_ref(), &ids).map_err(|(offset, message)| at(base + offset, message))?;
        side_fits(&parsed.0, kind).map_err(|message| at(base, message))?;
        crate::step_checks::expect_fits(&parsed.0, parsed.1).map_err(|message| at(base, message))?;
        let (line, _) = lines.line_column(base);
        steps.push(Step { text: step.get_ref().clone(), line, action: parsed.0, expect: parsed.1 });
    }
    if steps.is_empty() {
        return Err(at(0, "no steps".into()));
    }
    crate::step_checks::reads_before_writes(&steps).map_err(|(line, message)| ScenarioError {
        file: path.to_owned(),
        line,
        column: 1,
        message,
    })?;
    if let Some(data) = &raw.lock_data {
        crate::limits::lock_data(data.len()).map_err(|e| at(lock_data_at(text), e.to_string()))?;
    }
    let ensemble_step = steps.iter().find(|s| s.action.needs_ensemble());
    match (raw.zk.as_ref().map(|z| (z.get_ref().as_str(), z.span().start)), ensemble_step) {
        (None | Some(("standalone", _)), None) | (Some(("ensemble", _)), Some(_)) => {}
        (None | Some(("standalone", _)), Some(step)) => {
            return Err(ScenarioError {
                file: path.to_owned(),
                line: step.line,
                column: 1,
                message: format!("`{}` needs an ensemble: add zk = \"ensemble\" at the top of the file", step.text),
            })
        }
        (Some(("ensemble", at_offset)), None) => return Err(at(
            at_offset,
            "zk = \"ensemble\" but no step uses the ensemble (zk kill-leader, kill-follower, start-all, isolate-leader, isolate-follower, isolate-member, heal-members): drop the key"
                .into(),
        )),
        (Some((other, at_offset)), _) => {
            return Err(at(at_offset, format!("unknown zk {other:?}: expected \"standalone\" or \"ensemble\"")))
        }
    }

    let session_timeout = match raw.session_timeout_ms {
        None => Duration::from_millis(4_000),
        Some(ms) => crate::limits::session_timeout_ms(ms).map_err(|e| at(session_timeout_at(text), e.to_string()))?,
    };
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    // The name is a component of the run's lock path.
    crate::limits::node_name(&name)
        .map_err(|e| at(0, format!("the file's name makes the lock path: {e}; rename the file")))?;
    let base = Scenario {
        name,
        file: path.to_owned(),
        description: raw.description.clone(),
        kind,
        lock_data: raw.lock_data.clone(),
        session_timeout,
        contenders: Vec::new(),
        pairing: String::new(),
        pins,
        steps,
    };
    let mut expanded = Vec::new();
    for binding in bindings(placeholders.len(), &runtimes) {
        let bound = |value: &str| match placeholders.iter().position(|p| p == value) {
            Some(i) => binding[i].clone(),
            None => table.named(value.split('@').next().unwrap_or(value)).expect("validated above"),
        };
        let contenders = raw.contenders.iter().map(|(id, r)| (id.clone(), bound(r.get_ref()))).collect();
        let pairing = binding.iter().map(|r| r.name()).collect::<Vec<_>>().join("+");
        let scenario = Scenario { contenders, pairing, ..base.clone() };
        scenario.dry_run().map_err(|(line, message)| {
            let pairing =
                if scenario.pairing.is_empty() { String::new() } else { format!(" (pairing {})", scenario.pairing) };
            ScenarioError { file: path.to_owned(), line, column: 1, message: format!("{message}{pairing}") }
        })?;
        expanded.push(scenario);
    }
    Ok(expanded)
}

/// Every assignment of `n` placeholders to runtimes (ordered, repeats allowed).
fn bindings(n: usize, runtimes: &[Runtime]) -> Vec<Vec<Runtime>> {
    let mut all = vec![Vec::new()];
    for _ in 0..n {
        all = all
            .into_iter()
            .flat_map(|prefix| runtimes.iter().map(move |r| [prefix.clone(), vec![r.clone()]].concat()))
            .collect();
    }
    all
}

fn unknown_runtime(table: &RuntimeTable, name: &str) -> String {
    let all = table.all();
    let known: Vec<&str> = all.iter().map(|r| r.name()).collect();
    format!("unknown runtime {name:?}: expected one of {} or a placeholder like \"$A\"", known.join(", "))
}

/// Where `session_timeout_ms` is set (for the error's line), or the start.
fn contenders_at(text: &str) -> usize {
    text.find("contenders").unwrap_or(0)
}

fn lock_data_at(text: &str) -> usize {
    text.find("lock_data").unwrap_or(0)
}

fn session_timeout_at(text: &str) -> usize {
    text.find("session_timeout_ms").unwrap_or(0)
}

/// A scenario file for a schedule, parseable by [`parse`] (steps printed by
/// [`crate::steps::step_text`], so a parsed file prints back to itself).
pub fn scenario_file(scenario: &Scenario, note: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}", note.replace('\n', " "));
    let _ = writeln!(out, "description = {:?}", scenario.description);
    if let Some(data) = &scenario.lock_data {
        let _ = writeln!(out, "lock_data = {data:?}");
    }
    if scenario.needs_ensemble() {
        out.push_str("zk = \"ensemble\"\n");
    }
    match scenario.kind {
        LockKind::Mutex { max_leases: 1 } => out.push_str("lock = \"mutex\"\n"),
        LockKind::Mutex { max_leases } => {
            let _ = writeln!(out, "lock = \"mutex\"\nmax_leases = {max_leases}");
        }
        LockKind::ReadWrite => out.push_str("lock = \"read-write\"\n"),
        LockKind::Semaphore { max_leases } => {
            let _ = writeln!(out, "lock = \"semaphore\"\nmax_leases = {max_leases}");
        }
        LockKind::Multi { .. } => out.push_str("lock = \"multi-lock\"\n"),
    }
    let _ = writeln!(out, "session_timeout_ms = {}", scenario.session_timeout.as_millis());
    let runtime = |id: &str, r: &Runtime| match scenario.pins.iter().find(|(p, _)| p == id) {
        Some((_, version)) => format!("{r}@{version}"),
        None => r.name().to_owned(),
    };
    let contenders: Vec<String> =
        scenario.contenders.iter().map(|(id, r)| format!("{id} = \"{}\"", runtime(id, r))).collect();
    let _ = writeln!(out, "contenders = {{ {} }}", contenders.join(", "));
    out.push_str("steps = [\n");
    for step in &scenario.steps {
        let _ = writeln!(out, "  {:?},", crate::steps::step_text(&step.action, step.expect));
    }
    out.push_str("]\n");
    out
}

#[cfg(test)]
/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    crate::lines::LineIndex::new(text).line_column(offset)
}

#[cfg(test)]
mod tests;
