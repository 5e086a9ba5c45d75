//! The runtimes contenders run on ([`Peers`]): the invocation's runtime
//! table and one adapter per runtime, built once from values
//! ([`PeerChoices`]) and handed to the scheduler and every run.

use std::path::PathBuf;
use std::sync::Arc;

use crate::contender::{Runtime, StartError};
use crate::runtime::adapter::{Adapter, Starter};
use crate::runtime::curator::{CuratorAdapter, CuratorRuntime};
use crate::runtime::external::ExternalAdapter;
use crate::runtime::go_zk::GoZkAdapter;
use crate::runtime::kazurator::{KazuratorAdapter, KazuratorRuntime};
use crate::runtime::rust::RustAdapter;
use crate::runtime::rust_process::{RustProcessAdapter, RustProcessRuntime};
use crate::runtime::zk_client::ZkClientAdapter;
use crate::runtimes::RuntimeTable;
pub use crate::versions::PeerChoices;
use zkurator::negative::NegativeControl;

/// Starts contenders of every runtime of its table: one adapter per
/// runtime, each preparing on first use what it needs (the JVM, the Python
/// venv, the Go program) and sharing it with every run of the invocation.
#[derive(Debug)]
pub struct Peers {
    table: RuntimeTable,
    curator: Arc<CuratorAdapter>,
    kazurator: Arc<KazuratorAdapter>,
    rust_process: Arc<RustProcessAdapter>,
    adapters: Vec<Arc<dyn Adapter>>,
    added: ExternalAdapter,
    server_jars: Option<Vec<PathBuf>>,
}

impl Default for Peers {
    /// The built-in runtimes, with the choices of the environment.
    fn default() -> Peers {
        Peers::new(RuntimeTable::default(), PeerChoices::from_env())
    }
}

impl Peers {
    /// The peers of `table`'s runtimes, with `choices`. Adding a runtime
    /// means adding its adapter to this list.
    pub fn new(table: RuntimeTable, choices: PeerChoices) -> Peers {
        let rust_process = Arc::new(match choices.harness_binary {
            Some(binary) => RustProcessAdapter::with_binary(binary),
            None => RustProcessAdapter::default(),
        });
        let curator = Arc::new(CuratorAdapter::new(choices.curator_classpath, rust_process.clone()));
        let kazurator = Arc::new(KazuratorAdapter::new(choices.kazurator_release));
        let adapters: Vec<Arc<dyn Adapter>> = vec![
            Arc::new(RustAdapter::new(choices.negative_control)),
            rust_process.clone(),
            curator.clone(),
            kazurator.clone(),
            Arc::new(ZkClientAdapter),
            Arc::new(GoZkAdapter::default()),
        ];
        let server_jars = choices.server_jars;
        Peers { table, curator, kazurator, rust_process, adapters, added: ExternalAdapter, server_jars }
    }

    /// Peers of the built-in runtimes whose `rust-process` contenders run
    /// `binary` (tests pass `env!("CARGO_BIN_EXE_zkurator-harness")`).
    pub fn with_harness_binary(binary: PathBuf) -> Peers {
        Peers::new(RuntimeTable::default(), PeerChoices { harness_binary: Some(binary), ..PeerChoices::from_env() })
    }

    /// Peers of the built-in runtimes whose in-process zkurator contenders
    /// are broken on purpose by `control` (a negative control).
    pub fn with_negative_control(control: NegativeControl) -> Peers {
        Peers::new(RuntimeTable::default(), PeerChoices { negative_control: Some(control), ..PeerChoices::from_env() })
    }

    /// The runtimes these peers know, by name.
    pub fn table(&self) -> &RuntimeTable {
        &self.table
    }

    /// The adapter of `runtime`.
    pub fn adapter(&self, runtime: &Runtime) -> Result<&dyn Adapter, StartError> {
        self.adapters().find(|a| a.runs(runtime)).ok_or_else(|| StartError::NoAdapter(runtime.clone()))
    }

    /// Every adapter: the built-in runtimes' in the order of the list, then
    /// the one of the added runtimes.
    pub fn adapters(&self) -> impl Iterator<Item = &dyn Adapter> {
        self.adapters.iter().map(|a| a.as_ref()).chain(std::iter::once(&self.added as &dyn Adapter))
    }

    /// The adapters of the built-in runtimes (for `doctor`).
    pub fn builtin_adapters(&self) -> impl Iterator<Item = &dyn Adapter> {
        self.adapters.iter().map(|a| a.as_ref())
    }

    /// The jars of the ZooKeeper release the harness's own servers run
    /// (`None`: the environment's): [`crate::backend::Backend::local_with`].
    pub fn server_jars(&self) -> Option<&[PathBuf]> {
        self.server_jars.as_deref()
    }

    /// The Curator JVM, started on first use.
    pub fn curator(&self) -> Result<CuratorRuntime, StartError> {
        self.curator.runtime()
    }

    /// The Python runtime, prepared on first use.
    pub fn kazurator(&self) -> Result<KazuratorRuntime, StartError> {
        self.kazurator.runtime()
    }

    /// The runtime of `rust-process` contenders (finds the harness binary on first use).
    pub fn rust_process(&self) -> Result<RustProcessRuntime, StartError> {
        self.rust_process.runtime()
    }

    /// What starts a contender of `runtime` (`pin`: a Curator release other
    /// than the JVM's, run in a worker process), on the thread that will
    /// drive it.
    pub(super) fn starter(
        &self,
        runtime: &Runtime,
        pin: Option<crate::versions::Version>,
    ) -> Result<Starter, StartError> {
        match pin {
            Some(version) => self.curator.pinned(version),
            None => self.adapter(runtime)?.starter(runtime),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_runtime_of_the_table_has_exactly_one_adapter() {
        let mut table = RuntimeTable::default();
        let added = table.add("mine", vec!["/bin/true".into()], Default::default(), vec![]).unwrap();
        let peers = Peers::new(table, PeerChoices::default());
        for runtime in peers.table().all() {
            let running = peers.adapters().filter(|a| a.runs(&runtime)).count();
            assert_eq!(running, 1, "{runtime}");
        }
        let running = |runtimes: &[Runtime]| peers.adapters().filter(|a| runtimes.iter().any(|r| a.runs(r))).count();
        assert_eq!(running(&[Runtime::Kazurator, Runtime::KazooNative, added]), 2);
    }
}
