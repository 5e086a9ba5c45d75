//! `DIR/index.html`: the scenario × pairing matrix, every cell linking to
//! its run's page, and the list of runs.

use std::fmt::Write as _;

use super::{esc, page as html_page, verdict_class};
use crate::evidence::SavedRun;

/// The index page of `runs`.
pub fn page(title: &str, environment: &[(String, String)], runs: &[SavedRun]) -> String {
    let mut scenarios: Vec<&str> = Vec::new();
    let mut pairings: Vec<&str> = Vec::new();
    for run in runs {
        if !scenarios.contains(&run.scenario.as_str()) {
            scenarios.push(&run.scenario);
        }
        if !pairings.contains(&run.pairing.as_str()) {
            pairings.push(&run.pairing);
        }
    }
    pairings.sort();
    let mut body = format!("<h1>{}</h1>\n", esc(title));
    if !environment.is_empty() {
        body.push_str("<p>");
        for (name, value) in environment {
            let _ = write!(body, "<b>{}</b>: {} &nbsp; ", esc(name), esc(value));
        }
        body.push_str("</p>\n");
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for run in runs {
        match counts.iter_mut().find(|(cell, _)| *cell == run.verdict.cell()) {
            Some((_, n)) => *n += 1,
            None => counts.push((run.verdict.cell(), 1)),
        }
    }
    let counts: Vec<String> = counts.iter().map(|(cell, n)| format!("{n} {cell}")).collect();
    let refused = runs.iter().filter(|r| r.linearizability.linearizable == Some(false)).count();
    let _ = writeln!(
        body,
        "<p id=\"counts\">{} runs: {}; {refused} not linearizable</p>",
        runs.len(),
        esc(&counts.join(", "))
    );
    body.push_str("<h2>Matrix</h2>\n<table id=\"matrix\"><tr><th>scenario</th>");
    for pairing in &pairings {
        let _ = write!(body, "<th>{}</th>", esc(if pairing.is_empty() { "fixed" } else { pairing }));
    }
    body.push_str("</tr>\n");
    for scenario in &scenarios {
        let _ = write!(body, "<tr><th>{}</th>", esc(scenario));
        for pairing in &pairings {
            let cell: Vec<String> = runs
                .iter()
                .filter(|r| r.scenario == *scenario && r.pairing == *pairing)
                .map(|r| format!("<a href=\"{}/index.html\">{}</a>", esc(&r.dir), r.verdict.cell()))
                .collect();
            let class = runs
                .iter()
                .find(|r| r.scenario == *scenario && r.pairing == *pairing)
                .map_or("", |r| verdict_class(&r.verdict));
            let _ = write!(body, "<td class=\"{class}\">{}</td>", cell.join(" "));
        }
        body.push_str("</tr>\n");
    }
    body.push_str("</table>\n<h2>Runs</h2>\n<table id=\"runs\"><tr><th>run</th><th>verdict</th><th>linearizability</th><th>first violation</th></tr>\n");
    for run in runs {
        let lin = &run.linearizability;
        let lin = match lin.linearizable {
            Some(true) => format!("yes ({} ops)", lin.lock_ops + lin.data_ops),
            Some(false) => format!("<span class=\"violation\">no</span> ({} ops)", lin.lock_ops + lin.data_ops),
            None => "gave up".to_owned(),
        };
        let _ = writeln!(
            body,
            "<tr><td><a href=\"{}/index.html\">{}</a></td><td class=\"{}\">{}</td><td>{lin}</td><td>{}</td></tr>",
            esc(&run.dir),
            esc(&run.label),
            verdict_class(&run.verdict),
            run.verdict.cell(),
            esc(run.first_violation.as_deref().unwrap_or(""))
        );
    }
    body.push_str("</table>\n");
    html_page(title, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expectations::Verdict;

    #[test]
    fn cells_link_to_runs() {
        let run = |pairing: &str, verdict| SavedRun {
            scenario: "mutex-exclusion".into(),
            pairing: pairing.into(),
            label: format!("mutex-exclusion[{pairing}]"),
            verdict,
            dir: format!("runs/mutex-exclusion_{pairing}"),
            linearizability: Default::default(),
            first_violation: None,
        };
        let html = page("t", &[], &[run("rust+curator", Verdict::Pass), run("rust+rust", Verdict::Fail)]);
        assert!(
            html.contains("<td class=\"fail\"><a href=\"runs/mutex-exclusion_rust+rust/index.html\">FAIL</a></td>"),
            "{html}"
        );
        assert_eq!(html.matches("<tr><th>mutex-exclusion</th>").count(), 1);
        assert!(html.contains("2 runs: 1 pass, 1 FAIL; 0 not linearizable"), "{html}");
    }
}
