//! Where a lock kind keeps its nodes, as the runner lists them: a mutex or a
//! read/write lock under the lock path itself, a semaphore (Curator's
//! InterProcessSemaphoreV2 layout) under `locks/` and `leases/`, a multi-lock
//! under one directory per member (`m0/`, `m1/`); listed as `<dir>/<name>`
//! so one listing shows them all.

use zookeeper_client::{Client, Error};

use crate::contender::LockKind;

/// The kind's nodes under `lock_path`, named relative to it. A missing lock
/// path is [`Error::NoNode`]; a missing semaphore directory is empty.
pub async fn list(zk: &Client, lock_path: &str, kind: LockKind) -> Result<Vec<String>, Error> {
    let dirs = kind.node_dirs();
    if dirs.is_empty() {
        return zk.list_children(lock_path).await;
    }
    let mut all = Vec::new();
    for dir in dirs {
        match zk.list_children(&format!("{lock_path}/{dir}")).await {
            Ok(children) => all.extend(children.into_iter().map(|child| format!("{dir}/{child}"))),
            Err(Error::NoNode) => {}
            Err(error) => return Err(error),
        }
    }
    all.sort();
    Ok(all)
}
