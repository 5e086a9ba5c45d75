//! What each runtime can do: the one table the model, the generator and the
//! suite read instead of asking which runtime a contender is.
//!
//! Process runtimes declare most of these in their hello line (see
//! `docs/contender-protocol.md`); the built-in runtimes' entries are
//! [`crate::runtimes::Runtime::capabilities`], and a built-in process
//! runtime's hello is checked against its entry when it starts.

use serde::{Deserialize, Serialize};

use crate::protocol::{LockKind, Protection};

/// A lock kind by name, as the hello lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KindName {
    /// `lock = "mutex"` (Curator InterProcessMutex; with `leases`, InterProcessSemaphore v1).
    Mutex,
    /// `lock = "read-write"` (InterProcessReadWriteLock).
    ReadWrite,
    /// `lock = "semaphore"` (InterProcessSemaphoreV2, SemaphoreMutex).
    Semaphore,
    /// `lock = "multi"` (InterProcessMultiLock).
    Multi,
}

impl KindName {
    /// The name scenario files and hellos use.
    pub fn name(self) -> &'static str {
        match self {
            KindName::Mutex => "mutex",
            KindName::ReadWrite => "read-write",
            KindName::Semaphore => "semaphore",
            KindName::Multi => "multi",
        }
    }

    /// The name of `kind`.
    pub fn of(kind: LockKind) -> KindName {
        match kind {
            LockKind::Mutex { .. } => KindName::Mutex,
            LockKind::ReadWrite => KindName::ReadWrite,
            LockKind::Semaphore { .. } => KindName::Semaphore,
            LockKind::Multi { .. } => KindName::Multi,
        }
    }
}

/// What a runtime can do. Every field defaults to "cannot".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Capabilities {
    /// Lock kinds it has.
    pub kinds: Vec<KindName>,
    /// A mutex with `max_leases` > 1.
    pub leases: bool,
    /// A lease waiter wakes when any lease frees (not only the node
    /// `max_leases` places ahead: Curator's semaphore v1 and kazurator do not).
    pub leases_wake_on_any_release: bool,
    /// An acquire with a finite timeout (also zero: try once).
    pub timeouts: bool,
    /// An acquire of a held side counts up (mutex and read-write locks).
    pub reentrant: bool,
    /// Reentrant also on a mutex with `max_leases` > 1 (Curator's semaphore
    /// takes one more lease instead).
    pub reentrant_leases: bool,
    /// `acquire read` while holding `write`, granted at once.
    pub downgrade: bool,
    /// A read holder's `acquire write` fails at once with `upgrade` (instead
    /// of waiting on itself).
    pub refuses_upgrade: bool,
    /// `make-revocable` and `revoke`.
    pub revocation: bool,
    /// Stores the spec's lock data in its lock nodes.
    pub lock_data: bool,
    /// `participants`.
    pub participants: bool,
    /// The protections `write-value` supports (empty: no workloads).
    pub workloads: Vec<Protection>,
    /// Reads out-of-band lines (`crash`, `expire`) while a command runs.
    pub oob: bool,
    /// The ready line carries the session's id and password.
    pub session_credentials: bool,
    /// Carries on with a new session after an expiry (new acquires work,
    /// old holds are lost).
    pub renews_session: bool,
    /// A waiter whose session expired queues again on a new session
    /// (Curator's framework, zkurator's renewing source).
    pub requeues_on_expiry: bool,
    /// Runs inside the harness's own process: cannot be killed or paused.
    #[serde(skip)]
    pub in_harness_process: bool,
    /// Contenders share one session, so one cannot lose it alone.
    #[serde(skip)]
    pub shares_session: bool,
}

impl Capabilities {
    /// Whether contenders of this runtime can hold a lock of `kind`.
    pub fn has_kind(&self, kind: LockKind) -> bool {
        let leases = matches!(kind, LockKind::Mutex { max_leases } if max_leases > 1);
        self.kinds.contains(&KindName::of(kind)) && (self.leases || !leases)
    }

    /// Whether a second acquire of a held side of `kind` counts up.
    pub fn reentrant_on(&self, kind: LockKind) -> bool {
        match kind {
            LockKind::Semaphore { .. } | LockKind::Multi { .. } => false,
            LockKind::Mutex { max_leases } if max_leases > 1 => self.reentrant && self.reentrant_leases,
            _ => self.reentrant,
        }
    }

    /// Whether the server can be made to expire this runtime's session.
    pub fn can_expire(&self) -> bool {
        self.session_credentials || self.oob || self.in_harness_process
    }

    /// The protection a generated increment uses: guarded where the runtime's
    /// own API has fencing (it declares every protection: zkurator), else
    /// plain, as its users write by default; `None` without workloads.
    pub fn increment_protection(&self) -> Option<Protection> {
        if Protection::ALL.iter().all(|p| self.workloads.contains(p)) {
            Some(Protection::Guarded)
        } else {
            self.workloads.contains(&Protection::Plain).then_some(Protection::Plain)
        }
    }

    /// Where a hello's declaration differs from the expected entry, as
    /// `field: declared X, expected Y` lines (empty when they agree).
    pub fn differences(&self, expected: &Capabilities) -> Vec<String> {
        let (declared, expected) = (to_fields(self), to_fields(expected));
        expected
            .iter()
            .filter_map(|(field, want)| {
                let got = declared.get(field).cloned().unwrap_or(serde_json::Value::Null);
                (got != *want).then(|| format!("{field}: declared {got}, expected {want}"))
            })
            .collect()
    }
}

fn to_fields(c: &Capabilities) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(c) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_runtime_can_run_a_mutex() {
        for runtime in crate::runtimes::Runtime::BUILTIN {
            assert!(runtime.capabilities().has_kind(LockKind::Mutex { max_leases: 1 }), "{runtime}");
        }
    }

    #[test]
    fn a_hello_is_read_with_defaults_and_compared_field_by_field() {
        let declared: Capabilities = serde_json::from_str(r#"{"kinds":["mutex"],"lock_data":true}"#).unwrap();
        assert!(declared.has_kind(LockKind::Mutex { max_leases: 1 }));
        assert!(!declared.has_kind(LockKind::Mutex { max_leases: 2 }) && !declared.has_kind(LockKind::ReadWrite));
        assert!(!declared.timeouts && declared.increment_protection().is_none());
        let expected = Capabilities { session_credentials: true, ..declared.clone() };
        assert_eq!(declared.differences(&expected), vec!["session_credentials: declared false, expected true"]);
        assert!(expected.differences(&expected).is_empty());
    }

    #[test]
    fn reentrancy_depends_on_the_kind() {
        let curator = crate::runtimes::Runtime::Curator.capabilities();
        assert!(curator.reentrant_on(LockKind::ReadWrite));
        assert!(!curator.reentrant_on(LockKind::Mutex { max_leases: 2 }));
        assert!(!curator.reentrant_on(LockKind::Semaphore { max_leases: 1 }));
        assert_eq!(curator.increment_protection(), Some(Protection::Plain));
        assert_eq!(crate::runtimes::Runtime::Rust.capabilities().increment_protection(), Some(Protection::Guarded));
    }
}
