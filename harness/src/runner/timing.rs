//! How long the runner waits: for a grant, to call a contender blocked, and
//! for its own session.

use std::time::Duration;

/// Timing of a run.
#[derive(Clone, Debug)]
pub struct Timing {
    /// How long a contender may take to get a lock the model says it holds.
    pub grant_bound: Duration,
    /// How long a contender must stay without reply to count as blocked.
    pub blocked_window: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing { grant_bound: Duration::from_secs(10), blocked_window: Duration::from_millis(300) }
    }
}

/// How long the runner waits for its own session before giving up on a server.
pub const RUNNER_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
