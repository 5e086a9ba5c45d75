//! Runtimes given as a command (`--runtime NAME=COMMAND`, `runtimes.toml`):
//! probed once for their hello, added under their name to the invocation's
//! [`RuntimeTable`], then started like any process runtime through the
//! contender protocol.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::line::{LineContender, LineProcess};
use crate::contender::{ContenderSpec, Runtime, StartError};
use crate::runtimes::{self, RuntimeTable};

/// How long a hello probe may take.
pub const HELLO_LIMIT: Duration = Duration::from_secs(30);

/// Environment variable overriding [`HELLO_LIMIT`], in milliseconds (a slow
/// runtime's first start; the gate's own tests shorten it).
pub const HELLO_LIMIT_ENV: &str = "ZKURATOR_HELLO_LIMIT_MS";

/// [`HELLO_LIMIT`], or [`HELLO_LIMIT_ENV`]'s value when it is a number of milliseconds.
pub fn hello_limit() -> Duration {
    std::env::var(HELLO_LIMIT_ENV).ok().and_then(|ms| ms.trim().parse().ok()).map_or(HELLO_LIMIT, Duration::from_millis)
}

/// The file external runtimes are declared in, looked for in the working directory.
pub const RUNTIMES_FILE: &str = "runtimes.toml";

/// A runtime that cannot be added.
#[derive(Debug, thiserror::Error)]
pub enum ExternalError {
    /// `--runtime` without `NAME=COMMAND`.
    #[error("--runtime {0:?}: expected NAME=COMMAND, e.g. --runtime mine='/usr/bin/my-contender --flag'")]
    Syntax(String),
    /// The runtimes file is unreadable or malformed.
    #[error("{file}: {message}")]
    File {
        /// The file.
        file: String,
        /// What is wrong (toml's message names line and column).
        message: String,
    },
    /// The command did not say hello.
    #[error("runtime {name:?} ({command}): {why}")]
    Hello {
        /// The runtime's name.
        name: String,
        /// The command, as given.
        command: String,
        /// What went wrong.
        why: String,
    },
    /// `--placeholder-runtimes` names no runtime.
    #[error("unknown runtime {0:?} in --placeholder-runtimes")]
    Unknown(String),
    /// The name is taken or bad.
    #[error(transparent)]
    Registry(#[from] runtimes::RegistryError),
}

/// `runtimes.toml`: `[runtime.NAME] command = ["prog", "arg"]` (or a string,
/// run by `sh -c`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuntimesFile {
    #[serde(default)]
    runtime: BTreeMap<String, Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    command: CommandLine,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum CommandLine {
    Shell(String),
    Argv(Vec<String>),
}

impl CommandLine {
    fn argv(self) -> Vec<String> {
        match self {
            CommandLine::Shell(line) => vec!["sh".into(), "-c".into(), shell_line(&line)],
            CommandLine::Argv(argv) => argv,
        }
    }
}

/// What `sh -c` runs for a command line: a simple command is `exec`ed (the
/// contender is then the shell's own process); anything else (`FOO=1 cmd`,
/// `cd d && cmd`, pipes, lists) is run as written. Either way the contender
/// leads a process group of its own, which kills and pauses reach as a whole.
fn shell_line(line: &str) -> String {
    const BUILTINS: [&str; 9] = ["cd", "export", ".", "set", "ulimit", "umask", "trap", "unset", "exec"];
    let first = line.split_whitespace().next().unwrap_or_default();
    let compound = line.contains([';', '&', '|', '(', ')', '\n', '{', '}']);
    if compound || first.contains('=') || BUILTINS.contains(&first) {
        line.to_owned()
    } else {
        format!("exec {line}")
    }
}

/// Splits `NAME=COMMAND` (the command run by `sh -c`).
pub fn parse_flag(flag: &str) -> Result<(String, Vec<String>), ExternalError> {
    match flag.split_once('=') {
        Some((name, command)) if !name.trim().is_empty() && !command.trim().is_empty() => {
            Ok((name.trim().to_owned(), CommandLine::Shell(command.trim().to_owned()).argv()))
        }
        _ => Err(ExternalError::Syntax(flag.to_owned())),
    }
}

/// Reads a runtimes file's `(name, argv)` entries.
pub fn parse_file(file: &Path, text: &str) -> Result<Vec<(String, Vec<String>)>, ExternalError> {
    let parsed: RuntimesFile = toml::from_str(text)
        .map_err(|e| ExternalError::File { file: file.display().to_string(), message: e.to_string() })?;
    Ok(parsed.runtime.into_iter().map(|(name, entry)| (name, entry.command.argv())).collect())
}

/// Probes `argv` for its hello and adds it to `table` as `name`.
pub fn add(table: &mut RuntimeTable, name: &str, argv: Vec<String>) -> Result<Runtime, ExternalError> {
    let shown = argv.join(" ");
    let (program, args) = argv.split_first().ok_or(runtimes::RegistryError::EmptyCommand(name.into()))?;
    let hello = LineProcess::new(program, args.iter().cloned())
        .hello(hello_limit())
        .map_err(|why| ExternalError::Hello { name: name.into(), command: shown, why })?;
    tracing::info!(%name, runtime = %hello.runtime, "added a runtime");
    Ok(table.add(name, argv, hello.capabilities, hello.versions.into_iter().collect())?)
}

/// The runtime table of a command line: the built-in runtimes, every
/// `--runtime NAME=COMMAND`, the entries of `file` (default: [`RUNTIMES_FILE`]
/// in the working directory, if there is one), and the placeholder domain
/// (`names`: the runtimes `$A`, `$B`... range over besides rust, curator and
/// kazurator; the added runtimes always join it). Each added command is
/// started once for its hello.
pub fn setup(flags: &[String], file: Option<&Path>, names: &[String]) -> Result<RuntimeTable, ExternalError> {
    setup_with(flags, file, names, true)
}

/// [`setup`] without starting anything: the names are added with no
/// capabilities, for the commands that run no code (`check`, `list`), so that
/// a `runtimes.toml` in a cloned repository runs nothing for them.
pub fn declare(flags: &[String], file: Option<&Path>, names: &[String]) -> Result<RuntimeTable, ExternalError> {
    setup_with(flags, file, names, false)
}

fn setup_with(
    flags: &[String],
    file: Option<&Path>,
    names: &[String],
    probe: bool,
) -> Result<RuntimeTable, ExternalError> {
    let mut table = RuntimeTable::default();
    let mut entries = Vec::new();
    let default_file = Path::new(RUNTIMES_FILE);
    let file = file.or_else(|| default_file.is_file().then_some(default_file));
    if let Some(file) = file {
        let text = crate::bounded::read_text(file)
            .map_err(|e| ExternalError::File { file: file.display().to_string(), message: e.to_string() })?;
        entries.extend(parse_file(file, &text)?);
    }
    for flag in flags {
        entries.push(parse_flag(flag)?);
    }
    for (name, argv) in entries {
        let runtime = if probe {
            add(&mut table, &name, argv)?
        } else {
            table.add(&name, argv, Default::default(), Vec::new())?
        };
        table.add_placeholder(runtime);
    }
    for name in names {
        let runtime = table.named(name).ok_or_else(|| ExternalError::Unknown(name.clone()))?;
        table.add_placeholder(runtime);
    }
    Ok(table)
}

/// One line per added runtime of `table` for `doctor`: name, command,
/// versions, capabilities.
pub fn describe(table: &RuntimeTable) -> Vec<(String, String)> {
    table
        .externals()
        .iter()
        .filter_map(|runtime| {
            let e = runtime.external()?;
            let versions: Vec<String> = e.versions.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let capabilities = serde_json::to_string(&e.capabilities).unwrap_or_default();
            Some((
                format!("runtime {}", e.name),
                format!("{} ({}); declares {capabilities}", e.command.join(" "), versions.join(", ")),
            ))
        })
        .collect()
}

/// How an added runtime's contenders start (`None` for a built-in runtime,
/// or one known by its name alone).
pub fn process(runtime: &Runtime) -> Option<LineProcess> {
    let external = runtime.external()?;
    let (program, args) = external.command.split_first()?;
    Some(LineProcess {
        expected: Some(external.capabilities.clone()),
        ..LineProcess::new(program, args.iter().cloned())
    })
}

/// Starts one contender of an external runtime.
pub fn start_contender(runtime: Runtime, spec: &ContenderSpec) -> Result<LineContender, StartError> {
    let process = process(&runtime).ok_or_else(|| StartError::Failed {
        runtime: runtime.clone(),
        id: spec.id.clone(),
        message: "an added runtime known by its name alone: no command to start".into(),
    })?;
    process.start(runtime, spec, super::child::START_LIMIT)
}

/// Runs the contenders of every added runtime: each [`Runtime::External`]
/// carries its own command, so there is nothing to prepare here (its hello
/// was checked when it was added).
#[derive(Debug, Default)]
pub struct ExternalAdapter;

impl super::adapter::Adapter for ExternalAdapter {
    fn runs(&self, runtime: &Runtime) -> bool {
        matches!(runtime, Runtime::External(_))
    }

    fn prepare(&self) -> Result<(), StartError> {
        Ok(())
    }

    fn starter(&self, runtime: &Runtime) -> Result<super::adapter::Starter, StartError> {
        let runtime = runtime.clone();
        process(&runtime).ok_or_else(|| StartError::Failed {
            runtime: runtime.clone(),
            id: String::new(),
            message: "an added runtime known by its name alone: no command to start".into(),
        })?;
        Ok(Box::new(move |spec| super::adapter::boxed(start_contender(runtime, spec))))
    }

    fn describe(&self) -> (String, Result<String, StartError>) {
        ("added runtimes".into(), Ok("each with the command it was added with".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_files_name_commands() {
        let (name, argv) = parse_flag("mine=/usr/bin/c --x").unwrap();
        assert_eq!((name.as_str(), argv), ("mine", vec!["sh".into(), "-c".into(), "exec /usr/bin/c --x".to_string()]));
        assert!(matches!(parse_flag("mine"), Err(ExternalError::Syntax(_))));
        assert!(matches!(parse_flag("=x"), Err(ExternalError::Syntax(_))));
        let text = "[runtime.a]\ncommand = [\"/bin/a\", \"-v\"]\n[runtime.b]\ncommand = \"b --y\"\n";
        let entries = parse_file(Path::new("runtimes.toml"), text).unwrap();
        assert_eq!(entries[0], ("a".into(), vec!["/bin/a".into(), "-v".into()]));
        assert_eq!(entries[1].1[2], "exec b --y");
        for (line, ran) in [
            ("FOO=1 /bin/c", "FOO=1 /bin/c"),
            ("cd d && c", "cd d && c"),
            ("c; true", "c; true"),
            ("c --x", "exec c --x"),
        ] {
            assert_eq!(parse_flag(&format!("f={line}")).unwrap().1[2], ran);
        }
        let bad = parse_file(Path::new("runtimes.toml"), "[runtime.a]\ncmd = 1\n").unwrap_err().to_string();
        assert!(bad.starts_with("runtimes.toml:") && bad.contains("cmd"), "{bad}");
    }

    #[test]
    fn a_command_without_a_hello_is_refused_with_its_output() {
        let mut table = RuntimeTable::default();
        let argv = vec!["sh".into(), "-c".into(), "echo nope; echo oops >&2".into()];
        let error = add(&mut table, "no-hello", argv).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("no-hello") && text.contains("not a hello") && text.contains("nope"), "{text}");
        assert!(table.named("no-hello").is_none());
    }
}
