//! Turns Nagle's algorithm off on a client's ZooKeeper connections, so the
//! list an acquire sends right behind its create leaves at once.
//!
//! `zookeeper-client` 0.11 connects without `TCP_NODELAY` (the Java client and
//! so Curator set it). With Nagle's algorithm on, a request written while an
//! earlier one is unanswered waits for that answer: the list of children that
//! an acquire sends right behind its create goes out only when the create's
//! reply arrives, so an acquire costs two round trips instead of one, and a
//! release waits for whatever request is still in flight.
//!
//! [`connect`](crate::connect) and renewing [`SessionSource`](crate::SessionSource)s
//! do this for every client they make; [`keep_nodelay`] does it for a client
//! connected some other way. It finds the client's sockets to the servers of
//! its connect string and sets `TCP_NODELAY` on them, now and after every
//! reconnection. Linux only: it reads `/proc/self/fd` and takes a copy of
//! each socket with `pidfd_getfd(2)` (Linux 5.6), or, where a seccomp filter
//! or an old kernel refuses that (containers), with `fcntl(F_DUPFD_CLOEXEC)`.
//! Sockets of other clients in the process connected to the same servers are
//! switched too, which only makes them faster. Elsewhere it reports
//! [`NodelayError::Unsupported`] and the client keeps Nagle's algorithm
//! (correct, one round trip slower per acquire). Remove it once
//! `zookeeper-client` sets the option itself.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let servers = "127.0.0.1:2181";
//! let client = zookeeper_client::Client::connect(servers).await?;
//! let switched = zkurator::keep_nodelay(&client, servers).await?;
//! assert!(switched >= 1);
//! # Ok(()) }
//! ```

use std::net::SocketAddr;

use zookeeper_client::{Client, SessionState};

/// Why [`keep_nodelay`] could not switch Nagle's algorithm off.
///
/// ```no_run
/// # async fn demo(client: zkurator::zookeeper_client::Client) {
/// match zkurator::keep_nodelay(&client, "127.0.0.1:2181").await {
///     Ok(switched) => println!("{switched} socket(s) without Nagle's algorithm"),
///     Err(zkurator::NodelayError::Unsupported { what, .. }) => eprintln!("not here ({what}): one round trip more"),
///     Err(other) => eprintln!("{other}"),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodelayError {
    /// The connect string could not be read as `host:port[,host:port...][/chroot]`.
    #[error("bad connect string {connect_string:?}: {problem}")]
    BadConnectString {
        /// The connect string as given.
        connect_string: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A server's host name did not resolve.
    #[error("cannot resolve ZooKeeper server {host}: {source}")]
    Resolve {
        /// The `host:port` as written in the connect string.
        host: String,
        /// The resolver's error.
        source: std::io::Error,
    },
    /// The operating system refused (not Linux, or no way to reach the
    /// process's own descriptors).
    #[error("cannot reach the client's sockets ({what}): {source}")]
    Unsupported {
        /// The call that failed.
        what: &'static str,
        /// The system's error.
        source: std::io::Error,
    },
}

/// Sets `TCP_NODELAY` on `client`'s connection to the servers of
/// `connect_string` (the string the client was connected with), and again
/// after every reconnection until the session ends. Returns how many sockets
/// it switched now (0 while the client is disconnected).
///
/// Must be called inside a tokio runtime (it spawns the reconnection watcher).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let servers = "zk1:2181,zk2:2181,zk3:2181";
/// let client = zkurator::zookeeper_client::Client::connect(servers).await?;
/// zkurator::keep_nodelay(&client, servers).await?; // or build it with zkurator::connect
/// # Ok(()) }
/// ```
pub async fn keep_nodelay(client: &Client, connect_string: &str) -> Result<usize, NodelayError> {
    let servers = resolve(connect_string).await?;
    let switched = switch_sockets(&servers)?;
    let mut session = client.state_watcher();
    tokio::spawn(async move {
        loop {
            match session.changed().await {
                SessionState::SyncConnected | SessionState::ConnectedReadOnly => {
                    if let Err(error) = switch_sockets(&servers) {
                        tracing::warn!(%error, "could not set TCP_NODELAY after reconnecting");
                    }
                }
                state if state.is_terminated() => return,
                _ => {}
            }
        }
    });
    Ok(switched)
}

/// The socket addresses of every server in a connect string.
async fn resolve(connect_string: &str) -> Result<Vec<SocketAddr>, NodelayError> {
    let bad = |problem: &str| NodelayError::BadConnectString {
        connect_string: connect_string.to_owned(),
        problem: problem.to_owned(),
    };
    let hosts = connect_string.split('/').next().unwrap_or_default();
    if hosts.trim().is_empty() {
        return Err(bad("no server in it"));
    }
    let parsed = hosts
        .split(',')
        .map(str::trim)
        .map(|host| split_host_port(host).map(|name_port| (host, name_port)))
        .collect::<Option<Vec<_>>>();
    let Some(parsed) = parsed else {
        return Err(bad("every server must be host:port, [ipv6]:port or a bare host"));
    };
    let mut servers = Vec::new();
    for (host, (name, port)) in parsed {
        let found = tokio::net::lookup_host((name, port))
            .await
            .map_err(|source| NodelayError::Resolve { host: host.to_owned(), source })?;
        servers.extend(found.map(|address| SocketAddr::new(address.ip().to_canonical(), address.port())));
    }
    Ok(servers)
}

/// `host:port`, `[v6]:port`, or a bare host with ZooKeeper's port 2181.
fn split_host_port(host: &str) -> Option<(&str, u16)> {
    const DEFAULT_PORT: u16 = 2181;
    if let Some(rest) = host.strip_prefix('[') {
        let (name, after) = rest.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(port) => Some((name, port.parse().ok()?)),
            None if after.is_empty() => Some((name, DEFAULT_PORT)),
            None => None,
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && !name.contains(':') => Some((name, port.parse().ok()?)),
        Some(_) => None,
        None if host.is_empty() => None,
        None => Some((host, DEFAULT_PORT)),
    }
}

#[cfg(target_os = "linux")]
fn switch_sockets(servers: &[SocketAddr]) -> Result<usize, NodelayError> {
    use rustix::process::{getpid, pidfd_open, PidfdFlags};
    // pidfd_getfd where allowed; seccomp filters (containers) often refuse it.
    switch_sockets_with(servers, pidfd_open(getpid(), PidfdFlags::empty()).ok())
}

/// [`switch_sockets`] with copies taken through `this_process` (a pidfd), or
/// with `fcntl` when there is none or it is refused.
#[cfg(target_os = "linux")]
fn switch_sockets_with(
    servers: &[SocketAddr],
    this_process: Option<std::os::fd::OwnedFd>,
) -> Result<usize, NodelayError> {
    use rustix::process::{pidfd_getfd, PidfdGetfdFlags};

    let unsupported = |what| move |source: std::io::Error| NodelayError::Unsupported { what, source };
    let descriptors = std::fs::read_dir("/proc/self/fd").map_err(unsupported("read /proc/self/fd"))?;
    let mut switched = 0;
    for entry in descriptors.flatten() {
        let Some(fd) = entry.file_name().to_str().and_then(|name| name.parse().ok()) else { continue };
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|target| target.as_os_str().as_encoded_bytes().starts_with(b"socket:"));
        if !is_socket {
            continue;
        }
        let by_pidfd = this_process.as_ref().map(|pidfd| pidfd_getfd(pidfd, fd, PidfdGetfdFlags::empty()));
        let copy = match by_pidfd {
            Some(Ok(copy)) => copy,
            // Closed since the directory was read.
            Some(Err(rustix::io::Errno::BADF)) => continue,
            _ => match duplicate(fd) {
                Ok(copy) => copy,
                Err(rustix::io::Errno::BADF) => continue,
                Err(error) => return Err(unsupported("fcntl F_DUPFD_CLOEXEC")(error.into())),
            },
        };
        let socket = socket2::SockRef::from(&copy);
        if !matches!(socket.r#type(), Ok(socket2::Type::STREAM)) {
            continue;
        }
        let Some(peer) = socket.peer_addr().ok().and_then(|peer| peer.as_socket()) else { continue };
        let peer = SocketAddr::new(peer.ip().to_canonical(), peer.port());
        if servers.contains(&peer) {
            socket.set_tcp_nodelay(true).map_err(unsupported("setsockopt TCP_NODELAY"))?;
            switched += 1;
        }
    }
    Ok(switched)
}

/// A copy of this process's descriptor `fd` (the fallback to `pidfd_getfd`).
#[cfg(target_os = "linux")]
fn duplicate(fd: std::os::fd::RawFd) -> rustix::io::Result<std::os::fd::OwnedFd> {
    // SAFETY: `fd` is a number read from /proc/self/fd and is only used for
    // one fcntl call: closed meanwhile, the call fails with EBADF; reused
    // meanwhile, the copy is of that new descriptor, which the caller only
    // inspects (and switches only if it is a TCP socket to the servers).
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    rustix::io::fcntl_dupfd_cloexec(borrowed, 0)
}

#[cfg(not(target_os = "linux"))]
fn switch_sockets(_servers: &[SocketAddr]) -> Result<usize, NodelayError> {
    Err(NodelayError::Unsupported {
        what: "finding the client's sockets",
        source: std::io::Error::new(std::io::ErrorKind::Unsupported, "only implemented for Linux"),
    })
}

#[cfg(test)]
mod tests {
    use super::split_host_port;

    /// Both ways of reaching the process's own sockets switch a connected
    /// socket (the `fcntl` one is what containers that refuse `pidfd_getfd` get).
    #[cfg(target_os = "linux")]
    #[test]
    fn sockets_to_the_servers_are_switched_with_and_without_pidfd() {
        use rustix::process::{getpid, pidfd_open, PidfdFlags};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let server = listener.local_addr().unwrap();
        for pidfd in [false, true] {
            let stream = std::net::TcpStream::connect(server).unwrap();
            let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let elsewhere = std::net::TcpStream::connect(other.local_addr().unwrap()).unwrap();
            assert!(!stream.nodelay().unwrap());
            let this_process = pidfd.then(|| pidfd_open(getpid(), PidfdFlags::empty()).ok()).flatten();
            let switched = super::switch_sockets_with(&[server], this_process).unwrap();
            assert!(switched >= 1, "pidfd {pidfd}: nothing switched");
            assert!(stream.nodelay().unwrap(), "pidfd {pidfd}: the socket to the server kept Nagle on");
            assert!(!elsewhere.nodelay().unwrap(), "pidfd {pidfd}: a socket elsewhere was switched");
        }
    }

    #[test]
    fn host_port_forms() {
        assert_eq!(split_host_port("127.0.0.1:2181"), Some(("127.0.0.1", 2181)));
        assert_eq!(split_host_port("zk1.example"), Some(("zk1.example", 2181)));
        assert_eq!(split_host_port("[::1]:2182"), Some(("::1", 2182)));
        assert_eq!(split_host_port("[::1]"), Some(("::1", 2181)));
        assert_eq!(split_host_port("host:port"), None);
        assert_eq!(split_host_port(":2181"), None);
        assert_eq!(split_host_port("::1:2181"), None);
        assert_eq!(split_host_port("[::1]x"), None);
        assert_eq!(split_host_port(""), None);
    }
}
