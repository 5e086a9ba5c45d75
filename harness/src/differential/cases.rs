//! What the oracles are asked: a [`Question`] about a lock and a [`Case`]
//! (the children as ZooKeeper lists them and our node).

use std::fmt;

use zkurator::driver::SortNames;
use zkurator::names::{MUTEX_LOCK_NAME, READ_LOCK_NAME, WRITE_LOCK_NAME};

/// The predicate a case asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Question {
    /// A mutex or lease lock (`lock-` nodes) admitting `max_leases` holders
    /// (Curator `InterProcessMutex`/`InterProcessSemaphore`, kazurator `Mutex`).
    Mutex {
        /// Holders admitted at once.
        max_leases: u32,
    },
    /// The write side of a read/write lock.
    Write,
    /// The read side of a read/write lock.
    Read {
        /// The asking owner holds the write side (a downgrade).
        owns_write: bool,
    },
}

impl Question {
    /// How the children of this lock sort.
    pub fn sort_names(self) -> SortNames {
        match self {
            Question::Mutex { .. } => SortNames::Mutex,
            Question::Write | Question::Read { .. } => SortNames::ReadWrite,
        }
    }

    /// `mutex`, `write` or `read`: the question's name on the wire and in kinds.
    pub fn label(self) -> &'static str {
        match self {
            Question::Mutex { .. } => "mutex",
            Question::Write => "write",
            Question::Read { .. } => "read",
        }
    }

    /// The lock name of the asking side's nodes.
    pub fn lock_name(self) -> &'static str {
        match self {
            Question::Mutex { .. } => MUTEX_LOCK_NAME,
            Question::Write => WRITE_LOCK_NAME,
            Question::Read { .. } => READ_LOCK_NAME,
        }
    }
}

impl fmt::Display for Question {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Question::Mutex { max_leases } => write!(f, "mutex (max_leases {max_leases})"),
            Question::Write => f.write_str("write"),
            Question::Read { owns_write: false } => f.write_str("read"),
            Question::Read { owns_write: true } => f.write_str("read (owns the write side)"),
        }
    }
}

/// One question to every oracle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// What is asked.
    pub question: Question,
    /// The lock path's children in the order ZooKeeper lists them (unsorted).
    pub children: Vec<String>,
    /// The asking contender's node; may be absent from `children`.
    pub ours: String,
}

impl Case {
    /// Size for picking a minimal example: number of children, then total length.
    pub(super) fn size(&self) -> (usize, usize) {
        (self.children.len(), self.children.iter().map(String::len).sum::<usize>() + self.ours.len())
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "question: {}", self.question)?;
        writeln!(f, "ours:     {:?}{}", self.ours, if self.children.contains(&self.ours) { "" } else { " (absent)" })?;
        write!(f, "children (server order): {:?}", self.children)
    }
}
