//! A TCP proxy on 127.0.0.1 that delays traffic and injects faults: put it
//! between ZooKeeper clients and a server to add network latency
//! ([`LatencyProxy::start`], [`LatencyProxy::set_latency`]), drop every
//! connection ([`LatencyProxy::cut_all`]) or simulate a partition
//! ([`LatencyProxy::set_blackhole`]).
//!
//! # How it works
//!
//! The proxy runs on its own thread with its own single-threaded tokio
//! runtime, so it works the same from synchronous tests, from async tests and
//! next to other runtimes, and is not slowed down by the code it measures.
//! The accept loop takes a connection, connects to the upstream address and
//! starts two pump tasks, one per direction. A pump reads whatever arrives,
//! stamps each chunk with `arrival + latency` and keeps it in a FIFO queue; it
//! writes a chunk once its time has come. The delay is therefore added once
//! per chunk and chunks overlap in flight (a stream of chunks is not slowed
//! down by `n × latency`), and bytes leave in the order they came in.
//!
//! Chunks are released by a timer thread of the proxy's own (a condition
//! variable wait, precise to some tens of microseconds), not by tokio's timer:
//! tokio rounds every sleep up to the next millisecond and a 1 ms sleep takes
//! about 2 ms, which would double a 1 ms latency. A chunk leaves no earlier
//! than `latency` after it arrived, typically within 0.1 ms of that. With a
//! latency of zero, chunks are forwarded as soon as they are read.
//!
//! ```no_run
//! use std::time::Duration;
//! use zkurator_harness::proxy::LatencyProxy;
//!
//! let server = zkurator_testserver::ZkServer::start()?;
//! let proxy = LatencyProxy::start(server.connect_string(), Duration::from_millis(1))?;
//! // Clients connect to proxy.connect_string() instead of the server:
//! // every request now takes at least 2 ms longer.
//! proxy.set_blackhole(true); // a partition: nothing gets through, in either direction
//! proxy.set_blackhole(false); // healed: what was held back is delivered, in order
//! proxy.cut_all(); // every client sees its connection closed and reconnects
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::AbortHandle;

/// The most a pump reads at once.
const CHUNK_SIZE: usize = 64 * 1024;
/// A pump stops reading while this many bytes wait in its queue (backpressure).
const MAX_QUEUED_BYTES: usize = 4 * 1024 * 1024;
/// How long [`LatencyProxy::cut_all`] waits for the cut connections to close.
const CUT_WAIT: Duration = Duration::from_secs(2);
/// Pause after a failed accept (such as too many open files).
const ACCEPT_RETRY_PAUSE: Duration = Duration::from_millis(20);
/// Longest wait for the upstream connection of a new client connection.
const UPSTREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

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

/// State shared by the handle, the accept loop and the pumps.
struct Shared {
    latency_nanos: AtomicU64,
    blackhole: watch::Sender<bool>,
    registry: Mutex<Registry>,
    /// Signalled whenever a connection is gone from the registry.
    closed: Condvar,
    accepted: AtomicU64,
    timer: Arc<Timer>,
}

/// Fires one-shot alarms at given instants, from a thread of its own.
#[derive(Default)]
struct Timer {
    state: Mutex<TimerState>,
    changed: Condvar,
}

#[derive(Default)]
struct TimerState {
    alarms: BinaryHeap<Reverse<Alarm>>,
    next_seq: u64,
    stop: bool,
}

/// One pending alarm; ordered by time, then by registration.
struct Alarm {
    at: Instant,
    seq: u64,
    fire: oneshot::Sender<()>,
}

impl PartialEq for Alarm {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Alarm {}

impl PartialOrd for Alarm {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Alarm {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl Timer {
    fn state(&self) -> MutexGuard<'_, TimerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A receiver that completes at `at` (at once if `at` has passed).
    fn alarm(&self, at: Instant) -> oneshot::Receiver<()> {
        let (fire, fired) = oneshot::channel();
        if at <= Instant::now() {
            let _ = fire.send(());
            return fired;
        }
        let mut state = self.state();
        let seq = state.next_seq;
        state.next_seq += 1;
        let earliest = state.alarms.peek().is_none_or(|Reverse(first)| at < first.at);
        state.alarms.push(Reverse(Alarm { at, seq, fire }));
        drop(state);
        if earliest {
            self.changed.notify_one();
        }
        fired
    }

    /// The timer thread's loop: fires alarms when due, until stopped.
    fn run(&self) {
        let mut state = self.state();
        loop {
            if state.stop {
                return;
            }
            let now = Instant::now();
            let next = state.alarms.peek().map(|Reverse(first)| first.at);
            state = match next {
                Some(at) if at <= now => {
                    if let Some(Reverse(alarm)) = state.alarms.pop() {
                        // A dropped receiver (its pump moved on) is fine.
                        let _ = alarm.fire.send(());
                    }
                    state
                }
                Some(at) => self.changed.wait_timeout(state, at - now).unwrap_or_else(PoisonError::into_inner).0,
                None => self.changed.wait(state).unwrap_or_else(PoisonError::into_inner),
            };
        }
    }

    fn stop(&self) {
        self.state().stop = true;
        self.changed.notify_all();
    }
}

/// The open connections, by id.
#[derive(Default)]
struct Registry {
    next_id: u64,
    open: HashMap<u64, Connection>,
}

/// The tasks of one connection: its setup task, then its two pumps.
struct Connection {
    tasks: Vec<AbortHandle>,
    /// Set by `cut_all`: a setup task that has not started its pumps yet must not.
    cut: bool,
}

/// Removes its connection from the registry when the last task of the
/// connection lets go of it (finished or aborted).
struct Registration {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.shared.registry().open.remove(&self.id);
        self.shared.closed.notify_all();
    }
}

impl Shared {
    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn latency(&self) -> Duration {
        Duration::from_nanos(self.latency_nanos.load(Ordering::Relaxed))
    }
}

fn nanos(latency: Duration) -> u64 {
    u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX)
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
        let timer = Arc::new(Timer::default());
        let timer_thread = {
            let timer = Arc::clone(&timer);
            std::thread::Builder::new()
                .name(format!("latency-proxy-timer-{}", local.port()))
                .spawn(move || timer.run())?
        };
        let shared = Arc::new(Shared {
            latency_nanos: AtomicU64::new(nanos(latency)),
            blackhole,
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

/// Accepts connections until the proxy stops; none while blackholed.
async fn accept_loop(listener: TcpListener, upstream: SocketAddr, shared: Arc<Shared>) {
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
fn start_connection(client: TcpStream, upstream: SocketAddr, shared: &Arc<Shared>) {
    let mut registry = shared.registry();
    let id = registry.next_id;
    registry.next_id += 1;
    let registration = Arc::new(Registration { shared: Arc::clone(shared), id });
    let setup = tokio::spawn(connect_upstream(client, upstream, registration));
    registry.open.insert(id, Connection { tasks: vec![setup.abort_handle()], cut: false });
}

/// Connects to the upstream and starts the two pumps of a connection.
async fn connect_upstream(client: TcpStream, upstream: SocketAddr, registration: Arc<Registration>) {
    let server = match tokio::time::timeout(UPSTREAM_CONNECT_TIMEOUT, TcpStream::connect(upstream)).await {
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
    let to_server = tokio::spawn(pump_then_close(client_read, server_write, Arc::clone(&registration)));
    let to_client = tokio::spawn(pump_then_close(server_read, client_write, Arc::clone(&registration)));
    connection.tasks.push(to_server.abort_handle());
    connection.tasks.push(to_client.abort_handle());
}

/// Runs one direction; when it fails, ends the whole connection (both
/// directions), as a broken TCP connection would.
async fn pump_then_close(from: OwnedReadHalf, to: OwnedWriteHalf, registration: Arc<Registration>) {
    let shared = &registration.shared;
    if let Err(e) = pump(from, to, shared, shared.blackhole.subscribe()).await {
        tracing::debug!(error = %e, "latency proxy: connection ended");
        if let Some(connection) = shared.registry().open.get(&registration.id) {
            for task in &connection.tasks {
                task.abort();
            }
        }
    }
}

/// Forwards `from` to `to`, each chunk at `arrival + latency`, in order.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    shared: &Shared,
    mut blackhole: watch::Receiver<bool>,
) -> io::Result<()> {
    let mut queue: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
    let mut queued_bytes = 0usize;
    let mut eof = false;
    let mut buf = vec![0u8; CHUNK_SIZE];
    // The alarm for the chunk at the front of the queue, once set.
    let mut alarm: Option<(Instant, oneshot::Receiver<()>)> = None;
    loop {
        let held = *blackhole.borrow_and_update();
        if eof && queue.is_empty() {
            // Pass the end of the stream on: the peer sees a half close.
            return to.shutdown().await;
        }
        match queue.front() {
            Some((due, _)) if alarm.as_ref().map(|(at, _)| at) != Some(due) => {
                alarm = Some((*due, shared.timer.alarm(*due)));
            }
            Some(_) => {}
            None => alarm = None,
        }
        let can_read = !held && !eof && queued_bytes < MAX_QUEUED_BYTES;
        tokio::select! {
            changed = blackhole.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
            }
            read = from.read(&mut buf), if can_read => {
                let n = read?;
                if n == 0 {
                    eof = true;
                } else {
                    queue.push_back((Instant::now() + shared.latency(), buf[..n].to_vec()));
                    queued_bytes += n;
                }
            }
            () = rings(&mut alarm), if !held && alarm.is_some() => {
                alarm = None;
                let now = Instant::now();
                while queue.front().is_some_and(|(due, _)| *due <= now) {
                    let (_, chunk) = queue.pop_front().expect("checked above");
                    queued_bytes -= chunk.len();
                    to.write_all(&chunk).await?;
                }
            }
        }
    }
}

/// Completes when the alarm fires (never without one).
async fn rings(alarm: &mut Option<(Instant, oneshot::Receiver<()>)>) {
    match alarm {
        // An error means the timer stopped: the proxy is going away.
        Some((_, fired)) => {
            let _ = fired.await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener as StdListener, TcpStream as StdStream};
    use std::thread;
    use std::time::Instant as StdInstant;

    use super::*;

    /// An echo server on 127.0.0.1 (one thread per connection); it lives as long as the test process.
    fn echo_server() -> SocketAddr {
        let listener = StdListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let addr = listener.local_addr().expect("addr");
        thread::spawn(move || {
            for stream in listener.incoming().take(64) {
                let Ok(mut stream) = stream else { continue };
                thread::spawn(move || {
                    let _ = stream.set_nodelay(true);
                    let mut buf = [0u8; 8192];
                    loop {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => {
                                if stream.write_all(&buf[..n]).is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
        addr
    }

    fn connect(addr: SocketAddr) -> StdStream {
        let stream = StdStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        stream
    }

    /// Round trip of one small message.
    fn ping(stream: &mut StdStream) -> Duration {
        let started = StdInstant::now();
        stream.write_all(b"ping").expect("write");
        let mut reply = [0u8; 4];
        stream.read_exact(&mut reply).expect("echo");
        assert_eq!(&reply, b"ping");
        started.elapsed()
    }

    fn median(mut samples: Vec<Duration>) -> Duration {
        samples.sort();
        samples[samples.len() / 2]
    }

    #[test]
    fn adds_the_latency_in_both_directions() {
        let echo = echo_server();
        let proxy = LatencyProxy::start(echo, Duration::from_millis(1)).expect("proxy");
        let mut direct = connect(echo);
        let mut proxied = connect(proxy.local_addr());
        let direct_rtt = median((0..30).map(|_| ping(&mut direct)).collect());
        let proxied: Vec<Duration> = (0..30).map(|_| ping(&mut proxied)).collect();
        let fastest = *proxied.iter().min().expect("samples");
        let added = median(proxied).saturating_sub(direct_rtt);
        eprintln!("round trip: direct {direct_rtt:?}, proxied fastest {fastest:?}, added (median) {added:?}");
        assert!(fastest >= Duration::from_millis(2), "a proxied round trip took only {fastest:?}");
        assert!(added >= Duration::from_millis(2), "added round-trip time {added:?}");
        // Precise to well under a millisecond on a quiet machine; generous for loaded CI machines.
        assert!(added < Duration::from_millis(6), "added round-trip time {added:?} is far too large");
        assert_eq!(proxy.accepted(), 1);
        assert_eq!(proxy.connections(), 1);
    }

    #[test]
    fn chunks_in_flight_overlap_and_keep_their_order() {
        let echo = echo_server();
        let latency = Duration::from_millis(40);
        let proxy = LatencyProxy::start(echo, latency).expect("proxy");
        let mut stream = connect(proxy.local_addr());
        let mut reader = stream.try_clone().expect("clone");
        let sent: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        let expected = sent.clone();
        let started = StdInstant::now();
        let collector = thread::spawn(move || {
            let mut got = vec![0u8; expected.len()];
            reader.read_exact(&mut got).expect("echoed bytes");
            assert!(got == expected, "bytes came back reordered or changed");
        });
        // 20 separate chunks, 2 ms apart: serialised delays would need 20 × 80 ms.
        for piece in sent.chunks(1000) {
            stream.write_all(piece).expect("write");
            thread::sleep(Duration::from_millis(2));
        }
        collector.join().expect("collector");
        let took = started.elapsed();
        assert!(took >= 2 * latency, "everything came back in {took:?}, before the round-trip latency");
        assert!(took < Duration::from_millis(600), "took {took:?}: delays were serialised");
    }

    #[test]
    fn latency_can_change_while_running() {
        let echo = echo_server();
        let proxy = LatencyProxy::start(echo, Duration::ZERO).expect("proxy");
        let mut stream = connect(proxy.local_addr());
        let fast = median((0..10).map(|_| ping(&mut stream)).collect());
        proxy.set_latency(Duration::from_millis(10));
        assert_eq!(proxy.latency(), Duration::from_millis(10));
        let slow = median((0..5).map(|_| ping(&mut stream)).collect());
        assert!(slow >= Duration::from_millis(20), "with 10 ms each way a round trip took {slow:?}");
        assert!(fast < Duration::from_millis(20), "without latency a round trip took {fast:?}");
    }

    #[test]
    fn cut_all_closes_both_sides_and_new_connections_work() {
        let echo = echo_server();
        let proxy = LatencyProxy::start(echo, Duration::from_millis(1)).expect("proxy");
        let mut first = connect(proxy.local_addr());
        let mut second = connect(proxy.local_addr());
        ping(&mut first);
        ping(&mut second);
        assert_eq!(proxy.connections(), 2);
        assert_eq!(proxy.cut_all(), 2);
        assert_eq!(proxy.connections(), 0);
        for stream in [&mut first, &mut second] {
            let mut buf = [0u8; 4];
            // Closed by the proxy: end of stream, or a reset if the write below raced it.
            let _ = stream.write_all(b"ping");
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => {}
                Ok(n) => panic!("read {n} bytes from a cut connection"),
            }
        }
        let mut third = connect(proxy.local_addr());
        ping(&mut third);
        assert_eq!(proxy.connections(), 1);
        assert_eq!(proxy.accepted(), 3);
    }

    #[test]
    fn blackhole_holds_traffic_and_connections_until_it_ends() {
        let echo = echo_server();
        let proxy = LatencyProxy::start(echo, Duration::from_millis(1)).expect("proxy");
        let mut stream = connect(proxy.local_addr());
        ping(&mut stream);
        proxy.set_blackhole(true);
        assert!(proxy.is_blackholed());
        stream.set_read_timeout(Some(Duration::from_millis(300))).expect("timeout");
        stream.write_all(b"held").expect("write");
        let mut buf = [0u8; 4];
        let err = stream.read_exact(&mut buf).expect_err("nothing may get through a blackhole");
        assert!(matches!(err.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut), "{err}");
        // A new connection gets no service either.
        let mut late = connect(proxy.local_addr());
        late.set_read_timeout(Some(Duration::from_millis(200))).expect("timeout");
        late.write_all(b"late").expect("write");
        assert!(late.read_exact(&mut buf).is_err());
        assert_eq!(proxy.accepted(), 1);

        proxy.set_blackhole(false);
        stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        stream.read_exact(&mut buf).expect("held bytes arrive after the partition");
        assert_eq!(&buf, b"held");
        ping(&mut stream);
        late.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        late.read_exact(&mut buf).expect("the queued connection is served after the partition");
        assert_eq!(&buf, b"late");
        assert_eq!(proxy.accepted(), 2);
    }

    #[test]
    fn a_closing_client_closes_the_upstream_and_drop_stops_everything() {
        let echo = echo_server();
        let proxy = LatencyProxy::start(echo, Duration::ZERO).expect("proxy");
        let mut stream = connect(proxy.local_addr());
        ping(&mut stream);
        drop(stream);
        let deadline = StdInstant::now() + Duration::from_secs(5);
        while proxy.connections() > 0 && StdInstant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(proxy.connections(), 0, "the connection outlived its client");

        let mut open = connect(proxy.local_addr());
        ping(&mut open);
        let addr = proxy.local_addr();
        drop(proxy);
        let mut buf = [0u8; 4];
        let _ = open.write_all(b"ping");
        assert!(matches!(open.read(&mut buf), Ok(0) | Err(_)), "a connection outlived the proxy");
        assert!(StdStream::connect(addr).is_err(), "the proxy still listens after drop");
    }

    #[test]
    fn a_zookeeper_session_rides_out_a_cut_and_a_partition() {
        use zookeeper_client::{Acls, Client, CreateMode};

        let server = zkurator_testserver::ZkServer::builder().force_sync(false).start().expect("ZooKeeper");
        let proxy = LatencyProxy::start(server.connect_string(), Duration::from_millis(1)).expect("proxy");
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
        runtime.block_on(async {
            let client = Client::connector()
                .with_session_timeout(Duration::from_secs(20))
                .connect(&proxy.connect_string())
                .await
                .expect("connect through the proxy");
            let session = client.session_id();
            let ephemeral = CreateMode::Ephemeral.with_acls(Acls::anyone_all());
            client.create("/proxy-test", b"x", &ephemeral).await.expect("create");
            // Reads until one succeeds (the client reconnects by itself), for at most 15 s.
            let read_back = |client: Client| async move {
                for _ in 0..150 {
                    if let Ok((data, _)) = client.get_data("/proxy-test").await {
                        return data;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                panic!("no read succeeded after the fault");
            };

            assert_eq!(proxy.cut_all(), 1);
            assert_eq!(read_back(client.clone()).await, b"x");
            assert_eq!(client.session_id(), session, "the session survives a cut connection");
            assert!(proxy.accepted() >= 2, "the client reconnected through the proxy");

            proxy.set_blackhole(true);
            let during = tokio::time::timeout(Duration::from_millis(500), client.get_data("/proxy-test")).await;
            assert!(!matches!(during, Ok(Ok(_))), "a read got through the partition");
            proxy.set_blackhole(false);
            assert_eq!(read_back(client.clone()).await, b"x");
            assert_eq!(client.session_id(), session, "the session survives a short partition");
        });
    }

    #[test]
    fn an_unreachable_upstream_closes_the_client() {
        // A port that was free a moment ago: nothing listens there.
        let unused = StdListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind").local_addr().expect("addr");
        let proxy = LatencyProxy::start(unused, Duration::ZERO).expect("proxy");
        let mut stream = connect(proxy.local_addr());
        let mut buf = [0u8; 4];
        let _ = stream.write_all(b"ping");
        assert!(matches!(stream.read(&mut buf), Ok(0) | Err(_)));
    }
}
