//! What the library tells a service about its locks: `tracing` spans and
//! events (always; they cost a check of a static flag while no subscriber
//! wants them) and, with the `metrics` feature, figures through the
//! `metrics` facade for whatever recorder the service installs (Prometheus,
//! OpenTelemetry...). Without the feature every function here is empty.
//!
//! | metric | kind | labels |
//! | --- | --- | --- |
//! | `zkurator_acquire_seconds` | histogram | `kind` (mutex, read, write, lease), `outcome` (acquired, timeout, would_block, error) |
//! | `zkurator_waiters` | gauge | `kind`: acquires waiting now |
//! | `zkurator_holders` | gauge | `kind`: holds live now |
//! | `zkurator_holds_lost_total` | counter | `reason` (session_ended, disconnected_too_long, node_deleted) |
//! | `zkurator_guarded_writes_refused_total` | counter | `reason` (not_held, too_large, session_lost) |
//! | `zkurator_loss_watchers_started_total` | counter | |
//! | `zkurator_sessions_renewed_total` | counter | |

use std::time::Duration;

use crate::error::LockError;
use crate::monitor::LossReason;

/// The `kind` label of a lock side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Mutex,
    Read,
    Write,
    Lease,
    /// A semaphore's `locks/` mutex, held only while taking leases: not
    /// counted as waiters or holders of its own.
    Serial,
}

impl Kind {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Mutex => "mutex",
            Kind::Read => "read",
            Kind::Write => "write",
            Kind::Lease => "lease",
            Kind::Serial => "serial",
        }
    }
}

/// Counts an attempt among the waiters of its kind while it lives.
pub(crate) struct Waiting(Kind);

impl Waiting {
    pub(crate) fn start(kind: Kind) -> Waiting {
        waiting(kind, 1.0);
        Waiting(kind)
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        waiting(self.0, -1.0);
    }
}

/// The `outcome` label of an acquire's result.
pub(crate) fn outcome<T>(result: &Result<T, LockError>) -> &'static str {
    match result {
        Ok(_) => "acquired",
        Err(LockError::Timeout(_)) => "timeout",
        Err(LockError::WouldBlock) => "would_block",
        Err(_) => "error",
    }
}

fn loss_label(reason: LossReason) -> Option<&'static str> {
    match reason {
        LossReason::SessionEnded => Some("session_ended"),
        LossReason::DisconnectedTooLong => Some("disconnected_too_long"),
        LossReason::NodeDeleted => Some("node_deleted"),
        _ => None,
    }
}

/// An acquire of `kind` ended with `outcome` after `waited`.
pub(crate) fn acquire_ended(kind: Kind, outcome: &'static str, waited: Duration) {
    tracing::debug!(kind = kind.label(), outcome, waited_ms = waited.as_secs_f64() * 1e3, "acquire ended");
    #[cfg(feature = "metrics")]
    metrics::histogram!("zkurator_acquire_seconds", "kind" => kind.label(), "outcome" => outcome)
        .record(waited.as_secs_f64());
    #[cfg(not(feature = "metrics"))]
    let _ = (kind, outcome, waited);
}

/// An attempt of `kind` starts (`+1`) or stops (`-1`) waiting.
fn waiting(kind: Kind, delta: f64) {
    #[cfg(feature = "metrics")]
    if kind != Kind::Serial {
        metrics::gauge!("zkurator_waiters", "kind" => kind.label()).increment(delta);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (kind, delta);
}

/// A hold of `kind` begins (`+1`) or ends (`-1`).
pub(crate) fn holding(kind: Kind, delta: f64) {
    #[cfg(feature = "metrics")]
    if kind != Kind::Serial {
        metrics::gauge!("zkurator_holders", "kind" => kind.label()).increment(delta);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (kind, delta);
}

/// A hold ended lost (not released while held).
pub(crate) fn hold_lost(reason: LossReason) {
    let Some(reason) = loss_label(reason) else { return };
    tracing::info!(reason, "hold lost");
    #[cfg(feature = "metrics")]
    metrics::counter!("zkurator_holds_lost_total", "reason" => reason).increment(1);
}

/// A guarded write was refused (nothing written).
pub(crate) fn guarded_refused(error: &LockError) {
    let reason = match error {
        LockError::NotHeld { .. } => "not_held",
        LockError::DataTooLarge { .. } => "too_large",
        LockError::SessionLost(_) => "session_lost",
        _ => return,
    };
    tracing::debug!(reason, "guarded write refused");
    #[cfg(feature = "metrics")]
    metrics::counter!("zkurator_guarded_writes_refused_total", "reason" => reason).increment(1);
}

/// A hold's loss watcher task started.
pub(crate) fn loss_watcher_started() {
    #[cfg(feature = "metrics")]
    metrics::counter!("zkurator_loss_watchers_started_total").increment(1);
}

/// A renewing session source made a new session.
pub(crate) fn session_renewed() {
    #[cfg(feature = "metrics")]
    metrics::counter!("zkurator_sessions_renewed_total").increment(1);
}
