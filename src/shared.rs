//! What the handles of one lock path share (session source, settings, the
//! holds they made) and the one way to contend for a side of it.

use std::sync::Arc;
use std::time::Duration;

use zookeeper_client::{Acl, Client};

use crate::driver::SortNames;
use crate::error::{LockError, Result};
use crate::hold::Hold;
use crate::internals::Target;
use crate::names::{MUTEX_LOCK_NAME, READ_LOCK_NAME, WRITE_LOCK_NAME};
#[cfg(zkurator_harness)]
use crate::negative::NegativeControl;
use crate::observe::{self, Kind};
use crate::path::validate_lock_path;
use crate::registry::Registry;
use crate::rule::Rule;
use crate::session::SessionSource;
use crate::share::Share;

/// ZooKeeper's default request limit (`jute.maxbuffer`, 0xfffff bytes).
pub(crate) const DEFAULT_MAX_REQUEST_BYTES: usize = 0xfffff;

/// Room a create request needs besides the data and the lock path: header,
/// node name (`/_c_<uuid>-__WRIT__`), ACLs and mode.
const REQUEST_OVERHEAD: usize = 512;

/// Which side of a lock path a handle contends for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SideKind {
    /// A mutex (`lock-` nodes) admitting `max_leases` holders.
    Mutex { max_leases: u32 },
    /// The read side of a read/write lock.
    Read,
    /// The write side of a read/write lock.
    Write,
}

impl SideKind {
    fn index(self) -> usize {
        match self {
            SideKind::Mutex { .. } | SideKind::Read => 0,
            SideKind::Write => 1,
        }
    }

    fn lock_name(self) -> &'static str {
        match self {
            SideKind::Mutex { .. } => MUTEX_LOCK_NAME,
            SideKind::Read => READ_LOCK_NAME,
            SideKind::Write => WRITE_LOCK_NAME,
        }
    }

    /// The metrics' `kind` of this side.
    pub(crate) fn observed(self) -> Kind {
        match self {
            SideKind::Mutex { .. } => Kind::Mutex,
            SideKind::Read => Kind::Read,
            SideKind::Write => Kind::Write,
        }
    }

    pub(crate) fn sort(self) -> SortNames {
        match self {
            SideKind::Mutex { .. } => SortNames::Mutex,
            SideKind::Read | SideKind::Write => SortNames::ReadWrite,
        }
    }

    /// The rule a fresh contender of this side follows.
    fn rule(self) -> Rule {
        match self {
            SideKind::Mutex { max_leases } => Rule::Exclusive { max_leases },
            SideKind::Write => Rule::Exclusive { max_leases: 1 },
            SideKind::Read => Rule::Read { downgrade_from: None },
        }
    }
}

/// Settings of a lock, set by its builder.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub data: Option<Vec<u8>>,
    pub acls: Vec<Acl>,
    pub revocable: bool,
    pub max_request_bytes: usize,
    #[cfg(zkurator_harness)]
    pub broken: Option<NegativeControl>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data: None,
            acls: Vec::new(),
            revocable: false,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            #[cfg(zkurator_harness)]
            broken: None,
        }
    }
}

/// State shared by the handles (and clones) of one lock.
#[derive(Debug)]
pub(crate) struct Shared {
    source: SessionSource,
    lock_path: String,
    data: Vec<u8>,
    acls: Vec<Acl>,
    revocable: bool,
    max_request_bytes: usize,
    #[cfg(zkurator_harness)]
    broken: Option<NegativeControl>,
    /// Holds made through these handles, per side (for `is_held`).
    holds: [Registry; 2],
}

impl Shared {
    /// Checks the path and the data size; sends no request.
    pub(crate) fn new(source: SessionSource, lock_path: &str, settings: Settings) -> Result<Arc<Shared>> {
        validate_lock_path(lock_path)
            .map_err(|problem| LockError::InvalidPath { path: lock_path.to_owned(), problem })?;
        let data = settings.data.unwrap_or_else(default_lock_data);
        let limit = settings.max_request_bytes;
        if data.len() + lock_path.len() + REQUEST_OVERHEAD > limit {
            return Err(LockError::DataTooLarge { len: data.len(), limit });
        }
        Ok(Arc::new(Shared {
            source,
            lock_path: lock_path.to_owned(),
            data,
            acls: settings.acls,
            revocable: settings.revocable,
            max_request_bytes: limit,
            #[cfg(zkurator_harness)]
            broken: settings.broken,
            holds: Default::default(),
        }))
    }

    pub(crate) fn lock_path(&self) -> &str {
        &self.lock_path
    }

    pub(crate) fn source(&self) -> &SessionSource {
        &self.source
    }

    /// A new hold of `kind`, as its own contender: a new node, queued behind
    /// everyone already there, this process's other holds included. On a
    /// renewing session source, an acquire whose session ended starts again
    /// on a new session.
    pub(crate) async fn acquire(&self, kind: SideKind, timeout: Option<Duration>) -> Result<Share> {
        use tracing::Instrument;
        let span = acquire_span(&self.lock_path, kind.observed());
        let started = std::time::Instant::now();
        let result = self.acquire_quietly(kind, timeout).instrument(span.clone()).await;
        if let Ok(share) = &result {
            span.record("node", share.node_path());
        }
        let _in = span.enter();
        observe::acquire_ended(kind.observed(), observe::outcome(&result), started.elapsed());
        result
    }

    async fn acquire_quietly(&self, kind: SideKind, timeout: Option<Duration>) -> Result<Share> {
        #[cfg(zkurator_harness)]
        if self.broken == Some(NegativeControl::SharedHold) {
            if let Some(hold) = self.holds[kind.index()].live_holds().pop() {
                return Ok(Share::join(hold));
            }
        }
        let deadline = crate::internals::deadline_after(timeout);
        loop {
            let client = self.source.client().await?;
            let left = deadline.map(|d| d.saturating_duration_since(tokio::time::Instant::now()));
            match self.contend(&client, kind, kind.rule(), left).await {
                Err(LockError::SessionLost(error)) if self.source.renews() => {
                    tracing::debug!(%error, lock = self.lock_path, "session ended while acquiring; again on a new one");
                }
                // The caller's timeout, not what was left of it on this session.
                Err(LockError::Timeout(_) | LockError::WouldBlock) => return Err(LockError::gave_up(timeout)),
                result => return result,
            }
        }
    }

    /// Contends for `kind` on `client`'s session by `rule`.
    pub(crate) async fn contend(
        &self,
        client: &Client,
        kind: SideKind,
        rule: Rule,
        timeout: Option<Duration>,
    ) -> Result<Share> {
        let target = Target {
            kind: kind.observed(),
            client,
            lock_path: &self.lock_path,
            lock_name: kind.lock_name(),
            sort: kind.sort(),
            data: &self.data,
            acls: &self.acls,
            rule,
            #[cfg(zkurator_harness)]
            broken: self.broken,
        };
        let acquired = target.acquire(timeout).await?;
        let hold = Hold::new(client.clone(), acquired, self.revocable, self.max_request_bytes, kind.observed());
        let share = Share::first(Arc::new(hold));
        self.holds[kind.index()].add(share.hold());
        Ok(share)
    }

    /// One contender on the directory `dir` below the lock path (the
    /// `locks/` and `leases/` of a semaphore), by `rule`, on `client`'s
    /// session: the same acquire loop, protected create and cleanup as the
    /// lock path's own sides. The hold is not counted by [`Shared::is_held`].
    pub(crate) async fn contend_under(
        &self,
        client: &Client,
        dir: &str,
        lock_name: &'static str,
        rule: Rule,
        timeout: Option<Duration>,
    ) -> Result<Share> {
        let lock_path = format!("{}/{dir}", self.lock_path);
        let kind = if lock_name == crate::names::LEASE_LOCK_NAME { Kind::Lease } else { Kind::Serial };
        let target = Target {
            kind,
            client,
            lock_path: &lock_path,
            lock_name,
            sort: SortNames::Mutex,
            data: &self.data,
            acls: &self.acls,
            rule,
            #[cfg(zkurator_harness)]
            broken: self.broken,
        };
        let acquired = target.acquire(timeout).await?;
        let hold = Hold::new(client.clone(), acquired, false, self.max_request_bytes, kind);
        Ok(Share::first(Arc::new(hold)))
    }

    /// Whether a hold of `kind` made through these handles is live (not
    /// released, not known lost).
    pub(crate) fn is_held(&self, kind: SideKind) -> bool {
        self.holds[kind.index()].live() > 0
    }
}

/// The span of one acquire: the lock, the kind, the node once granted and
/// its place in the queue at the first listing.
pub(crate) fn acquire_span(lock_path: &str, kind: Kind) -> tracing::Span {
    tracing::debug_span!(
        "zkurator.acquire",
        lock = lock_path,
        kind = kind.label(),
        node = tracing::field::Empty,
        position = tracing::field::Empty
    )
}

/// Curator's default lock-node data: this host's address as text (looked up once).
fn default_lock_data() -> Vec<u8> {
    static ADDRESS: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    ADDRESS.get_or_init(host_address).clone()
}

fn host_address() -> Vec<u8> {
    use std::net::ToSocketAddrs;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let address = (host.trim(), 0)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.find(|a| a.is_ipv4()))
        .map(|a| a.ip().to_string());
    address.unwrap_or_else(|| "127.0.0.1".to_owned()).into_bytes()
}
