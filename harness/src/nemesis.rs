//! The nemesis: faults the runner injects into a run.
//!
//! * [`expire_session`] ends a ZooKeeper session from outside the client that
//!   owns it, the way Curator's test `KillSession` does: a second connection
//!   presents the session's id and password (the server moves the session to
//!   it and drops the owner's connection), then closes the session. The owner
//!   learns on its next reconnect that its session expired; the server deletes
//!   the session's ephemeral nodes at once. It speaks the two requests it needs
//!   of ZooKeeper's wire protocol itself, so it works for any runtime that can
//!   tell its session id and password (kazoo's `client_id`, ZooKeeper Java's
//!   `getSessionId`/`getSessionPasswd`).
//! * [`client_expirer`] does the same for a `zookeeper-client` [`Client`]
//!   (zkurator's contenders), whose password the crate does not expose: the
//!   client's own runtime is frozen for a moment (as a long pause would), a
//!   second client takes the session over with `Connector::with_session`
//!   and closes it, and the thawed client finds its session expired.
//! * [`ServerControl`] is what the runner may do to the servers of a run
//!   (restart a standalone server, kill an ensemble's leader or a follower,
//!   start every member again); [`crate::backend::Backend`] implements it for
//!   the servers it started.

use std::fmt;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::thread;
use std::time::{Duration, Instant};

use zookeeper_client::Client;

use crate::contender::Crasher;

/// The id and password of a ZooKeeper session: what a second connection needs
/// to take the session over.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionCredentials {
    /// The session id.
    pub id: i64,
    /// The session password (16 bytes from ZooKeeper 3.x servers).
    pub password: Vec<u8>,
}

impl fmt::Debug for SessionCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The password stays out of logs.
        write!(f, "SessionCredentials({:#x})", self.id)
    }
}

impl SessionCredentials {
    /// Parses `0x<hex id>` (or plain hex) and a hex password, the form the
    /// Python and Java adapters report.
    pub fn from_hex(id: &str, password: &str) -> Result<SessionCredentials, String> {
        let digits = id.trim().trim_start_matches("0x");
        let id = u64::from_str_radix(digits, 16).map_err(|e| format!("bad session id {id:?}: {e}"))? as i64;
        let password = password.trim();
        if !password.len().is_multiple_of(2) || password.is_empty() {
            return Err(format!("bad session password: {} hex digits", password.len()));
        }
        let password = (0..password.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&password[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|e| format!("bad session password: {e}"))?;
        Ok(SessionCredentials { id, password })
    }
}

/// How [`expire_session`] ended a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expired {
    /// Connections made (the session's owner may take it back in between).
    pub attempts: u32,
}

const CLOSE_SESSION: i32 = -11;

/// The bytes of a framed ConnectRequest taking over session `creds`.
pub fn encode_connect(creds: &SessionCredentials, timeout: Duration) -> Vec<u8> {
    let mut body = Vec::with_capacity(48);
    body.extend_from_slice(&0i32.to_be_bytes()); // protocol version
    body.extend_from_slice(&0i64.to_be_bytes()); // last zxid seen: 0 is never ahead of the server
    body.extend_from_slice(&(timeout.as_millis().min(i32::MAX as u128) as i32).to_be_bytes());
    body.extend_from_slice(&creds.id.to_be_bytes());
    body.extend_from_slice(&(creds.password.len() as i32).to_be_bytes());
    body.extend_from_slice(&creds.password);
    body.push(0); // not read-only
    frame(&body)
}

/// The bytes of a framed closeSession request.
pub fn encode_close_session(xid: i32) -> Vec<u8> {
    let mut body = Vec::with_capacity(8);
    body.extend_from_slice(&xid.to_be_bytes());
    body.extend_from_slice(&CLOSE_SESSION.to_be_bytes());
    frame(&body)
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 4);
    out.extend_from_slice(&(body.len() as i32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// The server's answer to a ConnectRequest (the body, without the length).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectResponse {
    /// Negotiated timeout in ms; zero or less means the session is expired.
    pub timeout_ms: i32,
    /// The session id the server attached the connection to.
    pub session_id: i64,
}

impl ConnectResponse {
    /// Whether the server said the session no longer exists.
    pub fn expired(&self) -> bool {
        self.timeout_ms <= 0
    }
}

/// Decodes a ConnectResponse body.
pub fn decode_connect_response(body: &[u8]) -> Result<ConnectResponse, String> {
    let int = |at: usize| body.get(at..at + 4).map(|b| i32::from_be_bytes(b.try_into().expect("4 bytes")));
    let long = |at: usize| body.get(at..at + 8).map(|b| i64::from_be_bytes(b.try_into().expect("8 bytes")));
    match (int(0), int(4), long(8)) {
        (Some(_version), Some(timeout_ms), Some(session_id)) => Ok(ConnectResponse { timeout_ms, session_id }),
        _ => Err(format!("short ConnectResponse ({} bytes)", body.len())),
    }
}

fn read_frame(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len)?;
    let len = i32::from_be_bytes(len);
    if !(0..=1 << 20).contains(&len) {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("frame length {len}")));
    }
    let mut body = vec![0u8; len as usize];
    stream.read_exact(&mut body)?;
    Ok(body)
}

/// Connects to the first server of `connect` that accepts a connection.
fn connect_any(connect: &str, timeout: Duration) -> Result<TcpStream, String> {
    let mut last = format!("no address in connect string {connect:?}");
    // A chroot suffix (`host:port/path`) belongs to the last host.
    let hosts = connect.split('/').next().unwrap_or_default();
    for host in hosts.split(',').map(str::trim).filter(|h| !h.is_empty()) {
        let addrs = match host.to_socket_addrs() {
            Ok(addrs) => addrs,
            Err(e) => {
                last = format!("{host}: {e}");
                continue;
            }
        };
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => {
                    let _ = stream.set_read_timeout(Some(timeout));
                    let _ = stream.set_write_timeout(Some(timeout));
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                Err(e) => last = format!("{addr}: {e}"),
            }
        }
    }
    Err(last)
}

/// One take-over: `Ok(true)` when the server says the session is gone,
/// `Ok(false)` when it was alive (and a close was sent).
fn take_over_and_close(connect: &str, creds: &SessionCredentials, io_timeout: Duration) -> Result<bool, String> {
    let mut stream = connect_any(connect, io_timeout)?;
    stream.write_all(&encode_connect(creds, Duration::from_secs(30))).map_err(|e| format!("send connect: {e}"))?;
    let response = read_frame(&mut stream).map_err(|e| format!("read ConnectResponse: {e}"))?;
    let response = decode_connect_response(&response)?;
    if response.expired() {
        return Ok(true);
    }
    stream.write_all(&encode_close_session(1)).map_err(|e| format!("send closeSession: {e}"))?;
    // The reply (or the end of the stream, if the owner took the session back
    // first) tells the close was handled; either way the caller checks again.
    let _ = read_frame(&mut stream);
    Ok(false)
}

/// Ends session `creds` on the servers at `connect` and returns once a fresh
/// connection is told the session is expired, or fails after `within`.
///
/// The session's owner races to reconnect and may take the session back
/// before the close lands; the take-over is repeated until the server confirms.
pub fn expire_session(connect: &str, creds: &SessionCredentials, within: Duration) -> Result<Expired, String> {
    let deadline = Instant::now() + within;
    let mut attempts = 0;
    let mut last_error = String::new();
    while Instant::now() < deadline {
        attempts += 1;
        let io_timeout = deadline
            .saturating_duration_since(Instant::now())
            .clamp(Duration::from_millis(100), Duration::from_secs(3));
        match take_over_and_close(connect, creds, io_timeout) {
            Ok(true) => return Ok(Expired { attempts }),
            Ok(false) => {}
            Err(e) => {
                last_error = e;
                thread::sleep(Duration::from_millis(50));
            }
        }
    }
    Err(format!(
        "session {:#x} at {connect} was not confirmed expired within {within:?} ({attempts} attempts{})",
        creds.id,
        if last_error.is_empty() { String::new() } else { format!("; last error: {last_error}") }
    ))
}

/// A handle that expires `client`'s session from outside (see the module
/// documentation). `runtime` is the runtime `client` was connected on; its
/// tasks (the client's connection among them) pause while the session is
/// taken over and closed, so the client cannot take it back in between.
pub fn client_expirer(client: &Client, runtime: tokio::runtime::Handle, connect: &str) -> Crasher {
    let session = client.session().clone();
    let timeout = client.session_timeout();
    let state = client.state_watcher();
    let connect = connect.to_owned();
    Box::new(move || {
        let Ok(twin_runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        for _ in 0..10 {
            if state.peek_state().is_terminated() {
                return;
            }
            // Freeze: a task that blocks the runtime's worker until thawed.
            let (frozen_tx, frozen_rx) = std::sync::mpsc::channel::<()>();
            let (thaw_tx, thaw_rx) = std::sync::mpsc::channel::<()>();
            runtime.spawn(async move {
                let _ = frozen_tx.send(());
                let _ = thaw_rx.recv_timeout(Duration::from_secs(10));
            });
            let _ = frozen_rx.recv_timeout(Duration::from_secs(2));
            twin_runtime.block_on(async {
                let twin = Client::connector()
                    .with_session_timeout(timeout)
                    .with_connection_timeout(Duration::from_millis(1000))
                    .with_session(session.clone())
                    .connect(&connect);
                if let Ok(Ok(twin)) = tokio::time::timeout(Duration::from_secs(2), twin).await {
                    let mut closing = twin.state_watcher();
                    // The last handle gone, the twin sends closeSession.
                    drop(twin);
                    let _ = tokio::time::timeout(Duration::from_secs(2), async {
                        while !closing.peek_state().is_terminated() {
                            closing.changed().await;
                        }
                    })
                    .await;
                }
            });
            let _ = thaw_tx.send(());
            // The thawed client reconnects and learns that its session expired.
            let mut state = state.clone();
            let ended = twin_runtime.block_on(async {
                tokio::time::timeout(Duration::from_secs(3), async {
                    while !state.peek_state().is_terminated() {
                        state.changed().await;
                    }
                })
                .await
            });
            if ended.is_ok() {
                return;
            }
        }
        tracing::warn!(session = ?session.id(), "could not expire the session");
    })
}

pub use zkurator_harness_core::steps::ServerOp;

/// What the runner may do to the servers of a run. Each call blocks until the
/// servers are in the state the op promises, and returns a short description
/// (e.g. which member was killed) or why not.
pub trait ServerControl: Send + Sync {
    /// Applies `op`.
    fn apply(&self, op: ServerOp) -> Result<String, ServerOpError>;
}

/// Why a server op was not done; the runner decides on the kind.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ServerOpError {
    /// The op does not apply to these servers (a standalone server asked to
    /// kill a leader, a member that does not exist, servers the harness did
    /// not start): the scenario's mistake, said with the fix.
    #[error("{0}")]
    NotHere(String),
    /// The servers did not reach the state the op promises (no leader
    /// elected, a member that did not start): the servers' failure.
    #[error("{0}")]
    Failed(String),
}

/// The control of servers the harness did not start: every op is refused.
#[derive(Clone, Debug)]
pub struct NoControl {
    /// What the servers are, for the message.
    pub describe: String,
}

impl ServerControl for NoControl {
    fn apply(&self, op: ServerOp) -> Result<String, ServerOpError> {
        Err(ServerOpError::NotHere(format!(
            "`zk {}` needs a local server the harness started (it has {}): drop --zk-connect / ZK_CONNECT to let the harness start one",
            op.name(),
            self.describe
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> SessionCredentials {
        SessionCredentials { id: 0x1000_0abc_0000_0001, password: (0u8..16).collect() }
    }

    #[test]
    fn connect_request_layout() {
        let bytes = encode_connect(&creds(), Duration::from_millis(4000));
        // length + version + zxid + timeout + id + passwd length + 16 + readonly
        assert_eq!(bytes.len(), 4 + 4 + 8 + 4 + 8 + 4 + 16 + 1);
        assert_eq!(&bytes[..4], &((bytes.len() - 4) as i32).to_be_bytes());
        assert_eq!(&bytes[16..20], &4000i32.to_be_bytes());
        assert_eq!(&bytes[20..28], &0x1000_0abc_0000_0001i64.to_be_bytes());
        assert_eq!(&bytes[28..32], &16i32.to_be_bytes());
        assert_eq!(bytes[32], 0);
        assert_eq!(*bytes.last().unwrap(), 0);
    }

    #[test]
    fn close_session_layout() {
        assert_eq!(encode_close_session(7), vec![0, 0, 0, 8, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xf5]);
    }

    #[test]
    fn connect_response_decodes_and_tells_expiry() {
        let mut body = Vec::new();
        body.extend_from_slice(&0i32.to_be_bytes());
        body.extend_from_slice(&4000i32.to_be_bytes());
        body.extend_from_slice(&42i64.to_be_bytes());
        let alive = decode_connect_response(&body).unwrap();
        assert_eq!(alive, ConnectResponse { timeout_ms: 4000, session_id: 42 });
        assert!(!alive.expired());
        body[4..8].copy_from_slice(&0i32.to_be_bytes());
        assert!(decode_connect_response(&body).unwrap().expired());
        assert!(decode_connect_response(&body[..10]).is_err());
    }

    #[test]
    fn credentials_parse_from_hex_and_hide_the_password() {
        let c = SessionCredentials::from_hex("0x10000abc0000001", "000102030405060708090a0b0c0d0e0f").unwrap();
        assert_eq!(c.id, 0x10000abc0000001);
        assert_eq!(c.password, (0u8..16).collect::<Vec<_>>());
        assert_eq!(format!("{c:?}"), "SessionCredentials(0x10000abc0000001)");
        let negative = SessionCredentials::from_hex("0xffffffffffffffff", "00").unwrap();
        assert_eq!(negative.id, -1);
        assert!(SessionCredentials::from_hex("zz", "00").is_err());
        assert!(SessionCredentials::from_hex("0x1", "0").is_err());
        assert!(SessionCredentials::from_hex("0x1", "").is_err());
        assert!(SessionCredentials::from_hex("0x1", "gg").is_err());
    }

    #[test]
    fn unreachable_servers_fail_within_the_bound() {
        let started = Instant::now();
        let err = expire_session("127.0.0.1:1", &creds(), Duration::from_millis(300)).unwrap_err();
        assert!(err.contains("not confirmed expired"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn servers_the_harness_did_not_start_refuse_ops() {
        let control = NoControl { describe: "existing server(s) at 10.0.0.1:2181".into() };
        let err = control.apply(ServerOp::Restart).unwrap_err();
        let ServerOpError::NotHere(err) = err else { panic!("refused as a failure: {err:?}") };
        assert!(err.contains("zk restart") && err.contains("needs a local server"), "{err}");
        assert!(ServerOp::KillLeader.needs_ensemble() && !ServerOp::Restart.needs_ensemble());
    }
}
