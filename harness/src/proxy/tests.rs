use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener, TcpStream as StdStream};
use std::thread;
use std::time::{Duration, Instant as StdInstant};

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

/// An echo server that also reports every chunk it received.
fn recording_echo_server() -> (SocketAddr, std::sync::mpsc::Receiver<Vec<u8>>) {
    let listener = StdListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (seen, received) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let Some(Ok(mut stream)) = listener.incoming().next() else { return };
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = seen.send(b"<eof>".to_vec());
                    return;
                }
                Ok(n) => {
                    let _ = seen.send(buf[..n].to_vec());
                    if stream.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            }
        }
    });
    (addr, received)
}

fn read_within(stream: &mut StdStream, within: Duration) -> Option<Vec<u8>> {
    stream.set_read_timeout(Some(within)).expect("timeout");
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Ok(n) => Some(buf[..n].to_vec()),
        Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => None,
        Err(e) => panic!("read: {e}"),
    }
}

#[test]
fn dropping_replies_lets_requests_through_and_loses_the_answers() {
    let (server, received) = recording_echo_server();
    let proxy = LatencyProxy::start(server, Duration::ZERO).expect("proxy");
    let mut client = connect(proxy.local_addr());
    ping(&mut client);
    assert_eq!(received.recv_timeout(Duration::from_secs(5)).expect("seen"), b"ping");
    let quiet = Duration::from_millis(300);

    proxy.drop_direction(false, true);
    assert_eq!(proxy.dropping(), (false, true));
    client.write_all(b"a").expect("write");
    assert_eq!(received.recv_timeout(Duration::from_secs(5)).expect("the request arrives"), b"a");
    assert_eq!(read_within(&mut client, quiet), None, "the reply must be dropped");

    proxy.drop_direction(true, true);
    client.write_all(b"b").expect("write");
    assert!(received.recv_timeout(quiet).is_err(), "nothing reaches the server in a full partition");
    assert_eq!(read_within(&mut client, quiet), None);

    // Healed: the connection that lost bytes is closed, nothing sent during
    // the partition is delivered late, and a new connection works.
    proxy.drop_direction(false, false);
    assert_eq!(read_within(&mut client, Duration::from_secs(5)), Some(Vec::new()), "closed at the heal");
    assert_eq!(received.recv_timeout(Duration::from_secs(5)).expect("the server sees the close"), b"<eof>");
    assert!(received.recv_timeout(Duration::from_millis(200)).is_err(), "nothing arrives late");
    assert_eq!(proxy.connections(), 0);
}

#[test]
fn a_close_in_a_dropping_direction_does_not_reach_the_server_during_the_partition() {
    let (server, received) = recording_echo_server();
    let proxy = LatencyProxy::start(server, Duration::ZERO).expect("proxy");
    let mut client = connect(proxy.local_addr());
    ping(&mut client);
    assert_eq!(received.recv_timeout(Duration::from_secs(5)).expect("seen"), b"ping");
    proxy.drop_direction(true, true);
    client.shutdown(std::net::Shutdown::Write).expect("shutdown");
    assert!(received.recv_timeout(Duration::from_millis(300)).is_err(), "the server must not see the close yet");
    proxy.drop_direction(false, false);
    assert_eq!(received.recv_timeout(Duration::from_secs(5)).expect("the close arrives"), b"<eof>");
}

#[test]
fn a_patient_proxy_waits_for_an_upstream_that_opens_late() {
    // A port nobody listens on yet.
    let late = StdListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let addr = late.local_addr().expect("addr");
    drop(late);
    let impatient = LatencyProxy::start(addr, Duration::ZERO).expect("proxy");
    let patient = LatencyProxy::start(addr, Duration::ZERO).expect("proxy");
    patient.set_upstream_patience(Duration::from_secs(3));
    let mut closed_at_once = connect(impatient.local_addr());
    let mut waiting = connect(patient.local_addr());
    waiting.write_all(b"early").expect("write");
    let mut byte = [0u8; 1];
    assert_eq!(closed_at_once.read(&mut byte).expect("a close, not an error"), 0, "the default closes at once");
    thread::sleep(Duration::from_millis(300));
    let upstream = StdListener::bind(addr).expect("the port is free again");
    let (mut accepted, _) = upstream.accept().expect("the patient proxy connects once the upstream listens");
    accepted.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let mut got = [0u8; 5];
    accepted.read_exact(&mut got).expect("what the client sent meanwhile");
    assert_eq!(&got, b"early");
}
