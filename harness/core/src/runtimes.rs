//! Which runtimes exist: the built-in ones, and those added at run time as a
//! command (`--runtime NAME=COMMAND`, `runtimes.toml`), and which of them the
//! scenario placeholders `$A`, `$B`... range over.
//!
//! There is no process-wide state: an added runtime is a value
//! ([`Runtime::External`] holds its [`External`] description), and the
//! [`RuntimeTable`] the CLI (or a test) builds once is passed to whatever
//! reads runtime names (scenario files, `--runtimes`, recorded histories).

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::capabilities::Capabilities;

/// Which runtime a contender runs in: a built-in one, or one added at run
/// time as a command ([`Runtime::External`], see [`RuntimeTable::add`]).
///
/// Cheap to clone. Serialized as its name (`"rust"`, `"go-zk"`, an
/// external's name).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    /// A runtime given as a command: its name, command and what its hello declared.
    External(Arc<External>),
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

    /// The built-in runtime called `name`. Added runtimes are found by
    /// [`RuntimeTable::named`].
    pub fn builtin_named(name: &str) -> Option<Runtime> {
        Runtime::BUILTIN.into_iter().find(|r| r.name() == name)
    }

    /// The name used in scenario files and reports.
    pub fn name(&self) -> &str {
        match self {
            Runtime::Rust => "rust",
            Runtime::RustProcess => "rust-process",
            Runtime::RustTasks => "rust-tasks",
            Runtime::Curator => "curator",
            Runtime::Kazurator => "kazurator",
            Runtime::ZkClient => "zk-client",
            Runtime::KazooNative => "kazoo-native",
            Runtime::GoZk => "go-zk",
            Runtime::External(external) => &external.name,
        }
    }

    /// What the runtime can do: the built-in runtimes' table (a process
    /// runtime's hello must declare its entry), or what an added runtime's
    /// hello declared.
    pub fn capabilities(&self) -> Capabilities {
        use crate::capabilities::KindName::*;
        use crate::protocol::Protection;
        let zkurator = Capabilities {
            kinds: vec![Mutex, ReadWrite, Semaphore, Multi],
            leases: true,
            leases_wake_on_any_release: true,
            timeouts: true,
            reentrant: true,
            reentrant_leases: true,
            downgrade: true,
            refuses_upgrade: true,
            revocation: true,
            lock_data: true,
            participants: true,
            workloads: Protection::ALL.to_vec(),
            oob: true,
            session_credentials: true,
            renews_session: true,
            requeues_on_expiry: true,
            in_harness_process: false,
            shares_session: false,
        };
        match self {
            Runtime::Rust => Capabilities { in_harness_process: true, ..zkurator },
            Runtime::RustProcess => zkurator,
            Runtime::RustTasks => Capabilities {
                in_harness_process: true,
                shares_session: true,
                renews_session: false,
                requeues_on_expiry: false,
                ..zkurator
            },
            Runtime::Curator => Capabilities {
                leases_wake_on_any_release: false,
                reentrant_leases: false,
                refuses_upgrade: false,
                renews_session: false,
                workloads: vec![Protection::Plain, Protection::Guarded],
                ..zkurator
            },
            Runtime::Kazurator => Capabilities {
                kinds: vec![Mutex, ReadWrite],
                leases: true,
                timeouts: true,
                reentrant: true,
                reentrant_leases: true,
                downgrade: true,
                revocation: true,
                participants: true,
                workloads: vec![Protection::Plain],
                session_credentials: true,
                ..Capabilities::default()
            },
            Runtime::KazooNative => Capabilities {
                kinds: vec![Mutex, ReadWrite],
                timeouts: true,
                lock_data: true,
                participants: true,
                session_credentials: true,
                ..Capabilities::default()
            },
            Runtime::ZkClient => Capabilities {
                kinds: vec![Mutex],
                timeouts: true,
                participants: true,
                session_credentials: true,
                in_harness_process: true,
                ..Capabilities::default()
            },
            Runtime::GoZk => Capabilities {
                kinds: vec![Mutex],
                lock_data: true,
                session_credentials: true,
                ..Capabilities::default()
            },
            Runtime::External(external) => external.capabilities.clone(),
        }
    }

    /// Lives in the harness's own process, so it cannot be killed.
    pub fn in_harness_process(&self) -> bool {
        self.capabilities().in_harness_process
    }

    /// Shares its session with other contenders, so one cannot lose it alone.
    pub fn shares_session(&self) -> bool {
        self.capabilities().shares_session
    }

    /// Carries on with a new session after its session expired (zkurator
    /// handles on a renewing session source).
    pub fn renews_session(&self) -> bool {
        self.capabilities().renews_session
    }

    /// The description of an added runtime, `None` for a built-in one.
    pub fn external(&self) -> Option<&External> {
        match self {
            Runtime::External(external) => Some(external),
            _ => None,
        }
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

/// A built-in name gives that runtime; any other name an added runtime known
/// by its name alone (no command, no declared capabilities), as in a
/// recorded history read without the table that ran it.
impl<'de> Deserialize<'de> for Runtime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(Runtime::builtin_named(&name).unwrap_or_else(|| Runtime::External(Arc::new(External::named(name)))))
    }
}

/// One runtime given as a command.
///
/// Two externals are the same runtime when their names are equal.
#[derive(Debug, Clone)]
pub struct External {
    /// The name scenarios, `--runtimes` and reports use.
    pub name: String,
    /// The program and its arguments.
    pub command: Vec<String>,
    /// What its hello declared.
    pub capabilities: Capabilities,
    /// Library versions its hello named, `name version` pairs.
    pub versions: Vec<(String, String)>,
}

impl External {
    /// A runtime known by its name alone.
    pub fn named(name: String) -> External {
        External { name, command: Vec::new(), capabilities: Capabilities::default(), versions: Vec::new() }
    }
}

impl PartialEq for External {
    fn eq(&self, other: &External) -> bool {
        self.name == other.name
    }
}

impl Eq for External {}

impl std::hash::Hash for External {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl PartialOrd for External {
    fn partial_cmp(&self, other: &External) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for External {
    fn cmp(&self, other: &External) -> std::cmp::Ordering {
        self.name.cmp(&other.name)
    }
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

/// The runtimes one invocation knows: the built-in ones, those added as
/// commands, and those the placeholders `$A`, `$B`... range over. Built once
/// (by the CLI from `--runtime`, `runtimes.toml` and `--placeholder-runtimes`)
/// and passed by reference to what reads runtime names.
///
/// ```
/// use zkurator_harness_core::runtimes::{Runtime, RuntimeTable};
/// let mut table = RuntimeTable::default();
/// let mine = table.add("mine", vec!["./mine".into()], Default::default(), vec![]).unwrap();
/// assert_eq!(table.named("mine"), Some(mine.clone()));
/// assert_eq!(table.named("curator"), Some(Runtime::Curator));
/// table.add_placeholder(mine.clone());
/// assert_eq!(table.placeholders().last(), Some(&mine));
/// ```
#[derive(Clone, Debug)]
pub struct RuntimeTable {
    externals: Vec<Runtime>,
    placeholders: Vec<Runtime>,
}

impl Default for RuntimeTable {
    /// The built-in runtimes only; placeholders range over rust, curator and kazurator.
    fn default() -> RuntimeTable {
        RuntimeTable { externals: Vec::new(), placeholders: Runtime::DEFAULT_PLACEHOLDER.to_vec() }
    }
}

impl RuntimeTable {
    /// Adds a runtime given as a command; returns the runtime that names it.
    /// (`$A`, `$B`... range over it only once [`RuntimeTable::add_placeholder`] says so.)
    pub fn add(
        &mut self,
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
        if self.named(name).is_some() {
            return Err(RegistryError::Taken(name.into()));
        }
        if command.is_empty() {
            return Err(RegistryError::EmptyCommand(name.into()));
        }
        if self.externals.len() >= 32 {
            return Err(RegistryError::Full);
        }
        let runtime = Runtime::External(Arc::new(External { name: name.into(), command, capabilities, versions }));
        self.externals.push(runtime.clone());
        Ok(runtime)
    }

    /// Makes `$A`, `$B`... also range over `runtime`.
    pub fn add_placeholder(&mut self, runtime: Runtime) {
        if !self.placeholders.contains(&runtime) {
            self.placeholders.push(runtime);
        }
    }

    /// Every runtime: the built-in ones, then the added ones.
    pub fn all(&self) -> Vec<Runtime> {
        Runtime::BUILTIN.into_iter().chain(self.externals.iter().cloned()).collect()
    }

    /// The runtimes added as commands, in the order they were added.
    pub fn externals(&self) -> &[Runtime] {
        &self.externals
    }

    /// The runtime called `name` (built-in or added).
    pub fn named(&self, name: &str) -> Option<Runtime> {
        Runtime::builtin_named(name).or_else(|| self.externals.iter().find(|r| r.name() == name).cloned())
    }

    /// The runtimes `$A`, `$B`... range over when a file does not say: rust,
    /// curator and kazurator, then the added ones.
    pub fn placeholders(&self) -> &[Runtime] {
        &self.placeholders
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_added_runtimes_are_found_by_name() {
        let caps = Capabilities { kinds: vec![crate::capabilities::KindName::Mutex], ..Default::default() };
        let mut table = RuntimeTable::default();
        let mut add = |name: &str, command: Vec<String>| table.add(name, command, caps.clone(), vec![]);
        assert_eq!(add("rust", vec!["x".into()]), Err(RegistryError::Taken("rust".into())));
        assert!(matches!(add("9x", vec!["x".into()]), Err(RegistryError::BadName(_))));
        assert!(matches!(add("a b", vec!["x".into()]), Err(RegistryError::BadName(_))));
        assert!(matches!(add("empty", vec![]), Err(RegistryError::EmptyCommand(_))));
        let mine = add("mine", vec!["/bin/true".into()]).unwrap();
        assert!(matches!(add("mine", vec!["x".into()]), Err(RegistryError::Taken(_))));
        assert_eq!(table.named("mine"), Some(mine.clone()));
        assert_eq!(mine.name(), "mine");
        assert!(mine.capabilities().has_kind(crate::protocol::LockKind::Mutex { max_leases: 1 }));
        assert!(table.externals().contains(&mine) && !table.placeholders().contains(&mine));
        assert_eq!(serde_json::to_string(&mine).unwrap(), "\"mine\"");
        // Read back without the table: the same runtime, by its name.
        assert_eq!(serde_json::from_str::<Runtime>("\"mine\"").unwrap(), mine);
        assert_eq!(serde_json::from_str::<Runtime>("\"go-zk\"").unwrap(), Runtime::GoZk);
        // Another table knows nothing of it: no state is shared.
        assert_eq!(RuntimeTable::default().named("mine"), None);
    }

    #[test]
    fn at_most_32_runtimes_are_added() {
        let mut table = RuntimeTable::default();
        for i in 0..32 {
            table.add(&format!("r{i}"), vec!["x".into()], Capabilities::default(), vec![]).unwrap();
        }
        assert_eq!(table.add("r32", vec!["x".into()], Capabilities::default(), vec![]), Err(RegistryError::Full));
    }
}
