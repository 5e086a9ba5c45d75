//! What the harness needs of a runtime: an [`Adapter`] prepares it once (a
//! JVM, a venv, a built program) and starts its contenders.
//!
//! Each runtime module has its adapter; [`crate::runner::Peers`] holds one
//! of each, built from values the CLI chose (the runtime table, the Curator
//! jars, the kazurator release), so nothing reaches a run through a global.

use std::fmt;

use crate::contender::{Contender, ContenderSpec, Runtime, StartError};

/// Starts one contender; made by an adapter and run on the contender's own
/// thread.
pub type Starter = Box<dyn FnOnce(&ContenderSpec) -> Result<Box<dyn Contender>, StartError> + Send>;

/// How the harness runs the contenders of a runtime (or of runtimes sharing
/// one preparation, like kazurator and kazoo-native).
pub trait Adapter: Send + Sync + fmt::Debug {
    /// Whether this adapter starts contenders of `runtime`.
    fn runs(&self, runtime: &Runtime) -> bool;

    /// Makes ready what its contenders need, once; later calls give the
    /// first answer.
    fn prepare(&self) -> Result<(), StartError>;

    /// What starts a contender of `runtime` (preparing first).
    fn starter(&self, runtime: &Runtime) -> Result<Starter, StartError>;

    /// The release of the lock library its contenders use, once prepared
    /// (`None` when not prepared or not known).
    fn release(&self) -> Option<String> {
        None
    }

    /// For reports and `doctor`: what this is, and what was found (the
    /// release and where it lives) or why it is unavailable. Prepares.
    fn describe(&self) -> (String, Result<String, StartError>);
}

/// A started contender as the runner drives it.
pub(crate) fn boxed<C: Contender + 'static>(started: Result<C, StartError>) -> Result<Box<dyn Contender>, StartError> {
    started.map(|c| Box::new(c) as Box<dyn Contender>)
}
