//! What a scenario may ask for and still run: bounds `check` enforces so that
//! a file it accepts cannot hang `run` or fail it with a misleading error.
//!
//! - Durations (acquire timeouts, sleeps, `expect-gone`, `expect-lost`): at
//!   most [`MAX_DURATION`] (1 h). Anything longer is a typo or a hang.
//! - `session_timeout_ms`: within [`SESSION_TIMEOUT_MS`], 400 ms ..= 60 s,
//!   what the harness's own server negotiates (2 × its 200 ms tickTime up to
//!   its maxSessionTimeout of 60 s). A server with ZooKeeper's default
//!   settings (tickTime 2 s) grants 4 s ..= 40 s and silently clamps a request
//!   outside that, so a scenario run there sees a different timeout than it asked.
//! - Foreign child names (`zk foreign`, `zk remove`): one valid znode name
//!   component (no `/`, not `.` or `..`, no characters ZooKeeper refuses).
//! - Contender ids: `[A-Za-z0-9_-]+` and not `zk` or `sleep`, so a step can name them.
//! - Placeholder expansion: at most [`MAX_PAIRINGS`] runs per file.
//! - Contenders: at most [`MAX_CONTENDERS`]; lock data: at most [`MAX_LOCK_DATA_BYTES`].
//! - Protocol lines: at most [`MAX_LINE_BYTES`]; a contender's stderr in the log: [`MAX_STDERR_LOG_BYTES`].
//! - Input files: regular files of at most [`MAX_FILE_BYTES`] ([`crate::bounded`]).

use std::ops::RangeInclusive;
use std::time::Duration;

/// The largest input file (scenario, expectations, runtimes.toml) the harness reads.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// The most contenders one scenario may have: each is a session, a thread and
/// often a process of its own, started one after the other.
pub const MAX_CONTENDERS: usize = 100;

/// The most bytes of lock data a scenario may give: ZooKeeper's default
/// request limit (`jute.maxbuffer`, 1 MiB less one byte) less 64 KiB for the
/// rest of the create request (path, ACL).
pub const MAX_LOCK_DATA_BYTES: usize = (1 << 20) - (64 << 10);

/// The longest protocol line (hello, ready, reply) the harness reads from a contender.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The longest stderr line of a contender kept or logged; the rest of the line is dropped.
pub const MAX_STDERR_LINE_BYTES: usize = 4 << 10;

/// The most stderr bytes of one contender written to the log; the rest is
/// read and dropped, with one note in the log that it was cut.
pub const MAX_STDERR_LOG_BYTES: u64 = 256 << 10;

/// How many characters of a bad line an error message quotes.
pub const QUOTE_CHARS: usize = 120;

/// The first [`QUOTE_CHARS`] characters of `text`, trimmed, with `…` and the
/// full length when it was longer: what error messages quote of a bad line.
pub fn quote(text: &str) -> String {
    let text = text.trim();
    // Cut after escaping: an escape (`\u{2de0}`) is up to ten characters.
    let quoted = format!("{text:?}");
    match quoted.char_indices().nth(QUOTE_CHARS) {
        None => quoted,
        Some((end, _)) => format!("{}… ({} bytes)", &quoted[..end], text.len()),
    }
}

/// The most characters of a message a contender sends (a reply's or a ready
/// line's `error`) that reports keep.
pub const MAX_MESSAGE_CHARS: usize = 2_000;

/// `message` cut to [`MAX_MESSAGE_CHARS`], saying how long it was.
pub fn clip(message: String) -> String {
    clip_to(message, MAX_MESSAGE_CHARS)
}

/// `message` cut to `chars` characters, saying how long it was.
pub fn clip_to(message: String, chars: usize) -> String {
    match message.char_indices().nth(chars) {
        None => message,
        Some((end, _)) => format!("{}… (cut: {} bytes in all)", &message[..end], message.len()),
    }
}

/// The longest duration a step may name.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);

/// The session timeouts a scenario may ask for, in milliseconds.
pub const SESSION_TIMEOUT_MS: RangeInclusive<u64> = 400..=60_000;

/// The most runs one scenario file may expand to.
pub const MAX_PAIRINGS: u64 = 1_000;

/// Why a value cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// A duration above [`MAX_DURATION`].
    #[error("duration {0:?} is longer than the limit of 1 h ({MAX_DURATION:?}): nothing in a scenario should wait that long")]
    Duration(Duration),
    /// A session timeout outside [`SESSION_TIMEOUT_MS`].
    #[error(
        "session_timeout_ms = {0} is outside {start}..={end}: the harness's server negotiates \
         2 × tickTime (400 ms) up to maxSessionTimeout (60 s)",
        start = SESSION_TIMEOUT_MS.start(),
        end = SESSION_TIMEOUT_MS.end()
    )]
    SessionTimeout(u64),
    /// A child name ZooKeeper would refuse or resolve elsewhere.
    #[error("{name:?} is not a valid znode name: {why}")]
    NodeName {
        /// The name.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A contender id no step could name.
    #[error("contender id {0:?} cannot be named in a step: use letters, digits, `_` and `-`")]
    ContenderId(String),
    /// More contenders than [`MAX_CONTENDERS`].
    #[error(
        "{0} contenders, more than the limit of {MAX_CONTENDERS}: each is a ZooKeeper session and a thread or a \
         process of its own; split the scenario"
    )]
    Contenders(usize),
    /// Lock data above [`MAX_LOCK_DATA_BYTES`].
    #[error(
        "lock_data is {0} bytes, more than the limit of {MAX_LOCK_DATA_BYTES}: ZooKeeper refuses a create request \
         over jute.maxbuffer (1 MiB)"
    )]
    LockData(usize),
    /// Too many placeholder bindings.
    #[error(
        "{placeholders} placeholders over {runtimes} runtimes expand to {runs} runs, more than the limit of \
         {MAX_PAIRINGS}: use fewer placeholders, or fixed runtimes for some contenders"
    )]
    Pairings {
        /// Placeholders in the file.
        placeholders: usize,
        /// Runtimes they range over.
        runtimes: usize,
        /// The expansion's size (saturated).
        runs: u64,
    },
}

/// Checks a step's duration.
pub fn duration(d: Duration) -> Result<Duration, LimitError> {
    if d > MAX_DURATION {
        Err(LimitError::Duration(d))
    } else {
        Ok(d)
    }
}

/// Checks a requested session timeout.
pub fn session_timeout_ms(ms: u64) -> Result<Duration, LimitError> {
    if SESSION_TIMEOUT_MS.contains(&ms) {
        Ok(Duration::from_millis(ms))
    } else {
        Err(LimitError::SessionTimeout(ms))
    }
}

/// Checks a child name (one path component), as ZooKeeper's `PathUtils.validatePath` does.
pub fn node_name(name: &str) -> Result<(), LimitError> {
    let bad = |why| Err(LimitError::NodeName { name: name.to_owned(), why });
    if name.is_empty() {
        return bad("empty");
    }
    if name.contains('/') {
        return bad("it contains `/` (one child of the lock directory is meant)");
    }
    if name == "." || name == ".." {
        return bad("`.` and `..` are relative path components");
    }
    // ZooKeeper checks UTF-16 code units: a character beyond U+FFFF is a
    // surrogate pair, inside its refused range U+D800..=U+F8FF.
    let refused =
        |c: char| matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{e000}'..='\u{f8ff}' | '\u{fff0}'..);
    if name.chars().any(refused) {
        return bad("it contains a character ZooKeeper refuses (control, private-use, or beyond U+FFFF such as emoji)");
    }
    Ok(())
}

/// Checks the number of a scenario's contenders.
pub fn contenders(count: usize) -> Result<(), LimitError> {
    if count > MAX_CONTENDERS {
        Err(LimitError::Contenders(count))
    } else {
        Ok(())
    }
}

/// Checks the size of a scenario's lock data.
pub fn lock_data(bytes: usize) -> Result<(), LimitError> {
    if bytes > MAX_LOCK_DATA_BYTES {
        Err(LimitError::LockData(bytes))
    } else {
        Ok(())
    }
}

/// Checks a contender id.
pub fn contender_id(id: &str) -> Result<(), LimitError> {
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        Ok(())
    } else {
        Err(LimitError::ContenderId(id.to_owned()))
    }
}

/// Checks that `placeholders` over `runtimes` stay within [`MAX_PAIRINGS`].
pub fn pairings(placeholders: usize, runtimes: usize) -> Result<u64, LimitError> {
    let runs = u32::try_from(placeholders).ok().and_then(|n| (runtimes as u64).checked_pow(n)).unwrap_or(u64::MAX);
    if runs > MAX_PAIRINGS {
        Err(LimitError::Pairings { placeholders, runtimes, runs })
    } else {
        Ok(runs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert!(duration(MAX_DURATION).is_ok());
        assert!(duration(MAX_DURATION + Duration::from_millis(1)).is_err());
        assert!(session_timeout_ms(400).is_ok() && session_timeout_ms(60_000).is_ok());
        for ms in [0, 399, 60_001, 3_000_000_000] {
            assert!(session_timeout_ms(ms).is_err(), "{ms}");
        }
        for name in ["a//b", "..", ".", "", "a/b", "x\u{0}", "x\u{7f}", "lock-🔒"] {
            assert!(node_name(name).is_err(), "{name:?}");
        }
        for name in ["+before", "zz-after", "a.b", "..x", "lock-0001", "lock-é"] {
            assert!(node_name(name).is_ok(), "{name:?}");
        }
        assert!(contender_id("c0").is_ok() && contender_id("a b").is_err() && contender_id("a=>").is_err());
        assert_eq!(pairings(2, 3), Ok(9));
        assert!(pairings(15, 3).is_err() && pairings(usize::MAX, 3).is_err());
        assert_eq!(pairings(0, 0), Ok(1));
        assert!(lock_data(MAX_LOCK_DATA_BYTES).is_ok() && lock_data(MAX_LOCK_DATA_BYTES + 1).is_err());
        assert_eq!(quote(" ab \n"), "\"ab\"");
        assert_eq!(clip("short".into()), "short");
        assert!(clip("x".repeat(5000)).ends_with("… (cut: 5000 bytes in all)"));
        let long = "é".repeat(500);
        let quoted = quote(&long);
        assert!(
            quoted.starts_with('"') && quoted.ends_with("… (1000 bytes)") && quoted.chars().count() < 140,
            "{quoted}"
        );
    }
}
