//! The checker that counts double grants from the server's own evidence,
//! for runs with partitions.
//!
//! Under a partition the runner's clock cannot say when a cut-off holder's
//! hold really ended (at the server, when its session expired), so the
//! history's intervals cannot decide exclusion for it. The server can: a
//! listing of the lock directory is one consistent snapshot in the server's
//! order, and sequence numbers only grow. If a listing taken *after* a
//! contender was granted node N still shows a node ahead of N that forbids
//! N's grant (for a mutex: `max_leases` nodes ahead; for a write: any node;
//! for a read: a write node), then that node already existed when N was
//! granted (it was created before N, and a deleted node never comes back),
//! so the server had two sessions holding nodes at once: a double grant.

use crate::protocol::LockKind;

/// The sort key of a child: its 10-digit sequence suffix, or the whole name
/// for a child without one (as Curator sorts foreign children).
fn key(child: &str) -> &str {
    let tail = child.len().saturating_sub(10);
    match child.get(tail..) {
        Some(digits) if child.len() >= 10 && digits.bytes().all(|b| b.is_ascii_digit()) => digits,
        _ => child,
    }
}

/// Whether `granted` (a child name, or a full path: its last component is
/// used) may be held according to the server's `children` listing. `None`
/// when the grant fits (or the node is gone, so the listing says nothing
/// about it); otherwise the children ahead of it that forbid it.
pub fn server_grant(kind: LockKind, children: &[String], granted: &str) -> Option<Vec<String>> {
    let name = granted.rsplit('/').next().unwrap_or(granted);
    if !children.iter().any(|c| c == name) {
        return None;
    }
    let mine = key(name);
    let ahead = children.iter().filter(|c| c.as_str() != name && key(c) < mine);
    let is_write = |c: &str| c.contains("__WRIT__");
    let blocking: Vec<String> = match kind {
        LockKind::ReadWrite if name.contains("__READ__") => ahead.filter(|c| is_write(c)).cloned().collect(),
        LockKind::ReadWrite => ahead.cloned().collect(),
        LockKind::Mutex { max_leases } | LockKind::Semaphore { max_leases } => {
            let ahead: Vec<String> = ahead.cloned().collect();
            if ahead.len() < max_leases as usize {
                Vec::new()
            } else {
                ahead
            }
        }
        LockKind::Multi { .. } => ahead.cloned().collect(),
    };
    (!blocking.is_empty()).then_some(blocking)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    const MUTEX: LockKind = LockKind::Mutex { max_leases: 1 };

    #[test]
    fn a_grant_with_the_old_holders_node_still_ahead_is_a_double_grant() {
        let children = names(&["_c_a-lock-0000000001", "_c_b-lock-0000000002"]);
        assert_eq!(server_grant(MUTEX, &children, "/l/_c_b-lock-0000000002"), Some(names(&["_c_a-lock-0000000001"])));
        // The negative control's opposite: once the old node is gone, the grant fits.
        assert_eq!(server_grant(MUTEX, &children[1..], "/l/_c_b-lock-0000000002"), None);
        // The head of the queue always fits; a node not listed says nothing.
        assert_eq!(server_grant(MUTEX, &children, "_c_a-lock-0000000001"), None);
        assert_eq!(server_grant(MUTEX, &children, "_c_z-lock-0000000009"), None);
    }

    #[test]
    fn leases_reads_and_writes_follow_the_protocol() {
        let children = names(&["_c_a-lock-0000000001", "_c_b-lock-0000000002", "_c_c-lock-0000000003"]);
        let two = LockKind::Mutex { max_leases: 2 };
        assert_eq!(server_grant(two, &children, "_c_b-lock-0000000002"), None);
        assert!(server_grant(two, &children, "_c_c-lock-0000000003").is_some());
        let rw = names(&["_c_a-__READ__0000000001", "_c_b-__READ__0000000002", "_c_c-__WRIT__0000000003"]);
        assert_eq!(server_grant(LockKind::ReadWrite, &rw, "_c_b-__READ__0000000002"), None);
        assert!(server_grant(LockKind::ReadWrite, &rw, "_c_c-__WRIT__0000000003").is_some());
        let w_then_r = names(&["_c_a-__WRIT__0000000001", "_c_b-__READ__0000000002"]);
        assert!(server_grant(LockKind::ReadWrite, &w_then_r, "_c_b-__READ__0000000002").is_some());
        // A downgrade's read node shares its write node's sequence: not ahead.
        let downgrade = names(&["_c_a-__WRIT__0000000001", "_c_a-__READ__0000000001"]);
        assert_eq!(server_grant(LockKind::ReadWrite, &downgrade, "_c_a-__READ__0000000001"), None);
    }

    #[test]
    fn foreign_children_sort_by_their_whole_name() {
        let children = names(&["_c_b-lock-0000000002", "foreign"]);
        assert_eq!(key("foreign"), "foreign");
        assert_eq!(server_grant(MUTEX, &children, "_c_b-lock-0000000002"), None);
    }
}
