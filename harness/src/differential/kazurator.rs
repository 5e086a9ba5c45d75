//! kazurator's drivers in a Python process ([`KazuratorOracle`]).

use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command as Process, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::contender::StartError;
use crate::runtime::kazurator::KazuratorRuntime;

use super::cases::Case;
use super::oracle::{Answer, Oracle, OracleError};
use super::wire::{decode_answers, encode_batch};

/// kazurator's drivers through `harness/python/driver_probe.py`, one process
/// kept for all batches. Dropping it ends the process.
pub struct KazuratorOracle {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    stderr: Arc<Mutex<String>>,
    versions: String,
}

impl fmt::Debug for KazuratorOracle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KazuratorOracle").field("pid", &self.child.id()).field("versions", &self.versions).finish()
    }
}

#[derive(Deserialize)]
struct PythonReady {
    ready: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    kazurator: Option<String>,
    #[serde(default)]
    kazoo: Option<String>,
}

impl KazuratorOracle {
    /// Starts the probe in the interpreter of [`KazuratorRuntime::new`] (which
    /// builds the kazurator venv on first use).
    pub fn start() -> Result<Self, StartError> {
        let runtime = KazuratorRuntime::new()?;
        let failed = |message: String| StartError::Failed {
            runtime: crate::contender::Runtime::Kazurator,
            id: "driver-probe".to_string(),
            message,
        };
        let mut command = Process::new(runtime.python());
        command
            .arg("-u")
            .arg(crate::assets::unpack("python")?.join("driver_probe.py"))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Dies with the harness (the parent-death signal).
        crate::runtime::child::die_with_parent(&mut command, false);
        let mut child =
            command.spawn().map_err(|e| failed(format!("cannot run {}: {e}", runtime.python().display())))?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("piped stderr");
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                let mut text = sink.lock().unwrap_or_else(|p| p.into_inner());
                text.push_str(&String::from_utf8_lossy(&buffer[..n]));
                if text.len() > 16_384 {
                    let cut = text.len() - 8_192;
                    let cut = (cut..text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
                    text.replace_range(..cut, "");
                }
            }
        });
        let mut oracle = KazuratorOracle { child, stdin: Some(stdin), stdout, stderr, versions: String::new() };
        let line = oracle.read_line().map_err(failed)?;
        let ready: PythonReady =
            serde_json::from_str(&line).map_err(|e| failed(format!("bad ready line {line:?}: {e}")))?;
        if !ready.ready {
            return Err(failed(ready.error.unwrap_or_default()));
        }
        oracle.versions = format!(
            "kazurator {}, kazoo {}",
            ready.kazurator.unwrap_or_else(|| "?".into()),
            ready.kazoo.unwrap_or_else(|| "?".into())
        );
        Ok(oracle)
    }

    fn read_line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) => Err(format!("the probe closed its stdout; stderr: {}", self.stderr_tail())),
            Ok(_) => Ok(line),
            Err(e) => Err(format!("cannot read from the probe: {e}")),
        }
    }

    fn stderr_tail(&self) -> String {
        // Give the reader thread a moment to collect the last words.
        thread::sleep(Duration::from_millis(100));
        self.stderr.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Oracle for KazuratorOracle {
    fn name(&self) -> &str {
        "kazurator"
    }

    fn describe(&self) -> String {
        format!("kazurator ({}, pid {})", self.versions, self.child.id())
    }

    fn answer(&mut self, cases: &[Case]) -> Result<Vec<Answer>, OracleError> {
        let failed = |message: String| OracleError { oracle: "kazurator".to_string(), message };
        let mut line = encode_batch(cases);
        line.push('\n');
        let stdin = self.stdin.as_mut().ok_or_else(|| failed("stdin closed".to_string()))?;
        stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.flush())
            .map_err(|e| failed(format!("cannot write to the probe: {e}")))?;
        let reply = self.read_line().map_err(failed)?;
        decode_answers("kazurator", &reply, cases.len())
    }
}

impl Drop for KazuratorOracle {
    fn drop(&mut self) {
        self.stdin = None; // the probe exits at end of input
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
