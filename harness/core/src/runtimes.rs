//! Which runtimes exist: the built-in ones, and those added at run time as a
//! command (`--runtime NAME=COMMAND`, `runtimes.toml`), and which of them the
//! scenario placeholders `$A`, `$B`... range over.
//!
//! The added runtimes live in a process-wide table: the CLI (or a test)
//! registers each once, with the capabilities its hello declared, before
//! scenarios are read; [`Runtime::External`] names one by its index.

use std::fmt;
use std::sync::RwLock;

use serde::{Deserialize, Serialize};

use crate::capabilities::Capabilities;

/// Which runtime a contender runs in: a built-in one, or one added at run
/// time as a command ([`Runtime::External`], see [`register`]).
///
/// Serialized as its name (`"rust"`, `"go-zk"`, an external's name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Runtime {
    /// zkurator, this repository's library.
    Rust,
    /// zkurator in a child process of its own (`zkurator-harness contender`),
    /// so that it can be killed.
    RustProcess,
    /// zkurator tasks sharing one session and one lock handle: every
    /// `rust-tasks` contender of a run is a tokio task on the same handle.
    RustTasks,
    /// Apache Curator in an embedded JVM.
    Curator,
    /// kazurator on kazoo, in a Python process.
    Kazurator,
    /// The `zookeeper-client` crate's own `Client::lock` (mutex only).
    ZkClient,
    /// kazoo's own Lock/ReadLock/WriteLock: not protocol compatible (negative control).
    KazooNative,
    /// github.com/go-zookeeper/zk's `Lock` (mutex only), in a Go process (`go/`).
    GoZk,
    /// A runtime given as a command, by its index in the table of added runtimes ([`register`]).
    External(u8),
}

impl Runtime {
    /// Every built-in runtime, in display order.
    pub const BUILTIN: [Runtime; 8] = [
        Runtime::Rust,
        Runtime::Curator,
        Runtime::Kazurator,
        Runtime::ZkClient,
        Runtime::KazooNative,
        Runtime::GoZk,
        Runtime::RustProcess,
        Runtime::RustTasks,
    ];

    /// The runtimes `$A`, `$B`... range over by default.
    pub const DEFAULT_PLACEHOLDER: [Runtime; 3] = [Runtime::Rust, Runtime::Curator, Runtime::Kazurator];

    /// Every runtime known to this process: the built-in ones, then the added ones.
    pub fn all() -> Vec<Runtime> {
        Runtime::BUILTIN.into_iter().chain(externals()).collect()
    }

    /// The runtime called `name` (built-in or added).
    pub fn named(name: &str) -> Option<Runtime> {
        Runtime::all().into_iter().find(|r| r.name() == name)
    }

    /// The name used in scenario files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Rust => "rust",
            Runtime::RustProcess => "rust-process",
            Runtime::RustTasks => "rust-tasks",
            Runtime::Curator => "curator",
            Runtime::Kazurator => "kazurator",
            Runtime::ZkClient => "zk-client",
            Runtime::KazooNative => "kazoo-native",
            Runtime::GoZk => "go-zk",
            Runtime::External(index) => external(index).map_or("unregistered", |e| e.name),
        }
    }

    /// What the runtime can do: the built-in table, or what an added
    /// runtime's hello declared.
    pub fn capabilities(self) -> crate::capabilities::Capabilities {
        match self {
            Runtime::External(index) => external(index).map(|e| e.capabilities.clone()),
            builtin => crate::capabilities::Capabilities::builtin(builtin.name()),
        }
        .unwrap_or_default()
    }

    /// Lives in the harness's own process, so it cannot be killed.
    pub fn in_harness_process(self) -> bool {
        self.capabilities().in_harness_process
    }

    /// Shares its session with other contenders, so one cannot lose it alone.
    pub fn shares_session(self) -> bool {
        self.capabilities().shares_session
    }

    /// Carries on with a new session after its session expired (zkurator
    /// handles on a renewing session source).
    pub fn renews_session(self) -> bool {
        self.capabilities().renews_session
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Runtime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Runtime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Runtime::named(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown runtime {name:?}")))
    }
}

/// One runtime given as a command.
#[derive(Debug)]
pub struct External {
    /// The name scenarios, `--runtimes` and reports use.
    pub name: &'static str,
    /// The program and its arguments.
    pub command: Vec<String>,
    /// What its hello declared.
    pub capabilities: Capabilities,
    /// Library versions its hello named, `name version` pairs.
    pub versions: Vec<(String, String)>,
}

/// A registration that cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The name is a built-in runtime's or was registered before.
    #[error("runtime {0:?} exists already: pick another name")]
    Taken(String),
    /// The name is not usable in scenario files.
    #[error("bad runtime name {0:?}: use letters, digits and '-', starting with a letter")]
    BadName(String),
    /// No command was given.
    #[error("runtime {0:?} has an empty command")]
    EmptyCommand(String),
    /// Too many runtimes.
    #[error("at most 32 runtimes can be added")]
    Full,
}

static EXTERNALS: RwLock<Vec<&'static External>> = RwLock::new(Vec::new());
static PLACEHOLDER_EXTRAS: RwLock<Vec<Runtime>> = RwLock::new(Vec::new());

/// Adds an external runtime; returns the runtime that names it. (The CLI
/// then lets `$A`, `$B`... range over it too: [`add_placeholder_runtime`].)
pub fn register(
    name: &str,
    command: Vec<String>,
    capabilities: Capabilities,
    versions: Vec<(String, String)>,
) -> Result<Runtime, RegistryError> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid {
        return Err(RegistryError::BadName(name.into()));
    }
    if Runtime::named(name).is_some() {
        return Err(RegistryError::Taken(name.into()));
    }
    if command.is_empty() {
        return Err(RegistryError::EmptyCommand(name.into()));
    }
    let mut table = EXTERNALS.write().unwrap_or_else(|p| p.into_inner());
    if table.len() >= 32 {
        return Err(RegistryError::Full);
    }
    let name: &'static str = Box::leak(name.to_owned().into_boxed_str());
    table.push(Box::leak(Box::new(External { name, command, capabilities, versions })));
    Ok(Runtime::External(table.len() as u8 - 1))
}

/// The external runtime with index `index`.
pub fn external(index: u8) -> Option<&'static External> {
    EXTERNALS.read().unwrap_or_else(|p| p.into_inner()).get(index as usize).copied()
}

/// Every external runtime, in registration order.
pub fn externals() -> Vec<Runtime> {
    let count = EXTERNALS.read().unwrap_or_else(|p| p.into_inner()).len();
    (0..count as u8).map(Runtime::External).collect()
}

/// Makes `$A`, `$B`... also range over `runtime`.
pub fn add_placeholder_runtime(runtime: Runtime) {
    let mut extras = PLACEHOLDER_EXTRAS.write().unwrap_or_else(|p| p.into_inner());
    if !extras.contains(&runtime) && !Runtime::DEFAULT_PLACEHOLDER.contains(&runtime) {
        extras.push(runtime);
    }
}

/// The runtimes `$A`, `$B`... range over when a file does not say: rust,
/// curator and kazurator, then the added ones.
pub fn placeholder_runtimes() -> Vec<Runtime> {
    let extras = PLACEHOLDER_EXTRAS.read().unwrap_or_else(|p| p.into_inner());
    Runtime::DEFAULT_PLACEHOLDER.iter().copied().chain(extras.iter().copied()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_registered_runtimes_are_found_by_name() {
        let caps = Capabilities { kinds: vec![crate::capabilities::KindName::Mutex], ..Default::default() };
        assert_eq!(register("rust", vec!["x".into()], caps.clone(), vec![]), Err(RegistryError::Taken("rust".into())));
        assert!(matches!(register("9x", vec!["x".into()], caps.clone(), vec![]), Err(RegistryError::BadName(_))));
        assert!(matches!(register("a b", vec!["x".into()], caps.clone(), vec![]), Err(RegistryError::BadName(_))));
        assert!(matches!(register("empty", vec![], caps.clone(), vec![]), Err(RegistryError::EmptyCommand(_))));
        let mine = register("registry-test-mine", vec!["/bin/true".into()], caps, vec![]).unwrap();
        assert_eq!(Runtime::named("registry-test-mine"), Some(mine));
        assert_eq!(mine.name(), "registry-test-mine");
        assert!(mine.capabilities().has_kind(crate::protocol::LockKind::Mutex { max_leases: 1 }));
        assert!(externals().contains(&mine) && !placeholder_runtimes().contains(&mine));
        assert_eq!(serde_json::to_string(&mine).unwrap(), "\"registry-test-mine\"");
        assert_eq!(serde_json::from_str::<Runtime>("\"registry-test-mine\"").unwrap(), mine);
        assert!(register("registry-test-mine", vec!["x".into()], Capabilities::default(), vec![]).is_err());
    }
}
