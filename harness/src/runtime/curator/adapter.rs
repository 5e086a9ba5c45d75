//! [`CuratorAdapter`]: `curator` contenders in this process's JVM, and
//! Curator contenders pinned to another release in worker processes.

use std::ffi::OsString;
use std::sync::{Arc, OnceLock};

use super::CuratorRuntime;
use crate::contender::{Runtime, StartError};
use crate::runtime::adapter::{boxed, Adapter, Starter};
use crate::runtime::rust_process::RustProcessAdapter;
use crate::versions::Version;

/// Runs `curator` contenders: starts the JVM with its jars on first use.
#[derive(Debug)]
pub struct CuratorAdapter {
    /// The Curator jars (a colon-separated list; `None`: Debian's).
    classpath: Option<OsString>,
    jvm: OnceLock<Result<CuratorRuntime, StartError>>,
    /// Starts the worker processes of pinned releases.
    workers: Arc<RustProcessAdapter>,
}

impl CuratorAdapter {
    /// An adapter whose JVM loads the jars of `classpath` (`None`: Debian's),
    /// and whose pinned contenders run in `workers`' child processes.
    pub fn new(classpath: Option<OsString>, workers: Arc<RustProcessAdapter>) -> CuratorAdapter {
        CuratorAdapter { classpath, jvm: OnceLock::new(), workers }
    }

    /// The JVM, started on first use.
    pub fn runtime(&self) -> Result<CuratorRuntime, StartError> {
        self.jvm.get_or_init(|| CuratorRuntime::start_with(self.classpath.as_deref())).clone()
    }

    /// What starts a Curator contender pinned to `version`: a worker process
    /// with that release's jars (from the Maven cache).
    pub fn pinned(&self, version: Version) -> Result<Starter, StartError> {
        use crate::versions::{maven, selection};
        let pick = selection::Pick { version, source: selection::Source::Maven };
        let failed = |message: String| StartError::Failed { runtime: Runtime::Curator, id: String::new(), message };
        let jars = maven::curator_jars(pick).map_err(|e| failed(e.to_string()))?.unwrap_or_default();
        let (process, jars) = (self.workers.runtime()?, maven::classpath(&jars));
        Ok(Box::new(move |spec| {
            boxed(process.start_worker(spec, Runtime::Curator, &[(crate::versions::axis::CURATOR_CLASSPATH, jars)]))
        }))
    }
}

impl Adapter for CuratorAdapter {
    fn runs(&self, runtime: &Runtime) -> bool {
        *runtime == Runtime::Curator
    }

    fn prepare(&self) -> Result<(), StartError> {
        self.runtime().map(drop)
    }

    fn starter(&self, _: &Runtime) -> Result<Starter, StartError> {
        let curator = self.runtime()?;
        Ok(Box::new(move |spec| boxed(curator.start_contender(spec))))
    }

    fn release(&self) -> Option<String> {
        self.runtime().ok().map(|c| c.version())
    }

    fn describe(&self) -> (String, Result<String, StartError>) {
        ("Curator".into(), self.runtime().map(|c| format!("{} ({})", c.version(), c.curator_location())))
    }
}
