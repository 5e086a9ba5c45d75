//! The reports of a version matrix: the parent takes `--json F` / `--json=F`
//! / `--junit F` / `--junit=F` off the command line, gives every child
//! harness report files of its own, and writes one merged report at each path
//! the user gave (every entry with the versions it ran at), plus a copy of each
//! child's report with the combination in its name.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Which report flags a command has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportFlags {
    /// `--json`.
    pub json: bool,
    /// `--junit`.
    pub junit: bool,
    /// Where the JSON goes without `--json` (bench's `target/bench.json`).
    pub json_default: Option<&'static str>,
}

impl ReportFlags {
    /// No report flags (workload).
    pub const NONE: ReportFlags = ReportFlags { json: false, junit: false, json_default: None };
    /// `--json` and `--junit` (run, gen, faults).
    pub const BOTH: ReportFlags = ReportFlags { json: true, junit: true, json_default: None };
    /// bench: `--json` with a default.
    pub const BENCH: ReportFlags = ReportFlags { json: true, junit: false, json_default: Some("target/bench.json") };
}

/// The user's report paths, and the command line without them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserReports {
    /// The command line without `--json`/`--junit` and their values.
    pub args: Vec<OsString>,
    /// `--json`'s path (or the command's default).
    pub json: Option<PathBuf>,
    /// `--junit`'s path.
    pub junit: Option<PathBuf>,
}

/// Takes the report flags (`--json F`, `--json=F`, `--junit F`, `--junit=F`) off `args`.
pub fn split(args: &[OsString], flags: ReportFlags) -> UserReports {
    let mut out = UserReports::default();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let text = arg.to_string_lossy();
        let (flag, inline) = match text.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(PathBuf::from(value))),
            None => (text.clone().into_owned(), None),
        };
        let slot = match flag.as_str() {
            "--json" if flags.json => &mut out.json,
            "--junit" if flags.junit => &mut out.junit,
            _ => {
                out.args.push(arg.clone());
                continue;
            }
        };
        *slot = inline.or_else(|| iter.next().map(PathBuf::from));
    }
    if out.json.is_none() {
        out.json = flags.json_default.map(PathBuf::from);
    }
    out
}

/// The flags that make child `index` write its reports into `scratch`.
pub fn child_args(flags: ReportFlags, scratch: &Path, index: usize) -> Vec<OsString> {
    let mut args = Vec::new();
    if flags.json {
        args.extend([OsString::from("--json"), scratch.join(format!("{index}.json")).into_os_string()]);
    }
    if flags.junit {
        args.extend([OsString::from("--junit"), scratch.join(format!("{index}.xml")).into_os_string()]);
    }
    args
}

/// One child's outcome.
#[derive(Clone, Debug)]
pub struct ChildReport {
    /// The combination's label (`curator@5.9.0 zookeeper@3.9.5`).
    pub versions: String,
    /// The child's exit code.
    pub code: u8,
    /// Its JSON report, if it wrote one.
    pub json: Option<serde_json::Value>,
    /// Its JUnit report, if it wrote one.
    pub junit: Option<String>,
}

/// One JSON document: `combinations` (each child's versions, exit code and
/// report) and `entries` (every entry of every child's report that has
/// entries, with its `versions`).
pub fn merged_json(children: &[ChildReport]) -> String {
    let mut entries = Vec::new();
    let mut combinations = Vec::new();
    for child in children {
        for entry in child.json.as_ref().and_then(|j| j["entries"].as_array()).into_iter().flatten() {
            let mut entry = entry.clone();
            if let Some(object) = entry.as_object_mut() {
                object.insert("versions".into(), serde_json::Value::String(child.versions.clone()));
            }
            entries.push(entry);
        }
        combinations.push(serde_json::json!({
            "versions": child.versions,
            "exit_code": child.code,
            "report": child.json.clone().unwrap_or(serde_json::Value::Null),
        }));
    }
    let merged = serde_json::json!({ "combinations": combinations, "entries": entries });
    serde_json::to_string_pretty(&merged).unwrap_or_default() + "\n"
}

/// One JUnit document: a `<testsuites>` of every child's `<testsuite>`; a
/// child that wrote none is a suite with one error naming its exit code.
pub fn merged_junit(children: &[ChildReport]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"zkurator-interop version matrix\">\n",
    );
    for child in children {
        let suite = child.junit.as_deref().and_then(|text| text.find("<testsuite").map(|at| text[at..].trim_end()));
        match suite {
            Some(suite) => {
                out.push_str(&with_versions(suite, &child.versions));
                out.push('\n');
            }
            None => {
                let name = xml(&child.versions);
                out.push_str(&format!(
                    "<testsuite name=\"zkurator-interop @{name}\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">\n  \
                     <testcase classname=\"version-matrix\" name=\"{name}\">\n    \
                     <error message=\"the child harness for {name} exited with code {} and wrote no report\"/>\n  \
                     </testcase>\n</testsuite>\n",
                    child.code
                ));
            }
        }
    }
    out.push_str("</testsuites>\n");
    out
}

/// A child's `<testsuite>` with the combination in its name (so that the
/// suites differ) and as a `versions` property.
fn with_versions(suite: &str, versions: &str) -> String {
    let versions = xml(versions);
    let mut suite = suite.to_owned();
    if let Some(name) = suite.find("name=\"").map(|at| at + 6) {
        if let Some(end) = suite[name..].find('"') {
            suite.insert_str(name + end, &format!(" [{versions}]"));
        }
    }
    let property = format!("\n    <property name=\"versions\" value=\"{versions}\"/>");
    match suite.find("<properties>") {
        Some(at) => suite.insert_str(at + "<properties>".len(), &property),
        None => {
            if let Some(at) = suite.find('>') {
                suite.insert_str(at + 1, &format!("\n  <properties>{property}\n  </properties>"));
            }
        }
    }
    suite
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `out/report.json` with tag `curator-5.9.0` → `out/report-curator-5.9.0.json`.
pub fn tagged_path(path: &Path, label: &str) -> PathBuf {
    let tag = label.replace([' ', '@', '(', ')'], "-").replace("--", "-");
    let tag = tag.trim_matches('-');
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{tag}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{tag}"),
    };
    path.with_file_name(name.trim_matches('-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn report_flags_are_taken_off_in_both_spellings() {
        let split =
            split(&os(&["run", "--json=a.json", "x", "--junit", "b.xml", "--runtimes", "rust"]), ReportFlags::BOTH);
        assert_eq!(split.args, os(&["run", "x", "--runtimes", "rust"]));
        assert_eq!((split.json, split.junit), (Some("a.json".into()), Some("b.xml".into())));
        let workload = super::split(&os(&["workload", "--json", "a"]), ReportFlags::NONE);
        assert_eq!(workload.args, os(&["workload", "--json", "a"]));
        let bench = super::split(&os(&["bench"]), ReportFlags::BENCH);
        assert_eq!(bench.json, Some("target/bench.json".into()));
        let children = child_args(ReportFlags::BOTH, Path::new("/s"), 1);
        assert_eq!(children, os(&["--json", "/s/1.json", "--junit", "/s/1.xml"]));
        assert_eq!(tagged_path(Path::new("out/r.json"), "curator@5.9.0"), Path::new("out/r-curator-5.9.0.json"));
    }

    #[test]
    fn merged_reports_keep_every_entry_with_its_versions() {
        let entry =
            |verdict: &str| serde_json::json!({"entries": [{"label": "s[rust]", "verdict": {"verdict": verdict}}]});
        let suite =
            "<?xml version=\"1.0\"?>\n<testsuite name=\"zkurator-interop @curator@5.4.0\" tests=\"1\">\n</testsuite>\n";
        let children = [
            ChildReport {
                versions: "curator@5.4.0".into(),
                code: 0,
                json: Some(entry("pass")),
                junit: Some(suite.into()),
            },
            ChildReport { versions: "curator@5.9.0".into(), code: 2, json: None, junit: None },
        ];
        let json: serde_json::Value = serde_json::from_str(&merged_json(&children)).unwrap();
        assert_eq!(json["entries"][0]["versions"], "curator@5.4.0");
        assert_eq!(json["combinations"][1]["exit_code"], 2);
        assert!(json["combinations"][1]["report"].is_null());
        let junit = merged_junit(&children);
        assert_eq!(junit.matches("<testsuite ").count(), 2, "{junit}");
        assert!(junit.contains("name=\"zkurator-interop @curator@5.4.0 [curator@5.4.0]\""), "{junit}");
        assert!(junit.contains("<property name=\"versions\" value=\"curator@5.4.0\"/>"), "{junit}");
        assert!(junit.contains("exited with code 2 and wrote no report") && !junit.contains("<?xml version=\"1.0\"?>"));
    }
}
