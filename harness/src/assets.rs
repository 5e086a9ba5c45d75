//! The files the harness needs at run time, embedded in the binary so that an
//! installed `zkurator-harness` (`cargo install --path harness`) works from any
//! directory: the Python adapter (`harness/python`), the Java adapter sources
//! (`java/`), the scenario corpus (`scenarios/`) and j4rs's jar (which the
//! Curator runtime's JVM needs; a checkout's binaries find it in
//! `target/<profile>/jassets`, an installed one has none beside it).
//!
//! [`unpack`] writes one embedded tree into the cache directory ([`cache_dir`])
//! as `assets/<name>-<crate version>-<content hash>/`, once: into a private
//! temporary directory first, renamed into place, so concurrent processes never
//! see half a tree. The runtimes always run the unpacked copies, so the
//! installed binary and a checkout behave the same.

use std::collections::BTreeMap;
use std::fs;
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use include_dir::{include_dir, Dir, DirEntry};

/// Every embedded tree by name. Adding one is one line here.
static TREES: &[(&str, Dir<'static>)] = &[
    ("python", include_dir!("$CARGO_MANIFEST_DIR/python")),
    ("java", include_dir!("$CARGO_MANIFEST_DIR/../java")),
    ("scenarios", include_dir!("$CARGO_MANIFEST_DIR/../scenarios")),
    ("go", include_dir!("$CARGO_MANIFEST_DIR/../go")),
    // j4rs's jar, which build.rs copies there (empty when it found none).
    ("j4rs", include_dir!("$OUT_DIR/j4rs")),
];

/// Environment variable naming the cache directory (venvs, Maven artifacts,
/// compiled Java classes, unpacked assets, the log file).
pub const CACHE_ENV: &str = "ZKURATOR_CACHE";

/// The name of the log file in [`cache_dir`].
pub const LOG_FILE: &str = "zkurator-harness.log";

/// The workspace root of the checkout this binary was built from (a compile time path).
const WORKSPACE_ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// What unpacking can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    /// No tree of that name is embedded.
    #[error("no embedded asset tree named {0:?}")]
    Unknown(String),
    /// Writing the tree failed.
    #[error("cannot unpack the embedded {name} files into {}: {source}", path.display())]
    Io {
        /// The tree.
        name: String,
        /// The file or directory that could not be written.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl From<AssetError> for crate::contender::StartError {
    fn from(e: AssetError) -> Self {
        crate::contender::StartError::Missing {
            what: "the harness's embedded adapter files".into(),
            detail: e.to_string(),
            install: format!("make the cache directory writable, or point {CACHE_ENV} at one that is"),
        }
    }
}

/// The names of the embedded trees.
pub fn names() -> impl Iterator<Item = &'static str> {
    TREES.iter().map(|(name, _)| *name)
}

/// Where the harness keeps what it builds or downloads: `$ZKURATOR_CACHE` if
/// set; else the workspace target directory when the binary runs from its
/// source tree (so the venv stays `target/zkurator-venv`, the Maven cache
/// `target/zkurator-maven`); else `$XDG_CACHE_HOME/zkurator-harness`, else
/// `~/.cache/zkurator-harness`.
pub fn cache_dir() -> PathBuf {
    let exe = std::env::current_exe().ok();
    choose_cache_dir(
        std::env::var_os(CACHE_ENV).map(PathBuf::from),
        source_tree_target(exe.as_deref()),
        std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

/// Pure form of [`cache_dir`]: `explicit` (`ZKURATOR_CACHE`), the source tree's
/// target directory, `xdg` (`XDG_CACHE_HOME`), `home` (`HOME`), in that order.
pub fn choose_cache_dir(
    explicit: Option<PathBuf>,
    source_target: Option<PathBuf>,
    xdg: Option<PathBuf>,
    home: Option<PathBuf>,
) -> PathBuf {
    let set = |p: Option<PathBuf>| p.filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = set(explicit) {
        return std::path::absolute(&dir).unwrap_or(dir);
    }
    if let Some(target) = source_target {
        return target;
    }
    if let Some(xdg) = set(xdg).filter(|p| p.is_absolute()) {
        return xdg.join("zkurator-harness");
    }
    match set(home) {
        Some(home) => home.join(".cache").join("zkurator-harness"),
        None => std::env::temp_dir().join("zkurator-harness"),
    }
}

/// The workspace target directory (`$CARGO_TARGET_DIR` at run time, else at
/// build time, else `<workspace>/target`), when `exe` lies inside it and the
/// workspace still exists: the binary runs from its source tree.
fn source_tree_target(exe: Option<&Path>) -> Option<PathBuf> {
    let root = fs::canonicalize(WORKSPACE_ROOT).ok()?;
    if !root.join("Cargo.toml").is_file() {
        return None;
    }
    let configured = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| option_env!("CARGO_TARGET_DIR").map(PathBuf::from));
    let target = match configured {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => root.join(dir),
        None => root.join("target"),
    };
    let exe = fs::canonicalize(exe?).ok()?;
    let canonical = fs::canonicalize(&target).ok()?;
    exe.starts_with(&canonical).then_some(target)
}

/// Unpacks the embedded tree `name` (`python`, `java`, `scenarios`) into
/// `<cache dir>/assets/<name>-<version>-<hash>` unless it is there already,
/// and returns that directory.
pub fn unpack(name: &str) -> Result<PathBuf, AssetError> {
    static UNPACKED: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut unpacked = UNPACKED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(dir) = unpacked.get(name) {
        if dir.is_dir() {
            return Ok(dir.clone());
        }
    }
    let tree =
        TREES.iter().find(|(n, _)| *n == name).map(|(_, d)| d).ok_or_else(|| AssetError::Unknown(name.into()))?;
    let dir = unpack_into(&cache_dir().join("assets"), name, tree)?;
    unpacked.insert(name.to_owned(), dir.clone());
    Ok(dir)
}

/// [`unpack`] into `base` (no cache lookup): the directory of `tree`.
fn unpack_into(base: &Path, name: &str, tree: &Dir<'_>) -> Result<PathBuf, AssetError> {
    let io = |path: &Path| {
        let (name, path) = (name.to_owned(), path.to_owned());
        move |source| AssetError::Io { name, path, source }
    };
    let mut files = Vec::new();
    collect(tree, &mut files);
    files.sort_by_key(|(path, _)| *path);
    let mut hash = Fnv::new();
    for (path, contents) in &files {
        hash.write(path.to_string_lossy().as_bytes());
        hash.write(&[0]);
        hash.write(contents);
        hash.write(&[0]);
    }
    let dir = base.join(format!("{name}-{}-{:016x}", env!("CARGO_PKG_VERSION"), hash.finish()));
    if dir.is_dir() {
        return Ok(dir);
    }
    fs::create_dir_all(base).map_err(io(base))?;
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let tmp = base.join(format!(".tmp-{name}-{}-{nanos}", std::process::id()));
    let written = (|| {
        for (path, contents) in &files {
            let file = tmp.join(path);
            if let Some(parent) = file.parent() {
                fs::create_dir_all(parent).map_err(io(parent))?;
            }
            fs::write(&file, contents).map_err(io(&file))?;
        }
        fs::create_dir_all(&tmp).map_err(io(&tmp))
    })();
    if let Err(e) = written {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if let Err(e) = fs::rename(&tmp, &dir) {
        let _ = fs::remove_dir_all(&tmp);
        // Another process may have put the same tree in place first.
        if !dir.is_dir() {
            return Err(io(&dir)(e));
        }
    }
    tracing::debug!(asset = name, dir = %dir.display(), "unpacked embedded files");
    Ok(dir)
}

/// Every file of `dir` with its path, leaving out Python byte code.
fn collect<'a>(dir: &'a Dir<'a>, out: &mut Vec<(&'a Path, &'a [u8])>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(sub) if sub.path().ends_with("__pycache__") => {}
            DirEntry::Dir(sub) => collect(sub, out),
            DirEntry::File(file) if file.path().extension().is_some_and(|e| e == "pyc") => {}
            DirEntry::File(file) => out.push((file.path(), file.contents())),
        }
    }
}

/// j4rs's jar, unpacked from the binary; `None` when the build embedded none
/// (then the Curator runtime looks for `jassets/` beside the executable).
pub fn j4rs_jar() -> Option<PathBuf> {
    let dir = unpack("j4rs").map_err(|e| tracing::warn!("{e}")).ok()?;
    let mut jars: Vec<PathBuf> = fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).collect();
    jars.retain(|p| p.extension().is_some_and(|e| e == "jar"));
    jars.sort();
    jars.pop()
}

/// Where the scenario corpus is: `explicit` (`--scenarios DIR`), else
/// `./scenarios` when it exists, else the built-in corpus (unpacked).
pub fn scenario_dir(explicit: Option<&Path>) -> Result<PathBuf, String> {
    match explicit {
        Some(dir) if dir.is_dir() => Ok(dir.to_owned()),
        Some(dir) => Err(format!("--scenarios {}: not a directory", dir.display())),
        None if Path::new("scenarios").is_dir() => Ok(PathBuf::from("scenarios")),
        None => unpack("scenarios").map_err(|e| e.to_string()),
    }
}

/// 64-bit FNV-1a: a hash whose value does not change between Rust releases
/// (names the unpacked trees here and the compiled Java adapter).
pub(crate) struct Fnv(u64);

impl Fnv {
    /// The FNV offset basis.
    pub(crate) fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(name: &str) -> &'static Dir<'static> {
        TREES.iter().find(|(n, _)| *n == name).map(|(_, d)| d).unwrap()
    }

    #[test]
    fn every_tree_is_embedded() {
        assert!(tree("python").get_file("contender.py").is_some());
        assert!(tree("java").get_file("src/zkurator/interop/CuratorContender.java").is_some());
        assert!(tree("scenarios").get_file("expectations.toml").is_some());
        assert!(tree("scenarios").get_file("mutex-exclusion.toml").is_some());
        assert!(tree("go").get_file("go.mod").is_some() && tree("go").get_file("main.go").is_some());
        assert_eq!(names().collect::<Vec<_>>(), ["python", "java", "scenarios", "go", "j4rs"]);
        let jar = tree("j4rs").files().next().expect("build.rs embeds the j4rs jar");
        assert!(jar.path().to_string_lossy().ends_with("-jar-with-dependencies.jar"), "{:?}", jar.path());
    }

    #[test]
    fn unpacking_is_idempotent_and_named_by_version_and_content() {
        let base = tempfile::tempdir().unwrap();
        let first = unpack_into(base.path(), "python", tree("python")).unwrap();
        let name = first.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(&format!("python-{}-", env!("CARGO_PKG_VERSION"))), "{name}");
        assert_eq!(
            fs::read(first.join("contender.py")).unwrap(),
            tree("python").get_file("contender.py").unwrap().contents()
        );
        let again = unpack_into(base.path(), "python", tree("python")).unwrap();
        assert_eq!(first, again);
        // No temporary directory left behind.
        let left: Vec<_> = fs::read_dir(base.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(left.len(), 1, "{left:?}");
        // Nested trees keep their folders.
        let scenarios = unpack_into(base.path(), "scenarios", tree("scenarios")).unwrap();
        assert!(scenarios.join("faults").is_dir());
        assert!(scenarios.join("expectations.toml").is_file());
    }

    #[test]
    fn unknown_trees_are_an_error() {
        assert!(matches!(unpack("nope"), Err(AssetError::Unknown(_))));
    }

    #[test]
    fn the_cache_dir_choice() {
        fn all(e: Option<&str>, s: Option<&str>, x: Option<&str>, h: Option<&str>) -> PathBuf {
            choose_cache_dir(e.map(PathBuf::from), s.map(PathBuf::from), x.map(PathBuf::from), h.map(PathBuf::from))
        }
        let p = PathBuf::from;
        assert_eq!(all(Some("/c"), Some("/t"), Some("/x"), Some("/h")), p("/c"));
        assert_eq!(all(Some(""), Some("/t"), Some("/x"), Some("/h")), p("/t"));
        assert_eq!(all(None, None, Some("/x"), Some("/h")), p("/x/zkurator-harness"));
        assert_eq!(all(None, None, Some("relative"), Some("/h")), p("/h/.cache/zkurator-harness"));
        assert_eq!(all(None, None, None, Some("/h")), p("/h/.cache/zkurator-harness"));
        assert!(all(Some("rel"), None, None, None).is_absolute());
    }

    #[test]
    fn a_test_binary_runs_from_its_source_tree() {
        let exe = std::env::current_exe().unwrap();
        let target = source_tree_target(Some(&exe)).expect("test binaries live in the target dir");
        assert!(target.ends_with("target") || std::env::var_os("CARGO_TARGET_DIR").is_some(), "{target:?}");
        assert_eq!(source_tree_target(Some(Path::new("/usr/bin/env"))), None);
    }
}
