//! Picking free TCP ports on 127.0.0.1.

use std::collections::HashSet;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::{Mutex, PoisonError};

use crate::error::ServerError;

/// Ports already handed out by this process, so concurrent tests never get the same one
/// even if the kernel offers it again before the server binds it.
static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// Returns a port that was free on 127.0.0.1 a moment ago and that this process has not
/// handed out before. (Another process may still take it before the server binds it;
/// callers retry startup on "Address already in use".)
pub(crate) fn free_port() -> Result<u16, ServerError> {
    let mut guard = HANDED_OUT.lock().unwrap_or_else(PoisonError::into_inner);
    let used = guard.get_or_insert_with(HashSet::new);
    for _ in 0..64 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| ServerError::io("binding 127.0.0.1:0 to find a free port", e))?;
        let port =
            listener.local_addr().map_err(|e| ServerError::io("reading the address of a probe socket", e))?.port();
        if used.insert(port) {
            return Ok(port);
        }
    }
    Err(ServerError::io(
        "finding a free port",
        std::io::Error::new(std::io::ErrorKind::AddrInUse, "the kernel kept offering ports this process already uses"),
    ))
}
