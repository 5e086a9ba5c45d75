//! Deliberately broken lock rules, for negative controls: a harness that lets
//! one of these through is not checking anything. They can only be switched on
//! per handle with the `negative-controls` cargo feature; never in production.

/// A way to break the lock on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NegativeControl {
    /// The read side holds as soon as its node exists, ignoring queued writers.
    ReadIgnoresWriters,
    /// Exclusive sides count only other write (or mutex) nodes, ignoring readers.
    WriteIgnoresReaders,
}
