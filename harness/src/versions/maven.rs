//! Resolving a Curator or ZooKeeper release to jars: once from Maven Central
//! (`mvn dependency:copy-dependencies` on a throw-away pom) into a cache under
//! `zkurator-maven/` of the cache directory ([`crate::assets::cache_dir`]:
//! `target/` in a checkout), then offline from the cache.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::selection::{Pick, Source};

/// What resolving jars can fail with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// No `mvn` to resolve with, and nothing cached.
    #[error("{what} is not cached in {cache} and Maven is missing: install it with `apt-get install -y maven` (or use --curator debian / --zookeeper debian)")]
    MavenMissing {
        /// The release wanted.
        what: String,
        /// The cache directory looked in.
        cache: String,
    },
    /// Maven ran and failed (offline, unknown release...).
    #[error("resolving {what} from Maven Central failed: {detail}")]
    Failed {
        /// The release wanted.
        what: String,
        /// Maven's last words.
        detail: String,
    },
    /// Debian's jars, asked for by name, are not installed.
    #[error("Debian's ZooKeeper server: {0}")]
    DebianMissing(String),
}

/// The jars of Curator `pick` (with the ZooKeeper client it was released
/// against and slf4j-nop); `None` for Debian's, which the Curator runtime finds
/// itself.
pub fn curator_jars(pick: Pick) -> Result<Option<Vec<PathBuf>>, ResolveError> {
    if pick.source == Source::Debian {
        return Ok(None);
    }
    let curator = ("org.apache.curator", "curator-recipes", pick.version.to_string(), Vec::new());
    let binding = ("org.slf4j", "slf4j-nop", "1.7.36".to_owned(), Vec::new());
    resolve(&format!("curator-{}", pick.version), &[curator, binding]).map(Some)
}

/// The server jars of ZooKeeper `pick` (logging through slf4j-simple, as the
/// Debian set); `None` for Debian's.
pub fn zookeeper_jars(pick: Pick) -> Result<Option<Vec<PathBuf>>, ResolveError> {
    if pick.source == Source::Debian {
        return Ok(None);
    }
    let server = ("org.apache.zookeeper", "zookeeper", pick.version.to_string(), vec![("ch.qos.logback", "*")]);
    // The binding of the SLF4J line the release logs through (2.x from 3.9).
    let slf4j = if pick.version >= "3.9.0".parse().expect("built-in") { "2.0.13" } else { "1.7.36" };
    let binding = ("org.slf4j", "slf4j-simple", slf4j.to_owned(), Vec::new());
    // Declared `provided` by the server's pom, needed to serve.
    let metrics = ("io.dropwizard.metrics", "metrics-core", "4.1.12.1".to_owned(), Vec::new());
    let snappy = ("org.xerial.snappy", "snappy-java", "1.1.10.5".to_owned(), Vec::new());
    resolve(&format!("zookeeper-{}", pick.version), &[server, binding, metrics, snappy]).map(Some)
}

/// A classpath string of `jars`.
pub fn classpath(jars: &[PathBuf]) -> String {
    jars.iter().map(|j| j.display().to_string()).collect::<Vec<_>>().join(":")
}

type Dependency = (&'static str, &'static str, String, Vec<(&'static str, &'static str)>);

/// `name`'s jars: from the cache if complete, else resolved with Maven.
fn resolve(name: &str, dependencies: &[Dependency]) -> Result<Vec<PathBuf>, ResolveError> {
    let dir = crate::assets::cache_dir().join("zkurator-maven").join(name);
    let complete = dir.join("complete");
    if complete.is_file() {
        return jars_in(&dir.join("lib"), name);
    }
    // One Maven at a time in this process: threads (a test binary's tests)
    // asking for the same release wait for the first one's copy instead of
    // sharing its staging directory, and Maven's local repository never
    // gets two writers from here.
    static RESOLVING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = RESOLVING.lock().unwrap_or_else(|e| e.into_inner());
    if complete.is_file() {
        return jars_in(&dir.join("lib"), name);
    }
    let what = name.replacen('-', " ", 1);
    let failed = |detail: String| ResolveError::Failed { what: what.clone(), detail };
    if Command::new("mvn").arg("--version").output().map(|o| !o.status.success()).unwrap_or(true) {
        return Err(ResolveError::MavenMissing { what: what.clone(), cache: dir.display().to_string() });
    }
    // A private directory renamed into place: concurrent runs never see half a cache.
    let staging = dir.with_extension(format!("staging-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(|e| failed(format!("create {}: {e}", staging.display())))?;
    fs::write(staging.join("pom.xml"), pom(dependencies)).map_err(|e| failed(format!("write the pom: {e}")))?;
    tracing::info!(name, "resolving from Maven Central");
    let output = Command::new("mvn")
        .current_dir(&staging)
        .args(["-q", "-B", "dependency:copy-dependencies", "-DincludeScope=runtime", "-DoutputDirectory=lib"])
        .output()
        .map_err(|e| failed(format!("run mvn: {e}")))?;
    if !output.status.success() {
        let text = strip_ansi(
            &(String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr)),
        );
        let errors: Vec<&str> = text.lines().filter(|l| l.contains("ERROR")).take(3).collect();
        let _ = fs::remove_dir_all(&staging);
        return Err(failed(if errors.is_empty() { text.trim().to_owned() } else { errors.join(" / ") }));
    }
    fs::write(staging.join("complete"), "").map_err(|e| failed(e.to_string()))?;
    match fs::rename(&staging, &dir) {
        Ok(()) => {}
        // Another run got there first: use its copy.
        Err(_) if complete.is_file() => {
            let _ = fs::remove_dir_all(&staging);
        }
        Err(e) => return Err(failed(format!("move the cache into {}: {e}", dir.display()))),
    }
    jars_in(&dir.join("lib"), name)
}

/// `text` without ANSI escape sequences (`ESC [ ... letter`): Maven writes
/// colour resets even in batch mode, and they end up in errors and `doctor`.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates, then one final byte in @..=~.
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}

fn jars_in(dir: &Path, name: &str) -> Result<Vec<PathBuf>, ResolveError> {
    let mut jars: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| ResolveError::Failed { what: name.to_owned(), detail: format!("read {}: {e}", dir.display()) })?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|x| x == "jar"))
        .collect();
    jars.sort();
    Ok(jars)
}

/// A pom whose only job is to name `dependencies` (with their exclusions).
fn pom(dependencies: &[Dependency]) -> String {
    let mut deps = String::new();
    for (group, artifact, version, exclusions) in dependencies {
        let excluded: String = exclusions
            .iter()
            .map(|(g, a)| format!("<exclusion><groupId>{g}</groupId><artifactId>{a}</artifactId></exclusion>"))
            .collect();
        let exclusions =
            if excluded.is_empty() { String::new() } else { format!("<exclusions>{excluded}</exclusions>") };
        deps.push_str(&format!(
            "    <dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId><version>{version}</version>{exclusions}</dependency>\n"
        ));
    }
    format!(
        "<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n  <modelVersion>4.0.0</modelVersion>\n  \
         <groupId>zkurator</groupId><artifactId>resolve</artifactId><version>1</version>\n  \
         <dependencies>\n{deps}  </dependencies>\n</project>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_codes_are_stripped() {
        assert_eq!(strip_ansi("\u{1b}[0m\u{1b}[0mApache Maven 3.8.7"), "Apache Maven 3.8.7");
        assert_eq!(strip_ansi("\u{1b}[1;31mERROR\u{1b}[m x"), "ERROR x");
        assert_eq!(strip_ansi("plain \u{1b}"), "plain ");
    }

    #[test]
    fn the_pom_names_every_dependency_and_exclusion() {
        let pom = pom(&[
            ("org.apache.zookeeper", "zookeeper", "3.9.5".into(), vec![("ch.qos.logback", "*")]),
            ("org.slf4j", "slf4j-simple", "1.7.36".into(), Vec::new()),
        ]);
        assert!(pom.contains("<artifactId>zookeeper</artifactId><version>3.9.5</version><exclusions>"));
        assert!(pom.contains("<groupId>ch.qos.logback</groupId><artifactId>*</artifactId>"));
        assert!(pom.contains("<artifactId>slf4j-simple</artifactId><version>1.7.36</version></dependency>"));
    }
}
