//! The reference: zkurator's pure driver in process ([`RustOracle`]), or
//! replacement functions ([`PredicateFns`]) for negative controls.

use std::fmt;

use zkurator::driver::{self, Decision, SortNames};

use super::cases::{Case, Question};
use super::oracle::{Answer, Oracle, OracleError};

/// The three pure functions of a driver, replaceable to build negative controls.
#[derive(Clone, Copy)]
pub struct PredicateFns {
    /// Sorts children into lock order.
    pub sort: fn(&mut [String], SortNames),
    /// Mutex, lease lock and write side: `(sorted, ours, max_leases)`.
    pub exclusive: fn(&[String], &str, u32) -> Decision,
    /// Read side: `(sorted, ours, owns_write)`.
    pub read: fn(&[String], &str, bool) -> Decision,
}

impl PredicateFns {
    /// zkurator's own driver.
    pub fn zkurator() -> Self {
        PredicateFns {
            sort: driver::sort_children::<String>,
            exclusive: driver::decide_exclusive::<String>,
            read: driver::decide_read::<String>,
        }
    }
}

impl fmt::Debug for PredicateFns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PredicateFns")
    }
}

/// The Rust oracle: zkurator's driver in process (or replacement functions).
#[derive(Clone, Debug)]
pub struct RustOracle {
    name: String,
    fns: PredicateFns,
}

impl RustOracle {
    /// `zkurator::driver`, named `rust`.
    pub fn zkurator() -> Self {
        RustOracle { name: "rust".to_string(), fns: PredicateFns::zkurator() }
    }

    /// Other predicate functions under another name (negative controls).
    pub fn with_fns(name: &str, fns: PredicateFns) -> Self {
        RustOracle { name: name.to_string(), fns }
    }

    /// The answer to one case.
    pub fn answer_one(&self, case: &Case) -> Answer {
        let mut sorted = case.children.clone();
        (self.fns.sort)(&mut sorted, case.question.sort_names());
        let decision = match case.question {
            Question::Mutex { max_leases } => (self.fns.exclusive)(&sorted, &case.ours, max_leases),
            Question::Write => (self.fns.exclusive)(&sorted, &case.ours, 1),
            Question::Read { owns_write } => (self.fns.read)(&sorted, &case.ours, owns_write),
        };
        Answer { sorted, verdict: decision.into() }
    }
}

impl Oracle for RustOracle {
    fn name(&self) -> &str {
        &self.name
    }

    fn describe(&self) -> String {
        format!("{} (zkurator::driver functions, in process)", self.name)
    }

    fn answer(&mut self, cases: &[Case]) -> Result<Vec<Answer>, OracleError> {
        Ok(cases.iter().map(|case| self.answer_one(case)).collect())
    }
}
