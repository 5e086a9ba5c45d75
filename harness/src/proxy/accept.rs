//! Accepting client connections and connecting each to the upstream.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

use super::pump::pump_then_close;
use super::shared::{Connection, Registration, Shared, Way};

/// Pause after a failed accept (such as too many open files).
const ACCEPT_RETRY_PAUSE: Duration = Duration::from_millis(20);
/// Pause between the retries of a refused upstream connect (see
/// [`super::LatencyProxy::set_upstream_patience`]).
const PATIENT_RETRY_PAUSE: Duration = Duration::from_millis(20);
/// Longest wait for the upstream connection of a new client connection.
const UPSTREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Accepts connections until the proxy stops; none while blackholed.
pub(super) async fn accept_loop(listener: TcpListener, upstream: SocketAddr, shared: Arc<Shared>) {
    let mut blackhole = shared.blackhole.subscribe();
    loop {
        if *blackhole.borrow_and_update() {
            if blackhole.changed().await.is_err() {
                return;
            }
            continue;
        }
        tokio::select! {
            changed = blackhole.changed() => if changed.is_err() { return },
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => {
                    shared.accepted.fetch_add(1, Ordering::Relaxed);
                    start_connection(client, upstream, &shared);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "latency proxy: accept failed");
                    tokio::time::sleep(ACCEPT_RETRY_PAUSE).await;
                }
            },
        }
    }
}

/// Registers a new connection and spawns its setup task.
pub(super) fn start_connection(client: TcpStream, upstream: SocketAddr, shared: &Arc<Shared>) {
    let mut registry = shared.registry();
    let id = registry.next_id;
    registry.next_id += 1;
    let registration = Arc::new(Registration { shared: Arc::clone(shared), id });
    let setup = tokio::spawn(connect_upstream(client, upstream, registration));
    registry.open.insert(id, Connection { tasks: vec![setup.abort_handle()], cut: false });
}

/// Connects to the upstream and starts the two pumps of a connection.
pub(super) async fn connect_upstream(client: TcpStream, upstream: SocketAddr, registration: Arc<Registration>) {
    let patience = Duration::from_nanos(registration.shared.patience_nanos.load(Ordering::Relaxed));
    let started = tokio::time::Instant::now();
    let connect = async {
        loop {
            match TcpStream::connect(upstream).await {
                Err(_) if started.elapsed() < patience => tokio::time::sleep(PATIENT_RETRY_PAUSE).await,
                done => return done,
            }
        }
    };
    let server = match tokio::time::timeout(UPSTREAM_CONNECT_TIMEOUT.max(patience), connect).await {
        Ok(Ok(server)) => server,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, %upstream, "latency proxy: upstream refused; closing the client connection");
            return;
        }
        Err(_) => {
            tracing::debug!(%upstream, "latency proxy: upstream connect timed out; closing the client connection");
            return;
        }
    };
    for stream in [&client, &server] {
        // The clients and ZooKeeper send small messages and wait for answers.
        let _ = stream.set_nodelay(true);
    }
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let shared = Arc::clone(&registration.shared);
    let mut registry = shared.registry();
    let Some(connection) = registry.open.get_mut(&registration.id) else { return };
    if connection.cut {
        return;
    }
    let to_server = tokio::spawn(pump_then_close(client_read, server_write, Way::ToServer, Arc::clone(&registration)));
    let to_client = tokio::spawn(pump_then_close(server_read, client_write, Way::ToClient, Arc::clone(&registration)));
    connection.tasks.push(to_server.abort_handle());
    connection.tasks.push(to_client.abort_handle());
}
