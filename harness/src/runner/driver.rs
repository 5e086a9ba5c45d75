//! A contender's thread ([`Driver`]): the channels the runner commands it
//! through and its out-of-band fault handles.

use std::collections::BTreeMap;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::{Duration, Instant};

use super::peers::Peers;
use crate::contender::{Command, ContenderSpec, Crasher, Reply, Runtime, Side};
use crate::fault_figures::FaultKind;

/// A contender's thread, seen from the runner.
pub(super) struct Driver {
    /// The contender's runtime.
    pub(super) runtime: Runtime,
    /// Commands to the contender's thread (dropping it ends the thread).
    pub(super) commands: Sender<Command>,
    /// The contender's replies, stamped when they arrived.
    pub(super) replies: Receiver<(Reply, Instant)>,
    /// Ends the contender's session (`crash`).
    pub(super) crasher: Crasher,
    /// Expires its session on the server (`expire`), if the runtime tells its credentials.
    pub(super) expirer: Option<Crasher>,
    /// Kills its process (`kill`), if it is a process.
    killer: Option<Crasher>,
    /// Freezes the contender's process (`C pause`), if it is a process.
    pub(super) pauser: Option<crate::contender::Pauser>,
    /// The acquire still waiting for its reply, if any.
    pub(super) pending: Option<Side>,
    /// Nodes this contender was granted, by side.
    pub(super) nodes: BTreeMap<Side, String>,
    /// Crashed or killed: it takes no more commands.
    pub(super) crashed: bool,
    /// Its ZooKeeper session id when it started, if the runtime tells it.
    pub(super) session: Option<String>,
}

impl Driver {
    /// The out-of-band handle that injects `kind`, if the runtime has one.
    pub(super) fn fault_handle(&self, kind: FaultKind) -> Option<&Crasher> {
        match kind {
            FaultKind::Expire => self.expirer.as_ref(),
            FaultKind::Kill => self.killer.as_ref(),
            _ => Some(&self.crasher),
        }
    }
}

/// Starts a contender on its own thread and returns the runner's end.
pub(super) fn spawn_driver(
    runtime: Runtime,
    pin: Option<crate::versions::Version>,
    spec: ContenderSpec,
    peers: &Peers,
) -> Result<Driver, String> {
    let (command_tx, command_rx) = mpsc::channel::<Command>();
    let (reply_tx, reply_rx) = mpsc::channel::<(Reply, Instant)>();
    type Handles = (Crasher, Option<Crasher>, Option<Crasher>, Option<crate::contender::Pauser>, Option<String>);
    let (ready_tx, ready_rx) = mpsc::channel::<Result<Handles, String>>();
    let starter = peers.starter(&runtime, pin).map_err(|e| e.to_string())?;
    let name = format!("contender-{}", spec.id);
    thread::Builder::new()
        .name(name)
        .spawn(move || {
            let contender = starter(&spec);
            let mut contender = match contender {
                Ok(contender) => contender,
                Err(error) => {
                    let _ = ready_tx.send(Err(error.to_string()));
                    return;
                }
            };
            let handles = (
                contender.crasher(),
                contender.expirer(),
                contender.killer(),
                contender.pauser(),
                contender.session_id(),
            );
            let _ = ready_tx.send(Ok(handles));
            while let Ok(command) = command_rx.recv() {
                let reply = contender.execute(command);
                if reply_tx.send((reply, Instant::now())).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    let (crasher, expirer, killer, pauser, session) =
        ready_rx.recv_timeout(Duration::from_secs(60)).map_err(|_| "no answer within 60 s".to_owned())??;
    Ok(Driver {
        runtime,
        commands: command_tx,
        replies: reply_rx,
        crasher,
        expirer,
        killer,
        pauser,
        pending: None,
        nodes: BTreeMap::new(),
        crashed: false,
        session,
    })
}
