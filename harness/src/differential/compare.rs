//! Comparison: the kind of each disagreement ([`classify`]) and the
//! disagreements of a peer on a batch ([`compare`]).

use std::fmt;

use super::cases::Case;
use super::model::{model_verdict, Deviation};
use super::oracle::Answer;

/// The kind of a disagreement on the sorted order.
pub const SORT_ORDER: &str = "sort-order";

/// The kind of a peer's disagreement with the reference on `case`, or `None`
/// when they agree. A [`Deviation`] explains it only if the model without
/// deviations gives the reference's verdict and the model with exactly that
/// deviation (or, failing that, with all of them) gives the peer's.
pub fn classify(case: &Case, reference: &Answer, peer: &Answer) -> Option<String> {
    if reference.sorted != peer.sorted {
        return Some(SORT_ORDER.to_string());
    }
    if reference.verdict == peer.verdict {
        return None;
    }
    let sorted = &reference.sorted;
    if model_verdict(case, sorted, &[]) == reference.verdict {
        if let Some(d) = Deviation::ALL.into_iter().find(|d| model_verdict(case, sorted, &[*d]) == peer.verdict) {
            return Some(d.kind_for(case));
        }
        if model_verdict(case, sorted, &Deviation::ALL) == peer.verdict {
            return Some(Deviation::ALL.map(Deviation::kind).join("+"));
        }
    }
    Some(format!("unexplained-{}-{}-vs-{}", case.question.label(), reference.verdict.label(), peer.verdict.label()))
}

/// One case on which a peer and the reference disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement {
    /// The peer's name.
    pub oracle: String,
    /// See [`classify`].
    pub kind: String,
    /// The case.
    pub case: Case,
    /// The reference's answer.
    pub reference: Answer,
    /// The peer's answer.
    pub peer: Answer,
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.case)?;
        if self.reference.sorted == self.peer.sorted {
            writeln!(f, "sorted (all):  {:?}", self.reference.sorted)?;
        } else {
            writeln!(f, "sorted (reference): {:?}", self.reference.sorted)?;
            writeln!(f, "sorted ({}): {:?}", self.oracle, self.peer.sorted)?;
        }
        write!(f, "reference: {}; {}: {}", self.reference.verdict, self.oracle, self.peer.verdict)
    }
}

/// Every disagreement of `peer` (named `oracle`) with `reference` over `cases`.
pub fn compare(oracle: &str, cases: &[Case], reference: &[Answer], peer: &[Answer]) -> Vec<Disagreement> {
    cases
        .iter()
        .zip(reference.iter().zip(peer))
        .filter_map(|(case, (reference, peer))| {
            classify(case, reference, peer).map(|kind| Disagreement {
                oracle: oracle.to_string(),
                kind,
                case: case.clone(),
                reference: reference.clone(),
                peer: peer.clone(),
            })
        })
        .collect()
}
