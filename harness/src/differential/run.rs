//! Running: every case through every oracle in batches, grouping, shrinking.

use std::collections::BTreeMap;
use std::time::Instant;

use super::cases::{Case, Question};
use super::compare::{classify, compare, Disagreement};
use super::oracle::{Answer, Oracle, OracleError};
use super::report::{Group, Report, Timing};

/// Rounds of shrinking for one example, at most.
const SHRINK_ROUNDS: usize = 64;

fn answer_all(
    oracle: &mut dyn Oracle,
    cases: &[Case],
    batch_size: usize,
) -> Result<(Vec<Answer>, Timing), OracleError> {
    let started = Instant::now();
    let mut answers = Vec::with_capacity(cases.len());
    for batch in cases.chunks(batch_size.max(1)) {
        let got = oracle.answer(batch)?;
        if got.len() != batch.len() {
            return Err(OracleError {
                oracle: oracle.name().to_string(),
                message: format!("{} answers to {} cases", got.len(), batch.len()),
            });
        }
        answers.extend(got);
    }
    let timing = Timing { oracle: oracle.describe(), cases: cases.len(), elapsed: started.elapsed() };
    Ok((answers, timing))
}

/// Runs `cases` through the reference and every peer in batches of
/// `batch_size`, compares, groups the disagreements by peer and kind, and
/// shrinks one example per group.
pub fn run_differential(
    cases: &[Case],
    reference: &mut dyn Oracle,
    peers: &mut [&mut dyn Oracle],
    batch_size: usize,
) -> Result<Report, OracleError> {
    let (reference_answers, timing) = answer_all(reference, cases, batch_size)?;
    let mut timings = vec![timing];
    let mut groups = Vec::new();
    let mut names = Vec::new();
    for peer in peers.iter_mut() {
        let peer: &mut dyn Oracle = &mut **peer;
        names.push(peer.name().to_string());
        let (answers, timing) = answer_all(peer, cases, batch_size)?;
        timings.push(timing);
        let mut by_kind: BTreeMap<String, Vec<Disagreement>> = BTreeMap::new();
        for d in compare(peer.name(), cases, &reference_answers, &answers) {
            by_kind.entry(d.kind.clone()).or_default().push(d);
        }
        for (kind, list) in by_kind {
            let smallest = list.iter().min_by_key(|d| d.case.size()).expect("a group is never empty").clone();
            let example = shrink(smallest, reference, peer)?;
            groups.push(Group { oracle: peer.name().to_string(), kind, count: list.len(), example });
        }
    }
    Ok(Report { reference: reference.name().to_string(), peers: names, cases: cases.len(), timings, groups })
}

/// Removes children (and lowers `max_leases`) while the disagreement keeps its
/// kind; each round asks the oracles about all candidates in one batch.
fn shrink(
    mut example: Disagreement,
    reference: &mut dyn Oracle,
    peer: &mut dyn Oracle,
) -> Result<Disagreement, OracleError> {
    for _ in 0..SHRINK_ROUNDS {
        let case = &example.case;
        let mut candidates: Vec<Case> = (0..case.children.len())
            .map(|i| {
                let mut smaller = case.clone();
                smaller.children.remove(i);
                smaller
            })
            .collect();
        if let Question::Mutex { max_leases } = case.question {
            if max_leases > 1 {
                candidates.push(Case { question: Question::Mutex { max_leases: max_leases - 1 }, ..case.clone() });
            }
        }
        if candidates.is_empty() {
            break;
        }
        let theirs = peer.answer(&candidates)?;
        let ours = reference.answer(&candidates)?;
        let next = candidates.into_iter().zip(ours.into_iter().zip(theirs)).find_map(|(case, (reference, peer))| {
            (classify(&case, &reference, &peer).as_deref() == Some(example.kind.as_str()))
                .then_some((case, reference, peer))
        });
        match next {
            Some((case, reference, peer)) => {
                example = Disagreement { case, reference, peer, ..example };
            }
            None => break,
        }
    }
    Ok(example)
}
