//! Deleting lock nodes: Curator's guaranteed delete, the release's delete
//! that a dropped future hands to a task, and the cleanup of an attempt that
//! did not end holding the lock (timeout, error, cancellation), on the
//! runtime the attempt started on even when dropped outside any.

use tracing::warn;
use zookeeper_client::{Client, Error as ZkError};

use crate::error::{LockError, Result};
use crate::retry::{list_children, RETRY_PAUSE};

/// Deletes a lock node, retrying through connection loss until it is gone or
/// the session ends (which removes it too): Curator's guaranteed delete.
pub(crate) async fn guaranteed_delete(client: &Client, path: &str) -> Result<()> {
    finish_delete(client.delete(path, None), client, path).await
}

/// [`guaranteed_delete`] whose first delete, `first`, is already queued.
async fn finish_delete(
    first: impl std::future::Future<Output = std::result::Result<(), ZkError>>,
    client: &Client,
    path: &str,
) -> Result<()> {
    let mut answer = first.await;
    loop {
        match answer {
            Ok(()) | Err(ZkError::NoNode) => return Ok(()),
            Err(ZkError::SessionExpired | ZkError::ClientClosed | ZkError::AuthFailed) => return Ok(()),
            Err(ZkError::ConnectionLoss) => tokio::time::sleep(RETRY_PAUSE).await,
            Err(error) => return Err(LockError::from_zk("delete", path, error)),
        }
        answer = client.delete(path, None).await;
    }
}

/// A guaranteed delete in the caller's task (no task hop on the way to the
/// server); if the caller stops waiting before it is done, a background task
/// takes over, so the node still goes.
pub(crate) async fn delete_released(
    client: &Client,
    path: String,
    runtime: Option<&tokio::runtime::Handle>,
) -> Result<()> {
    struct HandOff<'a> {
        client: &'a Client,
        path: Option<String>,
        runtime: Option<&'a tokio::runtime::Handle>,
    }
    impl Drop for HandOff<'_> {
        fn drop(&mut self) {
            if let Some(path) = self.path.take() {
                delete_in_background(self.client, path, self.runtime);
            }
        }
    }
    let mut pending = HandOff { client, path: Some(path), runtime };
    let result = guaranteed_delete(client, pending.path.as_deref().unwrap_or_default()).await;
    pending.path = None;
    result
}

/// Runs a guaranteed delete as its own task, so it finishes even if nobody
/// waits for it. The first delete is queued on the session here, before this
/// returns, so it goes out ahead of whatever the caller sends next (a next
/// acquire's list then never sees the node); the task waits for its answer
/// and retries through connection loss. Outside a tokio runtime it cannot:
/// the node then stays until the session ends, and a warning says so.
pub(crate) fn delete_in_background(client: &Client, path: String, fallback: Option<&tokio::runtime::Handle>) {
    match tokio::runtime::Handle::try_current().ok().or_else(|| fallback.cloned()) {
        Some(runtime) => {
            let first = client.delete(&path, None);
            let client = client.clone();
            runtime.spawn(async move {
                if let Err(error) = finish_delete(first, &client, &path).await {
                    warn!(%error, node = path, "could not delete a released lock node");
                }
            });
        }
        None => warn!(node = path, "released outside a tokio runtime: the node stays until the session ends"),
    }
}

/// Deletes the node of an attempt that did not end holding the lock. Armed
/// until [`Cleanup::disarm`]; dropped while armed (a cancelled acquire), it
/// deletes in the background: on the runtime the attempt started on when it
/// is dropped outside any runtime.
pub(crate) struct Cleanup<'a> {
    /// Borrowed: cloned only when there is something to clean up.
    client: &'a Client,
    runtime: Option<tokio::runtime::Handle>,
    lock_path: &'a str,
    /// The attempt's `_c_<uuid>-` prefix: finds the node when the create's
    /// reply never arrived.
    pub(crate) prefix: String,
    /// The node, once the create's reply arrived.
    pub(crate) node: Option<String>,
    armed: bool,
}

impl<'a> Cleanup<'a> {
    pub(crate) fn new(client: &'a Client, lock_path: &'a str, prefix: String) -> Self {
        Cleanup {
            client,
            runtime: tokio::runtime::Handle::try_current().ok(),
            lock_path,
            prefix,
            node: None,
            armed: true,
        }
    }

    pub(crate) fn disarm(&mut self) {
        self.armed = false;
    }

    /// The cleanup as a future of its own. The list it may send goes out after
    /// the attempt's create on the same session, so it sees that create.
    fn task(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let client = self.client.clone();
        let lock_path = self.lock_path.to_owned();
        let prefix = self.prefix.clone();
        let node = self.node.clone();
        async move {
            let nodes = match node {
                Some(node) => vec![node],
                None => match list_children(&client, &lock_path).await {
                    Ok(children) => children
                        .into_iter()
                        .filter(|child| child.starts_with(&prefix))
                        .map(|child| format!("{lock_path}/{child}"))
                        .collect(),
                    Err(error) => {
                        warn!(%error, lock = lock_path, "could not look for an abandoned lock node");
                        Vec::new()
                    }
                },
            };
            for node in nodes {
                if let Err(error) = guaranteed_delete(&client, &node).await {
                    warn!(%error, node, "could not delete an abandoned lock node");
                }
            }
        }
    }

    /// Deletes now and waits for it.
    pub(crate) async fn delete_now(&mut self) {
        if self.armed {
            self.armed = false;
            self.task().await;
        }
    }
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        match tokio::runtime::Handle::try_current().ok().or_else(|| self.runtime.clone()) {
            Some(runtime) => {
                runtime.spawn(self.task());
            }
            None => warn!(
                prefix = self.prefix,
                "acquire cancelled outside a tokio runtime: its node stays until the session ends"
            ),
        }
    }
}
