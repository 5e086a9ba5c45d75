//! Curator's drivers in the embedded JVM ([`CuratorOracle`]).

use crate::contender::StartError;
use crate::runtime::curator::{self, CuratorRuntime};

use super::cases::Case;
use super::oracle::{Answer, Oracle, OracleError};
use super::wire::{decode_answers, encode_batch};

/// The Java probe class (`java/src/zkurator/interop/DriverProbe.java`).
pub const CURATOR_PROBE_CLASS: &str = "zkurator.interop.DriverProbe";

/// Curator's drivers through `zkurator.interop.DriverProbe` in the embedded JVM.
#[derive(Debug)]
pub struct CuratorOracle {
    runtime: CuratorRuntime,
}

impl CuratorOracle {
    /// Starts (or reuses) the process-wide JVM of [`CuratorRuntime::start`].
    pub fn start() -> Result<Self, StartError> {
        Ok(CuratorOracle { runtime: CuratorRuntime::start()? })
    }
}

impl Oracle for CuratorOracle {
    fn name(&self) -> &str {
        "curator"
    }

    fn describe(&self) -> String {
        format!("curator {} ({})", self.runtime.version(), self.runtime.curator_location())
    }

    fn answer(&mut self, cases: &[Case]) -> Result<Vec<Answer>, OracleError> {
        let text = curator::invoke_static_string(&self.runtime, CURATOR_PROBE_CLASS, "run", &encode_batch(cases))
            .map_err(|message| OracleError { oracle: "curator".to_string(), message })?;
        decode_answers("curator", &text, cases.len())
    }
}
