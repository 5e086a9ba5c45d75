//! The `go-zk` runtime: github.com/go-zookeeper/zk's `Lock` (a mutex only),
//! one Go process per contender speaking the contender protocol.
//!
//! The adapter's sources are `go/` at the repository root, embedded in the
//! binary and unpacked into the cache ([`crate::assets`]); they are built with
//! the machine's `go` on first use into `<cache>/zkurator-go/<sources>/`, one
//! build per version of the sources. The Go module proxy must be reachable for
//! the first build (go-zookeeper/zk, checked against go.sum).

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::sync::OnceLock;

use super::line::{LineContender, LineProcess};
use crate::contender::{ContenderSpec, Runtime, StartError};

/// Environment variable naming the `go` command (default: `go` on PATH).
pub const GO_ENV: &str = "ZKURATOR_GO";

const INSTALL_GO: &str = "apt-get install -y golang-go (or put Go 1.19+ on PATH, or set ZKURATOR_GO)";

/// A built go-zk adapter.
#[derive(Clone, Debug)]
pub struct GoZkRuntime {
    binary: PathBuf,
}

impl GoZkRuntime {
    /// Builds the adapter program into the cache, or finds it built (one
    /// build per version of its sources).
    pub fn new() -> Result<GoZkRuntime, StartError> {
        let sources = crate::assets::unpack("go").map_err(|e| StartError::Missing {
            what: "the go-zk adapter sources".to_owned(),
            detail: e.to_string(),
            install: "check the cache directory".to_owned(),
        })?;
        let name = sources.file_name().map(|n| n.to_owned()).unwrap_or_default();
        match build(&sources, &crate::assets::cache_dir().join("zkurator-go").join(name)) {
            Ok(binary) => Ok(GoZkRuntime { binary }),
            Err((what, detail, install)) => Err(StartError::Missing { what, detail, install }),
        }
    }

    /// The adapter binary.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// How contenders are started: the binary, whose hello must match the
    /// capability table's `go-zk` entry.
    pub fn process(&self) -> LineProcess {
        LineProcess {
            expected: Some(Runtime::GoZk.capabilities()),
            ..LineProcess::new(&self.binary, Vec::<String>::new())
        }
    }

    /// Starts one contender.
    pub fn start_contender(&self, spec: &ContenderSpec) -> Result<LineContender, StartError> {
        self.process().start(Runtime::GoZk, spec, super::child::START_LIMIT)
    }
}

/// Runs `go-zk` contenders: builds the Go program on first use.
#[derive(Debug, Default)]
pub struct GoZkAdapter {
    built: OnceLock<Result<GoZkRuntime, StartError>>,
}

impl GoZkAdapter {
    fn built(&self) -> Result<GoZkRuntime, StartError> {
        self.built.get_or_init(GoZkRuntime::new).clone()
    }
}

impl super::adapter::Adapter for GoZkAdapter {
    fn runs(&self, runtime: &Runtime) -> bool {
        *runtime == Runtime::GoZk
    }

    fn prepare(&self) -> Result<(), StartError> {
        self.built().map(drop)
    }

    fn starter(&self, _: &Runtime) -> Result<super::adapter::Starter, StartError> {
        let built = self.built()?;
        Ok(Box::new(move |spec| super::adapter::boxed(built.start_contender(spec))))
    }

    fn describe(&self) -> (String, Result<String, StartError>) {
        let found = self
            .built()
            .map(|g| format!("github.com/go-zookeeper/zk as pinned in go/go.mod ({})", g.binary().display()));
        ("go-zk".into(), found)
    }
}

fn build(sources: &Path, out_dir: &Path) -> Result<PathBuf, (String, String, String)> {
    let missing = |what: &str, detail: String, install: &str| (what.to_owned(), detail, install.to_owned());
    if !sources.join("go.mod").is_file() {
        return Err(missing(
            "the go-zk adapter sources",
            format!("{} has no go.mod", sources.display()),
            "restore go/ from the repository",
        ));
    }
    let binary = out_dir.join("go-contender");
    if binary.is_file() {
        return Ok(binary);
    }
    let go = std::env::var_os(GO_ENV).filter(|g| !g.is_empty()).unwrap_or_else(|| "go".into());
    std::fs::create_dir_all(out_dir).map_err(|e| {
        missing("a build directory", format!("{}: {e}", out_dir.display()), "check the target directory's permissions")
    })?;
    // Unique per build: two `Peers` of one process may build at once.
    let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let partial = out_dir.join(format!("go-contender.{}-{nonce}", std::process::id()));
    let output = Process::new(&go)
        .args(["build", "-o"])
        .arg(&partial)
        .arg(".")
        .current_dir(sources)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| missing("go", format!("cannot run {}: {e}", Path::new(&go).display()), INSTALL_GO))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(missing(
            "a built go-zk adapter",
            format!("go build in {} failed:\n{}", sources.display(), stderr.trim()),
            INSTALL_GO,
        ));
    }
    std::fs::rename(&partial, &binary).map_err(|e| {
        missing("a built go-zk adapter", format!("{}: {e}", binary.display()), "check the target directory")
    })?;
    tracing::info!(binary = %binary.display(), "built the go-zk adapter");
    Ok(binary)
}
