//! A run's timeline as inline SVG: one lane per contender with its waiting
//! (hatched) and holding (solid) bars coloured by lock kind, the model's
//! expected holds as a thin strip under them, faults and server events as
//! markers, and every violation drawn where it happened, with the checker's
//! words on hover (`<title>`, and `data-info` for the page's info line).

use std::fmt::Write as _;
use std::time::Duration;

use super::esc;
use crate::checkers::Checker;
use crate::checkers::{intervals, Interval};
use crate::history::{EventKind, FINISH};
use crate::offline::Checked;
use crate::protocol::{LockKind, Reply, Side};
use crate::record::{RunRecord, SavedViolation};

const LEFT: f64 = 190.0;
const WIDTH: f64 = 1180.0;
const TOP: f64 = 34.0;
const LANE: f64 = 44.0;

/// The colour of a hold of `side` on a lock of `kind`, and its name.
pub fn colour(kind: LockKind, side: Side) -> (&'static str, &'static str) {
    match (kind, side) {
        (LockKind::Semaphore { .. }, _) => ("#75507b", "lease"),
        (LockKind::Mutex { max_leases }, _) if max_leases > 1 => ("#75507b", "lease"),
        (_, Side::Read) => ("#4e9a06", "read"),
        (_, Side::Write) => ("#ce5c00", "write"),
        (_, Side::Mutex) => ("#3465a4", "mutex"),
    }
}

/// The vertical place (offset in the lane, height) of a bar of `side`: a
/// read/write lock's two sides get a half lane each.
fn band(kind: LockKind, side: Side) -> (f64, f64) {
    match (kind, side) {
        (LockKind::ReadWrite, Side::Write) => (5.0, 11.0),
        (LockKind::ReadWrite, _) => (16.0, 11.0),
        _ => (7.0, 18.0),
    }
}

struct Scale {
    end: f64,
}

impl Scale {
    fn x(&self, at: Duration) -> f64 {
        LEFT + (at.as_secs_f64() / self.end).min(1.0) * (WIDTH - LEFT - 40.0)
    }
}

fn shape(out: &mut String, element: &str, attrs: &str, info: &str) {
    let _ = write!(out, "<{element} {attrs} data-info=\"{0}\"><title>{0}</title></{element}>", esc(info));
}

/// The SVG of `record`'s timeline with the offline checks `checked` and the
/// run's `violations`.
pub fn svg(record: &RunRecord, checked: &Checked, violations: &[SavedViolation]) -> String {
    let events = &record.events;
    let kind = record.header.kind;
    let last = events.last().map_or(Duration::ZERO, |e| e.at);
    let scale = Scale { end: last.as_secs_f64().max(1e-3) };
    let ids: Vec<&str> = record.header.contenders.iter().map(|c| c.id.as_str()).collect();
    let lane = |id: &str| ids.iter().position(|i| *i == id);
    let lane_y = |i: usize| TOP + i as f64 * LANE;
    let height = TOP + ids.len() as f64 * LANE + 24.0;
    let mut out = format!(
        "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">\
<defs><pattern id=\"wait\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
<rect width=\"6\" height=\"6\" fill=\"#eeeeec\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#888a85\" stroke-width=\"2\"/></pattern></defs>\
<rect width=\"{WIDTH}\" height=\"{height}\" fill=\"#fff\"/>"
    );
    axis(&mut out, &scale, last, height);
    for (i, c) in record.header.contenders.iter().enumerate() {
        let y = lane_y(i);
        let _ = write!(
            out,
            "<line x1=\"0\" x2=\"{WIDTH}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#ddd\"/><text x=\"6\" y=\"{}\" font-weight=\"bold\">{}<title>session {}</title></text><text x=\"6\" y=\"{}\" fill=\"#555\">{} {}</text>",
            y + 18.0,
            esc(&c.id),
            esc(c.session.as_deref().unwrap_or("not reported")),
            y + 32.0,
            esc(&c.runtime),
            esc(c.version.as_deref().unwrap_or(""))
        );
    }
    // Steps: ticks on the axis; server events: lines across every lane.
    let mut current_step = String::new();
    let mut stop_at = None;
    for e in events {
        let x = scale.x(e.at);
        match &e.kind {
            EventKind::Step { line, text } if text != FINISH => {
                stop_at = Some(e.at);
                shape(&mut out, "rect", &format!("class=\"step\" x=\"{x:.1}\" y=\"{}\" width=\"2\" height=\"8\" fill=\"#555\"", TOP - 10.0), &format!("step (line {line}) at {:?}: {text}", e.at));
            }
            EventKind::Server(op) => shape(
                &mut out,
                "line",
                &format!("class=\"server\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{TOP}\" y2=\"{}\" stroke=\"#c4a000\" stroke-width=\"3\" stroke-dasharray=\"6 3\"", height - 24.0),
                &format!("server: zk {op} at {:?}", e.at),
            ),
            _ => {}
        }
        if let EventKind::Step { text, .. } = &e.kind {
            current_step = text.clone();
        }
        if let (EventKind::Crash, Some(i)) = (&e.kind, lane(&e.contender)) {
            let y = lane_y(i) + 16.0;
            shape(
                &mut out,
                "path",
                &format!(
                    "class=\"fault\" d=\"M{:.1} {:.1} l8 8 m0 -8 l-8 8\" stroke=\"#a40000\" stroke-width=\"3\"",
                    x - 4.0,
                    y - 4.0
                ),
                &format!("{}'s session ended ({current_step}) at {:?}", e.contender, e.at),
            );
        }
    }
    waiting(&mut out, record, &scale, &lane, &lane_y);
    let holds = intervals(events);
    for hold in &holds {
        let Some(i) = lane(&hold.contender) else { continue };
        let (fill, name) = colour(kind, hold.side);
        let (x1, x2) = (scale.x(hold.start), scale.x(hold.end));
        let node = granted_node(record, hold);
        let info = format!("{} holds {name} {:?}..{:?}, node {}", hold.contender, hold.start, hold.end, node);
        let (dy, h) = band(kind, hold.side);
        shape(
            &mut out,
            "rect",
            &format!(
                "class=\"hold {name}\" x=\"{x1:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h}\" fill=\"{fill}\"",
                lane_y(i) + dy,
                (x2 - x1).max(2.0)
            ),
            &info,
        );
    }
    expected(&mut out, record, checked, &scale, &lane, &lane_y);
    overlaps(&mut out, kind, &holds, violations, &scale, &lane, &lane_y);
    for finding in &checked.linearizability.findings {
        let y = lane(&finding.contender).map_or(TOP, |i| lane_y(i) + 16.0);
        let x = scale.x(finding.at);
        shape(
            &mut out,
            "path",
            &format!("class=\"lin\" d=\"M{x:.1} {:.1} l7 7 l-7 7 l-7 -7 z\" fill=\"#5c3566\"", y - 7.0),
            &format!("[linearizability] {}", finding.violation.message),
        );
    }
    let live: Vec<&SavedViolation> =
        violations.iter().filter(|v| !matches!(v.checker, Checker::Exclusion | Checker::Naming)).collect();
    if let (Some(at), false) = (stop_at, live.is_empty()) {
        let x = scale.x(at);
        let words: Vec<String> = live.iter().map(|v| format!("[{}] {}", v.checker, v.message)).collect();
        shape(
            &mut out,
            "line",
            &format!(
                "class=\"stop\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{}\" y2=\"{}\" stroke=\"#a40000\" stroke-width=\"2\"",
                TOP - 12.0,
                height - 24.0
            ),
            &words.join("; "),
        );
    }
    out.push_str("</svg>");
    out
}

fn axis(out: &mut String, scale: &Scale, last: Duration, height: f64) {
    let ticks = 8;
    for t in 0..=ticks {
        let at = last.mul_f64(t as f64 / ticks as f64);
        let x = scale.x(at);
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{}\" y2=\"{}\" stroke=\"#eee\"/><text x=\"{x:.1}\" y=\"14\" text-anchor=\"middle\" fill=\"#555\">{:.0} ms</text>",
            TOP - 2.0,
            height - 24.0,
            at.as_secs_f64() * 1000.0
        );
    }
}

/// The node of the grant that opened `hold`.
fn granted_node(record: &RunRecord, hold: &Interval) -> String {
    record
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Complete(Reply::Granted { node }) if e.contender == hold.contender && e.at == hold.start => {
                let sequence = node.rsplit(|c: char| !c.is_ascii_digit()).next().unwrap_or("");
                let czxid =
                    record.end.czxids.get(node).map_or("czxid not seen".to_owned(), |z| format!("czxid 0x{z:x}"));
                Some(format!("{node} (sequence {sequence}, {czxid})"))
            }
            _ => None,
        })
        .unwrap_or_else(|| "?".to_owned())
}

/// Hatched bars from each acquire's invoke to its reply (or the session's end, or the end).
fn waiting(
    out: &mut String,
    record: &RunRecord,
    scale: &Scale,
    lane: &dyn Fn(&str) -> Option<usize>,
    lane_y: &dyn Fn(usize) -> f64,
) {
    let last = record.events.last().map_or(Duration::ZERO, |e| e.at);
    for (n, e) in record.events.iter().enumerate() {
        let EventKind::Invoke(crate::protocol::Command::Acquire { side, .. }) = &e.kind else { continue };
        let Some(i) = lane(&e.contender) else { continue };
        let ended = record.events[n + 1..].iter().find(|later| {
            later.contender == e.contender && matches!(later.kind, EventKind::Complete(_) | EventKind::Crash)
        });
        let (until, how) = match ended.map(|l| (&l.kind, l.at)) {
            Some((EventKind::Complete(Reply::Granted { .. }), at)) => (at, "granted".to_owned()),
            Some((EventKind::Complete(reply), at)) => (at, format!("{reply:?}")),
            Some((_, at)) => (at, "its session ended".to_owned()),
            None => (last, "no reply by the end".to_owned()),
        };
        let (x1, x2) = (scale.x(e.at), scale.x(until));
        let name = colour(record.header.kind, *side).1;
        let info = format!("{} waits for {name} {:?}..{until:?}: {how}", e.contender, e.at);
        let (dy, h) = band(record.header.kind, *side);
        shape(
            out,
            "rect",
            &format!(
                "class=\"wait\" x=\"{x1:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h}\" fill=\"url(#wait)\"",
                lane_y(i) + dy,
                (x2 - x1).max(1.0)
            ),
            &info,
        );
    }
}

/// The model's expected holders after each step, as thin strips.
fn expected(
    out: &mut String,
    record: &RunRecord,
    checked: &Checked,
    scale: &Scale,
    lane: &dyn Fn(&str) -> Option<usize>,
    lane_y: &dyn Fn(usize) -> f64,
) {
    let states = &checked.replay.expected;
    let finish = record.events.iter().find(|e| matches!(&e.kind, EventKind::Step { text, .. } if text == FINISH));
    let end = finish.or(record.events.last()).map_or(Duration::ZERO, |e| e.at);
    for (n, state) in states.iter().enumerate() {
        let until = states.get(n + 1).map_or(end, |s| s.at);
        for (id, side) in &state.holders {
            let Some(i) = lane(id) else { continue };
            let (fill, name) = colour(record.header.kind, *side);
            let (x1, x2) = (scale.x(state.at), scale.x(until));
            let info = format!("model: {id} holds {name} after `{}`", state.text);
            shape(out, "rect", &format!("class=\"expected\" x=\"{x1:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"5\" fill=\"{fill}\" opacity=\"0.45\"", lane_y(i) + 30.0, (x2 - x1).max(1.0)), &info);
        }
    }
}

/// The overlaps the exclusion checker reports, as red regions over the
/// lanes involved, with its words.
fn overlaps(
    out: &mut String,
    kind: LockKind,
    holds: &[Interval],
    violations: &[SavedViolation],
    scale: &Scale,
    lane: &dyn Fn(&str) -> Option<usize>,
    lane_y: &dyn Fn(usize) -> f64,
) {
    let exclusion: Vec<&SavedViolation> = violations.iter().filter(|v| v.checker == Checker::Exclusion).collect();
    let leases = match kind {
        LockKind::Mutex { max_leases } | LockKind::Semaphore { max_leases } => max_leases as usize,
        _ => 1,
    };
    let mut regions: Vec<(Duration, Duration, Vec<&str>)> = Vec::new();
    for (n, a) in holds.iter().enumerate() {
        for b in &holds[n + 1..] {
            let (start, end) = (a.start.max(b.start), a.end.min(b.end));
            let conflict = match kind {
                LockKind::ReadWrite => a.side == Side::Write || b.side == Side::Write,
                _ => true,
            };
            if a.contender == b.contender || start >= end || !conflict {
                continue;
            }
            let others = holds.iter().filter(|h| h.start < end && start < h.end).map(|h| h.contender.as_str());
            let mut who: Vec<&str> = others.collect();
            who.sort();
            who.dedup();
            if kind == LockKind::ReadWrite || who.len() > leases {
                regions.push((start, end, vec![a.contender.as_str(), b.contender.as_str()]));
            }
        }
    }
    for (start, end, who) in regions {
        let lanes: Vec<usize> = who.iter().filter_map(|w| lane(w)).collect();
        let (Some(&low), Some(&high)) = (lanes.iter().min(), lanes.iter().max()) else { continue };
        let words = exclusion
            .iter()
            .find(|v| who.iter().all(|w| v.message.contains(w)))
            .or(exclusion.first())
            .map_or_else(|| format!("{} hold at once", who.join(" and ")), |v| format!("[exclusion] {}", v.message));
        let (x1, x2) = (scale.x(start), scale.x(end));
        let y = lane_y(low) + 4.0;
        let h = lane_y(high) + 28.0 - y;
        shape(out, "rect", &format!("class=\"overlap\" x=\"{x1:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"#ef2929\" fill-opacity=\"0.3\" stroke=\"#a40000\" stroke-width=\"2\"", (x2 - x1).max(3.0)), &words);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Event;
    use crate::offline;
    use crate::protocol::Command;
    use crate::record::{ContenderInfo, End, Header, FORMAT, VERSION};
    use crate::runtimes::Runtime;

    fn record(reader_granted_at: u64) -> RunRecord {
        let ev = |ms: u64, who: &str, kind| Event { at: Duration::from_millis(ms), contender: who.into(), kind };
        let info = |id: &str| ContenderInfo { id: id.into(), runtime: "rust".into(), version: None, session: None };
        RunRecord {
            header: Header {
                format: FORMAT.into(),
                version: VERSION,
                label: "t".into(),
                scenario: "t".into(),
                pairing: String::new(),
                kind: LockKind::ReadWrite,
                lock_path: "/l".into(),
                session_timeout_ms: 4000,
                contenders: vec![info("w"), info("r")],
                zookeeper: None,
            },
            events: vec![
                ev(0, "w", EventKind::Invoke(Command::Acquire { side: Side::Write, timeout: None })),
                ev(10, "w", EventKind::Complete(Reply::Granted { node: "/l/_c_x-__WRIT__0000000007".into() })),
                ev(20, "r", EventKind::Invoke(Command::Acquire { side: Side::Read, timeout: None })),
                ev(
                    reader_granted_at,
                    "r",
                    EventKind::Complete(Reply::Granted { node: "/l/_c_y-__READ__0000000008".into() }),
                ),
                ev(50, "w", EventKind::Invoke(Command::Release { side: Side::Write })),
                ev(51, "w", EventKind::Complete(Reply::Ok)),
                ev(70, "r", EventKind::Crash),
            ],
            end: End {
                at_us: 70_000,
                final_value: None,
                foreign: vec![],
                czxids: [("/l/_c_x-__WRIT__0000000007".to_owned(), 0x2a)].into(),
            },
        }
    }

    fn drawn(record: &RunRecord) -> String {
        let contenders = [("w".to_owned(), Runtime::Rust), ("r".to_owned(), Runtime::Rust)];
        let checked = offline::check(record, &contenders);
        let violations: Vec<SavedViolation> = checked.violations.iter().map(SavedViolation::from).collect();
        svg(record, &checked, &violations)
    }

    #[test]
    fn an_overlap_is_drawn_with_the_checkers_words_and_a_hand_off_is_not() {
        let overlap = drawn(&record(30));
        let region = overlap.split("class=\"overlap\"").nth(1).expect("an overlap region");
        assert!(region.contains("[exclusion] w held the write lock"), "{region}");
        assert!(overlap.contains("class=\"lin\""), "the linearizability finding is marked");
        assert!(overlap.contains("sequence 0000000007, czxid 0x2a"), "node names and zxids on hover");
        assert!(overlap.contains("class=\"fault\""), "the session's end is marked");
        let hand_off = drawn(&record(60));
        assert!(!hand_off.contains("class=\"overlap\"") && !hand_off.contains("class=\"lin\""), "{hand_off}");
        assert_eq!(hand_off.matches("class=\"hold ").count(), 2);
    }
}
