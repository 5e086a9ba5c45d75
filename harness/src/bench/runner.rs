//! The state of a run ([`Bench`]): its settings, the peers started once, and
//! which subjects and sections it runs.

use std::future::Future;
use std::time::{Duration, Instant};

use super::machine::Machine;
use super::results::{ConfigReport, Lock, Section, Settings, Subject, Versions};
use super::zk::BENCH_ROOT;
use super::{curator, kazurator};

/// A progress line on stderr (the tables go to stdout), with the time since the first one.
pub(super) fn progress(what: &str) {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let since = START.get_or_init(Instant::now).elapsed().as_secs_f64();
    eprintln!("bench: {since:6.1} s  {what}");
}

/// The state of a run: settings, the peers (started once), versions.
pub(super) struct Bench {
    pub(super) settings: Settings,
    pub(super) machine: Machine,
    pub(super) versions: Versions,
    pub(super) curator: Result<(), String>,
    pub(super) python: Result<kazurator::Python, String>,
    pub(super) jvm_warmed: bool,
    /// The local server's JVM, whose CPU time each uncontended job reads.
    pub(super) server_pid: Option<u32>,
}

pub(super) const KINDS: [Lock; 3] = [Lock::Mutex, Lock::Write, Lock::Read];

impl Bench {
    pub(super) fn new(settings: Settings, peers: &crate::runner::Peers) -> Bench {
        let machine = Machine::this();
        let mut versions = Versions {
            zkurator_harness: env!("CARGO_PKG_VERSION").to_owned(),
            optimized: !cfg!(debug_assertions),
            ..Versions::default()
        };
        // The waiters section is zkurator's alone: no need for the peers.
        let needed = settings.sections.iter().any(|s| *s != Section::Waiters);
        let wants = |s: Subject| needed && settings.subjects.contains(&s);
        let curator = if wants(Subject::Curator) {
            progress("starting the JVM for Curator");
            peers.curator().map(|c| versions.curator = Some(c.version())).map_err(|e| e.to_string())
        } else {
            Err("not selected".to_owned())
        };
        let python = if wants(Subject::Kazurator) {
            progress("finding Python with kazurator");
            peers.kazurator().map(|k| kazurator::Python::of(&k)).map_err(|e| e.to_string()).inspect(|python| {
                versions.kazurator = Some(python.versions.0.clone());
                versions.kazoo = Some(python.versions.1.clone());
            })
        } else {
            Err("not selected".to_owned())
        };
        Bench { settings, machine, versions, curator, python, jvm_warmed: false, server_pid: None }
    }

    /// Runs Curator's lock loops unmeasured once per process, so that the JIT
    /// compiler has compiled them before any Curator figure is taken (each
    /// measurement still has its own warm-up cycles).
    pub(super) fn warm_up_jvm(&mut self, connect: &str) {
        let measured = [Section::Uncontended, Section::Contended, Section::Readers];
        if self.jvm_warmed || self.curator.is_err() || !measured.iter().any(|s| self.wants_section(*s)) {
            return;
        }
        self.jvm_warmed = true;
        let cycles = self.settings.jvm_warmup;
        progress(&format!("warming up Curator in the JVM ({cycles} cycles per lock kind)"));
        let path = format!("{BENCH_ROOT}/jvm-warm-up-{}", &uuid::Uuid::new_v4().to_string()[..8]);
        for lock in KINDS {
            if let Err(e) = curator::uncontended(connect, &format!("{path}-{}", lock.wire()), lock, cycles, 1) {
                eprintln!("warning: Curator warm-up failed: {e}");
                return;
            }
        }
    }

    /// Runs a future on a fresh tokio runtime of the chosen flavour, so that no
    /// measurement inherits another's leftover tasks.
    pub(super) fn block_on<F: Future>(&self, future: F) -> F::Output {
        let runtime = self.settings.tokio.runtime().expect("a tokio runtime");
        let output = runtime.block_on(future);
        runtime.shutdown_timeout(Duration::from_secs(2));
        output
    }

    pub(super) fn wants(&self, subject: Subject) -> bool {
        self.settings.subjects.contains(&subject)
    }

    pub(super) fn wants_section(&self, section: Section) -> bool {
        self.settings.sections.contains(&section)
    }

    /// Whether `subject` can run; records why not (once per setting) otherwise.
    pub(super) fn available(&self, subject: Subject, config: &mut ConfigReport) -> bool {
        if !self.wants(subject) {
            return false;
        }
        let missing = match subject {
            Subject::Curator | Subject::FloorJava => self.curator.as_ref().err(),
            Subject::Kazurator => self.python.as_ref().err(),
            _ => None,
        };
        match missing {
            None => true,
            Some(why) => {
                let line = format!("{}: cannot run: {why}", subject.label());
                if !config.errors.contains(&line) {
                    config.errors.push(line);
                }
                false
            }
        }
    }
}
