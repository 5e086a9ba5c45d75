//! The lost-update workload in zkurator contenders (`rust`, `rust-tasks`,
//! `rust-process`): the counter is read and written on a data client of its
//! own (a second session with a long timeout, the way a service talks to its
//! store), so a holder frozen past its lock session's timeout still reaches
//! the data when it wakes. Writes are `plain`, `guarded` (one `multi` with a
//! check of the writer's lock node, [`zkurator::Hold::guarded`], sent on the
//! lock's session) or `fenced` (the lock node's [`zkurator::FencingToken`]
//! against the fence node, compare-and-set).

use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use zkurator::zookeeper_client::{Client, Error as ZkError, MultiWriteError};
use zkurator::{FencingToken, LockError};

use super::rust_guards::{Guard, Guards};
use crate::contender::{ErrorKind, Protection, Reply, Side};
use crate::workload::fence_of;

/// Session timeout of the data client: longer than any pause a scenario makes.
const DATA_SESSION_TIMEOUT: Duration = Duration::from_secs(30);

/// A contender's data client and the value it read last.
#[derive(Clone)]
pub(crate) struct Data {
    connect: String,
    client: Arc<StdMutex<Option<Client>>>,
    remembered: Arc<StdMutex<Option<u64>>>,
}

fn reply(kind: ErrorKind, message: impl Into<String>) -> Reply {
    Reply::Error { kind, message: message.into() }
}

fn zk_reply(what: &str, error: ZkError) -> Reply {
    match error {
        ZkError::ConnectionLoss => reply(ErrorKind::Unknown, format!("{what}: {error}")),
        ZkError::SessionExpired | ZkError::ClientClosed => reply(ErrorKind::SessionLost, format!("{what}: {error}")),
        other => reply(ErrorKind::Other, format!("{what}: {other}")),
    }
}

impl Data {
    pub fn new(connect: &str) -> Data {
        Data { connect: connect.to_owned(), client: Arc::default(), remembered: Arc::default() }
    }

    async fn client(&self) -> Result<Client, Reply> {
        if let Some(client) = self.client.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Ok(client);
        }
        let client = Client::connector()
            .with_session_timeout(DATA_SESSION_TIMEOUT)
            .connect(&self.connect)
            .await
            .map_err(|e| reply(ErrorKind::Other, format!("data client: {e}")))?;
        *self.client.lock().unwrap_or_else(|p| p.into_inner()) = Some(client.clone());
        Ok(client)
    }

    /// `ReadValue`: reads the counter and remembers it.
    pub async fn read(&self, counter: &str) -> Reply {
        let client = match self.client().await {
            Ok(client) => client,
            Err(reply) => return reply,
        };
        match client.get_data(counter).await {
            Ok((data, _)) => match String::from_utf8_lossy(&data).trim().parse::<u64>() {
                Ok(value) => {
                    *self.remembered.lock().unwrap_or_else(|p| p.into_inner()) = Some(value);
                    Reply::Value { value }
                }
                Err(e) => reply(ErrorKind::Other, format!("counter {counter} holds no number: {e}")),
            },
            Err(e) => zk_reply("read the counter", e),
        }
    }

    /// `WriteValue`: writes the remembered value + 1 under the guard of
    /// `side` (taken out of `guards` for the write and put back after).
    pub async fn write(&self, guards: &StdMutex<Guards>, counter: &str, side: Side, protection: Protection) -> Reply {
        let Some(read) = self.remembered.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            return reply(ErrorKind::NotHeld, "write-value without a read-value before it");
        };
        let value = (read + 1).to_string();
        let guard = guards.lock().unwrap_or_else(|p| p.into_inner()).pop(side);
        let outcome = self.write_with(guard.as_ref(), counter, value.as_bytes(), side, protection).await;
        if let Some(guard) = guard {
            guards.lock().unwrap_or_else(|p| p.into_inner()).put_back(guard);
        }
        outcome
    }

    async fn write_with(
        &self,
        guard: Option<&Guard>,
        counter: &str,
        value: &[u8],
        side: Side,
        protection: Protection,
    ) -> Reply {
        let client = match self.client().await {
            Ok(client) => client,
            Err(reply) => return reply,
        };
        let no_hold = || reply(ErrorKind::Rejected, format!("holds no {side:?} lock to write under"));
        match protection {
            Protection::Plain => match client.set_data(counter, value, None).await {
                Ok(_) => Reply::Ok,
                Err(e) => zk_reply("write the counter", e),
            },
            Protection::Guarded => {
                let Some(guard) = guard else { return no_hold() };
                match guard.hold().guarded_set_data(counter, value, None).await {
                    Ok(_) => Reply::Ok,
                    Err(e) if e.is_outcome_unknown() => reply(ErrorKind::Unknown, e.to_string()),
                    Err(e @ (LockError::NotHeld { .. } | LockError::SessionLost(_) | LockError::Lost(_))) => {
                        reply(ErrorKind::Rejected, e.to_string())
                    }
                    Err(e) => reply(ErrorKind::Other, e.to_string()),
                }
            }
            Protection::Fenced => {
                let Some(guard) = guard else { return no_hold() };
                fenced_write(&client, counter, value, guard.hold().fencing_token()).await
            }
        }
    }
}

/// A fencing-token store on ZooKeeper: the fence node holds the largest
/// token a write carried; a write with a smaller token is refused, a write
/// with this one or a larger one sets the counter and the fence in one
/// `multi` that checks the fence's version (retried if the fence moved).
async fn fenced_write(client: &Client, counter: &str, value: &[u8], token: FencingToken) -> Reply {
    let fence = fence_of(counter);
    loop {
        let (data, stat) = match client.get_data(&fence).await {
            Ok(read) => read,
            Err(e) => return zk_reply("read the fence", e),
        };
        let newest = String::from_utf8_lossy(&data).parse::<FencingToken>().unwrap_or(FencingToken::from_czxid(0));
        if token < newest {
            return reply(ErrorKind::Rejected, format!("stale fencing token {token} < {newest}"));
        }
        let mut write = client.new_multi_writer();
        let token_text = token.to_string();
        let added = write
            .add_check_version(&fence, stat.version)
            .and_then(|()| write.add_set_data(&fence, token_text.as_bytes(), None))
            .and_then(|()| write.add_set_data(counter, value, None));
        if let Err(e) = added {
            return zk_reply("build the fenced write", e);
        }
        match write.commit().await {
            Ok(_) => return Reply::Ok,
            Err(MultiWriteError::OperationFailed { index: 0, source: ZkError::BadVersion }) => continue,
            Err(MultiWriteError::OperationFailed { source, .. }) => return zk_reply("fenced write", source),
            Err(MultiWriteError::RequestFailed { source }) => return zk_reply("fenced write", source),
        }
    }
}
