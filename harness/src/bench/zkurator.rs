//! zkurator's figures: uncontended cycles of each lock kind, contended
//! handoffs between writers on their own sessions, and readers sharing while a
//! writer queues behind them.

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use zkurator::{Mutex, MutexGuard, ReadGuard, ReadWriteLock, WriteGuard};

use super::results::Lock;
use super::stats::Samples;
use super::{measure, wait_for_children, zk_connect, LOCK_TIMEOUT};

/// How a zkurator subject's client talks to the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Socket {
    /// What the Quick start builds: [`zkurator::connect`] (`TCP_NODELAY` on).
    Nodelay,
    /// zookeeper-client's stock socket: Nagle's algorithm on.
    Nagle,
}

impl Socket {
    /// The socket a zkurator subject runs on: stock for `zkurator-nagle`.
    pub fn of(subject: super::results::Subject) -> Socket {
        if subject == super::results::Subject::ZkuratorNagle {
            Socket::Nagle
        } else {
            Socket::Nodelay
        }
    }
}

/// A client with the benchmark's settings and the chosen socket option.
pub async fn connect(connect: &str, socket: Socket) -> Result<zookeeper_client::Client, String> {
    match socket {
        Socket::Nodelay => zkurator::connect(super::zk::connector(), connect)
            .await
            .map_err(|e| format!("cannot connect to ZooKeeper at {connect}: {e}")),
        Socket::Nagle => zk_connect(connect).await,
    }
}

/// A zkurator handle for one lock kind.
enum Handle {
    Mutex(Mutex),
    Read(ReadWriteLock),
    Write(ReadWriteLock),
    Lease(zkurator::Semaphore),
}

/// A guard of any kind.
enum Held {
    Lease(zkurator::LeaseGuard),
    Mutex(MutexGuard),
    Read(ReadGuard),
    Write(WriteGuard),
}

impl Handle {
    /// Acquires within the benchmark's lock timeout.
    async fn lock(&self) -> Result<Held, String> {
        let held = match self {
            Handle::Mutex(m) => m.lock_timeout(LOCK_TIMEOUT).await.map(Held::Mutex),
            Handle::Read(rw) => rw.read_timeout(LOCK_TIMEOUT).await.map(Held::Read),
            Handle::Write(rw) => rw.write_timeout(LOCK_TIMEOUT).await.map(Held::Write),
            Handle::Lease(s) => s.acquire_timeout(LOCK_TIMEOUT).await.map(Held::Lease),
        };
        held.map_err(|e| format!("acquire: {e}"))
    }
}

impl Held {
    async fn release(self) -> Result<(), String> {
        let released = match self {
            Held::Lease(g) => g.release().await,
            Held::Mutex(g) => g.release().await,
            Held::Read(g) => g.release().await,
            Held::Write(g) => g.release().await,
        };
        released.map_err(|e| format!("release: {e}"))
    }
}

/// A zkurator handle for `lock` on `path`.
/// The lease count of the benchmark's semaphore (as Curator's side).
const LEASES: u32 = 3;

fn handle(client: &zookeeper_client::Client, path: &str, lock: Lock) -> Result<Handle, String> {
    let handle = match lock {
        Lock::Mutex => Mutex::new(client, path).map(Handle::Mutex),
        Lock::Write => ReadWriteLock::new(client, path).map(Handle::Write),
        Lock::Read => ReadWriteLock::new(client, path).map(Handle::Read),
        Lock::Lease => zkurator::Semaphore::new(client, path, LEASES).map(Handle::Lease),
        Lock::Raw => return Err("zkurator has no raw lock".to_owned()),
    };
    handle.map_err(|e| format!("lock handle on {path}: {e}"))
}

/// Uncontended acquire+release cycles of one handle on one session.
pub async fn uncontended(
    connect: &str,
    path: &str,
    lock: Lock,
    socket: Socket,
    warmup: u32,
    iterations: u32,
) -> Result<Samples, String> {
    let client = self::connect(connect, socket).await?;
    let handle = handle(&client, path, lock)?;
    measure(warmup, iterations, || {
        let handle = &handle;
        async move { handle.lock().await?.release().await }
    })
    .await
}

/// `writers` writers, each with its own session and mutex handle on `path`,
/// acquire and release in a loop; returns the cycles completed in the window
/// after `warmup`, which lasts `duration`.
pub async fn contended(
    connect: &str,
    path: &str,
    writers: u32,
    socket: Socket,
    warmup: Duration,
    duration: Duration,
) -> Result<u64, String> {
    let mut handles = Vec::new();
    for _ in 0..writers {
        let client = self::connect(connect, socket).await?;
        let mutex = handle(&client, path, Lock::Mutex)?;
        handles.push((client, mutex));
    }
    super::run_writers(handles, warmup, duration, |(_client, mutex)| {
        Box::pin(async move { mutex.lock().await?.release().await })
    })
    .await
}

/// `writers` tokio tasks sharing one session and one mutex handle (as app
/// state holds a lock) acquire and release in a loop; the cycles completed in
/// the window after `warmup`.
pub async fn contended_shared(
    connect: &str,
    path: &str,
    writers: u32,
    warmup: Duration,
    duration: Duration,
) -> Result<u64, String> {
    let client = self::connect(connect, Socket::Nodelay).await?;
    let mutex = std::sync::Arc::new(handle(&client, path, Lock::Mutex)?);
    let tasks = (0..writers).map(|_| mutex.clone()).collect();
    let cycles = super::run_writers(tasks, warmup, duration, |mutex| {
        Box::pin(async move { mutex.lock().await?.release().await })
    })
    .await;
    drop(client);
    cycles
}

/// `readers` readers (tasks sharing one session, a handle each) take the read
/// lock at once; when all hold it, a writer on its own session queues behind
/// them; once its node exists, the readers release. Per repeat: (time until
/// the last reader held it, time from the release until the writer held it).
pub async fn readers(
    connect: &str,
    path: &str,
    readers: u32,
    repeats: u32,
) -> Result<Vec<(Duration, Duration)>, String> {
    let reader_client = self::connect(connect, Socket::Nodelay).await?;
    let writer_client = self::connect(connect, Socket::Nodelay).await?;
    let mut out = Vec::new();
    for _ in 0..repeats {
        let (go, go_rx) = watch::channel(false);
        let (release, release_rx) = watch::channel(false);
        let (acquired_tx, mut acquired) = mpsc::channel::<Result<(), String>>(readers as usize);
        let mut tasks = JoinSet::new();
        for _ in 0..readers {
            let lock = handle(&reader_client, path, Lock::Read)?;
            let (mut go, mut release, acquired) = (go_rx.clone(), release_rx.clone(), acquired_tx.clone());
            tasks.spawn(async move {
                let held = async {
                    go.wait_for(|go| *go).await.map_err(|_| "never started".to_owned())?;
                    lock.lock().await
                }
                .await;
                let guard = match held {
                    Ok(guard) => guard,
                    Err(e) => {
                        let _ = acquired.send(Err(e)).await;
                        return;
                    }
                };
                let _ = acquired.send(Ok(())).await;
                let _ = tokio::time::timeout(LOCK_TIMEOUT, release.wait_for(|r| *r)).await;
                let _ = guard.release().await;
            });
        }
        let start = Instant::now();
        let _ = go.send(true);
        for _ in 0..readers {
            match tokio::time::timeout(LOCK_TIMEOUT, acquired.recv()).await {
                Ok(Some(Ok(()))) => {}
                Ok(Some(Err(e))) => return Err(e),
                Ok(None) | Err(_) => return Err("readers did not all acquire".to_owned()),
            }
        }
        let readers_took = start.elapsed();

        let write = handle(&writer_client, path, Lock::Write)?;
        let writer = tokio::spawn(async move {
            let guard = write.lock().await?;
            let got = Instant::now();
            guard.release().await?;
            Ok::<Instant, String>(got)
        });
        wait_for_children(&reader_client, path, readers as usize + 1).await?;
        let released = Instant::now();
        let _ = release.send(true);
        let got = match tokio::time::timeout(LOCK_TIMEOUT, writer).await {
            Ok(Ok(got)) => got?,
            Ok(Err(e)) => return Err(format!("writer task: {e}")),
            Err(_) => return Err("the writer did not get the lock".to_owned()),
        };
        let drained = tokio::time::timeout(LOCK_TIMEOUT, async { while tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            return Err("readers did not finish".to_owned());
        }
        out.push((readers_took, got.saturating_duration_since(released)));
    }
    Ok(out)
}
