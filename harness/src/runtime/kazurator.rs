//! Python runtimes: kazurator (Curator compatible) and kazoo's own locks.
//!
//! Each contender is one Python process running `harness/python/contender.py
//! --runtime kazurator|kazoo-native` with one kazoo session, speaking the
//! contender protocol (`docs/contender-protocol.md`, [`super::line`]); its
//! hello names the kazurator and kazoo versions and must declare the
//! capabilities of the runtime's table entry.
//!
//! Python logs go to stderr, which is forwarded to `tracing` (target
//! `zkurator_harness::python`) and kept as a short tail for error messages.
//!
//! The interpreter is a virtualenv at `<target dir>/zkurator-venv` holding
//! kazurator [`KAZURATOR_VERSION`] and kazoo [`KAZOO_VERSION`], created on first
//! use, or the interpreter named by the `ZKURATOR_PYTHON` environment variable.

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::child;
use super::line::{LineContender, LineProcess};
use crate::contender::{ContenderSpec, Runtime, StartError};

/// The kazurator release the venv gets.
pub const KAZURATOR_VERSION: &str = "0.2.0";
/// The kazoo release the venv gets (kazurator 0.2.0 asks for `kazoo>=2.0.0`).
pub const KAZOO_VERSION: &str = "2.11.0";
/// Environment variable naming a Python interpreter that already has kazurator
/// and kazoo; when set, no venv is created.
pub const PYTHON_ENV: &str = "ZKURATOR_PYTHON";

pub use crate::versions::choices::KAZURATOR_RELEASE_ENV;

pub use crate::versions::KAZURATOR_RELEASES;

const PIP_INSTALL: &str = "pip install kazurator==0.2.0 kazoo==2.11.0";

/// The venv of release `wanted`: `zkurator-venv` for the default, else
/// `zkurator-venv-<release>`.
fn venv_dir(wanted: &str) -> PathBuf {
    match wanted {
        KAZURATOR_VERSION => target_dir().join("zkurator-venv"),
        other => target_dir().join(format!("zkurator-venv-{other}")),
    }
}
const APT_PYTHON: &str = "apt-get install -y python3 python3-venv";

/// The Python runtimes: a resolved interpreter with kazurator and kazoo.
#[derive(Clone, Debug)]
pub struct KazuratorRuntime {
    python: PathBuf,
    script: PathBuf,
    kazurator: String,
    kazoo: String,
}

/// The interpreter found or built once per process (see [`KazuratorRuntime::new`]).
#[derive(Clone, Debug)]
struct Interpreter {
    python: PathBuf,
    kazurator: String,
    kazoo: String,
}

/// A [`StartError::Missing`] that can be cached and handed out repeatedly.
#[derive(Clone, Debug)]
struct Missing {
    what: String,
    detail: String,
    install: String,
}

impl Missing {
    fn new(what: &str, detail: impl Into<String>, install: &str) -> Self {
        Missing { what: what.into(), detail: detail.into(), install: install.into() }
    }
}

impl From<Missing> for StartError {
    fn from(m: Missing) -> Self {
        StartError::Missing { what: m.what, detail: m.detail, install: m.install }
    }
}

impl KazuratorRuntime {
    /// Finds the interpreter of the release `ZKURATOR_KAZURATOR` names, else
    /// of the default one ([`KazuratorRuntime::release`], which the harness's
    /// peers call with the release the CLI chose).
    pub fn new() -> Result<Self, StartError> {
        KazuratorRuntime::release(crate::versions::PeerChoices::from_env().kazurator_release.as_deref())
    }

    /// Finds the interpreter with kazurator `release` (`None`: the default,
    /// [`KAZURATOR_VERSION`]): `ZKURATOR_PYTHON` if set (refused when it has
    /// another release than one asked for), else the venv of that release in
    /// the cache, creating it (python3 -m venv, pip install kazurator and
    /// kazoo) when missing or broken.
    ///
    /// Two processes building at once each build a private directory and
    /// rename it into place, so neither sees a half-built venv.
    /// ([`KazuratorAdapter`] looks once and keeps the answer.)
    pub fn release(release: Option<&str>) -> Result<Self, StartError> {
        let interpreter = find_or_build_interpreter(release)?;
        let script = crate::assets::unpack("python")?.join("contender.py");
        if !script.is_file() {
            return Err(StartError::Missing {
                what: "contender.py".into(),
                detail: format!("{} does not exist", script.display()),
                install: "restore harness/python/contender.py from the repository".into(),
            });
        }
        Ok(KazuratorRuntime {
            python: interpreter.python,
            script,
            kazurator: interpreter.kazurator,
            kazoo: interpreter.kazoo,
        })
    }

    /// The installed (kazurator, kazoo) versions.
    pub fn versions(&self) -> (String, String) {
        (self.kazurator.clone(), self.kazoo.clone())
    }

    /// The Python interpreter contenders run in.
    pub fn python(&self) -> &Path {
        &self.python
    }

    /// Starts one contender process of `runtime` ([`Runtime::Kazurator`] or
    /// [`Runtime::KazooNative`]) and waits until its session is connected and
    /// its lock handle exists.
    ///
    /// kazoo-native has no multi-lease mutex: `max_leases > 1` fails with a
    /// [`StartError::Failed`] whose message starts with `unsupported:`.
    pub fn start_contender(&self, runtime: Runtime, spec: &ContenderSpec) -> Result<PythonContender, StartError> {
        self.start_contender_within(runtime, spec, child::START_LIMIT)
    }

    /// [`Self::start_contender`], killing the process if it is not ready within `limit`.
    pub fn start_contender_within(
        &self,
        runtime: Runtime,
        spec: &ContenderSpec,
        limit: Duration,
    ) -> Result<PythonContender, StartError> {
        if !matches!(runtime, Runtime::Kazurator | Runtime::KazooNative) {
            return Err(StartError::Failed {
                runtime: runtime.clone(),
                id: spec.id.clone(),
                message: format!("the Python runtime cannot run {runtime} contenders"),
            });
        }
        let process = LineProcess {
            program: self.python.clone(),
            args: vec!["-u".into(), self.script.clone().into(), "--runtime".into(), runtime.name().into()],
            envs: vec![("PYTHONDONTWRITEBYTECODE".into(), "1".into())],
            expected: Some(runtime.capabilities()),
            // kazurator's crash has always been a SIGKILL: the session stays.
            crash_is_kill: true,
        };
        let contender = process.start(runtime.clone(), spec, limit)?;
        if spec.lock_data.is_some() && !contender.stores_lock_data() {
            tracing::warn!(id = %spec.id, %runtime, "lock data given but {runtime} cannot store it");
        }
        Ok(contender)
    }
}

/// Runs `kazurator` and `kazoo-native` contenders: finds (or builds) the
/// interpreter of its release on first use.
#[derive(Debug, Default)]
pub struct KazuratorAdapter {
    release: Option<String>,
    found: OnceLock<Result<KazuratorRuntime, StartError>>,
}

impl KazuratorAdapter {
    /// An adapter for kazurator `release` (`None`: the default release).
    pub fn new(release: Option<String>) -> KazuratorAdapter {
        KazuratorAdapter { release, found: OnceLock::new() }
    }

    /// The interpreter, found on first use.
    pub fn runtime(&self) -> Result<KazuratorRuntime, StartError> {
        self.found.get_or_init(|| KazuratorRuntime::release(self.release.as_deref())).clone()
    }
}

impl super::adapter::Adapter for KazuratorAdapter {
    fn runs(&self, runtime: &Runtime) -> bool {
        matches!(runtime, Runtime::Kazurator | Runtime::KazooNative)
    }

    fn prepare(&self) -> Result<(), StartError> {
        self.runtime().map(drop)
    }

    fn starter(&self, runtime: &Runtime) -> Result<super::adapter::Starter, StartError> {
        let (python, runtime) = (self.runtime()?, runtime.clone());
        Ok(Box::new(move |spec| super::adapter::boxed(python.start_contender(runtime, spec))))
    }

    fn release(&self) -> Option<String> {
        self.runtime().ok().map(|k| k.versions().0)
    }

    fn describe(&self) -> (String, Result<String, StartError>) {
        let found = self.runtime().map(|k| {
            let (kazurator, kazoo) = k.versions();
            format!("kazurator {kazurator} (kazoo {kazoo}, {})", k.python().display())
        });
        ("kazurator".into(), found)
    }
}

/// A Python contender process (kazurator or kazoo-native): a [`LineContender`].
pub type PythonContender = LineContender;

/// The cache directory ([`crate::assets::cache_dir`]): the target dir in a checkout.
pub(crate) fn target_dir() -> PathBuf {
    crate::assets::cache_dir()
}

fn find_or_build_interpreter(release: Option<&str>) -> Result<Interpreter, Missing> {
    let wanted = release.unwrap_or(KAZURATOR_VERSION);
    if let Some(python) = std::env::var_os(PYTHON_ENV).filter(|p| !p.is_empty()) {
        let python = PathBuf::from(python);
        let found = probe(&python).map_err(|detail| {
            Missing::new(
                &format!("kazurator and kazoo for {PYTHON_ENV}={}", python.display()),
                detail,
                &format!("{} -m {PIP_INSTALL}", python.display()),
            )
        })?;
        return release_matches(&found, release).map(|()| found);
    }
    let venv = venv_dir(wanted);
    let python = venv.join("bin").join("python");
    if let Ok(found) = probe(&python) {
        if found.kazurator == wanted && found.kazoo == KAZOO_VERSION {
            return Ok(found);
        }
        tracing::info!(
            venv = %venv.display(),
            kazurator = %found.kazurator,
            kazoo = %found.kazoo,
            "venv has other versions; rebuilding it"
        );
    }
    build_venv(&venv, wanted)
}

/// A `ZKURATOR_PYTHON` interpreter is taken as it is, unless `--kazurator`
/// asked for another release than it has: then it is refused, never run as
/// if it were the release asked for.
fn release_matches(found: &Interpreter, asked: Option<&str>) -> Result<(), Missing> {
    match asked {
        Some(asked) if asked != found.kazurator => Err(Missing::new(
            &format!("kazurator {asked} (--kazurator)"),
            format!("{PYTHON_ENV}={} has kazurator {}", found.python.display(), found.kazurator),
            &format!(
                "unset {PYTHON_ENV} (the harness then builds a venv per release), or point it at an interpreter \
                 with kazurator {asked}"
            ),
        )),
        _ => Ok(()),
    }
}

/// Checks that `python` runs and imports kazurator and kazoo (the check the
/// `ZKURATOR_PYTHON` override gets); returns their (kazurator, kazoo) versions,
/// or a [`StartError::Missing`] saying what failed and how to install it.
pub fn check_interpreter(python: &Path) -> Result<(String, String), StartError> {
    probe(python).map(|found| (found.kazurator, found.kazoo)).map_err(|detail| StartError::Missing {
        what: format!("kazurator and kazoo for {}", python.display()),
        detail,
        install: format!("{} -m {PIP_INSTALL}", python.display()),
    })
}

/// Runs `python` and asks for the installed kazurator and kazoo versions.
fn probe(python: &Path) -> Result<Interpreter, String> {
    const SCRIPT: &str = "import kazurator, kazoo.client\n\
                          from importlib.metadata import version\n\
                          print(version('kazurator'))\n\
                          print(version('kazoo'))";
    let out = Process::new(python)
        .args(["-c", SCRIPT])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} cannot import kazurator and kazoo: {}",
            python.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines().map(str::trim);
    match (lines.next(), lines.next()) {
        (Some(kazurator), Some(kazoo)) => {
            Ok(Interpreter { python: python.to_path_buf(), kazurator: kazurator.to_string(), kazoo: kazoo.to_string() })
        }
        _ => Err(format!("unexpected version output {text:?}")),
    }
}

fn build_venv(venv: &Path, wanted: &str) -> Result<Interpreter, Missing> {
    let started = Instant::now();
    let parent = venv.parent().expect("venv has a parent");
    std::fs::create_dir_all(parent)
        .map_err(|e| Missing::new("a writable target directory", format!("{}: {e}", parent.display()), APT_PYTHON))?;
    let nonce = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let name = venv.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let building = parent.join(format!("{name}.building-{}-{nonce}", std::process::id()));
    let result = build_venv_in(&building, wanted);
    if let Err(missing) = result {
        let _ = std::fs::remove_dir_all(&building);
        return Err(missing);
    }
    // Publish atomically. A directory already there is another process's
    // finished venv (keep it if it works) or a broken one (move it aside).
    if std::fs::rename(&building, venv).is_err() {
        if probe(&venv.join("bin").join("python"))
            .is_ok_and(|found| found.kazurator == wanted && found.kazoo == KAZOO_VERSION)
        {
            let _ = std::fs::remove_dir_all(&building);
        } else {
            let trash = parent.join(format!("{name}.old-{}-{nonce}", std::process::id()));
            let _ = std::fs::rename(venv, &trash);
            let renamed = std::fs::rename(&building, venv);
            let _ = std::fs::remove_dir_all(&trash);
            if let Err(e) = renamed {
                let _ = std::fs::remove_dir_all(&building);
                return Err(Missing::new(
                    "a usable venv",
                    format!("cannot move the new venv to {}: {e}", venv.display()),
                    PIP_INSTALL,
                ));
            }
        }
    }
    let found = probe(&venv.join("bin").join("python"))
        .map_err(|detail| Missing::new("kazurator and kazoo", detail, PIP_INSTALL))?;
    tracing::info!(
        venv = %venv.display(),
        kazurator = %found.kazurator,
        kazoo = %found.kazoo,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "python venv ready"
    );
    Ok(found)
}

fn build_venv_in(dir: &Path, wanted: &str) -> Result<(), Missing> {
    let python3 = Process::new("python3").args(["-m", "venv"]).arg(dir).stdin(Stdio::null()).output();
    let out = match python3 {
        Err(e) => return Err(Missing::new("python3", format!("cannot run python3: {e}"), APT_PYTHON)),
        Ok(out) => out,
    };
    if !out.status.success() {
        return Err(Missing::new(
            "python3 venv module",
            format!("python3 -m venv {} failed: {}", dir.display(), String::from_utf8_lossy(&out.stderr).trim()),
            APT_PYTHON,
        ));
    }
    let kazurator = format!("kazurator=={wanted}");
    let kazoo = format!("kazoo=={KAZOO_VERSION}");
    let out = Process::new(dir.join("bin").join("python"))
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
        .args([&kazurator, &kazoo])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Missing::new("pip", format!("cannot run pip: {e}"), PIP_INSTALL))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(10).collect();
        return Err(Missing::new(
            "kazurator and kazoo",
            format!(
                "pip install {kazurator} {kazoo} failed: {}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ),
            PIP_INSTALL,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interpreter_of_another_release_than_asked_is_refused() {
        let found =
            Interpreter { python: "/venv/bin/python".into(), kazurator: "0.2.0".into(), kazoo: KAZOO_VERSION.into() };
        assert!(release_matches(&found, None).is_ok());
        assert!(release_matches(&found, Some("0.2.0")).is_ok());
        let refused = StartError::from(release_matches(&found, Some("0.1.1")).unwrap_err()).to_string();
        assert!(refused.contains("kazurator 0.1.1") && refused.contains("has kazurator 0.2.0"), "{refused}");
        assert!(refused.contains("unset ZKURATOR_PYTHON"), "{refused}");
    }
}
