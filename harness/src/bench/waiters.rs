//! Many zkurator waiters on one session in one Rust process: how much memory
//! they take while queued (VmRSS growth) and how fast the queue drains when
//! each releases right after acquiring.
//!
//! The measurement runs in a child process (`zkurator-harness bench
//! --waiters-child CONNECT`), so that the RSS is that of a plain Rust process
//! with one tokio runtime and one ZooKeeper session, not of the benchmark's
//! own process with its embedded JVM.

use std::io::Read;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use zkurator::Mutex;

use super::machine::{peak_rss_kb, rss_kb};
use super::results::{Flavor, Subject, Waiters};
use super::{wait_for_children, LOCK_TIMEOUT};

/// The longest a waiter waits: the whole queue drains before the last one gets it.
const WAITER_TIMEOUT: Duration = Duration::from_secs(600);
/// Pause after the last node appeared, so every waiter has set its watch.
const SETTLE: Duration = Duration::from_millis(300);

/// What the child reports on stdout (one JSON line).
#[derive(Debug, Serialize, Deserialize)]
struct ChildReport {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    rss_before_kb: u64,
    #[serde(default)]
    rss_waiting_kb: u64,
    #[serde(default)]
    peak_rss_kb: u64,
    #[serde(default)]
    drain_ns: u64,
}

/// Runs the child process for `waiters` waiters on `connect` and reads its report.
pub fn measure(connect: &str, waiters: u32, tokio: Flavor) -> Result<Waiters, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let mut command = Command::new(exe);
    command
        .args(["bench", "--waiters-child", connect, "--waiters", &waiters.to_string(), "--tokio", tokio.name()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // Dies with the harness (the parent-death signal).
    crate::runtime::child::die_with_parent(&mut command, true);
    let mut child = command.spawn().map_err(|e| format!("cannot start the waiters child: {e}"))?;
    let deadline = Instant::now() + WAITER_TIMEOUT + Duration::from_secs(60);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("the waiters child did not finish in time".to_owned());
            }
            Err(e) => return Err(format!("waiting for the waiters child: {e}")),
        }
    };
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_string(&mut out);
    }
    let line = out
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| format!("the waiters child ({status}) printed no report"))?;
    let report: ChildReport = serde_json::from_str(line).map_err(|e| format!("waiters child report {line:?}: {e}"))?;
    if let Some(error) = report.error {
        return Err(format!("waiters: {error}"));
    }
    let mb = |kb: u64| kb as f64 / 1024.0;
    let drain_secs = report.drain_ns as f64 / 1e9;
    Ok(Waiters {
        subject: Subject::Zkurator,
        waiters,
        rss_before_mb: mb(report.rss_before_kb),
        rss_waiting_mb: mb(report.rss_waiting_kb),
        rss_growth_mb: mb(report.rss_waiting_kb.saturating_sub(report.rss_before_kb)),
        peak_rss_mb: mb(report.peak_rss_kb),
        drain_ms: drain_secs * 1e3,
        drain_per_sec: if drain_secs > 0.0 { f64::from(waiters) / drain_secs } else { 0.0 },
    })
}

/// The child's side: measures and prints one JSON line; never fails loudly.
pub fn child_main(connect: &str, waiters: u32, tokio: Flavor) -> ExitCode {
    let runtime = match tokio.runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            println!("{}", serde_json::json!({ "error": format!("tokio runtime: {e}") }));
            return ExitCode::FAILURE;
        }
    };
    let report = runtime.block_on(measure_here(connect, waiters)).unwrap_or_else(|error| ChildReport {
        error: Some(error),
        rss_before_kb: 0,
        rss_waiting_kb: 0,
        peak_rss_kb: 0,
        drain_ns: 0,
    });
    let failed = report.error.is_some();
    println!("{}", serde_json::to_string(&report).unwrap_or_default());
    runtime.shutdown_timeout(Duration::from_secs(5));
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn measure_here(connect: &str, waiters: u32) -> Result<ChildReport, String> {
    let client = super::zkurator::connect(connect, super::zkurator::Socket::Nodelay).await?;
    let path = format!("/zkurator-bench/waiters-{}", &uuid::Uuid::new_v4().to_string()[..8]);
    let holder = Mutex::new(&client, &path).map_err(|e| e.to_string())?;
    // One cycle first, so that what the first acquisition sets up is in the baseline.
    let guard = holder.lock_timeout(LOCK_TIMEOUT).await.map_err(|e| format!("holder: {e}"))?;
    guard.release().await.map_err(|e| format!("holder: {e}"))?;
    let guard = holder.lock_timeout(LOCK_TIMEOUT).await.map_err(|e| format!("holder: {e}"))?;
    tokio::time::sleep(SETTLE).await;
    let rss_before_kb = rss_kb().ok_or("no VmRSS in /proc/self/status")?;

    let (done_tx, mut done) = mpsc::unbounded_channel::<Result<Instant, String>>();
    for _ in 0..waiters {
        let mutex = Mutex::new(&client, &path).map_err(|e| e.to_string())?;
        let done_tx = done_tx.clone();
        tokio::spawn(async move {
            let result = async {
                let guard = mutex.lock_timeout(WAITER_TIMEOUT).await.map_err(|e| format!("waiter: {e}"))?;
                guard.release().await.map_err(|e| format!("waiter release: {e}"))?;
                Ok(Instant::now())
            }
            .await;
            let _ = done_tx.send(result);
        });
    }
    drop(done_tx);
    wait_for_children(&client, &path, waiters as usize + 1).await?;
    tokio::time::sleep(SETTLE).await;
    let rss_waiting_kb = rss_kb().ok_or("no VmRSS in /proc/self/status")?;

    let released = Instant::now();
    guard.release().await.map_err(|e| format!("holder release: {e}"))?;
    let mut last = released;
    for _ in 0..waiters {
        match tokio::time::timeout(WAITER_TIMEOUT, done.recv()).await {
            Ok(Some(Ok(at))) => last = last.max(at),
            Ok(Some(Err(e))) => return Err(e),
            Ok(None) | Err(_) => return Err("waiters did not all get the lock".to_owned()),
        }
    }
    Ok(ChildReport {
        error: None,
        rss_before_kb,
        rss_waiting_kb,
        peak_rss_kb: peak_rss_kb().unwrap_or(0),
        drain_ns: last.duration_since(released).as_nanos() as u64,
    })
}
