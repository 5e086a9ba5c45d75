//! A TCP proxy in front of the test server whose connections can be cut:
//! the client sees a connection loss, reconnects through the proxy and keeps
//! its session (shorter than the session timeout), as after a network blip.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// A proxy to one upstream server; dropped, it stops accepting and cuts all.
pub struct CutProxy {
    address: SocketAddr,
    pumps: Arc<Mutex<Vec<AbortHandle>>>,
    acceptor: AbortHandle,
}

impl CutProxy {
    /// Listens on a free loopback port and forwards to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> CutProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port for the proxy");
        let address = listener.local_addr().expect("the proxy's address");
        let pumps: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let upstream = upstream.to_owned();
        let accepted = pumps.clone();
        let acceptor = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let pump = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                accepted.lock().unwrap().push(pump.abort_handle());
            }
        })
        .abort_handle();
        CutProxy { address, pumps, acceptor }
    }

    /// The connect string of the proxy.
    pub fn connect_string(&self) -> String {
        self.address.to_string()
    }

    /// Cuts every connection open now; returns how many.
    pub fn cut(&self) -> usize {
        let pumps = std::mem::take(&mut *self.pumps.lock().unwrap());
        pumps.iter().for_each(AbortHandle::abort);
        pumps.len()
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.cut();
    }
}
