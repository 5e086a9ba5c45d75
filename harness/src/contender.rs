//! A started lock user, as the runner drives it.
//!
//! A contender is one lock user: one runtime, one ZooKeeper session, one lock
//! handle, driven from its own thread. `execute` blocks until the command is
//! done (an acquire blocks until granted, timed out or failed), so the runner
//! gives every contender its own thread; Curator contenders need that anyway
//! because Curator's locks are owned by the calling Java thread.
//!
//! Faults are the out-of-band actions: a contender blocked in `acquire`
//! cannot read another command, so [`Contender::crasher`] hands out a handle that
//! ends the contender's session from any thread, without releasing anything;
//! [`Contender::expirer`] and [`Contender::killer`] do the same for a session
//! expiry and for a killed process.

use std::time::Duration;

pub use crate::protocol::{Command, ContenderSpec, ErrorKind, LockKind, Protection, Reply, Side, Status};
pub use crate::runtimes::Runtime;

/// Ends a contender's ZooKeeper session without releasing, from any thread.
pub type Crasher = Box<dyn Fn() + Send + Sync>;

/// Freezes a contender's process for the given time (SIGSTOP, then SIGCONT),
/// from any thread; returns once it runs again.
pub type Pauser = Box<dyn Fn(Duration) + Send + Sync>;

/// A pauser for a child process that leads its own process group (every
/// line contender does): SIGSTOP, sleep, SIGCONT to the group.
pub fn process_pauser(pid: u32) -> Pauser {
    Box::new(move |frozen| {
        let pid = rustix::process::Pid::from_raw(pid as i32);
        if let Some(pid) = pid {
            // The whole group: a contender started through a wrapper script
            // (`sh -c "FOO=1 cmd"`) is the script's child.
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::STOP);
            std::thread::sleep(frozen);
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::CONT);
        }
    })
}

/// A started lock user of one runtime.
pub trait Contender: Send {
    /// The runtime this contender runs in.
    fn runtime(&self) -> Runtime;
    /// Runs one command to completion and reports its outcome.
    fn execute(&mut self, command: Command) -> Reply;
    /// A handle that ends this contender's session abruptly (a crash).
    fn crasher(&self) -> Crasher;
    /// A handle that makes the server expire this contender's session while
    /// the contender keeps running (it may notice, and may carry on with a new
    /// session); `None` if the runtime cannot tell its session credentials.
    fn expirer(&self) -> Option<Crasher> {
        None
    }
    /// A handle that kills the contender the way a killed process goes: its
    /// connection drops without closing the session, so the server keeps the
    /// session (and its nodes) until the session timeout. `None` when the
    /// contender lives in the harness's own process.
    fn killer(&self) -> Option<Crasher> {
        None
    }
    /// A handle that freezes the contender's process (a GC pause, SIGSTOP);
    /// `None` when the contender lives in the harness's own process.
    fn pauser(&self) -> Option<Pauser> {
        None
    }
    /// The contender's ZooKeeper session id now (`0x…`), if the runtime tells it.
    fn session_id(&self) -> Option<String> {
        None
    }
}

/// Failure to start a contender or a runtime.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// A required program (java, python3) is missing.
    #[error("{what} not found: {detail}. Install it with: {install}")]
    Missing {
        /// What is missing.
        what: String,
        /// What was looked for.
        detail: String,
        /// The command that installs it.
        install: String,
    },
    /// The runtime came up but refused the contender.
    #[error("{runtime} contender {id} failed to start: {message}")]
    Failed {
        /// Runtime name.
        runtime: Runtime,
        /// Contender id.
        id: String,
        /// What went wrong.
        message: String,
    },
    /// No adapter of the peers runs this runtime.
    #[error("no adapter runs the {0} runtime")]
    NoAdapter(Runtime),
}
