//! Node names of the Curator lock protocol: building and parsing
//! `_c_<uuid>-<lock name><sequence>`.

/// Curator's "protected" marker that starts every lock node name.
pub const PROTECTED_MARKER: &str = "_c_";
/// Lock name of a mutex (Curator InterProcessMutex, kazurator Mutex).
pub const MUTEX_LOCK_NAME: &str = "lock-";
/// Lock name of the read side of a read/write lock.
pub const READ_LOCK_NAME: &str = "__READ__";
/// Lock name of the write side of a read/write lock.
pub const WRITE_LOCK_NAME: &str = "__WRIT__";
/// Lock name of a lease of Curator's `InterProcessSemaphoreV2`
/// (`<path>/leases/_c_<uuid>-lease-<seq>`).
pub const LEASE_LOCK_NAME: &str = "lease-";
/// The directory of a `InterProcessSemaphoreV2` whose mutex serialises takers.
pub const SEMAPHORE_LOCKS_DIR: &str = "locks";
/// The directory of a `InterProcessSemaphoreV2` that holds the leases.
pub const SEMAPHORE_LEASES_DIR: &str = "leases";
/// The bytes that, written into a lock node, ask its holder to release.
pub const REVOKE_MESSAGE: &[u8] = b"__REVOKE__";

/// Length of a textual UUID: 8-4-4-4-12 hex digits with dashes.
#[cfg(any(zkurator_harness, test))]
const UUID_LEN: usize = 36;

/// The protected prefix `_c_<uuid>-` of a fresh lock attempt.
///
/// ```
/// let prefix = zkurator::names::new_protected_prefix();
/// assert!(prefix.starts_with("_c_") && prefix.ends_with('-'));
/// assert_eq!(prefix.len(), 3 + 36 + 1);
/// ```
pub fn new_protected_prefix() -> String {
    // Written into place: the formatting machinery costs more than the rest
    // of the name (this runs once per acquire).
    let mut uuid = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let uuid = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut uuid);
    concat(&[PROTECTED_MARKER, uuid, "-"])
}

/// The parts one after the other, in one allocation of the right size.
pub(crate) fn concat(parts: &[&str]) -> String {
    let mut joined = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    parts.iter().for_each(|p| joined.push_str(p));
    joined
}

/// A lock node name split into its parts.
#[cfg(any(zkurator_harness, test))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeName<'a> {
    /// The `_c_<uuid>-` prefix.
    pub protected_prefix: &'a str,
    /// The lock name (`lock-`, `__READ__` or `__WRIT__`).
    pub lock_name: &'a str,
    /// ZooKeeper's sequence suffix (`%010d` of the parent's signed 32-bit
    /// counter: 10 digits, or `-` and 10 digits once it wraps), or,
    /// for a downgrade read node, the sequence of the owner's write node.
    pub sequence: &'a str,
}

/// Parses `name` as a protected lock node of `lock_name`; `None` when it does not
/// follow the grammar `_c_<uuid v4, lower-case>-<lock_name><digits>`.
///
/// ```
/// use zkurator::names::{parse_node_name, WRITE_LOCK_NAME};
/// let name = "_c_70e2a894-b29d-420a-b524-ff4ece7da046-__WRIT__0000000001";
/// let parsed = parse_node_name(name, WRITE_LOCK_NAME).unwrap();
/// assert_eq!(parsed.sequence, "0000000001");
/// assert!(parse_node_name("0f3c__lock__0000000001", WRITE_LOCK_NAME).is_none());
/// ```
#[cfg(any(zkurator_harness, test))]
pub fn parse_node_name<'a>(name: &'a str, lock_name: &str) -> Option<NodeName<'a>> {
    let prefix_len = PROTECTED_MARKER.len() + UUID_LEN + 1;
    let protected_prefix = name.get(..prefix_len)?;
    let uuid = protected_prefix.strip_prefix(PROTECTED_MARKER)?.strip_suffix('-')?;
    if !is_lower_case_uuid(uuid) {
        return None;
    }
    let rest = &name[prefix_len..];
    let sequence = rest.strip_prefix(lock_name)?;
    let digits = sequence.strip_prefix('-').unwrap_or(sequence);
    let well_formed = digits.len() == 10 && digits.bytes().all(|b| b.is_ascii_digit());
    well_formed.then(|| NodeName { protected_prefix, lock_name: &rest[..lock_name.len()], sequence })
}

#[cfg(any(zkurator_harness, test))] // the harness's naming checker
fn is_lower_case_uuid(text: &str) -> bool {
    text.len() == UUID_LEN
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}

/// The sequence part of a node name created by ZooKeeper for `lock_name`: the text
/// after the last occurrence of the lock name.
pub fn sequence_of<'a>(name: &'a str, lock_name: &str) -> Option<&'a str> {
    name.rfind(lock_name).map(|i| &name[i + lock_name.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "70e2a894-b29d-420a-b524-ff4ece7da046";

    #[test]
    fn fresh_prefixes_parse_back() {
        let prefix = new_protected_prefix();
        let name = format!("{prefix}{READ_LOCK_NAME}0000000042");
        let parsed = parse_node_name(&name, READ_LOCK_NAME).expect("parses");
        assert_eq!(parsed.protected_prefix, prefix);
        assert_eq!(parsed.lock_name, READ_LOCK_NAME);
        assert_eq!(parsed.sequence, "0000000042");
        assert_ne!(new_protected_prefix(), prefix, "each attempt gets its own uuid");
    }

    #[test]
    fn rejects_names_off_the_grammar() {
        let bad = [
            format!("_c_{UUID}-lock-000000001"),                   // 9 digits
            format!("_c_{UUID}-lock-00000000x1"),                  // not a digit
            format!("_c_{}-lock-0000000001", UUID.to_uppercase()), // upper case uuid
            format!("_x_{UUID}-lock-0000000001"),                  // wrong marker
            format!("_c_{UUID}-__READ__0000000001"),               // other lock name
            format!("{UUID}-lock-0000000001"),                     // unprotected
            "0f3c9a__lock__0000000001".to_string(),                // kazoo's own Lock
            String::new(),
        ];
        for name in &bad {
            assert_eq!(parse_node_name(name, MUTEX_LOCK_NAME), None, "{name}");
        }
        let good = format!("_c_{UUID}-lock-0000000001");
        assert!(parse_node_name(&good, MUTEX_LOCK_NAME).is_some());
        let wrapped = format!("_c_{UUID}-lock--2147483648");
        assert!(parse_node_name(&wrapped, MUTEX_LOCK_NAME).is_some());
        let wide = format!("_c_{UUID}-lock-0000000002147483648");
        assert!(parse_node_name(&wide, MUTEX_LOCK_NAME).is_none());
    }

    #[test]
    fn sequence_is_text_after_last_lock_name() {
        assert_eq!(sequence_of("a-lock-b-lock-0001", MUTEX_LOCK_NAME), Some("0001"));
        assert_eq!(sequence_of("foreign", MUTEX_LOCK_NAME), None);
    }
}
