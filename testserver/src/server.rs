//! A standalone ZooKeeper server ([`ZkServer`]) and the builder shared with ensembles.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::config::{Settings, ZooCfg};
use crate::ensemble::ZkEnsemble;
use crate::error::ServerError;
use crate::ports::free_port;
use crate::process::{create_dir, is_port_clash, wait_ready, write_file, Node, Ready, Runtime, STANDALONE_MAIN};
use crate::watchdog::Watchdog;

/// How many times startup is retried on fresh ports when a port turned out to be taken.
pub(crate) const PORT_ATTEMPTS: usize = 3;

/// Settings for a [`ZkServer`] or [`ZkEnsemble`].
///
/// ```no_run
/// use std::time::Duration;
/// let server = zkurator_testserver::ZkServer::builder()
///     .force_sync(false)
///     .tick_time(Duration::from_millis(100))
///     .start()?;
/// println!("ZooKeeper at {}", server.connect_string());
/// # Ok::<(), zkurator_testserver::ServerError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ServerBuilder {
    settings: Settings,
}

impl Default for ServerBuilder {
    fn default() -> Self {
        ServerBuilder {
            settings: Settings {
                tick_time: Duration::from_millis(200),
                force_sync: true,
                max_session_timeout: Duration::from_secs(60),
                startup_timeout: Duration::from_secs(30),
                container_check_interval: Duration::from_secs(1),
            },
        }
    }
}

impl ServerBuilder {
    /// The defaults: `forceSync` on, 200 ms ticks (so sessions may be as short as 400 ms),
    /// sessions up to 60 s, 30 s to start.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether every transaction-log write is fsynced before it is acknowledged (`true`,
    /// ZooKeeper's default). `false` writes `forceSync=no`: faster, right for measuring
    /// client overhead, wrong for durability tests.
    pub fn force_sync(mut self, force_sync: bool) -> Self {
        self.settings.force_sync = force_sync;
        self
    }

    /// ZooKeeper's `tickTime` (default 200 ms, at least 1 ms). The smallest session
    /// timeout the server grants is two ticks.
    pub fn tick_time(mut self, tick_time: Duration) -> Self {
        self.settings.tick_time = tick_time;
        self
    }

    /// The largest session timeout the server grants (`maxSessionTimeout`, default 60 s).
    pub fn max_session_timeout(mut self, timeout: Duration) -> Self {
        self.settings.max_session_timeout = timeout;
        self
    }

    /// How often the server deletes empty container nodes
    /// (`-Dznode.container.checkIntervalMs`; default 1 s here, 60 s in ZooKeeper).
    pub fn container_check_interval(mut self, interval: Duration) -> Self {
        self.settings.container_check_interval = interval;
        self
    }

    /// How long [`start`](Self::start), [`ZkServer::restart`] and ensemble startup wait for
    /// the server to serve before giving up with [`ServerError::StartTimeout`]
    /// (default 30 s).
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.settings.startup_timeout = timeout;
        self
    }

    /// Starts a standalone server on a free 127.0.0.1 port in a fresh temporary directory
    /// and waits until it serves.
    pub fn start(self) -> Result<ZkServer, ServerError> {
        ZkServer::start_with(self.validated()?)
    }

    /// Starts an ensemble of `n` servers with these settings; see [`ZkEnsemble::start`].
    pub fn start_ensemble(self, n: usize) -> Result<ZkEnsemble, ServerError> {
        ZkEnsemble::start_with(self.validated()?, n)
    }

    fn validated(self) -> Result<Settings, ServerError> {
        let s = &self.settings;
        if s.tick_ms() == 0 {
            return Err(ServerError::InvalidConfig(format!("tick_time must be at least 1 ms, got {:?}", s.tick_time)));
        }
        if s.startup_timeout.is_zero() {
            return Err(ServerError::InvalidConfig("startup_timeout must not be zero".to_owned()));
        }
        Ok(self.settings)
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
            let cfg = ZooCfg { settings: &settings, data_dir: node.data_dir.clone(), client_port: port, ensemble: &[] };
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
