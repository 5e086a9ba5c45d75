//! [`SessionSource`]: where a lock handle gets its ZooKeeper session.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use zookeeper_client::{Client, Connector};

use crate::error::{LockError, Result};

type Connecting = Pin<Box<dyn Future<Output = Result<Client, zookeeper_client::Error>> + Send>>;
type Connect = dyn Fn() -> Connecting + Send + Sync;

/// Where a lock handle gets its ZooKeeper session from.
///
/// A fixed source is one [`Client`]: once its session ends, every acquire
/// fails with [`LockError::SessionLost`] and the handle must be rebuilt. A
/// renewing source makes a new client when the current session has ended, so
/// a handle carries on after an expiry the way Curator's framework does:
/// holds of the old session report [`crate::LossReason::SessionEnded`] and new
/// acquires contend on the new session.
///
/// Every lock constructor takes `impl Into<SessionSource>`, so `&Client` works
/// where a source is expected.
///
/// ```no_run
/// # async fn demo() -> Result<(), zkurator::LockError> {
/// use std::time::Duration;
/// let connector = zookeeper_client::Client::connector().with_session_timeout(Duration::from_secs(10));
/// let sessions = zkurator::SessionSource::renewing(connector, "127.0.0.1:2181");
/// let mutex = zkurator::Mutex::new(&sessions, "/locks/orders")?;
/// let guard = mutex.lock().await?; // on a new session if the last one expired
/// guard.release().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SessionSource {
    inner: Arc<Inner>,
}

enum Inner {
    Fixed(Client),
    Renewing { connect: Box<Connect>, current: tokio::sync::Mutex<Option<Client>> },
}

impl SessionSource {
    /// Always `client`'s session.
    pub fn fixed(client: &Client) -> SessionSource {
        SessionSource { inner: Arc::new(Inner::Fixed(client.clone())) }
    }

    /// Sessions made by `connector` against `cluster` (a connect string), a
    /// new one whenever the current one has ended. The first is made by the
    /// first request.
    ///
    /// Each client is made by [`crate::connect`], so `TCP_NODELAY` is on.
    pub fn renewing(connector: Connector, cluster: impl Into<String>) -> SessionSource {
        let cluster = cluster.into();
        SessionSource::renewing_with(move || {
            let (connector, cluster) = (connector.clone(), cluster.clone());
            async move { crate::connect(connector, &cluster).await }
        })
    }

    /// Sessions made by `connect`, a new one whenever the current one has
    /// ended (for clients that need more set-up than a [`Connector`] does).
    pub fn renewing_with<F, Fut>(connect: F) -> SessionSource
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Client, zookeeper_client::Error>> + Send + 'static,
    {
        let connect: Box<Connect> = Box::new(move || Box::pin(connect()));
        SessionSource { inner: Arc::new(Inner::Renewing { connect, current: tokio::sync::Mutex::new(None) }) }
    }

    /// Whether this source makes a new session after one ends.
    pub fn renews(&self) -> bool {
        matches!(*self.inner, Inner::Renewing { .. })
    }

    /// The current session's client; for a renewing source a new one if the
    /// current session has ended (callers racing here share one new session).
    pub async fn client(&self) -> Result<Client> {
        match &*self.inner {
            Inner::Fixed(client) => Ok(client.clone()),
            Inner::Renewing { connect, current } => {
                let mut current = current.lock().await;
                if let Some(client) = current.as_ref().filter(|c| !c.state().is_terminated()) {
                    return Ok(client.clone());
                }
                let client = connect().await.map_err(LockError::Connect)?;
                if current.is_some() {
                    crate::observe::session_renewed();
                }
                tracing::debug!(session = ?client.session_id(), "new ZooKeeper session for locks");
                *current = Some(client.clone());
                Ok(client)
            }
        }
    }
}

impl From<&Client> for SessionSource {
    fn from(client: &Client) -> Self {
        SessionSource::fixed(client)
    }
}

impl From<Client> for SessionSource {
    fn from(client: Client) -> Self {
        SessionSource::fixed(&client)
    }
}

impl From<&SessionSource> for SessionSource {
    fn from(source: &SessionSource) -> Self {
        source.clone()
    }
}

impl fmt::Debug for SessionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.inner {
            Inner::Fixed(client) => f.debug_tuple("SessionSource::Fixed").field(&client.session_id()).finish(),
            Inner::Renewing { .. } => f.write_str("SessionSource::Renewing"),
        }
    }
}
