//! The binary as `cargo install --path harness` leaves it: run from an empty
//! directory with its cache in a temporary one (`ZKURATOR_CACHE`), it lists and
//! checks the built-in scenario corpus, runs a built-in scenario by name
//! against the local ZooKeeper it starts, without a warning, and runs the
//! Python adapter it unpacked into the cache.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_zkurator-harness");

/// The binary run in `cwd` with `cache` as its cache, and `extra` variables.
fn harness(cwd: &Path, cache: &Path, args: &[&str], extra: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).current_dir(cwd).env("ZKURATOR_CACHE", cache).env_remove("ZKURATOR_LOG").stdin(Stdio::null());
    for (name, value) in extra {
        command.env(name, value);
    }
    command.output().expect("the harness runs")
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Asserts success and no `WARN` line; returns stdout.
fn quiet_success(what: &str, out: &Output) -> String {
    let (stdout, stderr) = text(out);
    assert!(out.status.success(), "{what} failed:\n{stdout}\n{stderr}");
    let warned: Vec<&str> = stdout.lines().chain(stderr.lines()).filter(|l| l.contains("WARN")).collect();
    assert!(warned.is_empty(), "{what} warned:\n{}", warned.join("\n"));
    stdout
}

/// The unpacked copies of one embedded tree in `cache`.
fn unpacked(cache: &Path, name: &str) -> Vec<PathBuf> {
    let prefix = format!("{name}-{}-", env!("CARGO_PKG_VERSION"));
    std::fs::read_dir(cache.join("assets"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&prefix)))
                .collect()
        })
        .unwrap_or_default()
}

/// A Python with kazurator and kazoo: `ZKURATOR_PYTHON`, else the venv of this
/// checkout's target directory (built by the kazurator tests), else none.
fn existing_python() -> Option<PathBuf> {
    if let Some(python) = std::env::var_os("ZKURATOR_PYTHON").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(python));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(t) })
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    Some(target.join("zkurator-venv/bin/python")).filter(|p| p.is_file())
}

#[test]
fn the_installed_binary_works_from_an_empty_directory() {
    let cwd = tempfile::tempdir().unwrap();
    let cache_root = tempfile::tempdir().unwrap();
    let cache = cache_root.path().join("cache");

    let listed = quiet_success("list", &harness(cwd.path(), &cache, &["list"], &[]));
    assert!(listed.contains("mutex-exclusion: ") && listed.contains("mutex-exclusion[rust+rust]"), "{listed}");
    assert!(listed.lines().last().is_some_and(|l| l.ends_with(" runs")), "{listed}");
    let corpus = unpacked(&cache, "scenarios");
    assert_eq!(corpus.len(), 1, "the built-in corpus is unpacked once: {corpus:?}");
    assert!(corpus[0].join("expectations.toml").is_file() && corpus[0].join("faults").is_dir());

    let checked = quiet_success("check", &harness(cwd.path(), &cache, &["check"], &[]));
    assert!(checked.starts_with("ok: "), "{checked}");

    // A built-in scenario by name, on the ZooKeeper the binary starts.
    let args = ["run", "mutex-exclusion", "--runtimes", "rust"];
    let ran = quiet_success("run", &harness(cwd.path(), &cache, &args, &[]));
    assert!(ran.contains("1 runs: 1 pass, 0 FAIL"), "{ran}");
    assert!(cache.join("zkurator-harness.log").is_file(), "the log file is in the cache");

    // A name that is neither a file nor a scenario fails, naming the log file.
    let out = harness(cwd.path(), &cache, &["run", "no-such-scenario"], &[]);
    let (_, stderr) = text(&out);
    assert!(!out.status.success() && stderr.contains("no scenario of that name"), "{stderr}");
    assert!(stderr.contains(&format!("log: {}", cache.join("zkurator-harness.log").display())), "{stderr}");

    // Nothing was written into the empty directory.
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0);

    // The Python adapter comes from the cache.
    let Some(python) = existing_python() else {
        eprintln!(
            "skipped the kazurator part: no kazurator venv (set ZKURATOR_PYTHON to a python with kazurator and kazoo)"
        );
        return;
    };
    let args = ["run", "mutex-exclusion", "--runtimes", "rust,kazurator"];
    let ran = quiet_success("run with kazurator", &harness(cwd.path(), &cache, &args, &[("ZKURATOR_PYTHON", &python)]));
    assert!(ran.contains("4 runs: 4 pass, 0 FAIL"), "{ran}");
    let adapter = unpacked(&cache, "python");
    assert_eq!(adapter.len(), 1, "{adapter:?}");
    assert!(adapter[0].join("contender.py").is_file());
    let log = std::fs::read_to_string(cache.join("zkurator-harness.log")).unwrap();
    assert!(log.contains(&format!("asset=\"python\" dir={}", adapter[0].display())), "{log}");
}
