//! The version axis of a command: `--curator 5.4.0,5.9.0 --zookeeper
//! 3.8.0,3.9.5` runs the command once per combination. One JVM holds one
//! Curator and cannot be restarted, so every combination but a single one runs
//! in a child process of this binary, with that combination's jars on
//! `CURATOR_CLASSPATH` and `ZK_CLASSPATH`; the parent then prints the version
//! matrix from the children's JSON reports.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::maven::{self, classpath, ResolveError};
use super::selection::{self, Pick, Source};

/// Environment variable of the Curator jars the embedded JVM loads.
pub const CURATOR_CLASSPATH: &str = "CURATOR_CLASSPATH";
/// Environment variable of the ZooKeeper server jars the fixture runs.
pub const ZK_CLASSPATH: &str = "ZK_CLASSPATH";

/// One combination of releases; `None` leaves that peer to the environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Combo {
    /// The Curator release.
    pub curator: Option<Pick>,
    /// The ZooKeeper server release.
    pub zookeeper: Option<Pick>,
    /// The kazurator release (a venv each, from PyPI).
    pub kazurator: Option<super::Version>,
}

impl Combo {
    /// `curator@5.9.0 zookeeper@3.9.5` (with `(debian)` where it applies).
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = self.curator {
            parts.push(format!("curator@{c}"));
        }
        if let Some(z) = self.zookeeper {
            parts.push(format!("zookeeper@{z}"));
        }
        if let Some(k) = self.kazurator {
            parts.push(format!("kazurator@{k}"));
        }
        if parts.is_empty() {
            "default".to_owned()
        } else {
            parts.join(" ")
        }
    }

    /// The arguments that select exactly this combination.
    fn args(&self) -> Vec<String> {
        let word = |pick: Pick| match pick.source {
            Source::Debian => "debian".to_owned(),
            Source::Maven => pick.version.to_string(),
        };
        let mut args = Vec::new();
        if let Some(c) = self.curator {
            args.extend(["--curator".to_owned(), word(c)]);
        }
        if let Some(z) = self.zookeeper {
            args.extend(["--zookeeper".to_owned(), word(z)]);
        }
        if let Some(k) = self.kazurator {
            args.extend(["--kazurator".to_owned(), k.to_string()]);
        }
        args
    }
}

/// The combinations `--curator` and `--zookeeper` ask for. Without
/// `--curator` (and without `CURATOR_CLASSPATH` in the environment) the newest
/// Curator when it can be had, else Debian's, with a note saying why.
pub fn combos(curator: Option<&str>, zookeeper: Option<&str>, kazurator: Option<&str>) -> Result<Vec<Combo>, String> {
    let curators: Vec<Option<Pick>> = match curator {
        Some(text) => selection::parse_curator(text).map_err(|e| e.to_string())?.into_iter().map(Some).collect(),
        None if std::env::var_os(CURATOR_CLASSPATH).is_some_and(|v| !v.is_empty()) => vec![None],
        None => vec![Some(default_curator())],
    };
    let servers: Vec<Option<Pick>> = match zookeeper {
        Some(text) => selection::parse_zookeeper(text).map_err(|e| e.to_string())?.into_iter().map(Some).collect(),
        None => vec![None],
    };
    let pythons: Vec<Option<super::Version>> = match kazurator {
        Some(text) => selection::parse_kazurator(text).map_err(|e| e.to_string())?.into_iter().map(Some).collect(),
        None => vec![None],
    };
    if curators.is_empty() || servers.is_empty() || pythons.is_empty() {
        return Err("--curator, --zookeeper and --kazurator need at least one version".to_owned());
    }
    let mut all = Vec::new();
    for curator in &curators {
        for zookeeper in &servers {
            for kazurator in &pythons {
                all.push(Combo { curator: *curator, zookeeper: *zookeeper, kazurator: *kazurator });
            }
        }
    }
    Ok(all)
}

/// The newest Curator if its jars are cached or Maven can fetch them, else
/// Debian's (saying why on stderr).
fn default_curator() -> Pick {
    let newest = selection::newest_curator();
    match maven::curator_jars(newest) {
        Ok(_) => newest,
        Err(why) => {
            eprintln!("note: using Debian's Curator {}: {why}", selection::debian_curator().version);
            selection::debian_curator()
        }
    }
}

/// Makes this process use `combo`: resolves its jars (from the cache, or once
/// from Maven Central) and puts them on `CURATOR_CLASSPATH` / `ZK_CLASSPATH`.
/// Call before any JVM or server starts.
pub fn apply(combo: &Combo) -> Result<(), ResolveError> {
    for (pick, variable, jars) in [
        (combo.curator, CURATOR_CLASSPATH, combo.curator.map(maven::curator_jars)),
        (combo.zookeeper, ZK_CLASSPATH, combo.zookeeper.map(maven::zookeeper_jars)),
    ] {
        match (pick, jars.transpose()?) {
            (None, _) => {}
            // Debian's jars: the runtimes' own default lookup.
            (Some(_), Some(None)) | (Some(_), None) => std::env::remove_var(variable),
            (Some(_), Some(Some(jars))) => std::env::set_var(variable, classpath(&jars)),
        }
    }
    if let Some(release) = combo.kazurator {
        std::env::set_var(crate::runtime::kazurator::KAZURATOR_RELEASE_ENV, release.to_string());
    }
    Ok(())
}

/// Runs this binary once per combination with `args` (the command line
/// without `--curator`/`--zookeeper`); for `run`, each child writes a JSON
/// report whose verdicts make the version matrix printed at the end. Exit code:
/// the worst of the children's.
pub fn run_each(combos: &[Combo], args: &[OsString], is_run: bool) -> ExitCode {
    let Ok(binary) = std::env::current_exe() else {
        eprintln!("error: cannot find this executable to run each version in");
        return ExitCode::from(2);
    };
    let scratch = std::env::temp_dir().join(format!("zkurator-versions-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&scratch);
    let mut worst = 0u8;
    let mut reports = Vec::new();
    for (i, combo) in combos.iter().enumerate() {
        println!("\n=== {} ({} of {}) ===", combo.label(), i + 1, combos.len());
        let mut child_args: Vec<OsString> = with_report_dir(args.to_vec(), &combo.label());
        let mut json = scratch.join(format!("{i}.json"));
        if is_run {
            child_args = with_report_paths(child_args, &json, &combo.label());
            let at = child_args.iter().rposition(|a| a == "--json").expect("just added");
            json = PathBuf::from(&child_args[at + 1]);
        }
        child_args.extend(combo.args().into_iter().map(OsString::from));
        let status = std::process::Command::new(&binary).args(&child_args).status();
        let code = match status {
            Ok(status) => status.code().unwrap_or(2) as u8,
            Err(e) => {
                eprintln!("error: cannot run {}: {e}", binary.display());
                2
            }
        };
        worst = worst.max(code);
        if is_run {
            let report = std::fs::read_to_string(&json).ok().and_then(|t| serde_json::from_str(&t).ok());
            reports.push((combo.label(), report.unwrap_or(serde_json::Value::Null)));
        }
    }
    if is_run {
        print!("{}", version_matrix(&reports));
    }
    let _ = std::fs::remove_dir_all(&scratch);
    ExitCode::from(worst)
}

/// `--json F`/`--junit F` of the user get the combination in their name (one
/// file each); the child always writes `json` for the matrix.
fn with_report_paths(args: Vec<OsString>, json: &Path, label: &str) -> Vec<OsString> {
    let tag = label.replace([' ', '@', '(', ')'], "-").replace("--", "-");
    let mut out = Vec::new();
    let mut iter = args.into_iter();
    let mut user_json: Option<PathBuf> = None;
    while let Some(arg) = iter.next() {
        let text = arg.to_string_lossy().into_owned();
        match text.as_str() {
            "--json" | "--junit" => {
                let value = iter.next().map(PathBuf::from).unwrap_or_default();
                let tagged = tagged_path(&value, &tag);
                if text == "--json" {
                    user_json = Some(tagged);
                } else {
                    out.extend([arg, tagged.into_os_string()]);
                }
            }
            _ => out.push(arg),
        }
    }
    // The child's JSON for the matrix; the user's copy is the same file, tagged.
    let json = user_json.unwrap_or_else(|| json.to_owned());
    out.extend([OsString::from("--json"), json.into_os_string()]);
    out
}

/// `--report-dir DIR` of the user becomes `DIR/<combination>` (one report
/// directory each); without it every child makes its own default one.
fn with_report_dir(args: Vec<OsString>, label: &str) -> Vec<OsString> {
    let tag = label.replace([' ', '(', ')', '/'], "-").replace("--", "-");
    let mut out = Vec::new();
    let mut iter = args.into_iter();
    while let Some(arg) = iter.next() {
        let text = arg.to_string_lossy().into_owned();
        if text == "--report-dir" {
            let value = iter.next().map(PathBuf::from).unwrap_or_default();
            out.extend([arg, value.join(tag.trim_matches('-')).into_os_string()]);
        } else if let Some(value) = text.strip_prefix("--report-dir=") {
            let dir = Path::new(value).join(tag.trim_matches('-'));
            out.push(OsString::from(format!("--report-dir={}", dir.display())));
        } else {
            out.push(arg);
        }
    }
    out
}

/// `out/report.json` with tag `curator-5.9.0` → `out/report-curator-5.9.0.json`.
fn tagged_path(path: &Path, tag: &str) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{tag}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{tag}"),
    };
    path.with_file_name(name.trim_matches('-'))
}

/// Scenario\[pairing\] × combination, each cell the run's verdict.
pub fn version_matrix(reports: &[(String, serde_json::Value)]) -> String {
    let mut rows: Vec<String> = Vec::new();
    let mut cells: Vec<Vec<(String, String)>> = Vec::new();
    for (_, report) in reports {
        let mut column = Vec::new();
        for entry in report["entries"].as_array().into_iter().flatten() {
            let label = entry["label"].as_str().unwrap_or("?").to_owned();
            let verdict = match entry["verdict"]["verdict"].as_str().unwrap_or("?") {
                "fail" => "FAIL",
                "unexpected-pass" => "PASS?",
                "error" => "ERROR",
                other => other,
            };
            if !rows.contains(&label) {
                rows.push(label.clone());
            }
            column.push((label, verdict.to_owned()));
        }
        cells.push(column);
    }
    let width = rows.iter().map(String::len).max().unwrap_or(8).max(8);
    let mut out = String::from("\nversion matrix (scenario[pairing] × versions):\n");
    let _ = write!(out, "{:<width$}", "");
    for i in 0..reports.len() {
        let _ = write!(out, " {:>6}", format!("v{}", i + 1));
    }
    out.push('\n');
    for row in &rows {
        let _ = write!(out, "{row:<width$}");
        for column in &cells {
            let cell = column.iter().find(|(label, _)| label == row).map_or("-", |(_, v)| v.as_str());
            let _ = write!(out, " {cell:>6}");
        }
        out.push('\n');
    }
    out.push_str("\nversions:\n");
    for (i, (label, report)) in reports.iter().enumerate() {
        let found = if report.is_null() { " (no report: see its output above)" } else { "" };
        let _ = writeln!(out, "   v{}  {label}{found}", i + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_cross_both_axes() {
        let picked = combos(Some("5.4.0,5.9.0"), Some("debian,3.9.5"), None).unwrap();
        assert_eq!(picked.len(), 4);
        assert_eq!(picked[0].label(), "curator@5.4.0 zookeeper@3.8.0 (debian)");
        assert_eq!(picked[3].args(), ["--curator", "5.9.0", "--zookeeper", "3.9.5"]);
        assert!(combos(Some("4.0.0"), None, None).is_err());
        let kazurators = combos(Some("debian"), None, Some("all")).unwrap();
        assert_eq!(kazurators[0].label(), "curator@5.4.0 (debian) kazurator@0.1.1");
        assert_eq!(kazurators[1].args(), ["--curator", "debian", "--kazurator", "0.2.0"]);
    }

    #[test]
    fn report_paths_are_tagged_per_combination() {
        assert_eq!(tagged_path(Path::new("out/r.json"), "curator-5.9.0"), Path::new("out/r-curator-5.9.0.json"));
        let args = ["run", "--junit", "x.xml"].map(OsString::from).to_vec();
        let dirs = with_report_dir(vec!["run".into(), "--report-dir".into(), "/r".into()], "curator@5.9.0");
        assert_eq!(dirs, vec![OsString::from("run"), "--report-dir".into(), "/r/curator@5.9.0".into()]);
        let out = with_report_paths(args, Path::new("/tmp/0.json"), "curator@5.9.0");
        let out: Vec<String> = out.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(out, ["run", "--junit", "x-curator-5.9.0.xml", "--json", "/tmp/0.json"]);
    }

    #[test]
    fn the_version_matrix_has_a_cell_per_run_and_version() {
        let report = |verdict: &str| serde_json::json!({"entries": [{"label": "s[rust+curator]", "verdict": {"verdict": verdict}}]});
        let text =
            version_matrix(&[("curator@5.4.0".into(), report("known")), ("curator@5.9.0".into(), report("pass"))]);
        assert!(text.contains("s[rust+curator]") && text.contains("known") && text.contains("pass"), "{text}");
        assert!(text.contains("v2  curator@5.9.0"), "{text}");
    }
}
