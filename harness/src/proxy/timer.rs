//! The proxy's timer thread: one-shot alarms at given instants, more precise
//! than tokio's millisecond timer.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use tokio::sync::oneshot;

/// Fires one-shot alarms at given instants, from a thread of its own.
#[derive(Default)]
pub(super) struct Timer {
    state: Mutex<TimerState>,
    changed: Condvar,
}

#[derive(Default)]
pub(super) struct TimerState {
    alarms: BinaryHeap<Reverse<Alarm>>,
    next_seq: u64,
    stop: bool,
}

/// One pending alarm; ordered by time, then by registration.
pub(super) struct Alarm {
    at: Instant,
    seq: u64,
    fire: oneshot::Sender<()>,
}

impl PartialEq for Alarm {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Alarm {}

impl PartialOrd for Alarm {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Alarm {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl Timer {
    pub(super) fn state(&self) -> MutexGuard<'_, TimerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A receiver that completes at `at` (at once if `at` has passed).
    pub(super) fn alarm(&self, at: Instant) -> oneshot::Receiver<()> {
        let (fire, fired) = oneshot::channel();
        if at <= Instant::now() {
            let _ = fire.send(());
            return fired;
        }
        let mut state = self.state();
        let seq = state.next_seq;
        state.next_seq += 1;
        let earliest = state.alarms.peek().is_none_or(|Reverse(first)| at < first.at);
        state.alarms.push(Reverse(Alarm { at, seq, fire }));
        drop(state);
        if earliest {
            self.changed.notify_one();
        }
        fired
    }

    /// The timer thread's loop: fires alarms when due, until stopped.
    pub(super) fn run(&self) {
        let mut state = self.state();
        loop {
            if state.stop {
                return;
            }
            let now = Instant::now();
            let next = state.alarms.peek().map(|Reverse(first)| first.at);
            state = match next {
                Some(at) if at <= now => {
                    if let Some(Reverse(alarm)) = state.alarms.pop() {
                        // A dropped receiver (its pump moved on) is fine.
                        let _ = alarm.fire.send(());
                    }
                    state
                }
                Some(at) => self.changed.wait_timeout(state, at - now).unwrap_or_else(PoisonError::into_inner).0,
                None => self.changed.wait(state).unwrap_or_else(PoisonError::into_inner),
            };
        }
    }

    pub(super) fn stop(&self) {
        self.state().stop = true;
        self.changed.notify_all();
    }
}

/// Completes when the alarm fires (never without one).
pub(super) async fn rings(alarm: &mut Option<(Instant, oneshot::Receiver<()>)>) {
    match alarm {
        // An error means the timer stopped: the proxy is going away.
        Some((_, fired)) => {
            let _ = fired.await;
        }
        None => std::future::pending().await,
    }
}
