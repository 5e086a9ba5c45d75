//! Lost-update workloads, scenario side: the steps that read and write one
//! shared counter under the lock and that freeze a holder, and their grammar.
//!
//! ```text
//! C read-value                      read the counter, remember the value
//! C write-value SIDE [PROTECTION]   write the remembered value + 1 under SIDE
//! C increment SIDE [pause D] [PROTECTION]   read, wait D, write: one critical section
//! C pause D                         freeze C for D (longer than the session timeout)
//! ```
//!
//! `PROTECTION` is `plain` (the default), `guarded` (a `multi` with a check
//! of the writer's lock node) or `fenced` (a fencing-token store). The
//! counter is a plain persistent node the runner creates, so every runtime
//! can take part; [`crate::checkers_data`] compares its final value with the
//! writes that succeeded.

use std::time::Duration;

use crate::protocol::{Protection, Side};

/// The corpus directory of the workload scenarios (`scenarios/workloads/`,
/// with the negative controls in its `negative/`), run by `zkurator-harness
/// workload` and left out of the lock corpus.
pub const WORKLOAD_SUBDIR: &str = "workloads";

/// The fence node of a counter: the largest fencing token a `fenced` write
/// carried, in decimal ("0" at the start).
pub fn fence_of(counter: &str) -> String {
    format!("{counter}-fence")
}

/// One workload step of a contender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataStep {
    /// Read the counter and remember it.
    Read,
    /// Write the remembered value + 1, protected by the hold of `side`.
    Write {
        /// The side whose hold protects the write.
        side: Side,
        /// How the write is protected.
        protection: Protection,
    },
    /// Read, wait `pause`, write: one critical section in one step.
    Increment {
        /// The side whose hold protects the write.
        side: Side,
        /// Time between the read and the write.
        pause: Duration,
        /// How the write is protected.
        protection: Protection,
    },
    /// Freeze the contender: SIGSTOP/SIGCONT for process runtimes; for
    /// in-process runtimes (whose client keeps heartbeating on its own
    /// thread) the server expires the session, then the runner waits.
    Pause(Duration),
}

impl DataStep {
    /// The step as scenario text, after `C `.
    pub fn text(&self) -> String {
        let side = |s: &Side| format!("{s:?}").to_lowercase();
        match self {
            DataStep::Read => "read-value".into(),
            DataStep::Write { side: s, protection } => format!("write-value {} {}", side(s), protection.name()),
            DataStep::Increment { side: s, pause, protection } => {
                format!("increment {} pause {}ms {}", side(s), pause.as_millis(), protection.name())
            }
            DataStep::Pause(d) => format!("pause {}ms", d.as_millis()),
        }
    }

    /// Whether the step can let a waiter in (a frozen holder's session ends).
    pub fn frees(&self) -> bool {
        matches!(self, DataStep::Pause(_))
    }
}

/// The ops this module parses.
pub const OPS: [&str; 4] = ["read-value", "write-value", "increment", "pause"];

/// Parses the rest of a workload step after `C OP`; `side` and `duration`
/// are the scenario grammar's own token parsers. Errors carry byte offsets.
pub fn parse<'t>(
    op: &str,
    rest: &mut dyn Iterator<Item = (usize, &'t str)>,
    end: usize,
    side: &dyn Fn((usize, &'t str)) -> Result<Side, (usize, String)>,
    duration: &dyn Fn((usize, &'t str)) -> Result<Duration, (usize, String)>,
) -> Result<DataStep, (usize, String)> {
    fn need<'t>(
        rest: &mut dyn Iterator<Item = (usize, &'t str)>,
        end: usize,
        what: &str,
    ) -> Result<(usize, &'t str), (usize, String)> {
        rest.next().ok_or_else(|| (end, format!("step ends early: expected {what}")))
    }
    match op {
        "read-value" => Ok(DataStep::Read),
        "pause" => Ok(DataStep::Pause(duration(need(rest, end, "a duration like 3s")?)?)),
        "write-value" | "increment" => {
            let side = side(need(rest, end, "a side: read, write or mutex")?)?;
            let mut pause = None;
            let mut protection = Protection::Plain;
            let mut seen_protection = false;
            while let Some((at, word)) = rest.next() {
                match word {
                    "pause" if op == "increment" && pause.is_some() => {
                        return Err((at, "a second `pause`: an increment waits once, give one duration".into()))
                    }
                    "pause" if op == "increment" => pause = Some(duration(need(rest, end, "a duration after pause")?)?),
                    "plain" | "guarded" | "fenced" if !seen_protection => {
                        seen_protection = true;
                        protection = match word {
                            "guarded" => Protection::Guarded,
                            "fenced" => Protection::Fenced,
                            _ => Protection::Plain,
                        };
                    }
                    other => {
                        return Err((
                            at,
                            format!("unexpected {other:?}: expected [pause D] and one of plain, guarded, fenced"),
                        ))
                    }
                }
            }
            Ok(match op {
                "increment" => DataStep::Increment { side, pause: pause.unwrap_or_default(), protection },
                _ => DataStep::Write { side, protection },
            })
        }
        other => Err((0, format!("not a workload op: {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{parse_step, Action, Expect};

    #[test]
    fn workload_steps_parse_and_print_back() {
        let (action, expect) = parse_step("a increment write pause 2s fenced => ok", &["a"]).unwrap();
        let step =
            DataStep::Increment { side: Side::Write, pause: Duration::from_secs(2), protection: Protection::Fenced };
        assert_eq!(action, Action::Data { contender: "a".into(), step: step.clone() });
        assert_eq!(expect, Some(Expect::Ok));
        let (again, _) = parse_step(&format!("a {}", step.text()), &["a"]).unwrap();
        assert_eq!(again, action);
        let (write, expect) = parse_step("a write-value mutex guarded => error rejected", &["a"]).unwrap();
        assert_eq!(
            write,
            Action::Data {
                contender: "a".into(),
                step: DataStep::Write { side: Side::Mutex, protection: Protection::Guarded }
            }
        );
        assert_eq!(expect, Some(Expect::Error(crate::protocol::ErrorKind::Rejected)));
        assert_eq!(
            parse_step("a pause 3s", &["a"]).unwrap().0,
            Action::Data { contender: "a".into(), step: DataStep::Pause(Duration::from_secs(3)) }
        );
        assert_eq!(
            parse_step("a write-value mutex", &["a"]).unwrap().0,
            Action::Data {
                contender: "a".into(),
                step: DataStep::Write { side: Side::Mutex, protection: Protection::Plain }
            }
        );
    }

    #[test]
    fn bad_workload_steps_say_what_is_wrong() {
        let (_, message) = parse_step("a write-value mutex pause 1s", &["a"]).unwrap_err();
        assert!(message.contains("unexpected \"pause\""), "{message}");
        let (_, message) = parse_step("a increment mutex guarded fenced", &["a"]).unwrap_err();
        assert!(message.contains("fenced"), "{message}");
        let (_, message) = parse_step("a increment mutex pause 1s pause 2s", &["a"]).unwrap_err();
        assert!(message.contains("a second `pause`"), "{message}");
        let (_, message) = parse_step("a pause", &["a"]).unwrap_err();
        assert!(message.contains("duration"), "{message}");
    }
}
