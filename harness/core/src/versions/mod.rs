//! Which versions of the peers a run uses: Curator releases and ZooKeeper
//! servers by version number and ranges over them for the expectations file.
//! Pure; the `--curator` / `--zookeeper` selections and resolving a version
//! to jars are the harness's `versions` module.

pub mod selection;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Every kazurator release the harness can select (`--kazurator all`).
pub const KAZURATOR_RELEASES: [&str; 2] = ["0.1.1", "0.2.0"];

/// Every Curator 5.x release, oldest first (`--curator all`).
pub const CURATOR_RELEASES: [&str; 12] =
    ["5.0.0", "5.1.0", "5.2.0", "5.2.1", "5.3.0", "5.4.0", "5.5.0", "5.6.0", "5.7.0", "5.7.1", "5.8.0", "5.9.0"];

/// The Curator version Debian packages (`libcurator-recipes-java`).
pub const DEBIAN_CURATOR: &str = "5.4.0";

/// The ZooKeeper version Debian packages (`zookeeper`).
pub const DEBIAN_ZOOKEEPER: &str = "3.8.0";

/// The newest ZooKeeper 3.9 whose dependencies Maven Central serves here.
pub const NEWEST_ZOOKEEPER: &str = "3.9.5";

/// A release number, `major.minor.patch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Version {
    /// Major.
    pub major: u16,
    /// Minor.
    pub minor: u16,
    /// Patch.
    pub patch: u16,
}

/// A version or range that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// Not `major.minor.patch`.
    #[error("bad version {0:?}: expected major.minor.patch, e.g. 5.9.0")]
    BadVersion(String),
    /// Not a comparison list such as `>= 5.5.0, < 5.8.0`.
    #[error("bad version range {0:?}: expected comparisons like \"< 5.5.0\" or \">= 5.5.0, < 5.8.0\"")]
    BadRange(String),
    /// A Curator version that is not a 5.x release.
    #[error("unknown Curator release {0}: expected one of {list}, `all`, `newest` or `debian`", list = CURATOR_RELEASES.join(", "))]
    UnknownCurator(String),
    /// A kazurator version the harness does not know.
    #[error("unknown kazurator release {0}: expected 0.1.1, 0.2.0 or `all`")]
    UnknownKazurator(String),
    /// A ZooKeeper version outside 3.8/3.9.
    #[error("unsupported ZooKeeper {0}: expected 3.8.x or 3.9.x, or `debian` (3.8.0 from /usr/share/java)")]
    UnsupportedZooKeeper(String),
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Version, VersionError> {
        let bad = || VersionError::BadVersion(text.to_owned());
        let mut parts = text.trim().split('.').map(|p| p.parse::<u16>().map_err(|_| bad()));
        let version = Version {
            major: parts.next().ok_or_else(bad)??,
            minor: parts.next().ok_or_else(bad)??,
            patch: parts.next().unwrap_or(Ok(0))?,
        };
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(version)
    }
}

impl TryFrom<String> for Version {
    type Error = VersionError;

    fn try_from(text: String) -> Result<Version, VersionError> {
        text.parse()
    }
}

impl From<Version> for String {
    fn from(version: Version) -> String {
        version.to_string()
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Comparisons a version must all satisfy, e.g. `>= 5.5.0, < 5.8.0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Range {
    bounds: Vec<(Comparison, Version)>,
    text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Comparison {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Equal,
}

impl FromStr for Range {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Range, VersionError> {
        let bad = || VersionError::BadRange(text.to_owned());
        let mut bounds = Vec::new();
        for part in text.split(',') {
            let part = part.trim();
            let (comparison, rest) = [
                ("<=", Comparison::LessOrEqual),
                (">=", Comparison::GreaterOrEqual),
                ("<", Comparison::Less),
                (">", Comparison::Greater),
                ("=", Comparison::Equal),
            ]
            .into_iter()
            .find_map(|(op, c)| part.strip_prefix(op).map(|rest| (c, rest)))
            .unwrap_or((Comparison::Equal, part));
            bounds.push((comparison, rest.parse().map_err(|_| bad())?));
        }
        Ok(Range { bounds, text: text.trim().to_owned() })
    }
}

impl Range {
    /// Whether `version` satisfies every comparison.
    pub fn contains(&self, version: Version) -> bool {
        self.bounds.iter().all(|(comparison, bound)| match comparison {
            Comparison::Less => version < *bound,
            Comparison::LessOrEqual => version <= *bound,
            Comparison::Greater => version > *bound,
            Comparison::GreaterOrEqual => version >= *bound,
            Comparison::Equal => version == *bound,
        })
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Range {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Range {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Range, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The peer versions of one run, as every report shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunVersions {
    /// The Curator release `curator` contenders run (pinned ones say so in the pairing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curator: Option<Version>,
    /// kazurator's release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kazurator: Option<Version>,
    /// The server's release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zookeeper: Option<Version>,
}

impl RunVersions {
    /// Reads a release from text that starts with one, such as ZooKeeper's
    /// `3.8.0-${mvngit.commit.id}` or kazurator's `0.2.0 (kazoo 2.11.0)`.
    pub fn leading(text: &str) -> Option<Version> {
        let end = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
        text[..end].trim_end_matches('.').parse().ok()
    }

    /// A pairing such as `curator+rust` with releases: `curator@5.9.0+rust`
    /// (runtimes already pinned, `curator@5.4.0`, stay as they are).
    pub fn decorate(&self, pairing: &str) -> String {
        let tag = |runtime: &str, version: Option<Version>| match version {
            Some(v) => format!("{runtime}@{v}"),
            None => runtime.to_owned(),
        };
        pairing
            .split('+')
            .map(|runtime| match runtime {
                "curator" => tag(runtime, self.curator),
                "kazurator" => tag(runtime, self.kazurator),
                other => other.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("+")
    }

    /// `curator@5.9.0 zookeeper@3.9.5`, the parts known.
    pub fn label(&self) -> String {
        let parts = [("curator", self.curator), ("kazurator", self.kazurator), ("zookeeper", self.zookeeper)];
        parts.iter().filter_map(|(name, v)| v.map(|v| format!("{name}@{v}"))).collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        text.parse().unwrap()
    }

    #[test]
    fn versions_parse_and_order() {
        assert_eq!(v("5.9.0"), Version { major: 5, minor: 9, patch: 0 });
        assert_eq!(v("3.9"), v("3.9.0"));
        assert!(v("5.10.0") > v("5.9.0"), "numeric, not textual");
        for bad in ["", "5", "5.x.0", "5.4.0.1", "-1.0.0"] {
            assert!(bad.parse::<Version>().is_err(), "{bad:?}");
        }
        assert_eq!(v("5.7.1").to_string(), "5.7.1");
    }

    #[test]
    fn ranges_compare_every_bound() {
        let before_fix: Range = "< 5.5.0".parse().unwrap();
        assert!(before_fix.contains(v("5.4.0")) && !before_fix.contains(v("5.5.0")));
        let window: Range = ">= 5.5.0, < 5.8.0".parse().unwrap();
        assert!(window.contains(v("5.7.1")) && !window.contains(v("5.8.0")) && !window.contains(v("5.4.0")));
        let exact: Range = "5.4.0".parse().unwrap();
        assert!(exact.contains(v("5.4.0")) && !exact.contains(v("5.4.1")));
        assert!("<= 5".parse::<Range>().is_err());
        assert!("~> 5.4.0".parse::<Range>().is_err());
    }

    #[test]
    fn the_release_list_is_ordered() {
        let releases: Vec<Version> = CURATOR_RELEASES.iter().map(|r| v(r)).collect();
        assert!(releases.windows(2).all(|w| w[0] < w[1]));
        assert!(releases.contains(&v(DEBIAN_CURATOR)));
    }

    #[test]
    fn leading_versions() {
        assert_eq!(RunVersions::leading("3.8.0-${mvngit.commit.id}"), Some(v("3.8.0")));
        assert_eq!(RunVersions::leading("5.9.0"), Some(v("5.9.0")));
        assert_eq!(RunVersions::leading("unavailable: no java"), None);
    }

    #[test]
    fn run_versions_label_the_known_parts() {
        let versions = RunVersions { curator: Some(v("5.9.0")), kazurator: None, zookeeper: Some(v("3.9.5")) };
        assert_eq!(versions.label(), "curator@5.9.0 zookeeper@3.9.5");
        assert_eq!(
            versions.decorate("curator+rust+curator@5.4.0+kazurator"),
            "curator@5.9.0+rust+curator@5.4.0+kazurator"
        );
    }
}
