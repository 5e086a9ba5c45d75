//! Measuring: timed cycles ([`measure`]) and writers counting cycles in a
//! [`Window`] ([`run_writers`]).

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::stats::Samples;

/// The longest any single acquire may take before a measurement fails.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `warmup` unmeasured, then `iterations` measured calls of `cycle`.
pub(crate) async fn measure<F, Fut>(warmup: u32, iterations: u32, mut cycle: F) -> Result<Samples, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    for _ in 0..warmup {
        cycle().await?;
    }
    let mut latencies_ns = Vec::with_capacity(iterations as usize);
    let started = Instant::now();
    for _ in 0..iterations {
        let t = Instant::now();
        cycle().await?;
        latencies_ns.push(t.elapsed().as_nanos() as u64);
    }
    Ok(Samples { latencies_ns, elapsed_ns: started.elapsed().as_nanos() as u64 })
}

/// The measured window of a contended run: cycles completing between
/// `warm_end` and `end` count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// End of the unmeasured warm-up.
    pub warm_end: Instant,
    /// End of the measured window.
    pub end: Instant,
}

impl Window {
    /// The window after `warmup` from `start`, lasting `duration`.
    pub fn starting(start: Instant, warmup: Duration, duration: Duration) -> Window {
        let warm_end = start + warmup;
        Window { warm_end, end: warm_end + duration }
    }

    /// Counts a cycle that completed at `now` if it falls in the window;
    /// returns whether the writer should go on.
    pub fn record(&self, now: Instant, count: &mut u64) -> bool {
        if now >= self.warm_end && now <= self.end {
            *count += 1;
        }
        now < self.end
    }
}

/// Sums the writers' counts; fails if any writer fails or they take longer than `bound`.
/// One boxed acquire+release cycle of a writer.
pub(crate) type CycleFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>>;

/// Runs one task per writer, all let go at the same instant; each repeats
/// `cycle(&writer)` until the measuring window (after `warmup`, lasting
/// `duration`) ends. Returns the cycles completed inside the window.
pub(crate) async fn run_writers<W, F>(
    writers: Vec<W>,
    warmup: Duration,
    duration: Duration,
    cycle: F,
) -> Result<u64, String>
where
    W: Send + Sync + 'static,
    F: for<'a> Fn(&'a W) -> CycleFuture<'a> + Send + Sync + 'static,
{
    let cycle = std::sync::Arc::new(cycle);
    let (go, started) = tokio::sync::watch::channel(None::<Instant>);
    let mut tasks = JoinSet::new();
    for writer in writers {
        let mut started = started.clone();
        let cycle = std::sync::Arc::clone(&cycle);
        tasks.spawn(async move {
            let start = loop {
                if let Some(start) = *started.borrow_and_update() {
                    break start;
                }
                started.changed().await.map_err(|_| "never started".to_owned())?;
            };
            let window = Window::starting(start, warmup, duration);
            let mut count = 0;
            loop {
                cycle(&writer).await?;
                if !window.record(Instant::now(), &mut count) {
                    break;
                }
            }
            Ok::<u64, String>(count)
        });
    }
    let _ = go.send(Some(Instant::now()));
    sum_counts(tasks, warmup + duration + LOCK_TIMEOUT).await
}

pub(crate) async fn sum_counts(mut tasks: JoinSet<Result<u64, String>>, bound: Duration) -> Result<u64, String> {
    let deadline = tokio::time::Instant::now() + bound;
    let mut total = 0;
    loop {
        let joined = tokio::time::timeout_at(deadline, tasks.join_next())
            .await
            .map_err(|_| format!("writers did not finish within {bound:?}"))?;
        match joined {
            None => return Ok(total),
            Some(Ok(count)) => total += count?,
            Some(Err(e)) => return Err(format!("writer task: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_counts_cycles_after_the_warm_up() {
        let start = Instant::now();
        let w = Window::starting(start, Duration::from_secs(1), Duration::from_secs(3));
        let mut count = 0;
        assert!(w.record(start + Duration::from_millis(500), &mut count));
        assert_eq!(count, 0);
        assert!(w.record(start + Duration::from_secs(1), &mut count));
        assert!(w.record(start + Duration::from_secs(2), &mut count));
        assert_eq!(count, 2);
        // The last cycle at the end still counts; then the writer stops.
        assert!(!w.record(start + Duration::from_secs(4), &mut count));
        assert_eq!(count, 3);
        assert!(!w.record(start + Duration::from_secs(5), &mut count));
        assert_eq!(count, 3);
    }
}
