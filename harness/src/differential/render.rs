//! The report as text, annotated with the expectations when given.

use std::fmt;

use super::expectations::{PredicateExpectations, Problem};
use super::report::{Group, Report};

impl Report {
    /// The report as text; with expectations, each kind is marked known (with
    /// its reason) or UNEXPECTED, and stale entries are listed.
    pub fn render(&self, expectations: Option<&PredicateExpectations>) -> String {
        let mut out = format!("differential predicates: {} cases, reference {}\n", self.cases, self.reference);
        for t in &self.timings {
            out.push_str(&format!(
                "  {}: {} cases in {:.1} ms ({:.0} cases/s)\n",
                t.oracle,
                t.cases,
                t.elapsed.as_secs_f64() * 1e3,
                t.rate()
            ));
        }
        for peer in &self.peers {
            let groups: Vec<&Group> = self.groups.iter().filter(|g| &g.oracle == peer).collect();
            out.push_str(&format!(
                "{peer}: {} disagreeing cases in {} kinds\n",
                self.disagreements(peer),
                groups.len()
            ));
            for g in groups {
                let status = match expectations.map(|e| e.reason(peer, &g.kind)) {
                    None => String::new(),
                    Some(Some(reason)) => format!(" [known: {reason}]"),
                    Some(None) => " [UNEXPECTED]".to_string(),
                };
                out.push_str(&format!("  {}: {} cases{status}\n", g.kind, g.count));
                for line in g.example.to_string().lines() {
                    out.push_str(&format!("      {line}\n"));
                }
            }
        }
        if let Some(expectations) = expectations {
            for problem in expectations.check(self) {
                if let Problem::Stale { .. } = problem {
                    out.push_str(&format!("{problem}\n"));
                }
            }
        }
        out
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(None))
    }
}
