//! A process-wide metrics recorder that records only while switched on, so
//! one bench run measures zkurator with its figures recorded (the
//! `zkurator-metrics` subject, into a Prometheus recorder) and without (every
//! other zkurator subject: the facade's calls find nothing to record).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};

/// The Prometheus recorder behind a switch.
struct Switch {
    on: AtomicBool,
    inner: PrometheusRecorder,
}

static SWITCH: OnceLock<Option<&'static Switch>> = OnceLock::new();

/// Records while the returned value lives (installs the recorder on first use).
pub fn record() -> Recording {
    let switch = *SWITCH.get_or_init(|| {
        let switch: &'static Switch = Box::leak(Box::new(Switch {
            on: AtomicBool::new(false),
            inner: PrometheusBuilder::new().build_recorder(),
        }));
        metrics::set_global_recorder(switch).ok().map(|()| switch)
    });
    if let Some(switch) = switch {
        switch.on.store(true, Ordering::SeqCst);
    }
    Recording(switch)
}

/// Recording is on until this is dropped.
pub struct Recording(Option<&'static Switch>);

impl Drop for Recording {
    fn drop(&mut self) {
        if let Some(switch) = self.0 {
            switch.on.store(false, Ordering::SeqCst);
        }
    }
}

impl Recorder for Switch {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_counter(key, unit, description)
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_gauge(key, unit, description)
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_histogram(key, unit, description)
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        if self.on.load(Ordering::Relaxed) {
            self.inner.register_counter(key, metadata)
        } else {
            Counter::noop()
        }
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        if self.on.load(Ordering::Relaxed) {
            self.inner.register_gauge(key, metadata)
        } else {
            Gauge::noop()
        }
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        if self.on.load(Ordering::Relaxed) {
            self.inner.register_histogram(key, metadata)
        } else {
            Histogram::noop()
        }
    }
}
