//! A standalone ZooKeeper server ([`ZkServer`]).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use tempfile::TempDir;

use crate::builder::{ServerBuilder, PORT_ATTEMPTS};
use crate::config::{Settings, ZooCfg};
use crate::error::ServerError;
use crate::ports::free_port;
use crate::process::{create_dir, is_port_clash, wait_ready, write_file, Node, Ready, Runtime, STANDALONE_MAIN};
use crate::watchdog::Watchdog;

impl ServerBuilder {
    /// Starts a standalone server on a free 127.0.0.1 port in a fresh temporary directory
    /// and waits until it serves.
    pub fn start(self) -> Result<ZkServer, ServerError> {
        ZkServer::start_with(self.validated()?)
    }
}

/// A running (or stopped) standalone ZooKeeper server: a `java` child process serving
/// `127.0.0.1:<port>` from a temporary directory.
///
/// Dropping it kills the JVM and deletes the directory. If this process dies without
/// dropping it (panic with `panic=abort`, SIGKILL, `std::process::exit`), a watchdog does
/// the same, so the server never outlives the test process.
#[derive(Debug)]
pub struct ZkServer {
    port: u16,
    data_dir: PathBuf,
    settings: Settings,
    runtime: Runtime,
    state: Mutex<State>,
    // Declared last: removed after the watchdog is done.
    _dir: TempDir,
}

#[derive(Debug)]
struct State {
    node: Node,
    watchdog: Watchdog,
}

impl ZkServer {
    /// Starts a server with [`ServerBuilder`]'s defaults.
    pub fn start() -> Result<ZkServer, ServerError> {
        ServerBuilder::new().start()
    }

    /// A builder for a server with non-default settings.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::new()
    }

    fn start_with(settings: Settings) -> Result<ZkServer, ServerError> {
        let runtime = Runtime::locate(&settings)?;
        let dir = tempfile::Builder::new()
            .prefix("zkurator-zk-")
            .tempdir()
            .map_err(|e| ServerError::io("creating a temporary directory", e))?;
        let mut watchdog = Watchdog::start(dir.path())?;
        let mut attempt = 1;
        let node = loop {
            let port = free_port()?;
            let mut node = Node::new(dir.path(), port, STANDALONE_MAIN);
            create_dir(&node.data_dir)?;
            let cfg = ZooCfg {
                settings: &settings,
                data_dir: node.data_dir.clone(),
                client_port: port,
                ensemble: &[],
                routes: None,
            };
            write_file(&node.config, &cfg.render())?;
            match launch(&mut node, &runtime, &mut watchdog, &settings) {
                Ok(()) => break node,
                Err(e) if attempt < PORT_ATTEMPTS && is_port_clash(&e) => {
                    tracing::debug!(port, error = %e, "port taken; retrying on another");
                    // Start the next attempt with an empty log so the clash is not seen again.
                    let _ = std::fs::remove_file(&node.log);
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        };
        Ok(ZkServer {
            port: node.port,
            data_dir: node.data_dir.clone(),
            settings,
            runtime,
            state: Mutex::new(State { node, watchdog }),
            _dir: dir,
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The address clients connect to: `127.0.0.1:<port>`.
    pub fn connect_string(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The client port (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's `dataDir` (snapshots and transaction logs).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The file that receives the server's stdout and stderr (warnings and errors).
    pub fn log_file(&self) -> PathBuf {
        self.state().node.log.clone()
    }

    /// Whether the server's JVM is running.
    pub fn is_running(&self) -> bool {
        let state = &mut *self.state();
        state.node.is_running(&mut state.watchdog)
    }

    /// The process id of the server's JVM, if it is running (to read what
    /// the server costs, as the benchmark does with its CPU time).
    pub fn pid(&self) -> Option<u32> {
        let state = &mut *self.state();
        state.node.pid(&mut state.watchdog)
    }

    /// Kills the server (SIGKILL, as in a crash) and waits for it to exit. The data
    /// directory is kept, so [`restart`](Self::restart) finds the same data. Does nothing
    /// if it is not running.
    pub fn stop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        state.node.stop(&mut state.watchdog);
    }

    /// Stops the server if it runs, then starts it again on the same port with the same
    /// data directory and waits until it serves.
    pub fn restart(&mut self) -> Result<(), ServerError> {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        state.node.stop(&mut state.watchdog);
        launch(&mut state.node, &self.runtime, &mut state.watchdog, &self.settings)
    }
}

impl Drop for ZkServer {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        state.node.stop(&mut state.watchdog);
        state.watchdog.finish();
        tracing::debug!(port = self.port, "ZooKeeper server dropped");
    }
}

/// Spawns `node` and waits until it serves; kills it again if it does not.
fn launch(node: &mut Node, runtime: &Runtime, watchdog: &mut Watchdog, settings: &Settings) -> Result<(), ServerError> {
    let started = Instant::now();
    node.spawn(runtime, watchdog)?;
    let result =
        wait_ready(std::slice::from_mut(node), watchdog, Ready::Serving, started, started + settings.startup_timeout);
    if result.is_err() {
        node.stop(watchdog);
    }
    result
}
