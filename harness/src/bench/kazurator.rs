//! kazurator's figures: `harness/python/bench.py` run with the venv's
//! interpreter (see [`KazuratorRuntime`]); each measuring loop runs inside
//! Python and reports JSON, so talking to the process is not measured.
//! Contended writers are one process each (as separate services would be),
//! started together and told to go at once.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};

use super::results::Lock;
use super::stats::Samples;
use super::LOCK_TIMEOUT;
use crate::runtime::kazurator::KazuratorRuntime;

/// How long a process may take to import kazoo and connect.
const READY_WAIT: Duration = Duration::from_secs(90);
/// Lines of a process's stderr kept for error messages.
const STDERR_TAIL: usize = 20;

/// The interpreter that has kazurator and kazoo.
#[derive(Clone, Debug)]
pub struct Python {
    python: PathBuf,
    /// (kazurator, kazoo) versions.
    pub versions: (String, String),
}

impl Python {
    /// The interpreter of the harness's kazurator runtime.
    pub fn of(runtime: &KazuratorRuntime) -> Python {
        Python { python: runtime.python().to_path_buf(), versions: runtime.versions() }
    }
}

/// One running `bench.py`.
struct BenchProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<VecDeque<String>>>,
}

impl BenchProcess {
    /// Starts the script and hands it `spec`; does not wait for it.
    fn spawn(python: &Python, spec: &Value) -> Result<BenchProcess, String> {
        let mut command = Command::new(&python.python);
        command
            .arg("-u")
            .arg(crate::assets::unpack("python").map_err(|e| e.to_string())?.join("bench.py"))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Dies with the harness (the parent-death signal).
        crate::runtime::child::die_with_parent(&mut command, false);
        let mut child = command.spawn().map_err(|e| format!("cannot run {}: {e}", python.python.display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let writer = Arc::clone(&tail);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                tracing::debug!(target: "zkurator_harness::python", "{line}");
                let mut tail = writer.lock().unwrap_or_else(|p| p.into_inner());
                if tail.len() == STDERR_TAIL {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        });
        let mut process = BenchProcess { stdin: child.stdin.take(), child, lines, stderr: tail };
        process.send(&spec.to_string())?;
        Ok(process)
    }

    fn send(&mut self, line: &str) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("stdin closed")?;
        stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.write_all(b"\n"))
            .and_then(|()| stdin.flush())
            .map_err(|e| self.failed(&format!("cannot write to bench.py: {e}")))
    }

    /// Waits for the next line, parsed as JSON.
    fn receive(&mut self, within: Duration) -> Result<Value, String> {
        let line = match self.lines.recv_timeout(within) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => return Err(self.failed(&format!("no answer within {within:?}"))),
            Err(RecvTimeoutError::Disconnected) => return Err(self.failed("bench.py ended")),
        };
        serde_json::from_str(&line).map_err(|e| format!("bad line from bench.py {line:?}: {e}"))
    }

    /// Waits until connected.
    fn ready(&mut self) -> Result<(), String> {
        let ready = self.receive(READY_WAIT)?;
        if ready["ready"] == true {
            Ok(())
        } else {
            Err(format!("kazurator did not start: {}", ready["error"].as_str().unwrap_or("?")))
        }
    }

    /// Waits for the result line.
    fn result(&mut self, within: Duration) -> Result<Value, String> {
        let result = self.receive(within)?;
        if result["ok"] == true {
            Ok(result)
        } else {
            Err(format!("kazurator: {}", result["error"].as_str().unwrap_or("?")))
        }
    }

    fn failed(&self, why: &str) -> String {
        let tail = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
        format!("bench.py (pid {}): {why}; stderr tail: {}", self.child.id(), Vec::from(tail.clone()).join(" | "))
    }
}

impl Drop for BenchProcess {
    fn drop(&mut self) {
        self.stdin = None;
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs one process through ready → go → result.
fn run_one(python: &Python, spec: Value, within: Duration) -> Result<Value, String> {
    let mut process = BenchProcess::spawn(python, &spec)?;
    process.ready()?;
    process.send("go")?;
    process.result(within)
}

fn timeout_secs() -> f64 {
    LOCK_TIMEOUT.as_secs_f64()
}

/// Uncontended cycles of each of `locks`, one session, one process; the lock
/// path of each kind is `<path>-<kind>`.
pub fn uncontended(
    python: &Python,
    connect: &str,
    path: &str,
    locks: &[Lock],
    warmup: u32,
    iterations: u32,
) -> Result<Vec<(Lock, Samples)>, String> {
    let kinds: Vec<&str> = locks.iter().map(|l| l.wire()).collect();
    let spec = json!({
        "mode": "uncontended", "connect": connect, "path": path, "kinds": kinds,
        "warmup": warmup, "iterations": iterations, "timeout_secs": timeout_secs(),
    });
    let budget = LOCK_TIMEOUT * (locks.len() as u32).max(1) + Duration::from_secs(60);
    let mut answer = run_one(python, spec, budget)?;
    locks
        .iter()
        .map(|lock| {
            let run = answer["runs"][lock.wire()].take();
            let samples: Samples =
                serde_json::from_value(run).map_err(|e| format!("kazurator {}: {e}", lock.wire()))?;
            Ok((*lock, samples))
        })
        .collect()
}

/// `writers` processes, one session and kazurator Mutex each, told to go at
/// once; the cycles completed in the window after `warmup`.
pub fn contended(
    python: &Python,
    connect: &str,
    path: &str,
    writers: u32,
    warmup: Duration,
    duration: Duration,
) -> Result<u64, String> {
    let spec = json!({
        "mode": "contended", "connect": connect, "path": path, "timeout_secs": timeout_secs(),
        "warmup_secs": warmup.as_secs_f64(), "duration_secs": duration.as_secs_f64(),
    });
    let mut processes = (0..writers).map(|_| BenchProcess::spawn(python, &spec)).collect::<Result<Vec<_>, _>>()?;
    for process in &mut processes {
        process.ready()?;
    }
    for process in &mut processes {
        process.send("go")?;
    }
    let budget = warmup + duration + LOCK_TIMEOUT;
    let mut total = 0;
    for process in &mut processes {
        #[derive(Deserialize)]
        struct Handoffs {
            handoffs: u64,
        }
        let answer: Handoffs =
            serde_json::from_value(process.result(budget)?).map_err(|e| format!("kazurator contended: {e}"))?;
        total += answer.handoffs;
    }
    Ok(total)
}

/// Readers sharing one session while a writer queues behind them, `repeats`
/// times: (time until all readers hold it, the writer's wait after their release).
pub fn readers(
    python: &Python,
    connect: &str,
    path: &str,
    readers: u32,
    repeats: u32,
) -> Result<Vec<(Duration, Duration)>, String> {
    let spec = json!({
        "mode": "readers", "connect": connect, "path": path, "readers": readers,
        "repeats": repeats, "timeout_secs": timeout_secs(),
    });
    let answer = run_one(python, spec, LOCK_TIMEOUT * 3 * repeats.max(1))?;
    let repeats: Vec<(u64, u64)> =
        serde_json::from_value(answer["repeats"].clone()).map_err(|e| format!("kazurator readers: {e}"))?;
    Ok(repeats.into_iter().map(|(r, w)| (Duration::from_nanos(r), Duration::from_nanos(w))).collect())
}
