//! Guarded writes: creates, sets and deletes sent in one ZooKeeper `multi`
//! together with a check that the caller's own lock node still exists, so a
//! holder whose lock is gone cannot write, whatever its local view says
//! (CURATOR-689's proposal).

use zookeeper_client::{CreateOptions, MultiWriteError, MultiWriteResult, MultiWriter, Stat};

use crate::error::{LockError, Result};
use crate::hold::Hold;

/// Writes that only happen while a hold's lock node exists, built with
/// [`Hold::guarded`] and sent as one transaction by [`commit`](Self::commit).
///
/// The first operation of the transaction checks the lock node (ZooKeeper's
/// `check` with version -1: it exists). Lock nodes are ephemeral and their
/// names unique (a UUID and a sequence), so the check passes exactly while
/// this hold's session lives and nobody deleted the node. A holder that was
/// paused past its session timeout, or whose node was removed, gets
/// [`LockError::NotHeld`] (node gone) or [`LockError::SessionLost`] (its own
/// session expired), and nothing of the transaction is applied.
///
/// Under a read lock the check says that the read lock is still held, which
/// other readers share: exclusion comes from the lock kind, not the check.
///
/// ```no_run
/// # async fn demo(client: zkurator::zookeeper_client::Client) -> Result<(), zkurator::LockError> {
/// use zkurator::LockError;
///
/// let mutex = zkurator::Mutex::new(&client, "/locks/orders")?;
/// let guard = mutex.lock().await?;
/// let (data, stat) = client.get_data("/orders/next-id").await.expect("read");
/// let next = u64::from_str_radix(std::str::from_utf8(&data).unwrap_or("0"), 10).unwrap_or(0) + 1;
/// let mut write = guard.guarded();
/// write.set_data("/orders/next-id", next.to_string().as_bytes(), Some(stat.version));
/// match write.commit().await {
///     Ok(_) => println!("written under {}", guard.node_path()),
///     Err(LockError::NotHeld { node }) => eprintln!("lock {node} is gone: nothing was written"),
///     Err(e) if e.is_outcome_unknown() => eprintln!("connection lost: read back to know ({e})"),
///     Err(e) => return Err(e),
/// }
/// guard.release().await?;
/// # Ok(()) }
/// ```
#[must_use = "a guarded write does nothing until committed"]
pub struct GuardedWrite<'h> {
    hold: &'h Hold,
    writer: MultiWriter<'h>,
    /// What each operation after the check is and its path, for errors.
    ops: Vec<(&'static str, String)>,
    /// The first operation refused while building, reported by `commit`.
    refused: Option<LockError>,
    /// The request's size so far, as the server will count it.
    bytes: usize,
}

/// Room one operation of a `multi` takes besides its path and data: its
/// header, version, flags and ACLs.
const OP_OVERHEAD: usize = 256;

/// The result of one operation of a committed [`GuardedWrite`], in the order
/// the operations were added (the lock-node check is not listed).
///
/// ```no_run
/// # async fn demo(guard: zkurator::MutexGuard) -> zkurator::Result<()> {
/// use zkurator::GuardedResult;
/// let mut write = guard.guarded();
/// write.set_data("/orders/next-id", b"43", None).delete("/orders/draft", None);
/// for result in write.commit().await? {
///     if let GuardedResult::Set { stat } = result {
///         println!("version now {}", stat.version);
///     }
/// }
/// # Ok(()) }
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardedResult {
    /// A node was created: its path (with the sequence, if sequential) and stat.
    Created {
        /// Path of the created node.
        path: String,
        /// Its stat (ZooKeeper may leave it zeroed, ZOOKEEPER-4026).
        stat: Stat,
    },
    /// A node's data was set: its new stat.
    Set {
        /// The node's stat after the write.
        stat: Stat,
    },
    /// A node was deleted.
    Deleted,
}

impl<'h> GuardedWrite<'h> {
    pub(crate) fn new(hold: &'h Hold) -> Result<GuardedWrite<'h>> {
        let mut writer = hold.client().new_multi_writer();
        writer.add_check_version(hold.node_path(), -1).map_err(|e| LockError::from_zk("check", hold.node_path(), e))?;
        let bytes = OP_OVERHEAD + hold.node_path().len();
        Ok(GuardedWrite { hold, writer, ops: Vec::new(), refused: None, bytes })
    }

    /// Adds a create of `path` (see `Client::create`). A bad path is
    /// reported by [`commit`](Self::commit), which then sends nothing.
    pub fn create(&mut self, path: &str, data: &[u8], options: &CreateOptions<'_>) -> &mut Self {
        let added = self.writer.add_create(path, data, options);
        self.added("create", path, data.len(), added)
    }

    /// Adds a set of `path`'s data, at `expected_version` if given.
    pub fn set_data(&mut self, path: &str, data: &[u8], expected_version: Option<i32>) -> &mut Self {
        let added = self.writer.add_set_data(path, data, expected_version);
        self.added("set data", path, data.len(), added)
    }

    /// Adds a delete of `path`, at `expected_version` if given.
    pub fn delete(&mut self, path: &str, expected_version: Option<i32>) -> &mut Self {
        let added = self.writer.add_delete(path, expected_version);
        self.added("delete", path, 0, added)
    }

    fn added(
        &mut self,
        operation: &'static str,
        path: &str,
        data: usize,
        added: Result<(), zookeeper_client::Error>,
    ) -> &mut Self {
        match added {
            Ok(()) => {
                self.ops.push((operation, path.to_owned()));
                self.bytes += OP_OVERHEAD + path.len() + data;
            }
            Err(error) => {
                self.refused.get_or_insert(LockError::from_zk(operation, path, error));
            }
        }
        self
    }

    /// Sends the check and the operations as one transaction: all of them
    /// are applied, or none.
    ///
    /// Errors: the first operation refused while building (a bad path),
    /// and [`LockError::DataTooLarge`] for a transaction larger than the
    /// server's request limit (the lock's `max_request_bytes`), both before
    /// any request is sent; [`LockError::NotHeld`] when the lock node is gone;
    /// [`LockError::SessionLost`] when the hold's session ended; a failed
    /// operation as [`LockError::ZooKeeper`] with its operation and path
    /// (e.g. `BadVersion`); a reply lost with the connection is
    /// [`LockError::is_outcome_unknown`]: the transaction may or may not have
    /// been applied.
    pub async fn commit(self) -> Result<Vec<GuardedResult>> {
        let result = self.send().await;
        if let Err(error) = &result {
            crate::observe::guarded_refused(error);
        }
        result
    }

    async fn send(mut self) -> Result<Vec<GuardedResult>> {
        if let Some(refused) = self.refused.take() {
            return Err(refused);
        }
        let limit = self.hold.max_request_bytes();
        if self.bytes > limit {
            return Err(LockError::DataTooLarge { len: self.bytes, limit });
        }
        let results = match self.writer.commit().await {
            Ok(results) => results,
            Err(MultiWriteError::OperationFailed { index: 0, source }) => {
                return Err(match source {
                    zookeeper_client::Error::NoNode | zookeeper_client::Error::BadVersion => {
                        LockError::NotHeld { node: self.hold.node_path().to_owned() }
                    }
                    other => LockError::from_zk("check", self.hold.node_path(), other),
                });
            }
            Err(MultiWriteError::OperationFailed { index, source }) => {
                let (operation, path) = self.ops.get(index - 1).cloned().unwrap_or(("multi", String::new()));
                return Err(LockError::from_zk(operation, &path, source));
            }
            Err(MultiWriteError::RequestFailed { source }) => {
                return Err(LockError::from_zk("multi", self.hold.node_path(), source));
            }
        };
        Ok(results
            .into_iter()
            .filter_map(|result| match result {
                MultiWriteResult::Check => None,
                MultiWriteResult::Create { path, stat } => Some(GuardedResult::Created { path, stat }),
                MultiWriteResult::SetData { stat } => Some(GuardedResult::Set { stat }),
                MultiWriteResult::Delete => Some(GuardedResult::Deleted),
                _ => None,
            })
            .collect())
    }
}

impl Hold {
    /// Starts a [`GuardedWrite`]: writes that ZooKeeper applies only while
    /// this hold's lock node exists. Sent on the hold's own session.
    pub fn guarded(&self) -> GuardedWrite<'_> {
        // Building the check only validates the node's path, which is valid.
        GuardedWrite::new(self).expect("a lock node path is a valid path")
    }

    /// Sets `path`'s data (at `expected_version` if given) only while this
    /// hold's lock node exists: one [`GuardedWrite`] with one operation.
    ///
    /// ```no_run
    /// # async fn demo(guard: zkurator::MutexGuard) -> Result<(), zkurator::LockError> {
    /// match guard.guarded_set_data("/config/leader", b"svc-a", None).await {
    ///     Err(zkurator::LockError::NotHeld { .. }) => eprintln!("lost the lock: not written"),
    ///     other => { other?; }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn guarded_set_data(&self, path: &str, data: &[u8], expected_version: Option<i32>) -> Result<Stat> {
        let mut write = self.guarded();
        write.set_data(path, data, expected_version);
        match write.commit().await?.pop() {
            Some(GuardedResult::Set { stat }) => Ok(stat),
            other => Err(unexpected("set data", path, other)),
        }
    }

    /// Creates `path` only while this hold's lock node exists; returns the
    /// created path (with its sequence, if sequential).
    pub async fn guarded_create(&self, path: &str, data: &[u8], options: &CreateOptions<'_>) -> Result<String> {
        let mut write = self.guarded();
        write.create(path, data, options);
        match write.commit().await?.pop() {
            Some(GuardedResult::Created { path, .. }) => Ok(path),
            other => Err(unexpected("create", path, other)),
        }
    }

    /// Deletes `path` (at `expected_version` if given) only while this
    /// hold's lock node exists.
    pub async fn guarded_delete(&self, path: &str, expected_version: Option<i32>) -> Result<()> {
        let mut write = self.guarded();
        write.delete(path, expected_version);
        match write.commit().await?.pop() {
            Some(GuardedResult::Deleted) => Ok(()),
            other => Err(unexpected("delete", path, other)),
        }
    }
}

fn unexpected(operation: &'static str, path: &str, got: Option<GuardedResult>) -> LockError {
    let source = zookeeper_client::Error::UnexpectedError(format!("multi answered {got:?}"));
    LockError::ZooKeeper { operation, path: path.to_owned(), source }
}
