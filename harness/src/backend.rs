//! Where the ZooKeeper of a harness run comes from: a local server process
//! (default), an existing server or ensemble, or a Docker container.

use zkurator_testserver::ZkServer;

/// A ZooKeeper the harness runs against; dropping it stops what it started.
pub enum Backend {
    /// A server process started for this run.
    Local(Box<ZkServer>),
    /// A server or ensemble somebody else runs.
    External(String),
    /// The official `zookeeper` image in a container.
    #[cfg(feature = "docker")]
    Docker {
        /// Keeps the container alive.
        container: testcontainers::Container<testcontainers::GenericImage>,
        /// `127.0.0.1:<mapped port>`.
        connect: String,
    },
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Backend({})", self.describe())
    }
}

impl Backend {
    /// Starts a local server process with container cleanup every 500 ms, so
    /// the container scenario finishes quickly.
    pub fn local() -> Result<Backend, String> {
        ZkServer::builder()
            .container_check_interval(std::time::Duration::from_millis(500))
            .start()
            .map(|server| Backend::Local(Box::new(server)))
            .map_err(|e| e.to_string())
    }

    /// Uses an existing server or ensemble.
    pub fn external(connect: &str) -> Backend {
        Backend::External(connect.to_owned())
    }

    /// Starts `zookeeper:3.8` with testcontainers.
    #[cfg(feature = "docker")]
    pub fn docker() -> Result<Backend, String> {
        use testcontainers::core::{IntoContainerPort, WaitFor};
        use testcontainers::runners::SyncRunner;
        use testcontainers::{GenericImage, ImageExt};
        let image = GenericImage::new("zookeeper", "3.8")
            .with_exposed_port(2181.tcp())
            .with_wait_for(WaitFor::message_on_stdout("binding to port"))
            .with_env_var("ZOO_4LW_COMMANDS_WHITELIST", "*");
        let container = image.start().map_err(|e| {
            format!("could not start the zookeeper container ({e}); is a Docker engine running? Without Docker, drop `--zk docker` to use a local server process")
        })?;
        let port = container.get_host_port_ipv4(2181.tcp()).map_err(|e| format!("container port: {e}"))?;
        Ok(Backend::Docker { container, connect: format!("127.0.0.1:{port}") })
    }

    /// Without the `docker` feature, `--zk docker` explains how to get it.
    #[cfg(not(feature = "docker"))]
    pub fn docker() -> Result<Backend, String> {
        Err("this build has no Docker support: rebuild with `cargo build -p zkurator-harness --features docker` \
             (and a running Docker engine), or drop `--zk docker` to use a local server process"
            .into())
    }

    /// The connect string.
    pub fn connect_string(&self) -> String {
        match self {
            Backend::Local(server) => server.connect_string(),
            Backend::External(connect) => connect.clone(),
            #[cfg(feature = "docker")]
            Backend::Docker { connect, .. } => connect.clone(),
        }
    }

    /// For reports: what kind of backend and where.
    pub fn describe(&self) -> String {
        match self {
            Backend::Local(server) => format!("local server process at {}", server.connect_string()),
            Backend::External(connect) => format!("existing server(s) at {connect}"),
            #[cfg(feature = "docker")]
            Backend::Docker { connect, .. } => format!("docker zookeeper:3.8 at {connect}"),
        }
    }

    /// The server's version (`srvr` of the first server), or why not.
    pub fn server_version(&self) -> String {
        let connect = self.connect_string();
        let first = connect.split(',').next().unwrap_or_default();
        zkurator_testserver::server_version(first).unwrap_or_else(|e| format!("unknown ({e})"))
    }
}
