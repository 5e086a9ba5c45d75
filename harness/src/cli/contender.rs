//! The hidden `contender` subcommand: a rust-process (or Curator worker)
//! contender speaking JSON lines on stdin and stdout.

use std::process::ExitCode;

use super::common::fail;

/// Serves one contender of runtime `serve` (`rust`, or `curator` for a JVM
/// with CURATOR_CLASSPATH's jars) on stdin and stdout, with zkurator broken
/// on purpose by `negative_control` if given.
pub fn serve(serve: &str, negative_control: Option<&str>) -> ExitCode {
    use zkurator::negative::NegativeControl;
    let control = match negative_control {
        None => None,
        Some("write-ignores-readers") => Some(NegativeControl::WriteIgnoresReaders),
        Some("read-ignores-writers") => Some(NegativeControl::ReadIgnoresWriters),
        Some(other) => return fail(format!("unknown --negative-control {other:?}")),
    };
    let runtime = match serve {
        "curator" => zkurator_harness::contender::Runtime::Curator,
        _ => zkurator_harness::contender::Runtime::Rust,
    };
    ExitCode::from(zkurator_harness::runtime::rust_process::serve_stdio(runtime, control) as u8)
}
