//! The pumps: one direction of a connection, each chunk delayed by the
//! latency, in order.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{oneshot, watch};

use super::shared::{Dropping, Registration, Shared, Way};
use super::timer::rings;

/// The most a pump reads at once.
const CHUNK_SIZE: usize = 64 * 1024;
/// A pump stops reading while this many bytes wait in its queue (backpressure).
const MAX_QUEUED_BYTES: usize = 4 * 1024 * 1024;

/// Runs one direction; when it fails, ends the whole connection (both
/// directions), as a broken TCP connection would.
pub(super) async fn pump_then_close(
    from: OwnedReadHalf,
    to: OwnedWriteHalf,
    way: Way,
    registration: Arc<Registration>,
) {
    let shared = &registration.shared;
    if let Err(e) = pump(from, to, shared, shared.blackhole.subscribe(), (way, shared.dropping.subscribe())).await {
        tracing::debug!(error = %e, "latency proxy: connection ended");
        if let Some(connection) = shared.registry().open.get(&registration.id) {
            for task in &connection.tasks {
                task.abort();
            }
        }
    }
}

/// Forwards `from` to `to`, each chunk at `arrival + latency`, in order.
/// While its direction (`way`) drops, what it reads is thrown away, chunks
/// still queued are lost, and an end of stream is passed on only once the
/// dropping ends (a partitioned peer sees no close).
pub(super) async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    shared: &Shared,
    mut blackhole: watch::Receiver<bool>,
    (way, mut dropping): (Way, watch::Receiver<Dropping>),
) -> io::Result<()> {
    let mut queue: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
    let mut queued_bytes = 0usize;
    let mut eof = false;
    let mut buf = vec![0u8; CHUNK_SIZE];
    // The alarm for the chunk at the front of the queue, once set.
    let mut alarm: Option<(Instant, oneshot::Receiver<()>)> = None;
    loop {
        let held = *blackhole.borrow_and_update();
        let drops = dropping.borrow_and_update().drops(way);
        if drops && !queue.is_empty() {
            queue.clear();
            queued_bytes = 0;
        }
        if eof && queue.is_empty() && !drops {
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
            changed = dropping.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
            }
            read = from.read(&mut buf), if can_read => {
                let n = read?;
                if n == 0 {
                    eof = true;
                } else if drops {
                    // Lost in the partition.
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
