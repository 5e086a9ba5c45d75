//! The uncontended, contended and readers sections of one setting.

use std::time::Duration;

use super::results::{ConfigReport, Contended, Lock, Readers, Section, Subject, Uncontended};
use super::runner::{progress, Bench, KINDS};
use super::stats::{median, rate, Samples};
use super::zk::{prepare, BENCH_ROOT};
use super::{curator, floor, kazurator, server_cpu, stats, targets, waiters, zkclient, zkurator};

/// What an uncontended job measured, per (subject, lock).
type Measured = Vec<((Subject, Lock), Samples)>;

/// One uncontended job: what it measures and how.
#[derive(Clone, Debug)]
enum Job {
    Floor,
    /// The raw cycle on Java's ZooKeeper client.
    FloorJava,
    Zkurator(Lock),
    /// zkurator's mutex on the stock socket.
    ZkuratorNagle,
    /// zkurator's mutex with its metrics recorded.
    ZkuratorMetrics,
    ZkClient,
    Curator(Lock),
    /// All kazurator kinds in one process.
    Kazurator(Vec<Lock>),
}

impl Job {
    fn subject(&self) -> Subject {
        match self {
            Job::Floor => Subject::Floor,
            Job::FloorJava => Subject::FloorJava,
            Job::Zkurator(_) => Subject::Zkurator,
            Job::ZkuratorNagle => Subject::ZkuratorNagle,
            Job::ZkuratorMetrics => Subject::ZkuratorMetrics,
            Job::ZkClient => Subject::ZkClient,
            Job::Curator(_) => Subject::Curator,
            Job::Kazurator(_) => Subject::Kazurator,
        }
    }
}

impl Bench {
    pub(super) fn run_config(&self, config: &mut ConfigReport, connect: &str) {
        let label = config.label();
        let base = format!("{BENCH_ROOT}/{}", &uuid::Uuid::new_v4().to_string()[..8]);
        match self.block_on(prepare(connect, &base)) {
            Ok(rtt) => config.zk_round_trip_ms = Some(rtt),
            Err(e) => {
                config.errors.push(format!("cannot use ZooKeeper at {connect}: {e}"));
                return;
            }
        }
        if self.wants_section(Section::Uncontended) {
            progress(&format!("[{label}] uncontended"));
            self.uncontended(config, connect, &base);
        }
        if self.wants_section(Section::Contended) {
            progress(&format!("[{label}] contended"));
            self.contended(config, connect, &base);
        }
        if self.wants_section(Section::Readers) {
            progress(&format!("[{label}] readers"));
            self.readers(config, connect, &base);
        }
        if self.wants_section(Section::Waiters) && self.wants(Subject::Zkurator) {
            progress(&format!("[{label}] waiters"));
            match waiters::measure(connect, self.settings.waiters, self.settings.tokio) {
                Ok(w) => config.waiters.push(w),
                Err(e) => config.errors.push(format!("zkurator waiters: {e}")),
            }
        }
    }

    fn uncontended(&self, config: &mut ConfigReport, connect: &str, base: &str) {
        let mut jobs = Vec::new();
        if self.available(Subject::Floor, config) {
            jobs.push(Job::Floor);
        }
        if self.available(Subject::FloorJava, config) {
            jobs.push(Job::FloorJava);
        }
        if self.available(Subject::Zkurator, config) {
            jobs.extend(KINDS.map(Job::Zkurator));
            jobs.push(Job::Zkurator(Lock::Lease));
        }
        if self.available(Subject::ZkuratorNagle, config) {
            jobs.push(Job::ZkuratorNagle);
        }
        if self.available(Subject::ZkuratorMetrics, config) {
            jobs.push(Job::ZkuratorMetrics);
        }
        if self.available(Subject::ZkClient, config) {
            jobs.push(Job::ZkClient);
        }
        if self.available(Subject::Curator, config) {
            jobs.extend(KINDS.map(Job::Curator));
            jobs.push(Job::Curator(Lock::Lease));
        }
        if self.available(Subject::Kazurator, config) {
            jobs.push(Job::Kazurator(KINDS.to_vec()));
        }
        let s = &self.settings;
        let mut merged: Vec<((Subject, Lock), Samples)> = Vec::new();
        // Server CPU and cycles (warm-up included) of the one-lock jobs.
        let mut server = server_cpu::Spent::default();
        let mut failed: Vec<Subject> = Vec::new();
        for round in 0..s.rounds {
            let iterations = s.iterations / s.rounds + u32::from(round < s.iterations % s.rounds);
            if iterations == 0 {
                continue;
            }
            for job in &jobs {
                if failed.contains(&job.subject()) {
                    continue;
                }
                let cpu_before = self.server_pid.and_then(server_cpu::process_cpu_ns);
                let measured = self.run_job(job, connect, base, iterations);
                let cpu_after = self.server_pid.and_then(server_cpu::process_cpu_ns);
                if let Ok([(key, _)]) = measured.as_deref() {
                    server.add(*key, cpu_before, cpu_after, u64::from(s.warmup + iterations));
                }
                match measured {
                    Ok(results) => {
                        for (key, samples) in results {
                            match merged.iter_mut().find(|(k, _)| *k == key) {
                                Some((_, all)) => {
                                    all.latencies_ns.extend(samples.latencies_ns);
                                    all.elapsed_ns += samples.elapsed_ns;
                                }
                                None => merged.push((key, samples)),
                            }
                        }
                    }
                    Err(e) => {
                        config.errors.push(format!("{} uncontended: {e}", job.subject().label()));
                        failed.push(job.subject());
                        merged.retain(|((subject, _), _)| *subject != job.subject());
                    }
                }
            }
        }
        for ((subject, lock), samples) in merged {
            if let Some(summary) = stats::summarize(&samples) {
                let server_cpu_us = server.per_cycle_us((subject, lock));
                config.uncontended.push(Uncontended { subject, lock, summary, server_cpu_us });
            }
        }
    }

    fn run_job(&self, job: &Job, connect: &str, base: &str, iterations: u32) -> Result<Measured, String> {
        let warmup = self.settings.warmup;
        let path = |name: &str| format!("{base}/uncontended-{name}");
        let one = |key: (Subject, Lock), samples: Result<Samples, String>| samples.map(|s| vec![(key, s)]);
        match job {
            Job::Floor => {
                one((Subject::Floor, Lock::Raw), self.block_on(floor::run(connect, &path("floor"), warmup, iterations)))
            }
            Job::FloorJava => one(
                (Subject::FloorJava, Lock::Raw),
                curator::uncontended(connect, &path("floor-java"), Lock::Raw, warmup, iterations),
            ),
            Job::Zkurator(lock) => one(
                (Subject::Zkurator, *lock),
                self.block_on(zkurator::uncontended(
                    connect,
                    &path(&format!("zkurator-{}", lock.wire())),
                    *lock,
                    zkurator::Socket::Nodelay,
                    warmup,
                    iterations,
                )),
            ),
            Job::ZkuratorNagle => one(
                (Subject::ZkuratorNagle, Lock::Mutex),
                self.block_on(zkurator::uncontended(
                    connect,
                    &path("zkurator-nagle"),
                    Lock::Mutex,
                    zkurator::Socket::Nagle,
                    warmup,
                    iterations,
                )),
            ),
            Job::ZkuratorMetrics => {
                let _recording = super::metrics_switch::record();
                one(
                    (Subject::ZkuratorMetrics, Lock::Mutex),
                    self.block_on(zkurator::uncontended(
                        connect,
                        &path("zkurator-metrics"),
                        Lock::Mutex,
                        zkurator::Socket::Nodelay,
                        warmup,
                        iterations,
                    )),
                )
            }
            Job::ZkClient => one(
                (Subject::ZkClient, Lock::Mutex),
                self.block_on(zkclient::uncontended(connect, &path("zk-client"), warmup, iterations)),
            ),
            Job::Curator(lock) => one(
                (Subject::Curator, *lock),
                curator::uncontended(connect, &path(&format!("curator-{}", lock.wire())), *lock, warmup, iterations),
            ),
            Job::Kazurator(locks) => {
                let python = self.python.as_ref().map_err(Clone::clone)?;
                let runs = kazurator::uncontended(python, connect, &path("kazurator"), locks, warmup, iterations)?;
                Ok(runs.into_iter().map(|(lock, samples)| ((Subject::Kazurator, lock), samples)).collect())
            }
        }
    }

    fn contended(&self, config: &mut ConfigReport, connect: &str, base: &str) {
        let s = &self.settings;
        let warmup = Duration::from_secs_f64(s.contended_warmup_secs);
        let duration = Duration::from_secs_f64(s.duration_secs);
        // Every subject but the floors (they have no lock to hand over).
        let subjects: Vec<Subject> = Subject::ALL
            .into_iter()
            .filter(|subject| !matches!(subject, Subject::Floor | Subject::FloorJava))
            .filter(|&subject| self.available(subject, config))
            .collect();
        for &writers in &s.writers {
            for &subject in &subjects {
                let path = format!("{base}/contended-{}-{writers}", subject.label().to_lowercase());
                let handoffs = match subject {
                    Subject::Zkurator | Subject::ZkuratorNagle | Subject::ZkuratorMetrics => {
                        let socket = zkurator::Socket::of(subject);
                        let _recording = (subject == Subject::ZkuratorMetrics).then(super::metrics_switch::record);
                        self.block_on(zkurator::contended(connect, &path, writers, socket, warmup, duration))
                    }
                    Subject::ZkClient => self.block_on(zkclient::contended(connect, &path, writers, warmup, duration)),
                    Subject::Curator => curator::contended(connect, &path, writers, false, warmup, duration),
                    Subject::Kazurator => self
                        .python
                        .as_ref()
                        .map_err(Clone::clone)
                        .and_then(|python| kazurator::contended(python, connect, &path, writers, warmup, duration)),
                    Subject::Floor | Subject::FloorJava => continue,
                };
                match handoffs {
                    Ok(handoffs) => config.contended.push(Contended {
                        subject,
                        writers,
                        shared: false,
                        handoffs,
                        seconds: duration.as_secs_f64(),
                        per_sec: rate(handoffs, duration.as_secs_f64()).unwrap_or(0.0),
                    }),
                    Err(e) => config.errors.push(format!("{} contended, {writers} writers: {e}", subject.label())),
                }
            }
        }
        // Tasks (threads) sharing one session and one handle, as app state holds a lock.
        let writers = targets::SHARED_WRITERS;
        for subject in subjects.into_iter().filter(|s| matches!(s, Subject::Zkurator | Subject::Curator)) {
            let path = format!("{base}/shared-{}-{writers}", subject.label().to_lowercase());
            let handoffs = match subject {
                Subject::Zkurator => {
                    self.block_on(zkurator::contended_shared(connect, &path, writers, warmup, duration))
                }
                _ => curator::contended(connect, &path, writers, true, warmup, duration),
            };
            match handoffs {
                Ok(handoffs) => config.contended.push(Contended {
                    subject,
                    writers,
                    shared: true,
                    handoffs,
                    seconds: duration.as_secs_f64(),
                    per_sec: rate(handoffs, duration.as_secs_f64()).unwrap_or(0.0),
                }),
                Err(e) => config.errors.push(format!("{} shared handle, {writers} tasks: {e}", subject.label())),
            }
        }
    }

    fn readers(&self, config: &mut ConfigReport, connect: &str, base: &str) {
        let s = &self.settings;
        for subject in [Subject::Zkurator, Subject::Curator, Subject::Kazurator] {
            if !self.available(subject, config) {
                continue;
            }
            let path = format!("{base}/readers-{}", subject.label().to_lowercase());
            let repeats = match subject {
                Subject::Zkurator => self.block_on(zkurator::readers(connect, &path, s.readers, s.reader_repeats)),
                Subject::Curator => curator::readers(connect, &path, s.readers, s.reader_repeats),
                _ => self
                    .python
                    .as_ref()
                    .map_err(Clone::clone)
                    .and_then(|python| kazurator::readers(python, connect, &path, s.readers, s.reader_repeats)),
            };
            match repeats {
                Ok(repeats) if !repeats.is_empty() => {
                    let ms = |d: Duration| d.as_secs_f64() * 1e3;
                    let repeats: Vec<(f64, f64)> = repeats.into_iter().map(|(r, w)| (ms(r), ms(w))).collect();
                    let acquire: Vec<f64> = repeats.iter().map(|r| r.0).collect();
                    let wait: Vec<f64> = repeats.iter().map(|r| r.1).collect();
                    config.readers.push(Readers {
                        subject,
                        readers: s.readers,
                        readers_acquire_ms: median(&acquire).unwrap_or(f64::NAN),
                        writer_wait_ms: median(&wait).unwrap_or(f64::NAN),
                        repeats,
                    });
                }
                Ok(_) => {}
                Err(e) => config.errors.push(format!("{} readers: {e}", subject.label())),
            }
        }
    }
}
