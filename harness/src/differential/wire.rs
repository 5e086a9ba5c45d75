//! The JSON batches the probes read and the answers they write back.

use serde::{Deserialize, Serialize};

use super::cases::{Case, Question};
use super::oracle::{Answer, OracleError, Verdict};

#[derive(Serialize)]
struct WireCase<'a> {
    question: &'static str,
    max_leases: u32,
    owns_write: bool,
    ours: &'a str,
    children: &'a [String],
}

#[derive(Serialize)]
struct WireBatch<'a> {
    cases: Vec<WireCase<'a>>,
}

#[derive(Deserialize)]
struct WireReply {
    #[serde(default)]
    answers: Option<Vec<WireAnswer>>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct WireAnswer {
    sorted: Vec<String>,
    decision: String,
    #[serde(default)]
    node: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// A batch as the probes read it, in pure ASCII (`\u` escapes for the rest).
pub(super) fn encode_batch(cases: &[Case]) -> String {
    let batch = WireBatch {
        cases: cases
            .iter()
            .map(|case| {
                let (max_leases, owns_write) = match case.question {
                    Question::Mutex { max_leases } => (max_leases, false),
                    Question::Write => (1, false),
                    Question::Read { owns_write } => (0, owns_write),
                };
                WireCase {
                    question: case.question.label(),
                    max_leases,
                    owns_write,
                    ours: &case.ours,
                    children: &case.children,
                }
            })
            .collect(),
    };
    ascii_json(&serde_json::to_string(&batch).expect("a batch always serialises"))
}

/// Rewrites the non-ASCII characters of a JSON text (which serde_json only puts
/// inside strings) as `\u` escapes, UTF-16 surrogate pairs beyond U+FFFF.
fn ascii_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for ch in json.chars() {
        if ch.is_ascii() {
            out.push(ch);
        } else {
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// Reads a probe's reply to a batch of `expected` cases.
pub(super) fn decode_answers(oracle: &str, text: &str, expected: usize) -> Result<Vec<Answer>, OracleError> {
    let failed = |message: String| OracleError { oracle: oracle.to_string(), message };
    let reply: WireReply =
        serde_json::from_str(text).map_err(|e| failed(format!("unreadable reply ({e}): {:.200}", text)))?;
    if let Some(error) = reply.error {
        return Err(failed(error));
    }
    let answers = reply.answers.ok_or_else(|| failed("reply without answers".to_string()))?;
    if answers.len() != expected {
        return Err(failed(format!("{} answers to {expected} cases", answers.len())));
    }
    Ok(answers
        .into_iter()
        .map(|a| {
            let verdict = match a.decision.as_str() {
                "holds" => Verdict::Holds,
                "watch" => Verdict::Watch(a.node.unwrap_or_default()),
                "missing" => Verdict::Missing,
                "error" => Verdict::Error(a.message.unwrap_or_default()),
                other => Verdict::Error(format!("unknown decision {other:?}")),
            };
            Answer { sorted: a.sorted, verdict }
        })
        .collect())
}
