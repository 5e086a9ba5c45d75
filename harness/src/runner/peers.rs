//! The runtimes contenders run on ([`Peers`]), made once per process, and the
//! [`Starter`] that starts one contender of a runtime on its own thread.

use std::sync::OnceLock;

use crate::contender::{Contender, ContenderSpec, Runtime};
use crate::runtime::curator::CuratorRuntime;
use crate::runtime::go_zk::GoZkRuntime;
use crate::runtime::kazurator::KazuratorRuntime;
use crate::runtime::line::LineProcess;
use crate::runtime::rust::RustContender;
use crate::runtime::rust_process::RustProcessRuntime;
use crate::runtime::zk_client::ZkClientContender;

/// Starts contenders of every runtime; the JVM and the Python venv are made
/// on first use and shared by all runs of the process.
#[derive(Debug, Default)]
pub struct Peers {
    curator: OnceLock<Result<CuratorRuntime, String>>,
    kazurator: OnceLock<Result<KazuratorRuntime, String>>,
    rust_process: OnceLock<Result<RustProcessRuntime, String>>,
    go_zk: OnceLock<Result<GoZkRuntime, String>>,
}

impl Peers {
    /// The Curator runtime, started on first use.
    pub fn curator(&self) -> Result<CuratorRuntime, String> {
        self.curator.get_or_init(|| CuratorRuntime::start().map_err(|e| e.to_string())).clone()
    }

    /// The Python runtime, prepared on first use.
    pub fn kazurator(&self) -> Result<KazuratorRuntime, String> {
        self.kazurator.get_or_init(|| KazuratorRuntime::new().map_err(|e| e.to_string())).clone()
    }

    /// The go-zk adapter, built on first use.
    pub fn go_zk(&self) -> Result<GoZkRuntime, String> {
        self.go_zk.get_or_init(|| GoZkRuntime::new().map_err(|e| e.to_string())).clone()
    }

    /// Peers whose `rust-process` contenders run `binary` (tests pass
    /// `env!("CARGO_BIN_EXE_zkurator-harness")`).
    pub fn with_harness_binary(binary: std::path::PathBuf) -> Peers {
        let peers = Peers::default();
        let _ = peers.rust_process.set(Ok(RustProcessRuntime::with_binary(binary)));
        peers
    }

    /// The runtime of `rust-process` contenders (finds the harness binary on first use).
    pub fn rust_process(&self) -> Result<RustProcessRuntime, String> {
        self.rust_process.get_or_init(|| RustProcessRuntime::new().map_err(|e| e.to_string())).clone()
    }

    /// What starts a Curator contender pinned to `version`: a worker process
    /// with that release's jars (from the Maven cache).
    pub(super) fn curator_worker(&self, version: crate::versions::Version) -> Result<Starter, String> {
        use crate::versions::{maven, selection};
        let pick = selection::Pick { version, source: selection::Source::Maven };
        let jars = maven::curator_jars(pick).map_err(|e| e.to_string())?.unwrap_or_default();
        Ok(Starter::Worker(self.rust_process()?, maven::classpath(&jars)))
    }

    /// What starts a contender of `runtime` on the thread that will drive it.
    pub(super) fn starter(&self, runtime: Runtime) -> Result<Starter, String> {
        Ok(match runtime {
            Runtime::Rust | Runtime::RustTasks => Starter::Rust(runtime),
            Runtime::RustProcess => Starter::RustProcess(self.rust_process()?),
            Runtime::ZkClient => Starter::ZkClient,
            Runtime::Curator => Starter::Curator(self.curator()?),
            Runtime::Kazurator | Runtime::KazooNative => Starter::Python(self.kazurator()?, runtime),
            Runtime::GoZk => Starter::Line(self.go_zk()?.process(), runtime),
            Runtime::External(_) => Starter::Line(
                crate::runtime::external::process(runtime).ok_or("not a registered external runtime")?,
                runtime,
            ),
        })
    }
}

/// Starts one contender; sent to the contender's own thread.
pub(super) enum Starter {
    Rust(Runtime),
    RustProcess(RustProcessRuntime),
    /// A Curator contender in a worker process, with these jars.
    Worker(RustProcessRuntime, String),
    ZkClient,
    Curator(CuratorRuntime),
    Python(KazuratorRuntime, Runtime),
    /// A program speaking the contender protocol (go-zk, external runtimes).
    Line(LineProcess, Runtime),
}

impl Starter {
    /// Starts the contender of `spec` (on the calling thread).
    pub(super) fn start(self, spec: &ContenderSpec) -> Result<Box<dyn Contender>, String> {
        fn boxed<C: Contender + 'static, E: std::fmt::Display>(r: Result<C, E>) -> Result<Box<dyn Contender>, String> {
            r.map(|c| Box::new(c) as Box<dyn Contender>).map_err(|e| e.to_string())
        }
        match self {
            Starter::Rust(runtime) => boxed(RustContender::start(runtime, spec)),
            Starter::RustProcess(process) => boxed(process.start_contender(spec)),
            Starter::Worker(process, jars) => {
                boxed(process.start_worker(spec, Runtime::Curator, &[(crate::versions::axis::CURATOR_CLASSPATH, jars)]))
            }
            Starter::ZkClient => boxed(ZkClientContender::start(spec)),
            Starter::Curator(curator) => boxed(curator.start_contender(spec)),
            Starter::Python(python, runtime) => boxed(python.start_contender(runtime, spec)),
            Starter::Line(process, runtime) => boxed(process.start(runtime, spec, crate::runtime::child::START_LIMIT)),
        }
    }
}
