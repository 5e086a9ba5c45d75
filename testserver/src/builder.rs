//! The settings shared by standalone servers and ensembles ([`ServerBuilder`]).
//! Starting is added where each kind of server lives: [`ServerBuilder::start`]
//! (in `server`) and [`ServerBuilder::start_ensemble`] (in `ensemble`).

use std::time::Duration;

use crate::config::Settings;
use crate::error::ServerError;
#[cfg(doc)]
use crate::{ZkEnsemble, ZkServer};

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
                classpath: None,
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

    /// The ZooKeeper release to run, as its classpath (jars and
    /// directories). Default: [`crate::zookeeper_classpath`]'s lookup
    /// (`ZK_CLASSPATH`, `ZOOKEEPER_HOME`, then Debian's jars).
    pub fn classpath(mut self, entries: Vec<std::path::PathBuf>) -> Self {
        self.settings.classpath = Some(entries);
        self
    }

    pub(crate) fn validated(self) -> Result<Settings, ServerError> {
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
