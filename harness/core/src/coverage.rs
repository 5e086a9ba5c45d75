//! Whether a finished selection exercised what it was asked about: a gate
//! whose every run was skipped, or that skipped every run of a runtime named
//! in `--runtimes`, has tested nothing of it and must not pass.
//!
//! Pure: takes each run's runtimes and its skip reason (if it was skipped).

use crate::runtimes::Runtime;

/// One run as far as coverage goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ran<'a> {
    /// The runtimes of its contenders.
    pub runtimes: &'a [Runtime],
    /// Why it was skipped, when it was (a capability a runtime lacks).
    pub skipped: Option<&'a str>,
}

/// What a selection left untested.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CoverageError {
    /// Every run was skipped.
    #[error("all {runs} runs were skipped, so nothing was tested (first reason: {reason}): a gate that ran nothing does not pass")]
    NothingRan {
        /// How many runs there were.
        runs: usize,
        /// The first run's skip reason.
        reason: String,
    },
    /// A runtime named in `--runtimes` took part in no run that executed.
    #[error(
        "no run of {runtime} executed ({skipped} skipped, first reason: {reason}): --runtimes {runtime} asks about it, \
         and it declares nothing these runs need"
    )]
    Unexercised {
        /// The runtime.
        runtime: Runtime,
        /// Its skipped runs.
        skipped: usize,
        /// The first skip reason.
        reason: String,
    },
}

/// Checks a finished selection: some run executed, and (with `wanted`, the
/// runtimes of `--runtimes`) each wanted runtime is in a run that executed.
/// An empty selection is the loader's business (it fails earlier) and passes here.
pub fn check(runs: &[Ran<'_>], wanted: Option<&[Runtime]>) -> Result<(), CoverageError> {
    fn reason<'a>(mut of: impl Iterator<Item = &'a Ran<'a>>) -> String {
        of.find_map(|r| r.skipped).map_or_else(|| "none given".to_owned(), str::to_owned)
    }
    if !runs.is_empty() && runs.iter().all(|r| r.skipped.is_some()) {
        return Err(CoverageError::NothingRan { runs: runs.len(), reason: reason(runs.iter()) });
    }
    for runtime in wanted.unwrap_or_default() {
        let with: Vec<&Ran<'_>> = runs.iter().filter(|r| r.runtimes.contains(runtime)).collect();
        if !with.is_empty() && with.iter().all(|r| r.skipped.is_some()) {
            return Err(CoverageError::Unexercised {
                runtime: runtime.clone(),
                skipped: with.len(),
                reason: reason(with.into_iter()),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_selections_fail_and_executed_ones_pass() {
        let rust = [Runtime::Rust];
        let both = [Runtime::Rust, Runtime::GoZk];
        let go = [Runtime::GoZk];
        let ran = |runtimes, skipped| Ran { runtimes, skipped };
        assert_eq!(check(&[], None), Ok(()));
        assert_eq!(check(&[ran(&rust, None)], Some(&rust)), Ok(()));
        let all_skipped = [ran(&go, Some("kinds: read-write")), ran(&both, Some("timeouts"))];
        assert!(matches!(check(&all_skipped, None), Err(CoverageError::NothingRan { runs: 2, .. })));
        let go_skipped = [ran(&rust, None), ran(&both, Some("timeouts"))];
        assert_eq!(check(&go_skipped, None), Ok(()));
        let error = check(&go_skipped, Some(&both)).unwrap_err();
        assert_eq!(error, CoverageError::Unexercised { runtime: Runtime::GoZk, skipped: 1, reason: "timeouts".into() });
        assert!(error.to_string().contains("no run of go-zk executed"), "{error}");
        assert_eq!(check(&[ran(&rust, None), ran(&both, None)], Some(&both)), Ok(()));
    }
}
