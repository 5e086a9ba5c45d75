//! Making sure ZooKeeper JVMs never outlive this process.
//!
//! Every temporary directory (one per [`crate::ZkServer`] or [`crate::ZkEnsemble`]) gets a
//! *watchdog*: a tiny `/bin/sh` loop that reads commands from a pipe whose write end only
//! this process holds (`watch PID` / `forget PID`). When the pipe reaches end-of-file — on
//! a normal drop, but equally when this process panics with `panic=abort`, is killed with
//! SIGKILL or exits without running destructors — the watchdog SIGKILLs the JVMs it still
//! watches and removes the directory. The watchdog runs in its own process group and
//! ignores SIGINT/SIGQUIT/SIGHUP, so signals aimed at the test's process group leave it
//! alive to clean up. (`PR_SET_PDEATHSIG` would not do: it fires when the
//! spawning *thread* exits, and test threads come and go.)

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

use crate::error::ServerError;

/// The watchdog script; `$1` is the directory to remove when stdin reaches end-of-file.
const WATCHDOG_SCRIPT: &str = r#"
trap '' INT QUIT HUP
pids=' '
while IFS=' ' read -r cmd arg; do
  case "$cmd" in
    watch) pids="$pids$arg " ;;
    forget)
      kept=' '
      for p in $pids; do [ "$p" = "$arg" ] || kept="$kept$p "; done
      pids=$kept ;;
  esac
done
for p in $pids; do kill -KILL "$p" 2>/dev/null; done
for p in $pids; do
  n=0
  while [ $n -lt 100 ] && read -r stat 2>/dev/null < "/proc/$p/stat"; do
    state=${stat##*) }
    case "$state" in Z*|X*) break ;; esac
    sleep 0.05
    n=$((n + 1))
  done
done
rm -rf -- "$1"
"#;

/// The watchdog of one temporary directory; see the module documentation.
#[derive(Debug)]
pub(crate) struct Watchdog {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Watchdog {
    /// Starts a watchdog that removes `dir` once this process lets go of it.
    pub(crate) fn start(dir: &Path) -> Result<Self, ServerError> {
        let sh = Path::new("/bin/sh");
        let mut child = Command::new(sh)
            // Its own process group: signals for the test's group (Ctrl-C, `timeout`, CI
            // cancellation) must not reach it, or nobody would clean up after them.
            .process_group(0)
            .arg("-c")
            .arg(WATCHDOG_SCRIPT)
            .arg("zkurator-testserver-watchdog")
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| ServerError::Spawn { program: sh.to_path_buf(), source })?;
        let stdin = child.stdin.take();
        Ok(Watchdog { child, stdin })
    }

    fn send(&mut self, line: &str) {
        let Some(stdin) = self.stdin.as_mut() else {
            return;
        };
        if let Err(e) = stdin.write_all(line.as_bytes()).and_then(|()| stdin.flush()) {
            tracing::warn!(error = %e, "ZooKeeper watchdog is gone; cleanup on abnormal exit is lost");
        }
    }

    /// From now on, SIGKILL `pid` if this process dies.
    pub(crate) fn watch(&mut self, pid: u32) {
        self.send(&format!("watch {pid}\n"));
    }

    /// `pid` has exited and been reaped: never signal it (the number may be reused).
    pub(crate) fn forget(&mut self, pid: u32) {
        self.send(&format!("forget {pid}\n"));
    }

    /// Closes the pipe and waits for the watchdog to remove the directory.
    pub(crate) fn finish(&mut self) {
        if self.stdin.take().is_some() {
            let _ = self.child.wait();
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.finish();
    }
}
