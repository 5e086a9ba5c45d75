//! Checks made once before a suite or a generated run, so that a missing
//! piece fails in seconds with the problem and the fix instead of after
//! (or as) every run: the report files can be written, the server answers
//! with a session, and every runtime asked for starts.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::contender::Runtime;
use crate::runner::Peers;

/// How long the server has to accept a TCP connection.
pub const TCP_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the server has to give a session.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(5);

/// What is missing, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreflightError {
    /// No server answers at the connect string.
    #[error(
        "no ZooKeeper answers at {connect}: {why}. Start one there, or drop --zk-connect to let the harness start a local server"
    )]
    Server {
        /// The connect string.
        connect: String,
        /// What happened.
        why: String,
    },
    /// A runtime asked for cannot start.
    #[error("the {runtime} runtime cannot start: {why} (`zkurator-harness doctor` shows what is found and how to install the rest)")]
    Runtime {
        /// The runtime.
        runtime: Runtime,
        /// Its start error, with its own fix.
        why: crate::contender::StartError,
    },
    /// A report file cannot be written.
    #[error("cannot write the report {}: {why}. Create its directory or choose another path", path.display())]
    Report {
        /// The report path.
        path: PathBuf,
        /// What happened.
        why: String,
    },
}

/// Checks that every path can be written, before anything runs: its
/// directory exists and a file can be created in it (removed again).
pub fn report_paths<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Result<(), PreflightError> {
    for path in paths {
        let failed = |why: String| PreflightError::Report { path: path.to_owned(), why };
        if path.is_dir() {
            return Err(failed("it is a directory".into()));
        }
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(failed(format!("no directory {}", dir.display())));
        }
        let probe = dir.join(format!(".zkurator-harness-probe-{}", std::process::id()));
        std::fs::write(&probe, b"").map_err(|e| failed(e.to_string()))?;
        let _ = std::fs::remove_file(&probe);
    }
    Ok(())
}

/// Checks that a server at `connect` gives a session within
/// [`TCP_TIMEOUT`] + [`SESSION_TIMEOUT`].
pub fn server(connect: &str) -> Result<(), PreflightError> {
    let failed = |why: String| PreflightError::Server { connect: connect.to_owned(), why };
    let reachable = connect.split(',').map(str::trim).filter(|h| !h.is_empty()).find_map(|host| {
        use std::net::ToSocketAddrs;
        let addrs = host.to_socket_addrs().ok()?;
        addrs.into_iter().find(|a| std::net::TcpStream::connect_timeout(a, TCP_TIMEOUT).is_ok())
    });
    if reachable.is_none() {
        return Err(failed(format!("no TCP connection within {TCP_TIMEOUT:?}")));
    }
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| failed(format!("no tokio runtime: {e}")))?;
    let session = tokio.block_on(async {
        let connecting = zookeeper_client::Client::connector()
            .with_session_timeout(Duration::from_secs(4))
            .with_connection_timeout(SESSION_TIMEOUT)
            .connect(connect);
        tokio::time::timeout(SESSION_TIMEOUT, connecting).await
    });
    match session {
        Ok(Ok(client)) => {
            tokio.block_on(async { drop(client) });
            Ok(())
        }
        Ok(Err(e)) => Err(failed(format!("no session: {e}"))),
        Err(_) => Err(failed(format!("the port accepts connections but no session came within {SESSION_TIMEOUT:?}"))),
    }
}

/// Starts (once, shared with the runs) every runtime in `runtimes` that
/// needs more than this process: the JVM with Curator, Python with
/// kazurator, the harness binary for `rust-process`.
pub fn runtimes(runtimes: &[Runtime], peers: &Peers) -> Result<(), PreflightError> {
    for runtime in runtimes {
        let started = peers.adapter(runtime).and_then(|adapter| adapter.prepare());
        started.map_err(|why| PreflightError::Runtime { runtime: runtime.clone(), why })?;
    }
    Ok(())
}

/// The runtimes some contender of `scenarios` uses, each once, in the order
/// they first appear.
pub fn used(scenarios: &[crate::scenario::Scenario]) -> Vec<Runtime> {
    let mut used: Vec<Runtime> = Vec::new();
    for (_, runtime) in scenarios.iter().flat_map(|s| &s.contenders) {
        if !used.contains(runtime) {
            used.push(runtime.clone());
        }
    }
    used
}
