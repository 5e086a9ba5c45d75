//! The state shared by the handle, the accept loop and the pumps, and the
//! registry of open connections.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::AbortHandle;

use super::timer::Timer;

/// State shared by the handle, the accept loop and the pumps.
pub(super) struct Shared {
    pub(super) latency_nanos: AtomicU64,
    /// How long a refused upstream connect is retried (0: not at all).
    pub(super) patience_nanos: AtomicU64,
    pub(super) blackhole: watch::Sender<bool>,
    /// Which directions drop what they read (a partition that loses bytes).
    pub(super) dropping: watch::Sender<Dropping>,
    pub(super) registry: Mutex<Registry>,
    /// Signalled whenever a connection is gone from the registry.
    pub(super) closed: Condvar,
    pub(super) accepted: AtomicU64,
    pub(super) timer: Arc<Timer>,
}

/// Which directions of every connection drop their bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Dropping {
    /// Client to server (requests).
    pub(super) to_server: bool,
    /// Server to client (replies).
    pub(super) to_client: bool,
}

/// One direction of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Way {
    /// Client to server.
    ToServer,
    /// Server to client.
    ToClient,
}

impl Dropping {
    pub(super) fn drops(self, way: Way) -> bool {
        match way {
            Way::ToServer => self.to_server,
            Way::ToClient => self.to_client,
        }
    }
}

/// The open connections, by id.
#[derive(Default)]
pub(super) struct Registry {
    pub(super) next_id: u64,
    pub(super) open: HashMap<u64, Connection>,
}

/// The tasks of one connection: its setup task, then its two pumps.
pub(super) struct Connection {
    pub(super) tasks: Vec<AbortHandle>,
    /// Set by `cut_all`: a setup task that has not started its pumps yet must not.
    pub(super) cut: bool,
}

/// Removes its connection from the registry when the last task of the
/// connection lets go of it (finished or aborted).
pub(super) struct Registration {
    pub(super) shared: Arc<Shared>,
    pub(super) id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.shared.registry().open.remove(&self.id);
        self.shared.closed.notify_all();
    }
}

impl Shared {
    pub(super) fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn latency(&self) -> Duration {
        Duration::from_nanos(self.latency_nanos.load(Ordering::Relaxed))
    }
}

pub(super) fn nanos(latency: Duration) -> u64 {
    u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX)
}
