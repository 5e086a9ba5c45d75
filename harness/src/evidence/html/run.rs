//! A run's page (`runs/<run>/index.html`): what ran, its verdict and
//! violations, the timeline, the model's expected states step by step, the
//! linearizability checker's result and the whole history.

use std::fmt::Write as _;

use super::timeline::{colour, svg};
use super::{esc, page as html_page, verdict_class};
use crate::offline::Checked;
use crate::protocol::{LockKind, Side};
use crate::record::{RunRecord, SavedVerdict};

/// Shows the hovered shape's words in the info line; marks the page ready.
const SCRIPT: &str = "<script>\
(function(){var info=document.getElementById('info');\
document.querySelectorAll('[data-info]').forEach(function(el){\
el.addEventListener('mouseover',function(){info.textContent=el.getAttribute('data-info');});});\
document.body.setAttribute('data-ready',String(document.querySelectorAll('#timeline [data-info]').length));})();\
</script>";

/// The page of one run.
pub fn page(record: &RunRecord, verdict: &SavedVerdict, checked: &Checked) -> String {
    let h = &record.header;
    let mut body = format!(
        "<p><a href=\"../../index.html\">all runs</a> · <a href=\"history.jsonl\">history.jsonl</a> · <a href=\"scenario.toml\">scenario.toml</a> · <a href=\"verdict.json\">verdict.json</a></p>\n\
<h1>{} <span class=\"{}\">{}</span></h1>\n<p>lock {} at <code>{}</code>, session timeout {} ms, ZooKeeper {}; {} steps done in {} ms</p>\n",
        esc(&h.label),
        verdict_class(&verdict.verdict),
        verdict.verdict.cell(),
        kind_name(h.kind),
        esc(&h.lock_path),
        h.session_timeout_ms,
        esc(h.zookeeper.as_deref().unwrap_or("?")),
        verdict.steps_done,
        verdict.duration_ms,
    );
    if let Some(reason) = &verdict.known {
        let _ = writeln!(body, "<p>known deviation: {}</p>", esc(reason));
    }
    body.push_str("<h2>Timeline</h2>\n");
    body.push_str(&legend(h.kind));
    body.push_str("<div id=\"info\">hover a bar or a marker</div>\n");
    body.push_str(&svg(record, checked, &verdict.violations));
    body.push('\n');
    body.push_str("<h2>Violations</h2>\n");
    if verdict.violations.is_empty() {
        body.push_str("<p>none</p>\n");
    } else {
        body.push_str("<ul id=\"violations\">\n");
        for v in &verdict.violations {
            let _ = writeln!(body, "<li class=\"violation\"><b>[{}]</b> {}</li>", v.checker, esc(&v.message));
        }
        body.push_str("</ul>\n");
    }
    let lin = &checked.lin_summary;
    let _ = writeln!(
        body,
        "<h2>Linearizability</h2>\n<p id=\"linearizability\">{} lock operations, {} counter operations: {} ({} search steps, {} µs)</p>",
        lin.lock_ops,
        lin.data_ops,
        match lin.linearizable {
            Some(true) => "linearizable",
            Some(false) => "<b class=\"violation\">not linearizable</b>",
            None => "gave up",
        },
        lin.steps,
        lin.micros
    );
    for f in &lin.findings {
        let _ = writeln!(body, "<p class=\"violation\">{}</p>", esc(&f.message));
    }
    body.push_str("<h2>Model, step by step</h2>\n<table id=\"expected\"><tr><th>at</th><th>step</th><th>model: holders</th><th>model: waiting</th></tr>\n");
    for state in &checked.replay.expected {
        let holders: Vec<String> =
            state.holders.iter().map(|(id, side)| format!("{id} {}", colour(h.kind, *side).1)).collect();
        let _ = writeln!(
            body,
            "<tr><td>{:?}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            state.at,
            esc(&state.text),
            esc(&holders.join(", ")),
            esc(&state.waiting.join(", "))
        );
    }
    body.push_str("</table>\n<h2>History</h2>\n<details><summary>");
    let _ = write!(body, "{} events", record.events.len());
    body.push_str("</summary><table id=\"events\"><tr><th>at</th><th>contender</th><th>event</th></tr>\n");
    for e in &record.events {
        let text = serde_json::to_string(&e.kind).unwrap_or_default();
        let _ = writeln!(
            body,
            "<tr><td>{:?}</td><td>{}</td><td><code>{}</code></td></tr>",
            e.at,
            esc(&e.contender),
            esc(&text)
        );
    }
    body.push_str("</table></details>\n");
    body.push_str(SCRIPT);
    html_page(&h.label, &body)
}

fn kind_name(kind: LockKind) -> String {
    match kind {
        LockKind::Mutex { max_leases: 1 } => "mutex".into(),
        LockKind::Mutex { max_leases } => format!("mutex of {max_leases} leases"),
        LockKind::ReadWrite => "read/write".into(),
        LockKind::Semaphore { max_leases } => format!("semaphore of {max_leases} leases"),
        LockKind::Multi { members } => format!("multi-lock of {members}"),
    }
}

fn legend(kind: LockKind) -> String {
    let sides: &[Side] = if kind == LockKind::ReadWrite { &[Side::Read, Side::Write] } else { &[Side::Mutex] };
    let mut out = String::from("<p class=\"legend\">");
    for side in sides {
        let (fill, name) = colour(kind, *side);
        let _ = write!(out, "<span style=\"background:{fill};color:#fff;padding:0 6px\">{name} held</span> ");
    }
    out.push_str("<span style=\"background:#eeeeec;border:1px dashed #888;padding:0 6px\">waiting</span> \
thin strip: the model's expected hold · <span style=\"color:#a40000\">✕</span> session ended (crash, expiry, kill, pause) · \
<span style=\"color:#c4a000\">┆</span> server event · <span style=\"background:#f8c9c4;border:1px solid #a40000;padding:0 6px\">overlap</span> exclusion violation · \
<span style=\"color:#5c3566\">◆</span> linearizability · <span style=\"color:#a40000\">│</span> where the run stopped</p>\n");
    out
}
