//! The end of a run: every contender closed (or its session ended), no lock
//! node left behind, the run's directory removed.

use std::thread;
use std::time::{Duration, Instant};

use super::state::Run;
use super::stop::Stop;
use crate::checkers::Checker;
use crate::checkers::Violation;
use crate::contender::Command;
use crate::history::EventKind;

impl Run<'_> {
    /// Closes every contender, then checks that no lock node is left.
    pub(super) fn finish(&mut self, check_cleanup: bool) -> Vec<Violation> {
        let bound = self.timing.grant_bound;
        let mut violations = Vec::new();
        let ids: Vec<String> = self.drivers.keys().cloned().collect();
        for id in &ids {
            let driver = self.driver(id);
            if driver.crashed {
                continue;
            }
            if driver.pending.is_some() {
                // Blocked in an acquire: it cannot take Close. End its session.
                self.history.record(id, EventKind::Crash);
                (self.driver(id).crasher)();
                let _ = self.reply(id, bound);
                continue;
            }
            if self.call(id, Command::Close, bound).is_err() {
                (self.driver(id).crasher)();
            }
        }
        for id in &ids {
            // Dropping the sender ends the contender's thread.
            if let Some(driver) = self.drivers.remove(id) {
                drop(driver.commands);
            }
        }
        if check_cleanup {
            let deadline = Instant::now() + bound + self.scenario.session_timeout;
            loop {
                let left: Vec<String> = match self.list() {
                    Ok(children) => children.into_iter().filter(|c| !self.foreign.contains(c)).collect(),
                    Err(Stop(v)) => {
                        violations.push(v);
                        break;
                    }
                };
                if left.is_empty() {
                    break;
                }
                if Instant::now() >= deadline {
                    self.faults.stats.nodes_leaked = left.len();
                    violations.push(Violation {
                        checker: Checker::Cleanup,
                        message: format!("nodes left after the run: {left:?}"),
                    });
                    break;
                }
                thread::sleep(Duration::from_millis(100));
            }
        }
        self.remove_lock_dir();
        violations
    }

    /// Best-effort removal of the run's directory (foreign children included).
    fn remove_lock_dir(&mut self) {
        let Ok(zk) = self.zk() else { return };
        let path = self.lock_path.clone();
        self.observer.tokio.block_on(async {
            for child in &self.foreign {
                let _ = zk.delete(&format!("{path}/{child}"), None).await;
            }
            for dir in self.scenario.kind.node_dirs() {
                let _ = zk.delete(&format!("{path}/{dir}"), None).await;
            }
            let _ = zk.delete(&path, None).await;
        });
    }
}
