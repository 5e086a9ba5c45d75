//! Network faults between one contender and the servers: the step words
//! (`C partition`, `C partition replies`, `C partition for 3s`, `C heal`,
//! `C delay 200ms`), their grammar and printer, and the rule that says
//! whether a partition of a given length ends the contender's session at the
//! server.
//!
//! A contender of a scenario with network steps talks to every server
//! through a proxy of its own; the steps drive that proxy. A partition stops
//! the bytes, the connections stay open (neither end sees a close), so the
//! server hears nothing from the session, and expires it once the session
//! timeout passes without a request. `partition replies` lets the requests
//! through and drops the replies: the server goes on hearing the session
//! (its pings and reconnects), so the session lives on at the server.

use std::time::Duration;

/// What a network step does to a contender's proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetOp {
    /// Stop traffic (`direction`), for `lasting` (healed by the runner when
    /// it has passed, while later steps run) or until `C heal`.
    Partition {
        /// Which traffic is dropped.
        direction: Direction,
        /// Healed automatically after this long.
        lasting: Option<Duration>,
    },
    /// End a partition (and any delay stays as it was).
    Heal,
    /// Delay every chunk by this much, each way (`0ms` ends a delay).
    Delay(Duration),
}

/// Which traffic a partition drops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Both ways: nothing reaches the server, nothing comes back.
    Both,
    /// Requests reach the server; its replies are dropped.
    Replies,
}

/// How a partition of some length relates to the session timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Span {
    /// At most half the session timeout: the session survives.
    Short,
    /// At least the session timeout plus [`EXPIRY_MARGIN`]: the server has
    /// expired the session.
    Long,
    /// In between: whether the session survived depends on timing; the model
    /// refuses to predict it.
    Unclear,
}

/// What the server needs beyond the session timeout to expire a session and
/// for the lock to pass on (its expiry checks run every tick).
pub const EXPIRY_MARGIN: Duration = Duration::from_millis(1500);

/// The span of a partition that has lasted `lasted` with `session_timeout`.
pub fn span(lasted: Duration, session_timeout: Duration) -> Span {
    if lasted <= session_timeout / 2 {
        Span::Short
    } else if lasted >= session_timeout + EXPIRY_MARGIN {
        Span::Long
    } else {
        Span::Unclear
    }
}

/// Parses the words after `C partition`, `C heal` or `C delay`; `op` is the
/// op word and `rest` the tokens after it, with their byte offsets. Errors
/// carry the byte offset and a message.
pub fn parse<'a>(
    op: &str,
    rest: &mut dyn Iterator<Item = (usize, &'a str)>,
    end: usize,
    duration: &dyn Fn((usize, &'a str)) -> Result<Duration, (usize, String)>,
) -> Result<NetOp, (usize, String)> {
    match op {
        "heal" => Ok(NetOp::Heal),
        "delay" => {
            let token = rest.next().ok_or((end, "step ends early: expected a delay like 200ms".to_owned()))?;
            Ok(NetOp::Delay(duration(token)?))
        }
        "partition" => {
            let mut direction = Direction::Both;
            let mut lasting = None;
            let mut token = rest.next();
            if let Some((_, "replies")) = token {
                direction = Direction::Replies;
                token = rest.next();
            }
            match token {
                None => {}
                Some((_, "for")) => {
                    let d = rest.next().ok_or((end, "step ends early: expected a duration after `for`".to_owned()))?;
                    lasting = Some(duration(d)?);
                }
                Some((at, other)) => {
                    return Err((at, format!("unexpected {other:?}: expected `replies`, `for <duration>` or nothing")))
                }
            }
            Ok(NetOp::Partition { direction, lasting })
        }
        other => Err((0, format!("not a network op: {other:?}"))),
    }
}

/// The op words a network step starts with.
pub const OPS: [&str; 3] = ["partition", "heal", "delay"];

/// The step text after the contender (`partition replies for 3000ms`).
pub fn text(op: &NetOp) -> String {
    let ms = |d: &Duration| format!("{}ms", d.as_millis());
    match op {
        NetOp::Heal => "heal".into(),
        NetOp::Delay(d) => format!("delay {}", ms(d)),
        NetOp::Partition { direction, lasting } => {
            let mut out = "partition".to_owned();
            if *direction == Direction::Replies {
                out.push_str(" replies");
            }
            if let Some(d) = lasting {
                out.push_str(&format!(" for {}", ms(d)));
            }
            out
        }
    }
}

/// The longest `C delay` the model accepts: beyond a third of the session
/// timeout a delay may cost the session.
pub fn delay_fits(delay: Duration, session_timeout: Duration) -> bool {
    delay <= session_timeout / 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::{parse_step, step_text, Action};

    fn parse_one(text: &str) -> Result<Action, (usize, String)> {
        parse_step(text, &["a", "b"]).map(|(action, _)| action)
    }

    #[test]
    fn every_form_parses_and_prints_back() {
        for (text, op) in [
            ("a partition", NetOp::Partition { direction: Direction::Both, lasting: None }),
            ("a partition replies", NetOp::Partition { direction: Direction::Replies, lasting: None }),
            (
                "a partition for 3s",
                NetOp::Partition { direction: Direction::Both, lasting: Some(Duration::from_secs(3)) },
            ),
            (
                "a partition replies for 500ms",
                NetOp::Partition { direction: Direction::Replies, lasting: Some(Duration::from_millis(500)) },
            ),
            ("a heal", NetOp::Heal),
            ("a delay 200ms", NetOp::Delay(Duration::from_millis(200))),
        ] {
            let action = parse_one(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            assert_eq!(action, Action::Network { contender: "a".into(), op }, "{text}");
            let printed = step_text(&action, None);
            assert_eq!(parse_one(&printed), Ok(action), "{printed}");
        }
    }

    #[test]
    fn bad_forms_are_refused_with_their_place() {
        let (at, message) = parse_one("a partition sideways").unwrap_err();
        assert_eq!(at, 12, "{message}");
        assert!(message.contains("sideways"));
        assert!(parse_one("a partition for").unwrap_err().1.contains("after `for`"));
        assert!(parse_one("a partition for 3").unwrap_err().1.contains("bad duration"));
        assert!(parse_one("a delay").unwrap_err().1.contains("delay like 200ms"));
        assert!(parse_one("a heal now").unwrap_err().1.contains("\"now\""));
        assert!(parse_one("c heal").unwrap_err().1.contains("unknown contender"));
    }

    #[test]
    fn a_scenario_file_uses_its_session_timeout_and_names_the_line() {
        let file = |timeout_ms: u64| {
            format!(
                "description = \"d\"\nlock = \"mutex\"\nsession_timeout_ms = {timeout_ms}\ncontenders = {{ a = \"rust\", b = \"curator\" }}\nsteps = [\n  \"a acquire mutex => granted\",\n  \"b acquire mutex => blocked\",\n  \"a partition for 5s\",\n  \"sleep 4s\",\n  \"b release mutex => ok\",\n]\n"
            )
        };
        let path = std::path::Path::new("partition.toml");
        // Long with a 2 s session: the waiter is granted at the sleep, so it can release.
        if let Err(e) = crate::scenario::parse(path, &file(2000)) {
            panic!("{e}");
        }
        // Unclear with an 8 s session (5 s is neither short nor long).
        let error = crate::scenario::parse(path, &file(8000)).unwrap_err();
        assert_eq!(error.line, 8, "{error}");
        assert!(error.message.contains("not in between"), "{error}");
    }

    #[test]
    fn spans_split_at_half_the_timeout_and_past_the_margin() {
        let t = Duration::from_secs(2);
        assert_eq!(span(Duration::from_millis(1000), t), Span::Short);
        assert_eq!(span(Duration::from_millis(1001), t), Span::Unclear);
        assert_eq!(span(Duration::from_millis(3499), t), Span::Unclear);
        assert_eq!(span(Duration::from_millis(3500), t), Span::Long);
        assert!(delay_fits(Duration::from_millis(600), t));
        assert!(!delay_fits(Duration::from_millis(700), t));
    }
}
