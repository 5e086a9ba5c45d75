//! Checks of a scenario's steps beyond their grammar and the lock model, so
//! that `check` refuses what `run` could only report as a FAIL: an
//! expectation a step can never meet, and a `write-value` with nothing read.

use crate::steps::{Action, Expect, Step};
use crate::workload::DataStep;

/// Whether `expect` is an outcome `action` can have: workload steps end in
/// `ok` or an error (`error rejected`, `error unknown`...), never in a grant,
/// a block or a timeout.
pub fn expect_fits(action: &Action, expect: Option<Expect>) -> Result<(), String> {
    let (Action::Data { step, .. }, Some(expect)) = (action, expect) else { return Ok(()) };
    match expect {
        Expect::Ok | Expect::Error(_) => Ok(()),
        other => Err(format!(
            "`{}` ends in `ok` or an error (`error rejected`, `error unknown`), never in {other:?}",
            step.text()
        )),
    }
}

/// Every `write-value` of a contender follows a `read-value` of its own since
/// its previous write (the write stores the value read + 1).
pub fn reads_before_writes(steps: &[Step]) -> Result<(), (usize, String)> {
    let mut read: Vec<&str> = Vec::new();
    for step in steps {
        let Action::Data { contender, step: data } = &step.action else { continue };
        match data {
            DataStep::Read => read.push(contender),
            DataStep::Write { .. } => {
                let Some(at) = read.iter().position(|c| c == contender) else {
                    return Err((
                        step.line,
                        format!(
                            "`{}`: {contender} has read nothing to write back: add `{contender} read-value` before it",
                            step.text
                        ),
                    ));
                };
                read.remove(at);
            }
            DataStep::Increment { .. } | DataStep::Pause(_) => {}
        }
    }
    Ok(())
}
