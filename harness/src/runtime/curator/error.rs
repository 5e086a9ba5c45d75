//! Start failures of the JVM, cached for the whole process ([`InitError`]).

use crate::contender::{Runtime, StartError};

/// A start failure that can be cached and handed out again ([`StartError`] is not `Clone`).
#[derive(Clone, Debug)]
pub(super) enum InitError {
    Missing { what: String, detail: String, install: String },
    Failed(String),
}

impl InitError {
    pub(super) fn missing(what: &str, detail: impl Into<String>, install: &str) -> Self {
        InitError::Missing { what: what.to_string(), detail: detail.into(), install: install.to_string() }
    }

    pub(super) fn to_start_error(&self) -> StartError {
        match self {
            InitError::Missing { what, detail, install } => {
                StartError::Missing { what: what.clone(), detail: detail.clone(), install: install.clone() }
            }
            InitError::Failed(message) => {
                StartError::Failed { runtime: Runtime::Curator, id: "(runtime)".to_string(), message: message.clone() }
            }
        }
    }
}
