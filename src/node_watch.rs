//! [`NodeWatch`]: an exists watch on a hold's own node, set by the acquire
//! without waiting for its answer, and read without a task or a request.
//!
//! Whether a hold counts as held (`is_held`, `reenter`, `status`) must not
//! depend on whether anyone started the loss watcher: a node deleted by an
//! operator is known as soon as ZooKeeper's answer or event reaches the
//! client. ZooKeeper delivers a watch event to a session before the reply to
//! any later request of that session, so once the holder's client has seen
//! the node gone in any reply, the hold already reads as lost.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex as StdMutex;
use std::task::{Context, Poll, Waker};

use zookeeper_client::{Client, EventType, OneshotWatcher, Stat, WatchedEvent};

type Asking = Pin<Box<dyn Future<Output = Result<(Option<Stat>, OneshotWatcher), zookeeper_client::Error>> + Send>>;
type Watching = Pin<Box<dyn Future<Output = WatchedEvent> + Send>>;

/// What the watch has seen of the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Seen {
    /// Nothing yet: the node existed when last heard of.
    Nothing,
    /// The node is gone.
    Deleted,
    /// The watch fired for something else (data written, session ended) or
    /// could not be set: it tells nothing more; the loss watcher must look.
    Spent,
}

enum Stage {
    Asking(Asking),
    Watching(Watching),
    Done(Seen),
}

/// An exists watch on one lock node.
pub(crate) struct NodeWatch {
    stage: StdMutex<Stage>,
}

impl std::fmt::Debug for NodeWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeWatch").field("seen", &self.seen()).finish()
    }
}

impl NodeWatch {
    /// Sends the exists-and-watch request for `node` now (it goes out after
    /// every request the caller sent before on this session) and returns at
    /// once; the answer is read when someone asks.
    pub(crate) fn start(client: &Client, node: &str) -> NodeWatch {
        let (client, node) = (client.clone(), node.to_owned());
        let mut asking: Asking = Box::pin(async move { client.check_and_watch_stat(&node).await });
        // The first poll sends the request (the client queues it in call order).
        let stage = match poll_now(&mut asking) {
            Poll::Ready(answer) => Stage::Done(seen_in_answer(answer).0),
            Poll::Pending => Stage::Asking(asking),
        };
        let watch = NodeWatch { stage: StdMutex::new(stage) };
        watch.seen();
        watch
    }

    /// What has arrived so far, without waiting.
    pub(crate) fn seen(&self) -> Seen {
        let mut stage = self.stage.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let next = match &mut *stage {
                Stage::Done(seen) => return *seen,
                Stage::Asking(asking) => match poll_now(asking) {
                    Poll::Pending => return Seen::Nothing,
                    Poll::Ready(answer) => match seen_in_answer(answer) {
                        (_, Some(watcher)) => Stage::Watching(Box::pin(watcher.changed())),
                        (seen, None) => Stage::Done(seen),
                    },
                },
                Stage::Watching(watching) => match poll_now(watching) {
                    Poll::Pending => return Seen::Nothing,
                    Poll::Ready(event) if event.event_type == EventType::NodeDeleted => Stage::Done(Seen::Deleted),
                    Poll::Ready(_) => Stage::Done(Seen::Spent),
                },
            };
            *stage = next;
        }
    }
}

/// The exists answer: what it says, and the watcher if the node is there.
fn seen_in_answer(
    answer: Result<(Option<Stat>, OneshotWatcher), zookeeper_client::Error>,
) -> (Seen, Option<OneshotWatcher>) {
    match answer {
        Ok((Some(_), watcher)) => (Seen::Nothing, Some(watcher)),
        Ok((None, _)) => (Seen::Deleted, None),
        Err(_) => (Seen::Spent, None),
    }
}

fn poll_now<F: Future + ?Sized>(future: &mut Pin<Box<F>>) -> Poll<F::Output> {
    future.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}
