//! Pieces shared by the runtimes whose contenders are child processes
//! speaking JSON lines (`kazurator`, `kazoo-native`, `rust-process`).

use std::collections::VecDeque;
use std::io::{BufReader, Write};
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use super::bounded_line::{self, LineEnd};
use crate::limits::{quote, MAX_LINE_BYTES, MAX_STDERR_LINE_BYTES, MAX_STDERR_LOG_BYTES};

/// How many stderr lines a contender keeps for error messages.
const STDERR_TAIL_LINES: usize = 40;

/// Bytes the log adds to each stderr line it records (timestamp, level,
/// target, contender id), counted against [`MAX_STDERR_LOG_BYTES`].
const LOG_LINE_OVERHEAD: u64 = 80;

/// Locks a mutex, ignoring poisoning (a panicked holder leaves plain data).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Writes one protocol line.
pub(crate) fn write_line(stdin: &mut ChildStdin, line: &str) -> Result<(), String> {
    stdin
        .write_all(line.as_bytes())
        .and_then(|()| stdin.write_all(b"\n"))
        .and_then(|()| stdin.flush())
        .map_err(|e| format!("cannot write to the process: {e}"))
}

/// Reads one protocol line of at most [`MAX_LINE_BYTES`].
pub(crate) fn read_line(stdout: &mut BufReader<ChildStdout>) -> Result<String, String> {
    let mut line = Vec::new();
    match bounded_line::read_line(stdout, MAX_LINE_BYTES, &mut line) {
        Ok(LineEnd::Eof) => Err("the process closed its stdout".into()),
        Ok(LineEnd::Line) => Ok(String::from_utf8_lossy(&line).into_owned()),
        Ok(LineEnd::TooLong) => Err(format!(
            "the process wrote a line longer than the limit of {MAX_LINE_BYTES} bytes, starting {}",
            quote(&String::from_utf8_lossy(&line))
        )),
        Err(e) => Err(format!("cannot read from the process: {e}")),
    }
}

/// The child's exit status as text, waiting up to `limit` for it to exit
/// (its pipes may close a moment before it does), or that it still runs.
pub(crate) fn exit_status(child: &Mutex<Child>, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        match lock(child).try_wait() {
            Ok(Some(status)) => return status.to_string(),
            Ok(None) if Instant::now() < deadline => {}
            Ok(None) => return "still running".into(),
            Err(e) => return format!("unknown ({e})"),
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Waits up to `grace` for the child to exit (its stdin should be closed
/// already), then kills it.
pub(crate) fn wait_or_kill(child: &Mutex<Child>, grace: Duration) {
    let deadline = Instant::now() + grace;
    let mut child = lock(child);
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return,
            Ok(None) => thread::sleep(Duration::from_millis(5)),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Forwards a child's stderr to `tracing` and keeps its last lines: lines cut
/// at [`MAX_STDERR_LINE_BYTES`], at most [`MAX_STDERR_LOG_BYTES`] logged (then
/// one note that the rest was cut; the pipe is still drained, and the tail
/// still kept).
pub(crate) struct StderrTail {
    lines: Mutex<(VecDeque<String>, bool)>,
    closed: Condvar,
}

impl StderrTail {
    /// Reads `stderr` on its own thread. `consume` sees every line first; a
    /// line it returns `true` for is neither logged nor kept.
    pub(crate) fn spawn(
        stderr: ChildStderr,
        id: &str,
        mut consume: impl FnMut(&str) -> bool + Send + 'static,
    ) -> Arc<StderrTail> {
        let tail = Arc::new(StderrTail { lines: Mutex::new((VecDeque::new(), false)), closed: Condvar::new() });
        let writer = Arc::clone(&tail);
        let id = id.to_owned();
        let spawned = thread::Builder::new().name(format!("stderr-{id}")).spawn(move || {
            let mut reader = BufReader::new(stderr);
            let mut bytes = Vec::new();
            let mut logged = 0u64;
            let mut ended = false;
            while !ended {
                let line = match bounded_line::read_line(&mut reader, MAX_STDERR_LINE_BYTES, &mut bytes) {
                    Ok(LineEnd::Eof) | Err(_) => break,
                    Ok(LineEnd::Line) => String::from_utf8_lossy(&bytes).into_owned(),
                    Ok(LineEnd::TooLong) => {
                        // The last line may end with the pipe: keep it, then stop.
                        ended = !matches!(bounded_line::skip_line(&mut reader), Ok(true));
                        format!("{}… [line cut at {MAX_STDERR_LINE_BYTES} bytes]", String::from_utf8_lossy(&bytes))
                    }
                };
                if consume(&line) {
                    continue;
                }
                if logged < MAX_STDERR_LOG_BYTES {
                    // The line as the log file gets it: timestamp, level, target, contender.
                    logged += line.len() as u64 + LOG_LINE_OVERHEAD;
                    tracing::debug!(target: "zkurator_harness::child", contender = %id, "{line}");
                    if logged >= MAX_STDERR_LOG_BYTES {
                        tracing::warn!(
                            target: "zkurator_harness::child",
                            contender = %id,
                            "stderr cut: more than {MAX_STDERR_LOG_BYTES} bytes; the rest is read and dropped, \
                             the last lines kept for errors"
                        );
                    }
                }
                let mut guard = lock(&writer.lines);
                if guard.0.len() == STDERR_TAIL_LINES {
                    guard.0.pop_front();
                }
                guard.0.push_back(line);
            }
            lock(&writer.lines).1 = true;
            writer.closed.notify_all();
        });
        if spawned.is_err() {
            lock(&tail.lines).1 = true;
        }
        tail
    }

    /// Waits up to `limit` for the pipe to close (the process to end).
    pub(crate) fn wait_closed(&self, limit: Duration) {
        let guard = lock(&self.lines);
        let _ = self.closed.wait_timeout_while(guard, limit, |state| !state.1);
    }

    /// The kept lines.
    pub(crate) fn text(&self) -> String {
        lock(&self.lines).0.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

/// How long a contender process may take to say it is ready; after that it
/// is killed (not abandoned), below the runner's own 60 s limit.
pub const START_LIMIT: Duration = Duration::from_secs(45);

/// Makes the child die with the harness: on Linux, `signal` is delivered to
/// it when the harness's spawning thread ends (normally after the contender
/// was dropped and the child already ended), including after a SIGKILL of
/// the harness; if the harness is already gone when the child starts, the
/// child does not start. Contenders also end on their stdin's end of file.
pub(crate) fn die_with_parent(command: &mut std::process::Command, kill: bool) {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getppid, set_parent_process_death_signal, Pid, Signal};
        use std::os::unix::process::CommandExt;
        let parent = Pid::from_raw(std::process::id() as i32);
        let signal = if kill { Signal::KILL } else { Signal::TERM };
        // SAFETY: the closure only makes two system calls (prctl, getppid),
        // which are async-signal-safe, and allocates nothing.
        unsafe {
            command.pre_exec(move || {
                set_parent_process_death_signal(Some(signal))?;
                if getppid() != parent {
                    return Err(std::io::Error::other("the harness is gone"));
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (command, kill);
}

/// Kills a child that is not ready within a limit; disarmed when dropped.
pub(crate) struct StartLimit {
    _disarm: std::sync::mpsc::Sender<()>,
    fired: Arc<std::sync::atomic::AtomicBool>,
}

impl StartLimit {
    /// Kills `child` unless the returned guard is dropped within `limit`.
    pub(crate) fn arm(child: &Arc<Mutex<Child>>, limit: Duration) -> StartLimit {
        let (disarm, disarmed) = std::sync::mpsc::channel::<()>();
        let child = Arc::clone(child);
        let fired = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&fired);
        let _ = thread::Builder::new().name("start-limit".into()).spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = disarmed.recv_timeout(limit) {
                tracing::warn!("a contender process was not ready within {limit:?}: killed");
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                let mut child = lock(&child);
                let _ = child.kill();
                let _ = child.wait();
            }
        });
        StartLimit { _disarm: disarm, fired }
    }

    /// Whether the limit passed and the child was killed.
    pub(crate) fn fired(&self) -> bool {
        self.fired.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_lines_are_cut_and_the_last_one_kept() {
        let script = "echo first >&2; head -c 10000 /dev/zero | tr '\\0' x >&2";
        let mut child =
            std::process::Command::new("sh").args(["-c", script]).stderr(std::process::Stdio::piped()).spawn().unwrap();
        let tail = StderrTail::spawn(child.stderr.take().unwrap(), "t", |_| false);
        let _ = child.wait();
        tail.wait_closed(Duration::from_secs(5));
        let text = tail.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "first");
        assert!(lines[1].ends_with(&format!("… [line cut at {MAX_STDERR_LINE_BYTES} bytes]")), "{}", lines[1].len());
        assert!(lines[1].len() < MAX_STDERR_LINE_BYTES + 64);
    }
}
