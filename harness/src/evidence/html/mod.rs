//! The report directory's HTML, built as strings (pure): the index with the
//! matrix ([`index`]), a run's page ([`run`]) around its timeline
//! ([`timeline`]), and `bench`'s charts ([`bench`](mod@bench)). Self-contained: styles and the one small script are
//! inline, nothing is fetched.

pub mod bench;
pub mod index;
pub mod run;
pub mod timeline;

use crate::expectations::Verdict;

/// Escapes text for HTML and SVG, attributes included.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The CSS class of a verdict's cell.
pub fn verdict_class(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Fail | Verdict::UnexpectedPass { .. } => "fail",
        Verdict::Known { .. } => "known",
        Verdict::Skipped { .. } => "skip",
        Verdict::Error { .. } => "error",
    }
}

/// The styles every page shares.
pub const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}\
h1{font-size:20px}h2{font-size:16px;margin-top:28px}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}\
.pass{background:#d9f2d0}.fail{background:#f8c9c4}.known{background:#fbe7b5}.skip{background:#eee}.error{background:#f5b7e4}\
td a{color:inherit}#matrix th{white-space:nowrap}code,pre{font:12px ui-monospace,monospace}.violation{color:#a40000}\
#info{position:sticky;top:0;background:#fffbe6;border:1px solid #e0d59a;padding:4px 8px;min-height:1.4em;font:12px ui-monospace,monospace}\
svg text{font:11px system-ui,sans-serif}h3{font-size:14px;margin:16px 0 4px}";

/// A whole page.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n",
        esc(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("a<b & \"c\" 'd'"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;");
    }
}
