//! Nothing the harness starts outlives it: every contender process and child
//! harness runs in a process group of its own, which the harness kills when it
//! is done with it, and which a *reaper* kills when the harness dies however
//! it dies (SIGTERM, SIGKILL, a panic with `panic=abort`).
//!
//! The reaper is a small `/bin/sh` loop started on first need, in a process
//! group of its own and deaf to INT, QUIT, HUP and TERM, reading `group PGID`,
//! `forget PGID`, `dir PATH` and `keep PATH` lines from a pipe whose write end
//! only this process holds. At end of file (this process is gone, or
//! [`finish`] was called) it sends SIGTERM to every group still recorded (a
//! kazurator contender closes its session on it), waits up to a second for
//! them to go, SIGKILLs what is left (a contender that ignores SIGTERM, a
//! grandchild forked by a wrapper script) and removes the recorded
//! directories. A process that leaves its group (`setsid`) escapes it; the
//! parent-death signal (`PR_SET_PDEATHSIG`) still reaches the direct children.

use std::io::Write;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;

/// The reaper's script; see the module documentation. (dash's `kill` reads
/// `-s SIG -PGID` as options: the group needs `--`, except after `-0`.)
const REAPER_SCRIPT: &str = r#"
trap '' INT QUIT HUP TERM
nl='
'
groups=' '
dirs=''
while IFS= read -r line; do
  cmd=${line%% *}
  arg=${line#* }
  case "$cmd" in
    group) groups="$groups$arg " ;;
    forget)
      kept=' '
      for g in $groups; do [ "$g" = "$arg" ] || kept="$kept$g "; done
      groups=$kept ;;
    dir) dirs="$dirs$arg$nl" ;;
    keep)
      kept=''
      while IFS= read -r d; do [ -z "$d" ] || [ "$d" = "$arg" ] || kept="$kept$d$nl"; done <<EOF
$dirs
EOF
      dirs=$kept ;;
  esac
done
for g in $groups; do kill -s TERM -- -$g 2>/dev/null; done
n=0
while [ $n -lt 20 ]; do
  alive=''
  for g in $groups; do kill -0 -$g 2>/dev/null && alive=1; done
  [ -z "$alive" ] && break
  sleep 0.05
  n=$((n + 1))
done
for g in $groups; do kill -s KILL -- -$g 2>/dev/null; done
while IFS= read -r d; do [ -z "$d" ] || rm -rf -- "$d"; done <<EOF
$dirs
EOF
"#;

struct Reaper {
    child: Child,
    stdin: Option<ChildStdin>,
}

static REAPER: Mutex<Option<Reaper>> = Mutex::new(None);

fn send(line: String) {
    let mut reaper = crate::runtime::child::lock(&REAPER);
    if reaper.is_none() {
        match start() {
            Ok(started) => *reaper = Some(started),
            Err(e) => {
                tracing::warn!("cannot start the reaper ({e}): processes may outlive an abnormal exit");
                return;
            }
        }
    }
    let Some(stdin) = reaper.as_mut().and_then(|r| r.stdin.as_mut()) else { return };
    if let Err(e) = stdin.write_all(line.as_bytes()).and_then(|()| stdin.flush()) {
        tracing::warn!("the reaper is gone ({e}): processes may outlive an abnormal exit");
    }
}

fn start() -> std::io::Result<Reaper> {
    use std::os::unix::process::CommandExt;
    let mut child = Command::new("/bin/sh")
        .process_group(0)
        .arg("-c")
        .arg(REAPER_SCRIPT)
        .arg("zkurator-harness-reaper")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let stdin = child.stdin.take();
    tracing::debug!(pid = child.id(), "reaper started");
    Ok(Reaper { child, stdin })
}

/// From now on, kill process group `pgid` if the harness dies.
pub fn adopt_group(pgid: u32) {
    send(format!("group {pgid}\n"));
}

/// Kills what is left of process group `pgid` (SIGKILL) and stops watching
/// it: for when its leader has ended or is being ended.
pub fn kill_group(pgid: u32) {
    signal_group(pgid, false);
    send(format!("forget {pgid}\n"));
}

/// Sends SIGKILL (or SIGTERM with `term`) to every process of group `pgid`.
pub fn signal_group(pgid: u32, term: bool) {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{kill_process_group, Pid, Signal};
        if let Some(pid) = i32::try_from(pgid).ok().and_then(Pid::from_raw) {
            let _ = kill_process_group(pid, if term { Signal::TERM } else { Signal::KILL });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (pgid, term);
}

/// From now on, remove `dir` if the harness dies.
pub fn adopt_dir(dir: &Path) {
    if let Some(text) = dir.to_str().filter(|t| !t.contains('\n')) {
        send(format!("dir {text}\n"));
    }
}

/// `dir` was removed (or is kept on purpose): stop watching it.
pub fn forget_dir(dir: &Path) {
    if let Some(text) = dir.to_str().filter(|t| !t.contains('\n')) {
        send(format!("keep {text}\n"));
    }
}

/// Closes the pipe and waits for the reaper to kill what is left and remove
/// the directories still recorded: for an orderly end of the process.
pub fn finish() {
    let taken = crate::runtime::child::lock(&REAPER).take();
    if let Some(mut reaper) = taken {
        reaper.stdin.take();
        let _ = reaper.child.wait();
    }
}

/// Puts a command in a process group of its own (its pid), so that
/// [`signal_group`] reaches it and whatever it forks.
pub fn own_group(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    command.process_group(0);
}
