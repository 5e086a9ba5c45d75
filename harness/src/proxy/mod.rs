//! A TCP proxy on 127.0.0.1 that delays traffic and injects faults: put it
//! between ZooKeeper clients and a server to add network latency
//! ([`LatencyProxy::start`], [`LatencyProxy::set_latency`]), drop every
//! connection ([`LatencyProxy::cut_all`]) or simulate a partition
//! ([`LatencyProxy::set_blackhole`] holds the bytes and delivers them when it
//! ends; [`LatencyProxy::drop_direction`] loses them, one direction or both:
//! dropping only the replies lets requests reach the server).
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

mod accept;
mod handle;
mod pump;
mod shared;
mod timer;

#[cfg(test)]
mod tests;

pub use handle::LatencyProxy;
