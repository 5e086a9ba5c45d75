//! Differential tests of the lock predicates: zkurator's pure driver
//! ([`zkurator::driver`]) against Apache Curator's real drivers (in the embedded
//! JVM) and kazurator's (in a Python process), on generated child lists.
//!
//! For each [`Case`] (the children as ZooKeeper lists them, our node's name, and
//! the question: mutex/lease lock, write side or read side) every [`Oracle`]
//! answers with the sorted children and a [`Verdict`]: holds, watch a node, or
//! our node is missing. zkurator's driver is the reference; every difference
//! of a peer is a [`Disagreement`], grouped by kind in a [`Report`] with one
//! minimal example per kind (shrunk by asking the oracles again).
//!
//! The oracles:
//! - [`RustOracle`]: `zkurator::driver::{sort_children, decide_exclusive,
//!   decide_read}` in process, or any replacement functions ([`PredicateFns`])
//!   for negative controls;
//! - [`CuratorOracle`]: `zkurator.interop.DriverProbe` (`java/src/…`) in the JVM
//!   of [`CuratorRuntime::start`]; one JNI call per batch; it calls Curator's
//!   `LockInternals.getSortedChildren` and the `getsTheLock` of
//!   `StandardLockInternalsDriver` and of a real `InterProcessReadWriteLock`'s
//!   drivers (see that class for the exact call paths and the reflection used);
//! - [`KazuratorOracle`]: `harness/python/driver_probe.py` in the kazurator venv
//!   of [`KazuratorRuntime::new`]; one JSON line per batch.
//!
//! Kinds: `sort-order` when the sorted lists differ; otherwise a [`Deviation`]'s
//! kind when switching on exactly that deviation in [`model_verdict`] (an
//! independent transcription of the predicates) turns zkurator's answer into the
//! peer's; otherwise `unexplained-<question>-<ours>-vs-<theirs>`. Known kinds
//! and their reasons live in `harness/predicate-expectations.toml`
//! ([`PredicateExpectations`]; not under `scenarios/`, where every `*.toml` but
//! `expectations.toml` is loaded as a scenario); an unknown kind, or a known one that no longer
//! occurs, is a [`Problem`].
//!
//! Cases come from one builder driven by a [`Choices`] source: [`SplitMix64`]
//! for the fixed-seed, reproducible runs of [`generate_cases`], or a proptest
//! "choice tape" in the unit tests (choice 0 is always the simplest option, so
//! proptest's shrinking of the tape shrinks the case).

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command as Process, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use zkurator::driver::{self, Decision, SortNames};
use zkurator::names::{MUTEX_LOCK_NAME, READ_LOCK_NAME, WRITE_LOCK_NAME};

use crate::contender::StartError;
use crate::runtime::curator::{self, CuratorRuntime};
use crate::runtime::kazurator::KazuratorRuntime;

/// The Java probe class (`java/src/zkurator/interop/DriverProbe.java`).
pub const CURATOR_PROBE_CLASS: &str = "zkurator.interop.DriverProbe";
/// The kind of a disagreement on the sorted order.
pub const SORT_ORDER: &str = "sort-order";
/// Where the known disagreements are recorded.
const EXPECTATIONS_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/predicate-expectations.toml");
/// Rounds of shrinking for one example, at most.
const SHRINK_ROUNDS: usize = 64;

// ------------------------------------------------------------------ cases

/// The predicate a case asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Question {
    /// A mutex or lease lock (`lock-` nodes) admitting `max_leases` holders
    /// (Curator `InterProcessMutex`/`InterProcessSemaphore`, kazurator `Mutex`).
    Mutex {
        /// Holders admitted at once.
        max_leases: u32,
    },
    /// The write side of a read/write lock.
    Write,
    /// The read side of a read/write lock.
    Read {
        /// The asking owner holds the write side (a downgrade).
        owns_write: bool,
    },
}

impl Question {
    /// How the children of this lock sort.
    pub fn sort_names(self) -> SortNames {
        match self {
            Question::Mutex { .. } => SortNames::Mutex,
            Question::Write | Question::Read { .. } => SortNames::ReadWrite,
        }
    }

    /// `mutex`, `write` or `read`: the question's name on the wire and in kinds.
    pub fn label(self) -> &'static str {
        match self {
            Question::Mutex { .. } => "mutex",
            Question::Write => "write",
            Question::Read { .. } => "read",
        }
    }

    /// The lock name of the asking side's nodes.
    pub fn lock_name(self) -> &'static str {
        match self {
            Question::Mutex { .. } => MUTEX_LOCK_NAME,
            Question::Write => WRITE_LOCK_NAME,
            Question::Read { .. } => READ_LOCK_NAME,
        }
    }
}

impl fmt::Display for Question {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Question::Mutex { max_leases } => write!(f, "mutex (max_leases {max_leases})"),
            Question::Write => f.write_str("write"),
            Question::Read { owns_write: false } => f.write_str("read"),
            Question::Read { owns_write: true } => f.write_str("read (owns the write side)"),
        }
    }
}

/// One question to every oracle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// What is asked.
    pub question: Question,
    /// The lock path's children in the order ZooKeeper lists them (unsorted).
    pub children: Vec<String>,
    /// The asking contender's node; may be absent from `children`.
    pub ours: String,
}

impl Case {
    /// Size for picking a minimal example: number of children, then total length.
    fn size(&self) -> (usize, usize) {
        (self.children.len(), self.children.iter().map(String::len).sum::<usize>() + self.ours.len())
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "question: {}", self.question)?;
        writeln!(f, "ours:     {:?}{}", self.ours, if self.children.contains(&self.ours) { "" } else { " (absent)" })?;
        write!(f, "children (server order): {:?}", self.children)
    }
}

/// A source of choices for [`build_case`]: `below(n)` is a number in `0..n`
/// (`n >= 1`). Choice 0 is always the simplest option.
pub trait Choices {
    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64;
}

/// SplitMix64: a small deterministic generator, so a seed gives the same cases
/// on every platform and with every dependency version.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl Choices for SplitMix64 {
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// `count` cases from `seed`; the same arguments always give the same cases.
pub fn generate_cases(seed: u64, count: usize) -> Vec<Case> {
    let mut rng = SplitMix64::new(seed);
    (0..count).map(|_| build_case(&mut rng)).collect()
}

/// True with about `percent` % probability; false for choice 0.
fn chance(c: &mut impl Choices, percent: u64) -> bool {
    c.below(100) >= 100 - percent.min(100)
}

fn pick<'a, T>(c: &mut impl Choices, items: &'a [T]) -> &'a T {
    &items[c.below(items.len() as u64) as usize]
}

/// How sequence suffixes look in one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SequenceStyle {
    /// ZooKeeper's `%010d` of a non-negative counter.
    Normal,
    /// The counter passes `i32::MAX` and wraps to `-2147483648` (ZooKeeper's
    /// parent cversion is a signed 32-bit int), still formatted `%010d`.
    Wrapping,
    /// 19-digit suffixes (what zkurator's name grammar also accepts).
    Long,
}

/// A sequence suffix as ZooKeeper formats the counter (`%010d` of an `int`), or
/// 19 digits for [`SequenceStyle::Long`].
fn format_sequence(style: SequenceStyle, counter: i64) -> String {
    match style {
        SequenceStyle::Long => format!("{:019}", counter.unsigned_abs()),
        // `as i32` wraps exactly like ZooKeeper's int counter.
        SequenceStyle::Normal | SequenceStyle::Wrapping => format!("{:010}", counter as i32),
    }
}

/// Characters for foreign names: all accepted by ZooKeeper, sorting before,
/// among and after the digits, and beyond ASCII.
const NAME_CHARS: &[char] = &[
    ' ', '!', '#', '+', ',', '-', '.', '0', '1', '5', '9', ':', '@', 'A', 'W', 'Z', '_', 'a', 'c', 'k', 'l', 'o', 'z',
    '{', '|', '~', '\u{a0}', 'é', 'ж', '中', '\u{f900}', '\u{ff66}', '\u{ffef}',
];
/// Foreign names that look like sequences (or nearly).
const DIGITISH: &[&str] = &[
    "0000000000",
    "0000000001",
    "9999999999",
    "0",
    "00000000000",
    "-1",
    "-2147483648",
    "-000000001",
    " 0000000001",
    "+0000000001",
    "2147483647",
    "9223372036854775807",
];
/// Lock names and near misses, for foreign names that contain them.
const NAME_PARTS: &[&str] =
    &["lock-", "__READ__", "__WRIT__", "lock", "__READ_", "_WRIT__", "__REVOKE__", "__lock__", "__rlock__"];
/// Suffixes appended to our own name to make a foreign child that starts with it.
const OUR_NAME_SUFFIXES: &[&str] = &[
    "0",
    "1",
    "x",
    "-",
    " ",
    "é",
    "__READ__0000000000",
    "__READ__-2147483648",
    "__WRIT__0000000000",
    "lock-0000000000",
];

/// Whether ZooKeeper accepts `name` as a child name (its `PathUtils.validatePath`
/// on `<parent>/<name>`): not empty, not `.` or `..`, no `/`, no NUL or control
/// characters (U+0001–U+001F, U+007F–U+009F), nothing in U+D800–U+F8FF or
/// U+FFF0–U+FFFF, and, since Java sees them as surrogate pairs, nothing beyond
/// U+FFFF.
pub fn is_valid_child_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.chars().all(|ch| {
            let c = ch as u32;
            ch != '/'
                && c != 0
                && !(0x01..=0x1f).contains(&c)
                && !(0x7f..=0x9f).contains(&c)
                && !(0xd800..=0xf8ff).contains(&c)
                && !(0xfff0..=0xffff).contains(&c)
                && c <= 0xffff
        })
}

fn random_text(c: &mut impl Choices, len: u64) -> String {
    (0..len).map(|_| *pick(c, NAME_CHARS)).collect()
}

fn random_digits(c: &mut impl Choices, len: u64) -> String {
    (0..len).map(|_| char::from(b'0' + c.below(10) as u8)).collect()
}

/// A protected prefix `_c_<uuid v4>-`; all choices 0 give the nil-like UUID.
fn protected_prefix(c: &mut impl Choices) -> String {
    let hi = c.below(u64::MAX);
    let lo = c.below(u64::MAX);
    let hex = format!("{hi:016x}{lo:016x}");
    format!("_c_{}-{}-4{}-8{}-{}-", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

/// A foreign child: a name no conforming contender of this lock would create.
fn foreign_name(c: &mut impl Choices, existing: &[String]) -> String {
    match c.below(10) {
        0..=2 => {
            let len = 1 + c.below(12);
            random_text(c, len)
        }
        3 => {
            if chance(c, 50) {
                let len = 1 + c.below(12);
                random_digits(c, len)
            } else {
                pick(c, DIGITISH).to_string()
            }
        }
        4 | 5 => {
            let head_len = c.below(4);
            let head = random_text(c, head_len);
            let part = pick(c, NAME_PARTS);
            let tail = match c.below(3) {
                0 => String::new(),
                1 => {
                    let len = 1 + c.below(11);
                    random_digits(c, len)
                }
                _ => {
                    let len = 1 + c.below(4);
                    random_text(c, len)
                }
            };
            format!("{head}{part}{tail}")
        }
        6 => {
            // kazoo's own lock nodes (not this protocol).
            let id = format!("{:016x}{:016x}", c.below(u64::MAX), c.below(u64::MAX));
            let kind = if chance(c, 50) { "__rlock__" } else { "__lock__" };
            format!("{id}{kind}{:010}", c.below(100_000))
        }
        7 | 8 if !existing.is_empty() => {
            let base = pick(c, existing).clone();
            if chance(c, 50) {
                format!("{base}{}", pick(c, OUR_NAME_SUFFIXES))
            } else {
                // A proper prefix of an existing child.
                let chars: Vec<char> = base.chars().collect();
                let keep = 1 + c.below(chars.len().saturating_sub(1).max(1) as u64) as usize;
                chars[..keep.min(chars.len())].iter().collect()
            }
        }
        _ => {
            // A protected name with a near-miss lock name.
            let prefix = protected_prefix(c);
            let name = pick(c, &["lock", "__read__", "__WRITE__", "_READ__", "lock_", "__WRIT_"]);
            format!("{prefix}{name}{:010}", c.below(100_000))
        }
    }
}

/// A node this case's contenders created.
struct Node {
    owner: usize,
    lock_name: &'static str,
    name: String,
}

/// Builds one case from `c`. Features, each with a small probability: several
/// owners, reentrant nodes (one owner, several nodes), mixed `lock-`, `__READ__`
/// and `__WRIT__` nodes, downgrade nodes (a `__READ__` node with the owner's
/// `__WRIT__` suffix, as Curator 5.5+ and zkurator create them), foreign children
/// of many shapes (sorting before and after digits, containing lock names,
/// prefixes and extensions of other children, kazoo's names, non-ASCII), wrapped
/// negative and 19-digit sequences, our node missing, `max_leases` 0 to 4.
pub fn build_case(c: &mut impl Choices) -> Case {
    let question = match c.below(100) {
        0..=29 => {
            let roll = c.below(40);
            let max_leases = match roll {
                0..=19 => 1,
                20..=37 => 2 + (roll % 3) as u32,
                _ => 0,
            };
            Question::Mutex { max_leases }
        }
        30..=54 => Question::Write,
        _ => Question::Read { owns_write: false },
    };
    let read_write = !matches!(question, Question::Mutex { .. });
    let owner_count = 1 + c.below(5) as usize;
    let owners: Vec<String> = (0..owner_count).map(|_| protected_prefix(c)).collect();
    let style = match c.below(10) {
        0..=6 => SequenceStyle::Normal,
        7 | 8 => SequenceStyle::Wrapping,
        _ => SequenceStyle::Long,
    };
    let mut counter: i64 = match style {
        SequenceStyle::Normal if chance(c, 20) => 2_000_000_000 + c.below(100_000_000) as i64,
        SequenceStyle::Normal => c.below(100_000) as i64,
        SequenceStyle::Wrapping => i64::from(i32::MAX) - c.below(8) as i64,
        SequenceStyle::Long => 1_000_000_000_000_000_000 + c.below(8_000_000_000_000_000_000) as i64,
    };
    let mut seen = HashSet::new();
    let mut children = Vec::new();
    let mut push = |children: &mut Vec<String>, name: String| -> bool {
        if is_valid_child_name(&name) && seen.insert(name.clone()) {
            children.push(name);
            true
        } else {
            false
        }
    };

    let mut nodes: Vec<Node> = Vec::new();
    for _ in 0..c.below(9) {
        let owner = c.below(owner_count as u64) as usize;
        let roll = c.below(100);
        let lock_name = if read_write {
            match roll {
                0..=45 => READ_LOCK_NAME,
                46..=91 => WRITE_LOCK_NAME,
                _ => MUTEX_LOCK_NAME,
            }
        } else {
            match roll {
                0..=87 => MUTEX_LOCK_NAME,
                88..=93 => READ_LOCK_NAME,
                _ => WRITE_LOCK_NAME,
            }
        };
        let name = format!("{}{lock_name}{}", owners[owner], format_sequence(style, counter));
        counter += 1 + c.below(3) as i64;
        if push(&mut children, name.clone()) {
            nodes.push(Node { owner, lock_name, name });
        }
    }
    if read_write {
        let writers: Vec<(usize, String)> = nodes
            .iter()
            .filter(|n| n.lock_name == WRITE_LOCK_NAME)
            .map(|n| (n.owner, n.name[owners[n.owner].len() + WRITE_LOCK_NAME.len()..].to_string()))
            .collect();
        for (owner, sequence) in writers {
            if chance(c, 35) {
                let name = format!("{}{READ_LOCK_NAME}{sequence}", owners[owner]);
                if push(&mut children, name.clone()) {
                    nodes.push(Node { owner, lock_name: READ_LOCK_NAME, name });
                }
            }
        }
    }
    let foreign = match c.below(20) {
        0..=8 => 0,
        9..=14 => 1,
        15..=17 => 2,
        _ => 3 + c.below(2),
    };
    for _ in 0..foreign {
        let name = foreign_name(c, &children);
        push(&mut children, name);
    }

    let lock_name = question.lock_name();
    let candidates: Vec<&Node> = nodes.iter().filter(|n| n.lock_name == lock_name).collect();
    let (ours, our_owner) = if candidates.is_empty() || chance(c, 8) {
        let owner = c.below(owner_count as u64 + 1) as usize;
        let prefix = match owners.get(owner) {
            Some(prefix) => prefix.clone(),
            None => protected_prefix(c),
        };
        (format!("{prefix}{lock_name}{}", format_sequence(style, counter)), Some(owner).filter(|o| *o < owner_count))
    } else {
        let node = *pick(c, &candidates);
        (node.name.clone(), Some(node.owner))
    };
    let question = match question {
        Question::Read { .. } => {
            let owner_writes =
                our_owner.is_some_and(|o| nodes.iter().any(|n| n.owner == o && n.lock_name == WRITE_LOCK_NAME));
            Question::Read { owns_write: if owner_writes { chance(c, 70) } else { chance(c, 8) } }
        }
        other => other,
    };
    if chance(c, 12) {
        let name = format!("{ours}{}", pick(c, OUR_NAME_SUFFIXES));
        push(&mut children, name);
    }
    // Server order: a shuffle (Fisher-Yates).
    for i in (1..children.len()).rev() {
        let j = c.below(i as u64 + 1) as usize;
        children.swap(i, j);
    }
    Case { question, children, ours }
}

// ------------------------------------------------------------------ answers

/// An oracle's decision on one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Our node holds the lock.
    Holds,
    /// Our node waits for this child.
    Watch(String),
    /// Our node is not in the list.
    Missing,
    /// The oracle failed on this case (an exception, say).
    Error(String),
}

impl Verdict {
    /// `holds`, `watch`, `missing` or `error`.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Watch(_) => "watch",
            Verdict::Missing => "missing",
            Verdict::Error(_) => "error",
        }
    }
}

impl From<Decision> for Verdict {
    fn from(decision: Decision) -> Self {
        match decision {
            Decision::Holds => Verdict::Holds,
            Decision::Watch(node) => Verdict::Watch(node),
            Decision::Missing => Verdict::Missing,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Watch(node) => write!(f, "watch {node:?}"),
            Verdict::Error(message) => write!(f, "error: {message}"),
            other => f.write_str(other.label()),
        }
    }
}

/// An oracle's whole answer to one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The children in lock order.
    pub sorted: Vec<String>,
    /// The decision.
    pub verdict: Verdict,
}

/// An oracle could not answer a batch at all.
#[derive(Debug, thiserror::Error)]
#[error("{oracle} oracle: {message}")]
pub struct OracleError {
    /// The oracle's name.
    pub oracle: String,
    /// What went wrong.
    pub message: String,
}

/// Something that answers cases: a driver implementation.
pub trait Oracle {
    /// Short name, as used in the expectations file: `rust`, `curator`, `kazurator`.
    fn name(&self) -> &str;

    /// A longer description for reports (version, where it was loaded from).
    fn describe(&self) -> String {
        self.name().to_string()
    }

    /// Answers every case, in order.
    fn answer(&mut self, cases: &[Case]) -> Result<Vec<Answer>, OracleError>;
}

/// The three pure functions of a driver, replaceable to build negative controls.
#[derive(Clone, Copy)]
pub struct PredicateFns {
    /// Sorts children into lock order.
    pub sort: fn(&mut [String], SortNames),
    /// Mutex, lease lock and write side: `(sorted, ours, max_leases)`.
    pub exclusive: fn(&[String], &str, u32) -> Decision,
    /// Read side: `(sorted, ours, owns_write)`.
    pub read: fn(&[String], &str, bool) -> Decision,
}

impl PredicateFns {
    /// zkurator's own driver.
    pub fn zkurator() -> Self {
        PredicateFns {
            sort: driver::sort_children::<String>,
            exclusive: driver::decide_exclusive::<String>,
            read: driver::decide_read::<String>,
        }
    }
}

impl fmt::Debug for PredicateFns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PredicateFns")
    }
}

/// The Rust oracle: zkurator's driver in process (or replacement functions).
#[derive(Clone, Debug)]
pub struct RustOracle {
    name: String,
    fns: PredicateFns,
}

impl RustOracle {
    /// `zkurator::driver`, named `rust`.
    pub fn zkurator() -> Self {
        RustOracle { name: "rust".to_string(), fns: PredicateFns::zkurator() }
    }

    /// Other predicate functions under another name (negative controls).
    pub fn with_fns(name: &str, fns: PredicateFns) -> Self {
        RustOracle { name: name.to_string(), fns }
    }

    /// The answer to one case.
    pub fn answer_one(&self, case: &Case) -> Answer {
        let mut sorted = case.children.clone();
        (self.fns.sort)(&mut sorted, case.question.sort_names());
        let decision = match case.question {
            Question::Mutex { max_leases } => (self.fns.exclusive)(&sorted, &case.ours, max_leases),
            Question::Write => (self.fns.exclusive)(&sorted, &case.ours, 1),
            Question::Read { owns_write } => (self.fns.read)(&sorted, &case.ours, owns_write),
        };
        Answer { sorted, verdict: decision.into() }
    }
}

impl Oracle for RustOracle {
    fn name(&self) -> &str {
        &self.name
    }

    fn describe(&self) -> String {
        format!("{} (zkurator::driver functions, in process)", self.name)
    }

    fn answer(&mut self, cases: &[Case]) -> Result<Vec<Answer>, OracleError> {
        Ok(cases.iter().map(|case| self.answer_one(case)).collect())
    }
}

// ------------------------------------------------------------------ wire format

#[derive(Serialize)]
struct WireCase<'a> {
    question: &'static str,
    max_leases: u32,
    owns_write: bool,
    ours: &'a str,
    children: &'a [String],
}

#[derive(Serialize)]
struct WireBatch<'a> {
    cases: Vec<WireCase<'a>>,
}

#[derive(Deserialize)]
struct WireReply {
    #[serde(default)]
    answers: Option<Vec<WireAnswer>>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct WireAnswer {
    sorted: Vec<String>,
    decision: String,
    #[serde(default)]
    node: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// A batch as the probes read it, in pure ASCII (`\u` escapes for the rest).
fn encode_batch(cases: &[Case]) -> String {
    let batch = WireBatch {
        cases: cases
            .iter()
            .map(|case| {
                let (max_leases, owns_write) = match case.question {
                    Question::Mutex { max_leases } => (max_leases, false),
                    Question::Write => (1, false),
                    Question::Read { owns_write } => (0, owns_write),
                };
                WireCase {
                    question: case.question.label(),
                    max_leases,
                    owns_write,
                    ours: &case.ours,
                    children: &case.children,
                }
            })
            .collect(),
    };
    ascii_json(&serde_json::to_string(&batch).expect("a batch always serialises"))
}

/// Rewrites the non-ASCII characters of a JSON text (which serde_json only puts
/// inside strings) as `\u` escapes, UTF-16 surrogate pairs beyond U+FFFF.
fn ascii_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for ch in json.chars() {
        if ch.is_ascii() {
            out.push(ch);
        } else {
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// Reads a probe's reply to a batch of `expected` cases.
fn decode_answers(oracle: &str, text: &str, expected: usize) -> Result<Vec<Answer>, OracleError> {
    let failed = |message: String| OracleError { oracle: oracle.to_string(), message };
    let reply: WireReply =
        serde_json::from_str(text).map_err(|e| failed(format!("unreadable reply ({e}): {:.200}", text)))?;
    if let Some(error) = reply.error {
        return Err(failed(error));
    }
    let answers = reply.answers.ok_or_else(|| failed("reply without answers".to_string()))?;
    if answers.len() != expected {
        return Err(failed(format!("{} answers to {expected} cases", answers.len())));
    }
    Ok(answers
        .into_iter()
        .map(|a| {
            let verdict = match a.decision.as_str() {
                "holds" => Verdict::Holds,
                "watch" => Verdict::Watch(a.node.unwrap_or_default()),
                "missing" => Verdict::Missing,
                "error" => Verdict::Error(a.message.unwrap_or_default()),
                other => Verdict::Error(format!("unknown decision {other:?}")),
            };
            Answer { sorted: a.sorted, verdict }
        })
        .collect())
}

// ------------------------------------------------------------------ peers

/// Curator's drivers through `zkurator.interop.DriverProbe` in the embedded JVM.
#[derive(Debug)]
pub struct CuratorOracle {
    runtime: CuratorRuntime,
}

impl CuratorOracle {
    /// Starts (or reuses) the process-wide JVM of [`CuratorRuntime::start`].
    pub fn start() -> Result<Self, StartError> {
        Ok(CuratorOracle { runtime: CuratorRuntime::start()? })
    }
}

impl Oracle for CuratorOracle {
    fn name(&self) -> &str {
        "curator"
    }

    fn describe(&self) -> String {
        format!("curator {} ({})", self.runtime.version(), self.runtime.curator_location())
    }

    fn answer(&mut self, cases: &[Case]) -> Result<Vec<Answer>, OracleError> {
        let text = curator::invoke_static_string(&self.runtime, CURATOR_PROBE_CLASS, "run", &encode_batch(cases))
            .map_err(|message| OracleError { oracle: "curator".to_string(), message })?;
        decode_answers("curator", &text, cases.len())
    }
}

/// kazurator's drivers through `harness/python/driver_probe.py`, one process
/// kept for all batches. Dropping it ends the process.
pub struct KazuratorOracle {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    stderr: Arc<Mutex<String>>,
    versions: String,
}

impl fmt::Debug for KazuratorOracle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KazuratorOracle").field("pid", &self.child.id()).field("versions", &self.versions).finish()
    }
}

#[derive(Deserialize)]
struct PythonReady {
    ready: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    kazurator: Option<String>,
    #[serde(default)]
    kazoo: Option<String>,
}

impl KazuratorOracle {
    /// Starts the probe in the interpreter of [`KazuratorRuntime::new`] (which
    /// builds the kazurator venv on first use).
    pub fn start() -> Result<Self, StartError> {
        let runtime = KazuratorRuntime::new()?;
        let failed = |message: String| StartError::Failed {
            runtime: crate::contender::Runtime::Kazurator,
            id: "driver-probe".to_string(),
            message,
        };
        let mut child = Process::new(runtime.python())
            .arg("-u")
            .arg(crate::assets::unpack("python")?.join("driver_probe.py"))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| failed(format!("cannot run {}: {e}", runtime.python().display())))?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("piped stderr");
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                let mut text = sink.lock().unwrap_or_else(|p| p.into_inner());
                text.push_str(&String::from_utf8_lossy(&buffer[..n]));
                if text.len() > 16_384 {
                    let cut = text.len() - 8_192;
                    let cut = (cut..text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
                    text.replace_range(..cut, "");
                }
            }
        });
        let mut oracle = KazuratorOracle { child, stdin: Some(stdin), stdout, stderr, versions: String::new() };
        let line = oracle.read_line().map_err(failed)?;
        let ready: PythonReady =
            serde_json::from_str(&line).map_err(|e| failed(format!("bad ready line {line:?}: {e}")))?;
        if !ready.ready {
            return Err(failed(ready.error.unwrap_or_default()));
        }
        oracle.versions = format!(
            "kazurator {}, kazoo {}",
            ready.kazurator.unwrap_or_else(|| "?".into()),
            ready.kazoo.unwrap_or_else(|| "?".into())
        );
        Ok(oracle)
    }

    fn read_line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) => Err(format!("the probe closed its stdout; stderr: {}", self.stderr_tail())),
            Ok(_) => Ok(line),
            Err(e) => Err(format!("cannot read from the probe: {e}")),
        }
    }

    fn stderr_tail(&self) -> String {
        // Give the reader thread a moment to collect the last words.
        thread::sleep(Duration::from_millis(100));
        self.stderr.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Oracle for KazuratorOracle {
    fn name(&self) -> &str {
        "kazurator"
    }

    fn describe(&self) -> String {
        format!("kazurator ({}, pid {})", self.versions, self.child.id())
    }

    fn answer(&mut self, cases: &[Case]) -> Result<Vec<Answer>, OracleError> {
        let failed = |message: String| OracleError { oracle: "kazurator".to_string(), message };
        let mut line = encode_batch(cases);
        line.push('\n');
        let stdin = self.stdin.as_mut().ok_or_else(|| failed("stdin closed".to_string()))?;
        stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.flush())
            .map_err(|e| failed(format!("cannot write to the probe: {e}")))?;
        let reply = self.read_line().map_err(failed)?;
        decode_answers("kazurator", &reply, cases.len())
    }
}

impl Drop for KazuratorOracle {
    fn drop(&mut self) {
        self.stdin = None; // the probe exits at end of input
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ------------------------------------------------------------------ classification

/// A known way a peer's predicate differs from zkurator's, as a switch of
/// [`model_verdict`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deviation {
    /// Read side: the write owner holds the read lock even when its own read
    /// node is not in the list (Curator, kazurator return "holds" before looking
    /// at the children); zkurator reports the node missing.
    OwnerHoldsWithoutNode,
    /// Read side: our node is the first child that does not contain `__WRIT__`
    /// and *starts with* our name (Curator's `startsWith`, kazurator's
    /// `startswith`), not the child equal to it.
    StartsWithMatch,
    /// Exclusive side: `max_leases` 0 is taken literally (never holds, watches
    /// its own node); zkurator treats it as 1.
    LiteralZeroLeases,
}

impl Deviation {
    /// Every deviation.
    pub const ALL: [Deviation; 3] =
        [Deviation::OwnerHoldsWithoutNode, Deviation::StartsWithMatch, Deviation::LiteralZeroLeases];

    /// The kind of disagreement it explains, as named in the expectations file
    /// (see [`Deviation::kind_for`] for the one refinement).
    pub fn kind(self) -> &'static str {
        match self {
            Deviation::OwnerHoldsWithoutNode => "read-owner-holds-without-node",
            Deviation::StartsWithMatch => "read-starts-with-match",
            Deviation::LiteralZeroLeases => "zero-leases-literal",
        }
    }
}

impl Deviation {
    /// The kind for one case: [`Deviation::kind`], except that a
    /// [`Deviation::StartsWithMatch`] with our node absent gets `-ours-gone`
    /// appended (another child stands in for our node), apart from the one with
    /// our node present (a child extending our name sorts before it).
    pub fn kind_for(self, case: &Case) -> String {
        match self {
            Deviation::StartsWithMatch if !case.children.contains(&case.ours) => format!("{}-ours-gone", self.kind()),
            _ => self.kind().to_string(),
        }
    }
}

/// An independent statement of the predicates over already sorted children, with
/// the given [`Deviation`]s switched on. With none it must agree with zkurator's
/// driver (a unit test checks that).
pub fn model_verdict(case: &Case, sorted: &[String], deviations: &[Deviation]) -> Verdict {
    let on = |d: Deviation| deviations.contains(&d);
    let exclusive = |max_leases: u32| {
        let leases = if on(Deviation::LiteralZeroLeases) { max_leases } else { max_leases.max(1) } as usize;
        match sorted.iter().position(|child| *child == case.ours) {
            None => Verdict::Missing,
            Some(index) if index < leases => Verdict::Holds,
            Some(index) => Verdict::Watch(sorted[index - leases].clone()),
        }
    };
    match case.question {
        Question::Mutex { max_leases } => exclusive(max_leases),
        Question::Write => exclusive(1),
        Question::Read { owns_write } => {
            if owns_write && on(Deviation::OwnerHoldsWithoutNode) {
                return Verdict::Holds;
            }
            let mut first_writer = None;
            let mut found = false;
            for (index, child) in sorted.iter().enumerate() {
                let writer = child.contains(WRITE_LOCK_NAME);
                let is_ours = if on(Deviation::StartsWithMatch) {
                    !writer && child.starts_with(case.ours.as_str())
                } else {
                    *child == case.ours
                };
                if is_ours {
                    found = true;
                    break;
                }
                if writer && first_writer.is_none() {
                    first_writer = Some(index);
                }
            }
            match (found, first_writer) {
                (false, _) => Verdict::Missing,
                (true, _) if owns_write => Verdict::Holds,
                (true, None) => Verdict::Holds,
                (true, Some(index)) => Verdict::Watch(sorted[index].clone()),
            }
        }
    }
}

/// The kind of a peer's disagreement with the reference on `case`, or `None`
/// when they agree. A [`Deviation`] explains it only if the model without
/// deviations gives the reference's verdict and the model with exactly that
/// deviation (or, failing that, with all of them) gives the peer's.
pub fn classify(case: &Case, reference: &Answer, peer: &Answer) -> Option<String> {
    if reference.sorted != peer.sorted {
        return Some(SORT_ORDER.to_string());
    }
    if reference.verdict == peer.verdict {
        return None;
    }
    let sorted = &reference.sorted;
    if model_verdict(case, sorted, &[]) == reference.verdict {
        if let Some(d) = Deviation::ALL.into_iter().find(|d| model_verdict(case, sorted, &[*d]) == peer.verdict) {
            return Some(d.kind_for(case));
        }
        if model_verdict(case, sorted, &Deviation::ALL) == peer.verdict {
            return Some(Deviation::ALL.map(Deviation::kind).join("+"));
        }
    }
    Some(format!("unexplained-{}-{}-vs-{}", case.question.label(), reference.verdict.label(), peer.verdict.label()))
}

/// One case on which a peer and the reference disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement {
    /// The peer's name.
    pub oracle: String,
    /// See [`classify`].
    pub kind: String,
    /// The case.
    pub case: Case,
    /// The reference's answer.
    pub reference: Answer,
    /// The peer's answer.
    pub peer: Answer,
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.case)?;
        if self.reference.sorted == self.peer.sorted {
            writeln!(f, "sorted (all):  {:?}", self.reference.sorted)?;
        } else {
            writeln!(f, "sorted (reference): {:?}", self.reference.sorted)?;
            writeln!(f, "sorted ({}): {:?}", self.oracle, self.peer.sorted)?;
        }
        write!(f, "reference: {}; {}: {}", self.reference.verdict, self.oracle, self.peer.verdict)
    }
}

/// Every disagreement of `peer` (named `oracle`) with `reference` over `cases`.
pub fn compare(oracle: &str, cases: &[Case], reference: &[Answer], peer: &[Answer]) -> Vec<Disagreement> {
    cases
        .iter()
        .zip(reference.iter().zip(peer))
        .filter_map(|(case, (reference, peer))| {
            classify(case, reference, peer).map(|kind| Disagreement {
                oracle: oracle.to_string(),
                kind,
                case: case.clone(),
                reference: reference.clone(),
                peer: peer.clone(),
            })
        })
        .collect()
}

// ------------------------------------------------------------------ running

/// The disagreements of one kind with one peer.
#[derive(Clone, Debug)]
pub struct Group {
    /// The peer's name.
    pub oracle: String,
    /// See [`classify`].
    pub kind: String,
    /// How many cases.
    pub count: usize,
    /// The smallest case found, then shrunk (children removed) while the
    /// oracles still disagree in the same way.
    pub example: Disagreement,
}

/// How fast one oracle answered.
#[derive(Clone, Debug)]
pub struct Timing {
    /// [`Oracle::describe`].
    pub oracle: String,
    /// Cases answered (the generated ones; shrinking not counted).
    pub cases: usize,
    /// Time spent answering them, batches included.
    pub elapsed: Duration,
}

impl Timing {
    /// Cases per second.
    pub fn rate(&self) -> f64 {
        self.cases as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The result of [`run_differential`].
#[derive(Clone, Debug)]
pub struct Report {
    /// The reference oracle's name.
    pub reference: String,
    /// The peers' names, in run order.
    pub peers: Vec<String>,
    /// Cases checked.
    pub cases: usize,
    /// One per oracle, reference first.
    pub timings: Vec<Timing>,
    /// Disagreements by peer and kind (sorted).
    pub groups: Vec<Group>,
}

impl Report {
    /// Disagreeing cases with `oracle`, all kinds.
    pub fn disagreements(&self, oracle: &str) -> usize {
        self.groups.iter().filter(|g| g.oracle == oracle).map(|g| g.count).sum()
    }

    /// The report as text; with expectations, each kind is marked known (with
    /// its reason) or UNEXPECTED, and stale entries are listed.
    pub fn render(&self, expectations: Option<&PredicateExpectations>) -> String {
        let mut out = format!("differential predicates: {} cases, reference {}\n", self.cases, self.reference);
        for t in &self.timings {
            out.push_str(&format!(
                "  {}: {} cases in {:.1} ms ({:.0} cases/s)\n",
                t.oracle,
                t.cases,
                t.elapsed.as_secs_f64() * 1e3,
                t.rate()
            ));
        }
        for peer in &self.peers {
            let groups: Vec<&Group> = self.groups.iter().filter(|g| &g.oracle == peer).collect();
            out.push_str(&format!(
                "{peer}: {} disagreeing cases in {} kinds\n",
                self.disagreements(peer),
                groups.len()
            ));
            for g in groups {
                let status = match expectations.map(|e| e.reason(peer, &g.kind)) {
                    None => String::new(),
                    Some(Some(reason)) => format!(" [known: {reason}]"),
                    Some(None) => " [UNEXPECTED]".to_string(),
                };
                out.push_str(&format!("  {}: {} cases{status}\n", g.kind, g.count));
                for line in g.example.to_string().lines() {
                    out.push_str(&format!("      {line}\n"));
                }
            }
        }
        if let Some(expectations) = expectations {
            for problem in expectations.check(self) {
                if let Problem::Stale { .. } = problem {
                    out.push_str(&format!("{problem}\n"));
                }
            }
        }
        out
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(None))
    }
}

fn answer_all(
    oracle: &mut dyn Oracle,
    cases: &[Case],
    batch_size: usize,
) -> Result<(Vec<Answer>, Timing), OracleError> {
    let started = Instant::now();
    let mut answers = Vec::with_capacity(cases.len());
    for batch in cases.chunks(batch_size.max(1)) {
        let got = oracle.answer(batch)?;
        if got.len() != batch.len() {
            return Err(OracleError {
                oracle: oracle.name().to_string(),
                message: format!("{} answers to {} cases", got.len(), batch.len()),
            });
        }
        answers.extend(got);
    }
    let timing = Timing { oracle: oracle.describe(), cases: cases.len(), elapsed: started.elapsed() };
    Ok((answers, timing))
}

/// Runs `cases` through the reference and every peer in batches of
/// `batch_size`, compares, groups the disagreements by peer and kind, and
/// shrinks one example per group.
pub fn run_differential(
    cases: &[Case],
    reference: &mut dyn Oracle,
    peers: &mut [&mut dyn Oracle],
    batch_size: usize,
) -> Result<Report, OracleError> {
    let (reference_answers, timing) = answer_all(reference, cases, batch_size)?;
    let mut timings = vec![timing];
    let mut groups = Vec::new();
    let mut names = Vec::new();
    for peer in peers.iter_mut() {
        let peer: &mut dyn Oracle = &mut **peer;
        names.push(peer.name().to_string());
        let (answers, timing) = answer_all(peer, cases, batch_size)?;
        timings.push(timing);
        let mut by_kind: BTreeMap<String, Vec<Disagreement>> = BTreeMap::new();
        for d in compare(peer.name(), cases, &reference_answers, &answers) {
            by_kind.entry(d.kind.clone()).or_default().push(d);
        }
        for (kind, list) in by_kind {
            let smallest = list.iter().min_by_key(|d| d.case.size()).expect("a group is never empty").clone();
            let example = shrink(smallest, reference, peer)?;
            groups.push(Group { oracle: peer.name().to_string(), kind, count: list.len(), example });
        }
    }
    Ok(Report { reference: reference.name().to_string(), peers: names, cases: cases.len(), timings, groups })
}

/// Removes children (and lowers `max_leases`) while the disagreement keeps its
/// kind; each round asks the oracles about all candidates in one batch.
fn shrink(
    mut example: Disagreement,
    reference: &mut dyn Oracle,
    peer: &mut dyn Oracle,
) -> Result<Disagreement, OracleError> {
    for _ in 0..SHRINK_ROUNDS {
        let case = &example.case;
        let mut candidates: Vec<Case> = (0..case.children.len())
            .map(|i| {
                let mut smaller = case.clone();
                smaller.children.remove(i);
                smaller
            })
            .collect();
        if let Question::Mutex { max_leases } = case.question {
            if max_leases > 1 {
                candidates.push(Case { question: Question::Mutex { max_leases: max_leases - 1 }, ..case.clone() });
            }
        }
        if candidates.is_empty() {
            break;
        }
        let theirs = peer.answer(&candidates)?;
        let ours = reference.answer(&candidates)?;
        let next = candidates.into_iter().zip(ours.into_iter().zip(theirs)).find_map(|(case, (reference, peer))| {
            (classify(&case, &reference, &peer).as_deref() == Some(example.kind.as_str()))
                .then_some((case, reference, peer))
        });
        match next {
            Some((case, reference, peer)) => {
                example = Disagreement { case, reference, peer, ..example };
            }
            None => break,
        }
    }
    Ok(example)
}

// ------------------------------------------------------------------ expectations

/// A known, explained disagreement (`[[predicate]]` in the expectations file).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KnownDisagreement {
    /// The kind, as [`classify`] names it.
    pub kind: String,
    /// The peer: `curator` or `kazurator`.
    pub oracle: String,
    /// Why it is expected (and whose deviation it is).
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectationsFile {
    #[serde(default)]
    predicate: Vec<KnownDisagreement>,
}

/// The known disagreements (`harness/predicate-expectations.toml`):
///
/// ```toml
/// [[predicate]]
/// kind = "read-owner-holds-without-node"
/// oracle = "curator"
/// reason = "..."
/// ```
#[derive(Clone, Debug, Default)]
pub struct PredicateExpectations {
    known: Vec<KnownDisagreement>,
}

/// A difference between a [`Report`] and the expectations.
#[derive(Clone, Debug)]
pub enum Problem {
    /// A kind of disagreement nobody recorded.
    Unexpected {
        /// The peer.
        oracle: String,
        /// The kind.
        kind: String,
        /// How many cases.
        count: usize,
        /// The minimal example.
        example: Box<Disagreement>,
    },
    /// A recorded disagreement that did not occur: fix the file.
    Stale {
        /// The peer.
        oracle: String,
        /// The kind.
        kind: String,
        /// The recorded reason.
        reason: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unexpected { oracle, kind, count, example } => {
                writeln!(f, "UNEXPECTED disagreement with {oracle}: {kind} ({count} cases); minimal example:")?;
                for line in example.to_string().lines() {
                    writeln!(f, "    {line}")?;
                }
                Ok(())
            }
            Problem::Stale { oracle, kind, reason } => write!(
                f,
                "STALE expectation: {kind} with {oracle} no longer occurs (recorded reason: {reason}); \
                 remove it from predicate-expectations.toml"
            ),
        }
    }
}

impl PredicateExpectations {
    /// `harness/predicate-expectations.toml` of this workspace.
    pub fn default_path() -> PathBuf {
        PathBuf::from(EXPECTATIONS_FILE)
    }

    /// Loads [`Self::default_path`].
    pub fn load_default() -> Result<Self, String> {
        Self::load(&Self::default_path())
    }

    /// Loads an expectations file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses an expectations file's text; an entry recorded twice is an error.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: ExpectationsFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut seen = HashSet::new();
        for k in &file.predicate {
            if !seen.insert((k.oracle.clone(), k.kind.clone())) {
                return Err(format!("{} with {} is recorded twice", k.kind, k.oracle));
            }
        }
        Ok(PredicateExpectations { known: file.predicate })
    }

    /// The recorded entries.
    pub fn known(&self) -> &[KnownDisagreement] {
        &self.known
    }

    /// The recorded reason for `kind` with `oracle`, if any.
    pub fn reason(&self, oracle: &str, kind: &str) -> Option<&str> {
        self.known.iter().find(|k| k.oracle == oracle && k.kind == kind).map(|k| k.reason.as_str())
    }

    /// Every unexpected kind in `report`, and every entry for a peer of the
    /// report whose kind did not occur. Empty when the report matches.
    pub fn check(&self, report: &Report) -> Vec<Problem> {
        let mut problems: Vec<Problem> = report
            .groups
            .iter()
            .filter(|g| self.reason(&g.oracle, &g.kind).is_none())
            .map(|g| Problem::Unexpected {
                oracle: g.oracle.clone(),
                kind: g.kind.clone(),
                count: g.count,
                example: Box::new(g.example.clone()),
            })
            .collect();
        for k in &self.known {
            let ran = report.peers.contains(&k.oracle);
            if ran && !report.groups.iter().any(|g| g.oracle == k.oracle && g.kind == k.kind) {
                problems.push(Problem::Stale {
                    oracle: k.oracle.clone(),
                    kind: k.kind.clone(),
                    reason: k.reason.clone(),
                });
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: &str = "_c_00000000-0000-4000-8000-00000000000a-";
    const B: &str = "_c_00000000-0000-4000-8000-00000000000b-";
    const C: &str = "_c_00000000-0000-4000-8000-00000000000c-";

    fn name(owner: &str, lock: &str, seq: &str) -> String {
        format!("{owner}{lock}{seq}")
    }

    /// A proptest "choice tape": the builder reads it front to back, 0 after its end.
    struct Tape(Vec<u64>, usize);

    impl Choices for Tape {
        fn below(&mut self, n: u64) -> u64 {
            let v = self.0.get(self.1).copied().unwrap_or(0);
            self.1 += 1;
            v % n.max(1)
        }
    }

    /// Cases as a proptest strategy: shrinking the tape shrinks the case.
    fn case_strategy() -> impl Strategy<Value = Case> {
        proptest::collection::vec(any::<u64>(), 0..400).prop_map(|tape| build_case(&mut Tape(tape, 0)))
    }

    #[test]
    fn splitmix_is_the_reference_sequence() {
        // First outputs of SplitMix64 for seed 0 (Vigna's reference implementation).
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(rng.next_u64(), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn generation_is_deterministic() {
        assert_eq!(generate_cases(42, 300), generate_cases(42, 300));
        assert_ne!(generate_cases(42, 50), generate_cases(43, 50));
    }

    #[test]
    fn the_empty_tape_builds_the_simplest_case() {
        let case = build_case(&mut Tape(Vec::new(), 0));
        assert_eq!(case.question, Question::Mutex { max_leases: 1 });
        assert!(case.children.is_empty());
        assert_eq!(case.ours, name("_c_00000000-0000-4000-8000-000000000000-", "lock-", "0000000000"));
    }

    #[test]
    fn sequences_format_like_zookeeper() {
        assert_eq!(format_sequence(SequenceStyle::Normal, 7), "0000000007");
        assert_eq!(format_sequence(SequenceStyle::Wrapping, i64::from(i32::MAX)), "2147483647");
        assert_eq!(format_sequence(SequenceStyle::Wrapping, i64::from(i32::MAX) + 1), "-2147483648");
        assert_eq!(format_sequence(SequenceStyle::Wrapping, (1 << 32) - 1), "-000000001");
        assert_eq!(format_sequence(SequenceStyle::Long, 1_000_000_000_000_000_001).len(), 19);
    }

    #[test]
    fn child_names_follow_zookeeper_rules() {
        assert!(is_valid_child_name("_c_x-lock-0000000001"));
        assert!(is_valid_child_name(" é中\u{ffef}"));
        for bad in ["", ".", "..", "a/b", "a\u{0}", "a\u{1f}", "\u{7f}", "\u{9f}", "\u{e000}", "\u{fff0}", "😀"] {
            assert!(!is_valid_child_name(bad), "{bad:?}");
        }
    }

    /// Over a fixed-seed corpus, every feature the generator promises occurs.
    #[test]
    fn generated_cases_cover_every_feature() {
        let cases = generate_cases(0x5eed, 3000);
        let any = |f: &dyn Fn(&Case) -> bool| cases.iter().any(f);
        let child = |f: &dyn Fn(&str) -> bool| cases.iter().any(|c| c.children.iter().any(|n| f(n)));
        assert!(cases.iter().all(|c| c.children.iter().all(|n| is_valid_child_name(n))));
        assert!(cases.iter().all(|c| c.children.iter().collect::<HashSet<_>>().len() == c.children.len()));
        assert!(any(&|c| c.question == Question::Mutex { max_leases: 0 }));
        assert!(any(&|c| c.question == Question::Mutex { max_leases: 4 }));
        assert!(any(&|c| c.question == Question::Write));
        assert!(any(&|c| c.question == Question::Read { owns_write: true }));
        assert!(any(&|c| c.question == Question::Read { owns_write: false }));
        assert!(any(&|c| !c.children.contains(&c.ours)));
        assert!(child(&|n| n.contains("__READ__-") || n.contains("__WRIT__-") || n.contains("lock--")));
        assert!(child(&|n| n.len() == 40 + 8 + 19));
        assert!(child(&|n| n.starts_with(|c: char| c < '0')));
        assert!(child(&|n| n.starts_with(|c: char| c > '9')));
        assert!(child(&|n| !n.is_ascii()));
        assert!(child(&|n| n.contains("__lock__")));
        // Reentrant: one owner, two nodes of one side.
        assert!(any(&|c| c.children.iter().any(|n| n.get(..40).is_some_and(|p| p.starts_with("_c_")
            && c.children.iter().filter(|m| m.starts_with(p) && m.contains("__WRIT__")).count() >= 2))));
        // Downgrade: a READ node with its owner's WRIT sequence.
        assert!(any(&|c| c
            .children
            .iter()
            .any(|n| n.contains(READ_LOCK_NAME) && c.children.contains(&n.replace(READ_LOCK_NAME, WRITE_LOCK_NAME)))));
        // A foreign child that starts with our name.
        assert!(any(&|c| c.children.iter().any(|n| n != &c.ours && n.starts_with(&c.ours))));
    }

    #[test]
    fn the_model_without_deviations_is_zkurators_driver() {
        let rust = RustOracle::zkurator();
        for case in generate_cases(7, 5000) {
            let answer = rust.answer_one(&case);
            assert_eq!(model_verdict(&case, &answer.sorted, &[]), answer.verdict, "{case}");
        }
    }

    proptest! {
        #[test]
        fn model_matches_driver_on_strategy_cases(case in case_strategy()) {
            let answer = RustOracle::zkurator().answer_one(&case);
            prop_assert_eq!(model_verdict(&case, &answer.sorted, &[]), answer.verdict);
            prop_assert!(case.children.iter().all(|n| is_valid_child_name(n)));
        }
    }

    fn answer(sorted: &[String], verdict: Verdict) -> Answer {
        Answer { sorted: sorted.to_vec(), verdict }
    }

    #[test]
    fn classify_names_each_deviation() {
        // The write owner's read node is gone.
        let children = vec![name(A, WRITE_LOCK_NAME, "0000000001")];
        let case = Case {
            question: Question::Read { owns_write: true },
            children: children.clone(),
            ours: name(A, READ_LOCK_NAME, "0000000001"),
        };
        let rust = RustOracle::zkurator().answer_one(&case);
        assert_eq!(rust.verdict, Verdict::Missing);
        assert_eq!(
            classify(&case, &rust, &answer(&children, Verdict::Holds)).as_deref(),
            Some("read-owner-holds-without-node")
        );

        // A foreign child that starts with our name sorts before the writer ahead of us.
        let ours = name(C, READ_LOCK_NAME, "0000000005");
        let sorted = vec![format!("{ours}__READ__0000000001"), name(B, WRITE_LOCK_NAME, "0000000003"), ours.clone()];
        let case = Case { question: Question::Read { owns_write: false }, children: sorted.clone(), ours };
        let rust = RustOracle::zkurator().answer_one(&case);
        assert_eq!(rust.sorted, sorted);
        assert_eq!(rust.verdict, Verdict::Watch(sorted[1].clone()));
        assert_eq!(classify(&case, &rust, &answer(&sorted, Verdict::Holds)).as_deref(), Some("read-starts-with-match"));
        // Our node gone: the child extending our name stands in for it.
        let gone = Case { children: vec![sorted[0].clone()], ..case.clone() };
        let rust = RustOracle::zkurator().answer_one(&gone);
        assert_eq!(rust.verdict, Verdict::Missing);
        assert_eq!(
            classify(&gone, &rust, &answer(&gone.children, Verdict::Holds)).as_deref(),
            Some("read-starts-with-match-ours-gone")
        );

        // Zero leases.
        let sorted = vec![name(A, MUTEX_LOCK_NAME, "0000000001")];
        let case =
            Case { question: Question::Mutex { max_leases: 0 }, children: sorted.clone(), ours: sorted[0].clone() };
        let rust = RustOracle::zkurator().answer_one(&case);
        assert_eq!(rust.verdict, Verdict::Holds);
        assert_eq!(
            classify(&case, &rust, &answer(&sorted, Verdict::Watch(sorted[0].clone()))).as_deref(),
            Some("zero-leases-literal")
        );
        assert_eq!(classify(&case, &rust, &rust), None);
    }

    #[test]
    fn classify_reports_sort_and_unexplained_differences() {
        let sorted = vec![name(A, READ_LOCK_NAME, "0000000001"), name(B, WRITE_LOCK_NAME, "0000000002")];
        let case = Case { question: Question::Write, children: sorted.clone(), ours: sorted[1].clone() };
        let rust = RustOracle::zkurator().answer_one(&case);
        let reversed: Vec<String> = sorted.iter().rev().cloned().collect();
        assert_eq!(classify(&case, &rust, &answer(&reversed, rust.verdict.clone())).as_deref(), Some(SORT_ORDER));
        assert_eq!(
            classify(&case, &rust, &answer(&sorted, Verdict::Holds)).as_deref(),
            Some("unexplained-write-watch-vs-holds")
        );
        assert_eq!(
            classify(&case, &rust, &answer(&sorted, Verdict::Error("boom".into()))).as_deref(),
            Some("unexplained-write-watch-vs-error")
        );
    }

    /// A wrong reference is never excused by a deviation: the model must first
    /// reproduce the reference.
    #[test]
    fn a_wrong_reference_stays_unexplained() {
        let sorted = vec![name(B, WRITE_LOCK_NAME, "0000000001"), name(A, READ_LOCK_NAME, "0000000002")];
        let case =
            Case { question: Question::Read { owns_write: false }, children: sorted.clone(), ours: sorted[1].clone() };
        let wrong = answer(&sorted, Verdict::Holds);
        let right = answer(&sorted, Verdict::Watch(sorted[0].clone()));
        assert_eq!(classify(&case, &wrong, &right).as_deref(), Some("unexplained-read-holds-vs-watch"));
    }

    #[test]
    fn batches_are_ascii_and_answers_decode() {
        let case = Case {
            question: Question::Read { owns_write: true },
            children: vec!["é".into(), "😀".into(), "a\"b\\".into()],
            ours: "x".into(),
        };
        let batch = encode_batch(&[case]);
        assert!(batch.is_ascii());
        assert!(batch.contains("\\u00e9") && batch.contains("\\ud83d\\ude00"));
        assert!(batch.contains(r#""question":"read","max_leases":0,"owns_write":true"#));
        let parsed: serde_json::Value = serde_json::from_str(&batch).unwrap();
        assert_eq!(parsed["cases"][0]["children"][1], "😀");

        let text = r#"{"answers":[{"sorted":["a"],"decision":"holds"},{"sorted":[],"decision":"watch","node":"\u00e9"},
                     {"sorted":[],"decision":"missing"},{"sorted":[],"decision":"error","message":"boom"}]}"#;
        let answers = decode_answers("t", text, 4).unwrap();
        assert_eq!(answers[0], Answer { sorted: vec!["a".into()], verdict: Verdict::Holds });
        assert_eq!(answers[1].verdict, Verdict::Watch("é".into()));
        assert_eq!(answers[2].verdict, Verdict::Missing);
        assert_eq!(answers[3].verdict, Verdict::Error("boom".into()));
        assert!(decode_answers("t", text, 3).is_err());
        assert!(decode_answers("t", r#"{"error":"bad batch"}"#, 0).unwrap_err().message.contains("bad batch"));
    }

    /// An oracle that answers from a function, for testing the runner.
    struct FnOracle(&'static str, fn(&Case) -> Answer);

    impl Oracle for FnOracle {
        fn name(&self) -> &str {
            self.0
        }

        fn answer(&mut self, cases: &[Case]) -> Result<Vec<Answer>, OracleError> {
            Ok(cases.iter().map(self.1).collect())
        }
    }

    fn curator_like(case: &Case) -> Answer {
        let mut answer = RustOracle::zkurator().answer_one(case);
        answer.verdict = model_verdict(case, &answer.sorted, &Deviation::ALL);
        answer
    }

    #[test]
    fn run_groups_shrinks_and_checks_expectations() {
        let cases = generate_cases(11, 2000);
        let mut reference = RustOracle::zkurator();
        let mut peer = FnOracle("curator", curator_like);
        let report = run_differential(&cases, &mut reference, &mut [&mut peer], 300).unwrap();
        assert_eq!(report.cases, 2000);
        let kinds: Vec<&str> = report.groups.iter().map(|g| g.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "read-owner-holds-without-node",
                "read-starts-with-match",
                "read-starts-with-match-ours-gone",
                "zero-leases-literal"
            ]
        );
        for g in &report.groups {
            // Shrunk as far as removing children goes: at most the stand-in, a
            // writer and ours.
            let limit = if g.kind == "read-starts-with-match" { 3 } else { 1 };
            assert!(g.example.case.children.len() <= limit, "{}", g.example);
            assert_eq!(classify(&g.example.case, &g.example.reference, &g.example.peer).as_deref(), Some(&*g.kind));
        }

        let all = PredicateExpectations::parse(
            r#"
            [[predicate]]
            kind = "read-owner-holds-without-node"
            oracle = "curator"
            reason = "r1"
            [[predicate]]
            kind = "read-starts-with-match"
            oracle = "curator"
            reason = "r2"
            [[predicate]]
            kind = "read-starts-with-match-ours-gone"
            oracle = "curator"
            reason = "r2b"
            [[predicate]]
            kind = "zero-leases-literal"
            oracle = "curator"
            reason = "r3"
            [[predicate]]
            kind = "never-seen"
            oracle = "kazurator"
            reason = "not run, so not stale"
            "#,
        )
        .unwrap();
        assert!(all.check(&report).is_empty());
        assert!(report.render(Some(&all)).contains("[known: r2]"));

        let mut partial = all.clone();
        partial.known.retain(|k| k.kind != "read-starts-with-match");
        partial.known.push(KnownDisagreement { kind: "gone".into(), oracle: "curator".into(), reason: "r4".into() });
        let problems = partial.check(&report);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(matches!(&problems[0], Problem::Unexpected { kind, .. } if kind == "read-starts-with-match"));
        assert!(matches!(&problems[1], Problem::Stale { kind, .. } if kind == "gone"));
        assert!(report.render(Some(&partial)).contains("[UNEXPECTED]"));
    }

    #[test]
    fn duplicate_expectations_are_rejected() {
        let twice = "[[predicate]]\nkind = \"k\"\noracle = \"o\"\nreason = \"r\"\n".repeat(2);
        assert!(PredicateExpectations::parse(&twice).unwrap_err().contains("twice"));
        assert!(PredicateExpectations::parse("[[predicate]]\nkind = \"k\"\n").is_err());
    }

    #[test]
    fn the_workspace_expectations_file_parses() {
        let expectations = PredicateExpectations::load_default().unwrap();
        assert!(expectations.known().iter().all(|k| !k.reason.trim().is_empty()));
    }
}
