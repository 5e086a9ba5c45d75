//! The runtimes added at run time (`--runtime NAME=COMMAND`, `runtimes.toml`)
//! and the runtimes scenario placeholders range over.
//!
//! A process-wide table: the CLI (or a test) registers each external runtime
//! once, with the capabilities its hello declared, before scenarios are read;
//! [`crate::contender::Runtime::External`] then names it by index.

use std::sync::RwLock;

use crate::capabilities::Capabilities;
use crate::contender::Runtime;

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
        assert!(mine.capabilities().has_kind(crate::contender::LockKind::Mutex { max_leases: 1 }));
        assert!(externals().contains(&mine) && !placeholder_runtimes().contains(&mine));
        assert_eq!(serde_json::to_string(&mine).unwrap(), "\"registry-test-mine\"");
        assert_eq!(serde_json::from_str::<Runtime>("\"registry-test-mine\"").unwrap(), mine);
        assert!(register("registry-test-mine", vec!["x".into()], Capabilities::default(), vec![]).is_err());
    }
}
