//! The HTML report in a real headless browser (Debian's `chromium`, which
//! `.ci/setup` installs): real runs saved with `--report-dir` (a negative
//! control that fails, and Curator 5.4.0's CURATOR-621 deviation), `recheck`
//! over them, then the pages loaded: no console message, the scripts ran,
//! the failing run's timeline draws the overlap with the checker's words,
//! the JUnit failure names the run's page, and a screenshot of the timeline
//! is kept as the test's artefact (`target/tmp/report-browser/`; with
//! `ZKURATOR_UPDATE_DOCS=1` it also replaces docs/timeline-failing-run.png).
#![cfg(feature = "interop")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_zkurator-harness");

fn broken() -> String {
    format!("broken={BIN} contender --negative-control read-ignores-writers")
}

fn harness(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("the harness runs")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// Runs chromium headless on `page` with `action` (`--dump-dom`,
/// `--screenshot=FILE`), console messages logged to stderr.
fn chromium(page: &Path, action: &str) -> Output {
    let profile = tempfile::tempdir().expect("a profile directory");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1280,560",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(action)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs (.ci/setup installs Debian's chromium)");
    assert!(out.status.success(), "chromium failed: {}", text(&out));
    out
}

/// The console messages chromium logged (our pages log none: any is an error).
fn console(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr).lines().filter(|l| l.contains(":CONSOLE")).map(str::to_owned).collect()
}

fn dom(page: &Path) -> String {
    let out = chromium(page, "--dump-dom");
    assert!(console(&out).is_empty(), "{}: console messages {:?}", page.display(), console(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn artefacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_console_error_is_seen() {
    // The console check can fail: a page with a script error is caught.
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("broken.html");
    std::fs::write(&page, "<!DOCTYPE html><html><body><script>noSuchFunction();</script></body></html>").unwrap();
    let out = chromium(&page, "--dump-dom");
    assert!(console(&out).iter().any(|l| l.contains("noSuchFunction")), "{}", text(&out));
}

#[test]
fn the_report_of_failing_runs_shows_the_overlap_in_a_browser() {
    let connect = zkurator_testserver::shared_connect_string().expect("a ZooKeeper server");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    let junit = dir.path().join("junit.xml");
    let (report_arg, junit_arg) = (report.display().to_string(), junit.display().to_string());
    let runtime = broken();

    // A negative control: a reader that ignores writers. The run fails.
    let out = harness(&[
        "run",
        "writer-blocks-reader",
        "mutex-exclusion",
        "--runtimes",
        "broken",
        "--runtime",
        &runtime,
        "--zk-connect",
        &connect,
        "--report-dir",
        &report_arg,
        "--junit",
        &junit_arg,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&format!("report: {report_arg}/index.html")), "{}", text(&out));
    let failing = report.join("runs/writer-blocks-reader_broken+broken/index.html");
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert!(junit.contains(&format!("(timeline: {})", failing.display())), "{junit}");

    // recheck comes to the same verdicts, offline.
    let out = harness(&["recheck", &report_arg, "--runtime", &runtime]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("writer-blocks-reader[broken+broken]: recorded FAIL, rechecked FAIL (same)"));

    // The index: the matrix links every cell to its run.
    let index = dom(&report.join("index.html"));
    assert!(index.contains("href=\"runs/writer-blocks-reader_broken+broken/index.html\">FAIL</a>"), "{index}");
    assert!(index.contains("href=\"runs/mutex-exclusion_broken+broken/index.html\">pass</a>"), "{index}");

    // The failing run: the script ran over the timeline's shapes, the
    // overlap is drawn with the exclusion checker's words, and the
    // linearizability checker's finding is marked.
    let page = dom(&failing);
    let ready = page.split("data-ready=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("0");
    assert!(ready.parse::<usize>().unwrap_or(0) > 5, "the page's script did not run: data-ready={ready}");
    let overlap = page.split("class=\"overlap\"").nth(1).expect("an overlap drawn on the timeline");
    assert!(overlap[..overlap.find("</rect>").unwrap()].contains("[exclusion] writer held the write lock"), "{page}");
    assert!(page.contains("class=\"lin\""), "no linearizability marker");
    assert!(page.contains("class=\"hold write\"") && page.contains("class=\"hold read\""));
    let shot = artefacts().join("negative-control.png");
    chromium(&failing, &format!("--screenshot={}", shot.display()));
    assert_png(&shot);

    // Curator 5.4.0's CURATOR-621 (a known deviation): its overlap lasts
    // long enough to see; its screenshot is the README's picture.
    let out = harness(&[
        "--curator",
        "debian",
        "run",
        "downgrade-contended",
        "--runtimes",
        "rust,curator",
        "--zk-connect",
        &connect,
        "--report-dir",
        &report_arg,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let known = report.join("runs/downgrade-contended_curator+rust/index.html");
    let page = dom(&known);
    assert!(page.contains("class=\"overlap\"") && page.contains("CURATOR-621"), "{page}");
    let shot = artefacts().join("timeline-failing-run.png");
    chromium(&known, &format!("--screenshot={}", shot.display()));
    assert_png(&shot);
    if std::env::var("ZKURATOR_UPDATE_DOCS").is_ok_and(|v| v == "1") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/timeline-failing-run.png");
        std::fs::copy(&shot, docs).unwrap();
    }
}

fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).expect("a screenshot");
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000, "{}: {} bytes", path.display(), bytes.len());
}

#[test]
fn the_bench_charts_load_in_a_browser() {
    use zkurator_harness::bench::results::{ConfigReport, Contended, Lock, Network, ServerMode, Subject, Uncontended};
    use zkurator_harness::bench::stats::Summary;
    // Figures of the shape `bench` writes (its own run takes minutes: this
    // test is about the page).
    let summary = |per_sec: f64| Summary {
        cycles: 100,
        per_sec,
        mean_ms: 1000.0 / per_sec,
        p50_ms: 900.0 / per_sec,
        p99_ms: 2000.0 / per_sec,
        max_ms: 3000.0 / per_sec,
    };
    let mut config = ConfigReport::new(ServerMode::Fast, Network::Loopback, 0.0);
    for (subject, lock, per_sec) in [
        (Subject::Floor, Lock::Raw, 1800.0),
        (Subject::Zkurator, Lock::Mutex, 2100.0),
        (Subject::Curator, Lock::Mutex, 1200.0),
        (Subject::Kazurator, Lock::Mutex, 400.0),
    ] {
        config.uncontended.push(Uncontended { subject, lock, summary: summary(per_sec), server_cpu_us: None });
    }
    for (subject, per_sec) in [(Subject::Zkurator, 900.0), (Subject::Curator, 500.0)] {
        config.contended.push(Contended { subject, writers: 8, shared: false, handoffs: 0, seconds: 3.0, per_sec });
    }
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("bench.html");
    std::fs::write(&page, zkurator_harness::evidence::html::bench::page("bench", &[config])).unwrap();
    let dom = dom(&page);
    assert_eq!(dom.matches("class=\"chart\"").count(), 3, "{dom}");
    assert!(dom.contains("zkurator · mutex: 2100.00 cycles/s"));
    let shot = artefacts().join("bench.png");
    chromium(&page, &format!("--screenshot={}", shot.display()));
    assert_png(&shot);
}
