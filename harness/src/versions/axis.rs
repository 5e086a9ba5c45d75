//! The version axis of a command: `--curator 5.4.0,5.9.0 --zookeeper
//! 3.8.0,3.9.5` runs the command once per combination. One JVM holds one
//! Curator and cannot be restarted, so every combination but a single one runs
//! in a child process of this binary, with that combination's version flags;
//! each process resolves its combination's jars ([`apply`]) and hands them to
//! its peers and servers as values ([`PeerChoices`]). The parent then prints
//! the version matrix from the children's JSON reports.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::choices::PeerChoices;
pub use super::choices::CURATOR_CLASSPATH;
use super::maven::{self, classpath, ResolveError};
use super::reports::ReportFlags;
use super::selection::{self, Pick, Source};

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

/// The choices of `combo`, over those of the environment: resolves its
/// jars (from the cache, or once from Maven Central).
pub fn apply(combo: &Combo) -> Result<PeerChoices, ResolveError> {
    let mut choices = PeerChoices::from_env();
    if let Some(pick) = combo.curator {
        // `None`: Debian's jars, the JVM's own default.
        choices.curator_classpath = maven::curator_jars(pick)?.map(|jars| classpath(&jars).into());
    }
    if let Some(pick) = combo.zookeeper {
        choices.server_jars = match maven::zookeeper_jars(pick)? {
            Some(jars) => Some(jars),
            // Debian's, whatever the environment says.
            None => Some(debian_server_jars()?),
        };
    }
    if let Some(release) = combo.kazurator {
        choices.kazurator_release = Some(release.to_string());
    }
    Ok(choices)
}

/// The jars of Debian's ZooKeeper server.
fn debian_server_jars() -> Result<Vec<PathBuf>, ResolveError> {
    let dir = Path::new(zkurator_testserver::DEBIAN_JAVA_DIR);
    zkurator_testserver::find_zookeeper_jars(None, None, dir).map_err(|e| ResolveError::DebianMissing(e.to_string()))
}

/// Runs this binary once per combination with `args` (the command line
/// without the version flags), `at_once` children at a time. Every child
/// writes its reports into a scratch directory (the flags of `reports`); the
/// parent prints the version matrix (for `run`), writes one merged report at
/// each path the user gave and a copy of every child's report with its
/// versions in the name ([`super::reports`]). With more than one child at a
/// time each child's output is kept and printed whole, in the order of
/// `combos`, as soon as it and those before it are done. Exit code: the
/// worst of the children's.
pub fn run_each(combos: &[Combo], args: &[OsString], reports: ReportFlags, is_run: bool, at_once: usize) -> ExitCode {
    let Ok(binary) = std::env::current_exe() else {
        eprintln!("error: cannot find this executable to run each version in");
        return ExitCode::from(2);
    };
    let user = super::reports::split(args, reports);
    if let Err(e) = crate::preflight::report_paths(user.json.iter().chain(user.junit.iter()).map(PathBuf::as_path)) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let scratch = std::env::temp_dir().join(format!("zkurator-versions-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&scratch);
    crate::reaper::adopt_dir(&scratch);
    let at_once = at_once.clamp(1, combos.len().max(1));
    let header = |i: usize, combo: &Combo| format!("\n=== {} ({} of {}) ===", combo.label(), i + 1, combos.len());
    let child = |i: usize| -> (u8, Option<String>) {
        let combo = &combos[i];
        let mut child_args: Vec<OsString> = with_report_dir(user.args.clone(), &combo.label());
        child_args.extend(super::reports::child_args(reports, &scratch, i));
        child_args.extend(combo.args().into_iter().map(OsString::from));
        let log = (at_once > 1).then(|| scratch.join(format!("{i}.log")));
        if log.is_none() {
            println!("{}", header(i, combo));
        }
        let code = match run_child(&binary, &child_args, log.as_deref()) {
            Ok(status) => status.code().unwrap_or(2) as u8,
            Err(e) => {
                eprintln!("error: cannot run {}: {e}", binary.display());
                2
            }
        };
        (code, log.map(|log| std::fs::read_to_string(log).unwrap_or_default()))
    };
    let mut ran: Vec<Option<(u8, Option<String>)>> = combos.iter().map(|_| None).collect();
    let mut shown = 0;
    let indices: Vec<usize> = (0..combos.len()).collect();
    crate::suite::schedule::pool(&indices, at_once, child, |i, done| {
        ran[i] = Some(done);
        while let Some(Some((_, output))) = ran.get(shown) {
            if let Some(output) = output {
                println!("{}", header(shown, &combos[shown]));
                print!("{output}");
            }
            shown += 1;
        }
    });
    let mut worst = 0u8;
    let mut children = Vec::new();
    for (i, (combo, done)) in combos.iter().zip(ran).enumerate() {
        let code = done.map_or(2, |(code, _)| code);
        worst = worst.max(code);
        let json_text = std::fs::read_to_string(scratch.join(format!("{i}.json"))).ok();
        let junit = std::fs::read_to_string(scratch.join(format!("{i}.xml"))).ok();
        for (text, path) in [(&json_text, &user.json), (&junit, &user.junit)] {
            if let (Some(text), Some(path)) = (text, path) {
                let tagged = super::reports::tagged_path(path, &combo.label());
                if let Err(e) = std::fs::write(&tagged, text) {
                    eprintln!("error: cannot write {}: {e}", tagged.display());
                    worst = worst.max(2);
                }
            }
        }
        let json = json_text.and_then(|t| serde_json::from_str(&t).ok());
        children.push(super::reports::ChildReport { versions: combo.label(), code, json, junit });
    }
    if is_run {
        let matrix: Vec<(String, serde_json::Value)> =
            children.iter().map(|c| (c.versions.clone(), c.json.clone().unwrap_or(serde_json::Value::Null))).collect();
        print!("{}", version_matrix(&matrix));
    }
    let merged =
        [(&user.json, super::reports::merged_json(&children)), (&user.junit, super::reports::merged_junit(&children))];
    for (path, text) in merged {
        if let Some(path) = path {
            if let Err(e) = std::fs::write(path, text) {
                eprintln!("error: cannot write {}: {e}", path.display());
                worst = worst.max(2);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    crate::reaper::forget_dir(&scratch);
    ExitCode::from(worst)
}

/// Runs one child harness in a process group of its own that dies with this
/// one (the parent-death signal, and the reaper's kill of the group), and
/// kills what is left of the group when it is done. Its stdout and stderr go
/// to `log` when given, else to this process's.
fn run_child(binary: &Path, args: &[OsString], log: Option<&Path>) -> std::io::Result<std::process::ExitStatus> {
    let mut command = std::process::Command::new(binary);
    command.args(args);
    if let Some(log) = log {
        let out = std::fs::File::create(log)?;
        command.stdout(out.try_clone()?).stderr(out);
    }
    crate::reaper::own_group(&mut command);
    crate::runtime::child::die_with_parent(&mut command, false);
    let mut child = command.spawn()?;
    crate::reaper::adopt_group(child.id());
    let status = child.wait();
    crate::reaper::kill_group(child.id());
    status
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
    fn report_dirs_are_one_per_combination() {
        let dirs = with_report_dir(vec!["run".into(), "--report-dir".into(), "/r".into()], "curator@5.9.0");
        assert_eq!(dirs, vec![OsString::from("run"), "--report-dir".into(), "/r/curator@5.9.0".into()]);
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
