//! [`FencingToken`]: the creation zxid of a lock node, ordered, so a store
//! can refuse writes from a holder older than the newest it has seen.

use std::fmt;

/// A fencing token: the creation zxid (`czxid`) of the lock node a hold rests
/// on. ZooKeeper's zxids grow with every write the ensemble commits, so a
/// later holder of the same lock always has a larger token than an earlier
/// one, whatever the clients' clocks say. Tokens of different lock paths are
/// ordered too, but only tokens of one lock path say who came later.
///
/// A token protects data only where the data lives: the store must remember
/// the largest token it accepted and refuse smaller ones (or use
/// [`Hold::guarded`](crate::Hold::guarded) when the data is in ZooKeeper).
///
/// ```
/// use zkurator::FencingToken;
///
/// /// A store that refuses writes from holders older than the newest it saw.
/// #[derive(Default)]
/// struct FencedStore { newest: Option<FencingToken>, value: String }
///
/// #[derive(Debug)]
/// struct Stale { token: FencingToken, newest: FencingToken }
///
/// impl FencedStore {
///     fn write(&mut self, token: FencingToken, value: &str) -> Result<(), Stale> {
///         if let Some(newest) = self.newest.filter(|newest| token < *newest) {
///             return Err(Stale { token, newest });
///         }
///         self.newest = Some(token);
///         self.value = value.to_owned();
///         Ok(())
///     }
/// }
///
/// let mut store = FencedStore::default();
/// // In a service: `store.write(guard.fencing_token(), ...)`.
/// store.write(FencingToken::from_czxid(0x1_0000_0007), "from the new holder").unwrap();
/// // A paused holder whose session expired wakes up with its old token:
/// let stale = store.write(FencingToken::from_czxid(0x1_0000_0003), "from the old holder");
/// assert!(stale.is_err());
/// assert_eq!(store.value, "from the new holder");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FencingToken(i64);

impl FencingToken {
    /// The token of a node with this creation zxid (`Stat::czxid`), for a
    /// store that reads tokens back.
    pub const fn from_czxid(czxid: i64) -> FencingToken {
        FencingToken(czxid)
    }

    /// The creation zxid, for sending the token along with a write.
    pub const fn as_i64(self) -> i64 {
        self.0
    }
}

impl From<FencingToken> for i64 {
    fn from(token: FencingToken) -> i64 {
        token.0
    }
}

impl fmt::Display for FencingToken {
    /// The zxid in decimal, the form [`str::parse`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::LowerHex for FencingToken {
    /// The zxid in hex (epoch in the high 32 bits, counter in the low ones).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

impl std::str::FromStr for FencingToken {
    type Err = std::num::ParseIntError;

    /// Reads a token written with `Display`.
    fn from_str(text: &str) -> Result<FencingToken, Self::Err> {
        text.trim().parse().map(FencingToken)
    }
}

#[cfg(test)]
mod tests {
    use super::FencingToken;

    #[test]
    fn ordered_by_zxid_and_round_trips_through_text() {
        let old = FencingToken::from_czxid(0x1_0000_0003);
        let new = FencingToken::from_czxid(0x2_0000_0001);
        assert!(old < new);
        assert_eq!(new.to_string().parse::<FencingToken>().unwrap(), new);
        assert_eq!(format!("{old:#x}"), "0x100000003");
        assert_eq!(i64::from(old), 0x1_0000_0003);
    }
}
