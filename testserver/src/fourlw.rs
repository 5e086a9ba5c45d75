//! ZooKeeper's four-letter-word admin commands (`ruok`, `srvr`, `mntr`, ...) over plain TCP.
//!
//! The servers started by this crate whitelist all of them (`4lw.commands.whitelist=*`).

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::error::ServerError;

/// How long [`server_version`] waits for an answer.
const VERSION_TIMEOUT: Duration = Duration::from_secs(5);

/// Sends the four-letter command `word` to the server at `addr` (`host:port`) and returns
/// its whole answer (the server closes the connection after answering).
///
/// `timeout` bounds the whole exchange: connecting, sending and reading. Running out of
/// time gives an error of kind [`io::ErrorKind::TimedOut`].
pub fn four_letter(addr: &str, word: &str, timeout: Duration) -> io::Result<String> {
    let deadline = Instant::now() + timeout;
    let mut last_error = None;
    let mut stream = None;
    for sock_addr in addr.to_socket_addrs()? {
        let remaining = remaining(deadline)?;
        match TcpStream::connect_timeout(&sock_addr, remaining) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last_error = Some(e),
        }
    }
    let mut stream = match stream {
        Some(s) => s,
        None => {
            return Err(last_error.unwrap_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, format!("{addr} resolves to no address"))
            }))
        }
    };
    stream.set_write_timeout(Some(remaining(deadline)?))?;
    stream.write_all(word.as_bytes())?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        stream.set_read_timeout(Some(remaining(deadline)?))?;
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Err(timed_out());
            }
            // A server that is shutting down may reset instead of closing.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset && !answer.is_empty() => break,
            Err(e) => return Err(e),
        }
    }
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// Returns the version of the server at `addr`, taken from the `Zookeeper version:` line of
/// its `srvr` answer, e.g. `3.8.0-5a02a05eddb59aee6ac762f7ea82e92a68eb9c0f` (the build date
/// after the comma is dropped).
pub fn server_version(addr: &str) -> Result<String, ServerError> {
    let answer = four_letter(addr, "srvr", VERSION_TIMEOUT).map_err(|source| ServerError::FourLetter {
        addr: addr.to_owned(),
        word: "srvr".to_owned(),
        source,
    })?;
    parse_version(&answer).ok_or_else(|| ServerError::UnexpectedResponse {
        addr: addr.to_owned(),
        word: "srvr".to_owned(),
        response: answer.clone(),
    })
}

/// The role a server reports in its `srvr` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Serving clients, as `standalone`, `leader`, `follower`, `observer`, ...
    Serving(String),
    /// Up, but not serving (no quorum yet, or still loading).
    NotServing,
}

/// Asks `addr` for its `srvr` answer and extracts the mode.
pub(crate) fn server_mode(addr: &str, timeout: Duration) -> io::Result<Mode> {
    let answer = four_letter(addr, "srvr", timeout)?;
    Ok(parse_mode(&answer))
}

fn parse_version(srvr: &str) -> Option<String> {
    let rest = field(srvr, "Zookeeper version:")?;
    let version = rest.split(',').next().unwrap_or(rest).trim();
    // Debian's build never filled in its commit: `3.8.0-${mvngit.commit.id}`.
    let version = version.split("-${").next().unwrap_or(version);
    (!version.is_empty()).then(|| version.to_owned())
}

fn parse_mode(srvr: &str) -> Mode {
    match field(srvr, "Mode:") {
        Some(mode) if !mode.is_empty() => Mode::Serving(mode.to_owned()),
        _ => Mode::NotServing,
    }
}

/// The trimmed text after `prefix` on the first line that starts with it.
fn field<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.lines().find_map(|line| line.trim_start().strip_prefix(prefix)).map(str::trim)
}

fn remaining(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(timed_out())
    } else {
        Ok(left)
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "four-letter command timed out")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRVR: &str = "Zookeeper version: 3.8.0-5a02a05eddb59aee6ac762f7ea82e92a68eb9c0f, \
                        built on 2022-02-25 08:49 UTC\nLatency min/avg/max: 0/0.0/0\n\
                        Received: 1\nSent: 0\nConnections: 1\nOutstanding: 0\nZxid: 0x0\n\
                        Mode: follower\nNode count: 5\n";

    #[test]
    fn parses_version_and_mode() {
        assert_eq!(parse_version(SRVR).as_deref(), Some("3.8.0-5a02a05eddb59aee6ac762f7ea82e92a68eb9c0f"));
        let debian = "Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2022-02-25 08:49 UTC\nMode: standalone\n";
        assert_eq!(
            parse_version(debian).as_deref(),
            Some("3.8.0"),
            "the unfilled placeholder is not part of the release"
        );
        assert_eq!(parse_mode(SRVR), Mode::Serving("follower".to_owned()));
    }

    #[test]
    fn not_serving_answer_has_no_mode_or_version() {
        let answer = "This ZooKeeper instance is not currently serving requests\n";
        assert_eq!(parse_mode(answer), Mode::NotServing);
        assert_eq!(parse_version(answer), None);
    }
}
