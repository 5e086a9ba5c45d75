//! The command line of `zkurator-harness bench` ([`BenchArgs`]) and the
//! [`Settings`] it stands for.

use std::path::PathBuf;

use super::results::{Flavor, Network, Section, ServerMode, Settings, Subject};

/// Options of `zkurator-harness bench`.
#[derive(clap::Args, Clone, Debug)]
pub struct BenchArgs {
    /// Small counts and short windows: a smoke run of every section in under a minute (for CI).
    #[arg(long)]
    pub quick: bool,
    /// Run only these sections (comma separated).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Section>,
    /// Measured uncontended cycles per subject and lock [default: 1000; quick: 60].
    #[arg(long)]
    pub iterations: Option<u32>,
    /// Unmeasured cycles before each uncontended round [default: 200; quick: 20].
    #[arg(long)]
    pub warmup: Option<u32>,
    /// Rounds the uncontended iterations are split into [default: 3; quick: 1].
    #[arg(long)]
    pub rounds: Option<u32>,
    /// Measured window of each contended run, seconds [default: 3; quick: 0.5].
    #[arg(long)]
    pub duration_secs: Option<f64>,
    /// Writer counts of the contended section [default: 2,8,32; quick: 2,8].
    #[arg(long, value_delimiter = ',')]
    pub writers: Option<Vec<u32>>,
    /// Readers of the readers section [default: 100].
    #[arg(long)]
    pub readers: Option<u32>,
    /// Waiters of the waiters section [default: 1000].
    #[arg(long)]
    pub waiters: Option<u32>,
    /// Measure only these (comma separated) [default: all].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub runtimes: Vec<Subject>,
    /// Network settings [default: loopback,latency].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub network: Vec<Network>,
    /// Server settings: fast is forceSync=no, durable ZooKeeper's default [default: fast,durable; quick: fast].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub server: Vec<ServerMode>,
    /// The tokio runtime the Rust subjects run on.
    #[arg(long, value_enum, default_value = "multi-thread")]
    pub tokio: Flavor,
    /// Latency the proxy adds in each direction in the latency setting, ms.
    #[arg(long, default_value_t = 1.0)]
    pub latency_ms: f64,
    /// Where the JSON report goes (its charts: the same path with `.html`).
    #[arg(long, default_value = "target/bench.json")]
    pub json: PathBuf,
    /// Internal: measure the waiters section against this server in this
    /// process and print it as JSON (the benchmark runs itself this way).
    #[arg(long, hide = true)]
    pub waiters_child: Option<String>,
}

impl BenchArgs {
    /// The counts and durations these options stand for.
    pub fn settings(&self) -> Settings {
        let quick = self.quick;
        let pick = |given: Option<u32>, full: u32, smoke: u32| given.unwrap_or(if quick { smoke } else { full });
        let all_or = |given: &[Section]| if given.is_empty() { SECTIONS.to_vec() } else { given.to_vec() };
        Settings {
            quick,
            iterations: pick(self.iterations, 1000, 60).max(1),
            warmup: pick(self.warmup, 200, 20),
            rounds: pick(self.rounds, 3, 1).max(1),
            duration_secs: self.duration_secs.unwrap_or(if quick { 0.5 } else { 3.0 }).max(0.01),
            contended_warmup_secs: if quick { 0.2 } else { 1.0 },
            writers: self.writers.clone().unwrap_or_else(|| if quick { vec![2, 8] } else { vec![2, 8, 32] }),
            readers: pick(self.readers, 100, 100).max(1),
            server_warmup: if quick { 2000 } else { 8000 },
            jvm_warmup: if quick { 300 } else { 2000 },
            reader_repeats: if quick { 1 } else { 5 },
            waiters: pick(self.waiters, 1000, 1000).max(1),
            tokio: self.tokio,
            sections: all_or(&self.only),
            subjects: if self.runtimes.is_empty() { Subject::ALL.to_vec() } else { self.runtimes.clone() },
        }
    }
}

const SECTIONS: [Section; 4] = [Section::Uncontended, Section::Contended, Section::Readers, Section::Waiters];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_and_full_settings() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            bench: BenchArgs,
        }
        let full = Cli::parse_from(["bench"]).bench.settings();
        assert_eq!((full.iterations, full.rounds, full.writers.clone()), (1000, 3, vec![2, 8, 32]));
        assert_eq!((full.readers, full.waiters), (100, 1000));
        assert_eq!(full.sections.len(), 4);
        assert_eq!(full.subjects, Subject::ALL.to_vec());
        let quick = Cli::parse_from(["bench", "--quick", "--iterations", "10", "--only", "uncontended,waiters"])
            .bench
            .settings();
        assert!(quick.quick);
        assert_eq!(quick.iterations, 10);
        assert_eq!(quick.writers, vec![2, 8]);
        assert_eq!(quick.sections, vec![Section::Uncontended, Section::Waiters]);
        let some =
            Cli::parse_from(["bench", "--runtimes", "floor,zkurator,zk-client", "--writers", "4"]).bench.settings();
        assert_eq!(some.subjects, vec![Subject::Floor, Subject::Zkurator, Subject::ZkClient]);
        assert_eq!(some.writers, vec![4]);
    }
}
