//! The harness's checks that are not corpus passes, in one test binary so
//! that they overlap. They mostly wait (on servers, elections, contender
//! processes, session expiries): one binary each, run one after another by
//! `cargo test`, they took about 340 s for under 60 s of CPU.
//!
//! Overlapping is sound because every scenario run, whichever test makes it,
//! holds the host gate (`zkurator_harness::host_gate`): shared, or
//! exclusively when its verdict is timed against a timeout or it acts on the
//! servers, so no run is ever timed beside another. The corpus passes
//! (`interop`, `faults`, `workloads`, `jobs`) keep binaries of their own: a
//! suite's exclusive phase would stall every test here. The predicate
//! comparison (`differential`) is here: it is CPU (JVM and Python oracles),
//! which slows the runs beside it without changing a verdict, and on a fresh
//! checkout its Maven resolution of every release overlaps the waits here.
//!
//! Tests run [`default_jobs`] at a time (four per core, at most eight), as
//! the harness's own runs do, unless `RUST_TEST_THREADS` or
//! `--test-threads` says otherwise: libtest's default, one per core, would
//! leave a CI machine's cores idle while these tests wait.

use zkurator_harness::suite::default_jobs;

/// Sets `RUST_TEST_THREADS` for this binary's libtest before it reads it.
#[ctor::ctor(unsafe)]
fn tests_at_a_time() {
    if std::env::var_os("RUST_TEST_THREADS").is_none() {
        // SAFETY: before main, on the process's only thread.
        unsafe { std::env::set_var("RUST_TEST_THREADS", default_jobs().to_string()) };
    }
}

mod bad_input;
mod check_limits;
mod check_rejects;
mod curator_runtime;
mod differential;
mod faults_negative;
mod faults_proxy;
mod faults_split;
mod fuzz_readers;
mod gate;
mod generated;
mod generated_recipes;
mod hostile;
mod installed;
mod kazurator_release;
mod kazurator_runtime;
mod matrix_reports;
mod multi_interop;
mod peers_apart;
mod recheck;
mod recipes_model;
mod releases;
mod report_browser;
mod runtimes;
mod semaphore_negative;
