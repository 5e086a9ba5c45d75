//! The proxy's handle ([`LatencyProxy`]): starting it, its settings, cutting
//! connections and stopping it.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

use super::accept::accept_loop;
use super::shared::{nanos, Dropping, Registry, Shared};
use super::timer::Timer;

/// How long [`LatencyProxy::cut_all`] waits for the cut connections to close.
const CUT_WAIT: Duration = Duration::from_secs(2);

/// A latency-injecting TCP proxy listening on `127.0.0.1:<free port>` and
/// forwarding every connection to one upstream address.
///
/// All methods take `&self` and may be called from any thread (share it with
/// an `Arc`). Dropping the proxy stops it and closes every connection.
pub struct LatencyProxy {
    shared: Arc<Shared>,
    local: SocketAddr,
    upstream: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    timer_thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for LatencyProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyProxy")
            .field("local", &self.local)
            .field("upstream", &self.upstream)
            .field("latency", &self.latency())
            .field("blackhole", &self.is_blackholed())
            .field("connections", &self.connections())
            .finish()
    }
}

impl LatencyProxy {
    /// Starts a proxy on `127.0.0.1` (a free port) to `upstream` (the first
    /// address it resolves to), delaying every chunk by at least `latency` in
    /// each direction: a request/response exchange takes at least
    /// `2 × latency` longer than without the proxy.
    ///
    /// The upstream is connected once per accepted connection; if that fails,
    /// the client's connection is closed.
    pub fn start(upstream: impl ToSocketAddrs, latency: Duration) -> io::Result<LatencyProxy> {
        let upstream = upstream
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "upstream resolves to no address"))?;
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        listener.set_nonblocking(true)?;
        let local = listener.local_addr()?;
        let (blackhole, _) = watch::channel(false);
        let (dropping, _) = watch::channel(Dropping::default());
        let timer = Arc::new(Timer::default());
        let timer_thread = {
            let timer = Arc::clone(&timer);
            std::thread::Builder::new()
                .name(format!("latency-proxy-timer-{}", local.port()))
                .spawn(move || timer.run())?
        };
        let shared = Arc::new(Shared {
            latency_nanos: AtomicU64::new(nanos(latency)),
            patience_nanos: AtomicU64::new(0),
            blackhole,
            dropping,
            registry: Mutex::new(Registry::default()),
            closed: Condvar::new(),
            accepted: AtomicU64::new(0),
            timer,
        });
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(e) => {
                shared.timer.stop();
                let _ = timer_thread.join();
                return Err(e);
            }
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();
        let loop_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new().name(format!("latency-proxy-{}", local.port())).spawn(move || {
            runtime.block_on(async move {
                let listener = match TcpListener::from_std(listener) {
                    Ok(listener) => listener,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                tokio::select! {
                    _ = stopped => {}
                    () = accept_loop(listener, upstream, loop_shared) => {}
                }
            });
            // Dropping the runtime drops every pump, which closes every socket.
            drop(runtime);
        });
        let thread = match thread {
            Ok(thread) => thread,
            Err(e) => {
                shared.timer.stop();
                let _ = timer_thread.join();
                return Err(e);
            }
        };
        let started = ready_rx
            .recv()
            .unwrap_or_else(|_| Err(io::Error::other("the proxy thread ended before it started listening")));
        let mut proxy = LatencyProxy {
            shared,
            local,
            upstream,
            stop: Some(stop),
            thread: Some(thread),
            timer_thread: Some(timer_thread),
        };
        if let Err(e) = started {
            proxy.shutdown();
            return Err(e);
        }
        tracing::debug!(%local, %upstream, ?latency, "latency proxy started");
        Ok(proxy)
    }

    /// The address clients connect to (`127.0.0.1:<port>`).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// [`LatencyProxy::local_addr`] as a ZooKeeper connect string.
    pub fn connect_string(&self) -> String {
        self.local.to_string()
    }

    /// Where the proxy forwards to.
    pub fn upstream(&self) -> SocketAddr {
        self.upstream
    }

    /// The delay added in each direction.
    pub fn latency(&self) -> Duration {
        self.shared.latency()
    }

    /// Changes the delay for chunks that arrive from now on (chunks already
    /// waiting keep theirs; order is kept either way).
    pub fn set_latency(&self, latency: Duration) {
        self.shared.latency_nanos.store(nanos(latency), Ordering::Relaxed);
    }

    /// How long a refused upstream connect is retried (every 20 ms) while
    /// the client's connection waits, before the proxy gives up and closes
    /// it; zero (the default) closes it at once. A client of a proxy cannot
    /// see a refusal (its own connect to the proxy succeeded), only a close
    /// after the connect: ZooKeeper's followers retry a refused connect to a
    /// leader that has not opened its port yet, but treat such a close as a
    /// lost leader, so the proxies between ensemble members wait instead.
    pub fn set_upstream_patience(&self, patience: Duration) {
        self.shared.patience_nanos.store(nanos(patience), Ordering::Relaxed);
    }

    /// Closes every connection open now, on both sides (the client and the
    /// upstream see their connection end), and returns how many there were.
    /// Bytes still waiting in the proxy are dropped. Returns once they are
    /// closed (or after 2 s). New connections are accepted as before.
    pub fn cut_all(&self) -> usize {
        let ids: Vec<u64> = {
            let mut registry = self.shared.registry();
            for connection in registry.open.values_mut() {
                connection.cut = true;
                for task in &connection.tasks {
                    task.abort();
                }
            }
            registry.open.keys().copied().collect()
        };
        let registry = self.shared.registry();
        let (registry, _timeout) = self
            .shared
            .closed
            .wait_timeout_while(registry, CUT_WAIT, |r| ids.iter().any(|id| r.open.contains_key(id)))
            .unwrap_or_else(PoisonError::into_inner);
        let left = ids.iter().filter(|id| registry.open.contains_key(id)).count();
        if left > 0 {
            tracing::warn!(left, "latency proxy: connections still closing after cut_all");
        }
        tracing::debug!(cut = ids.len(), proxy = %self.local, "latency proxy cut all connections");
        ids.len()
    }

    /// Starts (`true`) or ends (`false`) a partition. While on, nothing is
    /// forwarded in either direction and no new connection is accepted (the
    /// kernel still completes handshakes into the listen backlog, so a client's
    /// connect succeeds but nothing answers). Connections stay open; what was
    /// sent meanwhile is held and delivered, in order, when the partition ends,
    /// as TCP's retransmissions would after a short outage.
    pub fn set_blackhole(&self, on: bool) {
        self.shared.blackhole.send_replace(on);
        tracing::debug!(on, proxy = %self.local, "latency proxy blackhole");
    }

    /// Starts a partition that loses bytes: from now on what the client
    /// sends (`requests`) and what the server sends (`replies`) is read and
    /// dropped, per direction (chunks still waiting in the proxy are lost
    /// too). Connections stay open and new ones are accepted, and an end of
    /// stream in a dropping direction is not passed on while it drops, so
    /// neither end sees a close. `drop_direction(false, true)`
    /// lets requests reach the server and drops its replies;
    /// `drop_direction(false, false)` heals.
    ///
    /// A stream that lost bytes cannot go on (the next frame would be read
    /// from the middle of a lost one), so when dropping stops altogether the
    /// connections open then are closed ([`LatencyProxy::cut_all`]) and the
    /// clients connect afresh, as after a TCP connection that timed out.
    pub fn drop_direction(&self, requests: bool, replies: bool) {
        let before = self.shared.dropping.send_replace(Dropping { to_server: requests, to_client: replies });
        tracing::debug!(requests, replies, proxy = %self.local, "latency proxy drops");
        if (before.to_server || before.to_client) && !requests && !replies {
            self.cut_all();
        }
    }

    /// Which directions drop now: (requests, replies).
    pub fn dropping(&self) -> (bool, bool) {
        let d = *self.shared.dropping.borrow();
        (d.to_server, d.to_client)
    }

    /// Whether a partition is on.
    pub fn is_blackholed(&self) -> bool {
        *self.shared.blackhole.borrow()
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.shared.registry().open.len()
    }

    /// Connections accepted since the start.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::Relaxed)
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.shared.timer.stop();
        if let Some(thread) = self.timer_thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for LatencyProxy {
    fn drop(&mut self) {
        self.shutdown();
    }
}
