//! [`Stop`]: a failed expectation, which ends the run with its violation.

use crate::checkers::{Checker, Violation};

/// A failed expectation: stops the run.
pub(super) struct Stop(pub(super) Violation);

/// A [`Stop`] from `checker` with `message`.
pub(super) fn stop(checker: Checker, message: String) -> Stop {
    Stop(Violation { checker, message })
}
