//! Curator's figures: one call into the embedded JVM per measurement
//! (`zkurator.interop.CuratorBench`, `java/src/zkurator/interop/CuratorBench.java`),
//! which runs the whole measuring loop in Java and answers with JSON, so the
//! cost of calling from Rust into Java is not part of any figure.

use std::time::Duration;

use j4rs::{InvocationArg, Jvm};
use serde::Deserialize;

use super::results::Lock;
use super::stats::Samples;
use super::LOCK_TIMEOUT;

/// The Java class with the measuring loops.
const BENCH_CLASS: &str = "zkurator.interop.CuratorBench";

fn text(value: &str) -> Result<InvocationArg, String> {
    InvocationArg::try_from(value).map_err(|e| e.to_string())
}

fn int(value: u32) -> Result<InvocationArg, String> {
    let value = i32::try_from(value).map_err(|_| format!("{value} is too large for Java"))?;
    InvocationArg::try_from(value).and_then(InvocationArg::into_primitive).map_err(|e| e.to_string())
}

fn long(value: Duration) -> Result<InvocationArg, String> {
    let millis = i64::try_from(value.as_millis()).unwrap_or(i64::MAX);
    InvocationArg::try_from(millis).and_then(InvocationArg::into_primitive).map_err(|e| e.to_string())
}

/// The `{"ok":false,"error":...}` shape every method may answer with.
#[derive(Deserialize)]
struct Outcome {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
}

/// Calls a static method of the bench class and decodes its JSON answer.
///
/// The call runs on a thread of its own, attached to the JVM for the call
/// and detached after it, so the caller's thread stays out of the JVM.
fn call<T, A>(method: &str, args: A) -> Result<T, String>
where
    T: serde::de::DeserializeOwned,
    A: FnOnce() -> Vec<Result<InvocationArg, String>> + Send,
{
    // The JVM was started by the bench's peers (`Bench::new`).
    let json = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                // Attach first: j4rs makes Java objects of the arguments on the spot.
                let jvm = Jvm::attach_thread().map_err(|e| format!("attach to the JVM: {e}"))?;
                let args = args().into_iter().collect::<Result<Vec<_>, _>>()?;
                jvm.invoke_static(BENCH_CLASS, method, &args)
                    .and_then(|answer| jvm.to_rust::<String>(answer))
                    .map_err(|e| format!("CuratorBench.{method}: {}", e.to_string().lines().next().unwrap_or_default()))
            })
            .join()
            .unwrap_or_else(|_| Err(format!("CuratorBench.{method}: the calling thread panicked")))
    })?;
    let outcome: Outcome = serde_json::from_str(&json).map_err(|e| format!("CuratorBench.{method}: {e}: {json}"))?;
    if !outcome.ok {
        return Err(format!("Curator: {}", outcome.error.unwrap_or_default()));
    }
    serde_json::from_str(&json).map_err(|e| format!("CuratorBench.{method}: {e}"))
}

/// Uncontended acquire+release cycles of one Curator lock on one session.
pub fn uncontended(connect: &str, path: &str, lock: Lock, warmup: u32, iterations: u32) -> Result<Samples, String> {
    call("uncontended", || {
        vec![text(connect), text(path), text(lock.wire()), int(warmup), int(iterations), long(LOCK_TIMEOUT)]
    })
}

#[derive(Deserialize)]
struct Handoffs {
    handoffs: u64,
}

/// `writers` InterProcessMutex writers on their own sessions; the cycles
/// completed in the window after `warmup`.
/// With `shared`, the writers are threads sharing one session and one
/// InterProcessMutex.
pub fn contended(
    connect: &str,
    path: &str,
    writers: u32,
    shared: bool,
    warmup: Duration,
    duration: Duration,
) -> Result<u64, String> {
    let method = if shared { "contendedShared" } else { "contended" };
    let answer: Handoffs = call(method, || {
        vec![text(connect), text(path), int(writers), long(warmup), long(duration), long(LOCK_TIMEOUT)]
    })?;
    Ok(answer.handoffs)
}

#[derive(Deserialize)]
struct ReaderTimes {
    readers_acquire_ns: u64,
    writer_wait_ns: u64,
}

/// Readers sharing one session while a writer queues behind them, `repeats`
/// times: (time until all readers hold it, the writer's wait after their release).
pub fn readers(connect: &str, path: &str, readers: u32, repeats: u32) -> Result<Vec<(Duration, Duration)>, String> {
    (0..repeats)
        .map(|_| {
            let answer: ReaderTimes =
                call("readers", || vec![text(connect), text(path), int(readers), long(LOCK_TIMEOUT)])?;
            Ok((Duration::from_nanos(answer.readers_acquire_ns), Duration::from_nanos(answer.writer_wait_ns)))
        })
        .collect()
}
