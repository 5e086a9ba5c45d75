//! The predicate model: an independent transcription of the predicates
//! ([`model_verdict`]) with the known [`Deviation`]s as switches.

use zkurator::names::WRITE_LOCK_NAME;

use super::cases::{Case, Question};
use super::oracle::Verdict;

/// A known way a peer's predicate differs from zkurator's, as a switch of
/// [`model_verdict`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deviation {
    /// Read side: the write owner holds the read lock even when its own read
    /// node is not in the list (Curator, kazurator return "holds" before looking
    /// at the children); zkurator reports the node missing.
    OwnerHoldsWithoutNode,
    /// Read side: our node is the first child that does not contain `__WRIT__`
    /// and *starts with* our name (Curator's `startsWith`, kazurator's
    /// `startswith`), not the child equal to it.
    StartsWithMatch,
    /// Exclusive side: `max_leases` 0 is taken literally (never holds, watches
    /// its own node); zkurator treats it as 1.
    LiteralZeroLeases,
}

impl Deviation {
    /// Every deviation.
    pub const ALL: [Deviation; 3] =
        [Deviation::OwnerHoldsWithoutNode, Deviation::StartsWithMatch, Deviation::LiteralZeroLeases];

    /// The kind of disagreement it explains, as named in the expectations file
    /// (see [`Deviation::kind_for`] for the one refinement).
    pub fn kind(self) -> &'static str {
        match self {
            Deviation::OwnerHoldsWithoutNode => "read-owner-holds-without-node",
            Deviation::StartsWithMatch => "read-starts-with-match",
            Deviation::LiteralZeroLeases => "zero-leases-literal",
        }
    }
}

impl Deviation {
    /// The kind for one case: [`Deviation::kind`], except that a
    /// [`Deviation::StartsWithMatch`] with our node absent gets `-ours-gone`
    /// appended (another child stands in for our node), apart from the one with
    /// our node present (a child extending our name sorts before it).
    pub fn kind_for(self, case: &Case) -> String {
        match self {
            Deviation::StartsWithMatch if !case.children.contains(&case.ours) => format!("{}-ours-gone", self.kind()),
            _ => self.kind().to_string(),
        }
    }
}

/// An independent statement of the predicates over already sorted children, with
/// the given [`Deviation`]s switched on. With none it must agree with zkurator's
/// driver (a unit test checks that).
pub fn model_verdict(case: &Case, sorted: &[String], deviations: &[Deviation]) -> Verdict {
    let on = |d: Deviation| deviations.contains(&d);
    let exclusive = |max_leases: u32| {
        let leases = if on(Deviation::LiteralZeroLeases) { max_leases } else { max_leases.max(1) } as usize;
        match sorted.iter().position(|child| *child == case.ours) {
            None => Verdict::Missing,
            Some(index) if index < leases => Verdict::Holds,
            Some(index) => Verdict::Watch(sorted[index - leases].clone()),
        }
    };
    match case.question {
        Question::Mutex { max_leases } => exclusive(max_leases),
        Question::Write => exclusive(1),
        Question::Read { owns_write } => {
            if owns_write && on(Deviation::OwnerHoldsWithoutNode) {
                return Verdict::Holds;
            }
            let mut first_writer = None;
            let mut found = false;
            for (index, child) in sorted.iter().enumerate() {
                let writer = child.contains(WRITE_LOCK_NAME);
                let is_ours = if on(Deviation::StartsWithMatch) {
                    !writer && child.starts_with(case.ours.as_str())
                } else {
                    *child == case.ours
                };
                if is_ours {
                    found = true;
                    break;
                }
                if writer && first_writer.is_none() {
                    first_writer = Some(index);
                }
            }
            match (found, first_writer) {
                (false, _) => Verdict::Missing,
                (true, _) if owns_write => Verdict::Holds,
                (true, None) => Verdict::Holds,
                (true, Some(index)) => Verdict::Watch(sorted[index].clone()),
            }
        }
    }
}
