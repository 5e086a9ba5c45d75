//! Case generation: one builder ([`build_case`]) driven by a [`Choices`]
//! source, [`SplitMix64`] for the fixed-seed runs of [`generate_cases`].

use std::collections::HashSet;

use zkurator::names::{MUTEX_LOCK_NAME, READ_LOCK_NAME, WRITE_LOCK_NAME};

use super::cases::{Case, Question};

/// A source of choices for [`build_case`]: `below(n)` is a number in `0..n`
/// (`n >= 1`). Choice 0 is always the simplest option.
pub trait Choices {
    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64;
}

/// SplitMix64: a small deterministic generator, so a seed gives the same cases
/// on every platform and with every dependency version.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl Choices for SplitMix64 {
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// `count` cases from `seed`; the same arguments always give the same cases.
pub fn generate_cases(seed: u64, count: usize) -> Vec<Case> {
    let mut rng = SplitMix64::new(seed);
    (0..count).map(|_| build_case(&mut rng)).collect()
}

/// True with about `percent` % probability; false for choice 0.
fn chance(c: &mut impl Choices, percent: u64) -> bool {
    c.below(100) >= 100 - percent.min(100)
}

fn pick<'a, T>(c: &mut impl Choices, items: &'a [T]) -> &'a T {
    &items[c.below(items.len() as u64) as usize]
}

/// How sequence suffixes look in one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SequenceStyle {
    /// ZooKeeper's `%010d` of a non-negative counter.
    Normal,
    /// The counter passes `i32::MAX` and wraps to `-2147483648` (ZooKeeper's
    /// parent cversion is a signed 32-bit int), still formatted `%010d`.
    Wrapping,
    /// 19-digit suffixes (what zkurator's name grammar also accepts).
    Long,
}

/// A sequence suffix as ZooKeeper formats the counter (`%010d` of an `int`), or
/// 19 digits for [`SequenceStyle::Long`].
pub(super) fn format_sequence(style: SequenceStyle, counter: i64) -> String {
    match style {
        SequenceStyle::Long => format!("{:019}", counter.unsigned_abs()),
        // `as i32` wraps exactly like ZooKeeper's int counter.
        SequenceStyle::Normal | SequenceStyle::Wrapping => format!("{:010}", counter as i32),
    }
}

/// Characters for foreign names: all accepted by ZooKeeper, sorting before,
/// among and after the digits, and beyond ASCII.
const NAME_CHARS: &[char] = &[
    ' ', '!', '#', '+', ',', '-', '.', '0', '1', '5', '9', ':', '@', 'A', 'W', 'Z', '_', 'a', 'c', 'k', 'l', 'o', 'z',
    '{', '|', '~', '\u{a0}', 'é', 'ж', '中', '\u{f900}', '\u{ff66}', '\u{ffef}',
];
/// Foreign names that look like sequences (or nearly).
const DIGITISH: &[&str] = &[
    "0000000000",
    "0000000001",
    "9999999999",
    "0",
    "00000000000",
    "-1",
    "-2147483648",
    "-000000001",
    " 0000000001",
    "+0000000001",
    "2147483647",
    "9223372036854775807",
];
/// Lock names and near misses, for foreign names that contain them.
const NAME_PARTS: &[&str] =
    &["lock-", "__READ__", "__WRIT__", "lock", "__READ_", "_WRIT__", "__REVOKE__", "__lock__", "__rlock__"];
/// Suffixes appended to our own name to make a foreign child that starts with it.
const OUR_NAME_SUFFIXES: &[&str] = &[
    "0",
    "1",
    "x",
    "-",
    " ",
    "é",
    "__READ__0000000000",
    "__READ__-2147483648",
    "__WRIT__0000000000",
    "lock-0000000000",
];

/// Whether ZooKeeper accepts `name` as a child name (its `PathUtils.validatePath`
/// on `<parent>/<name>`): not empty, not `.` or `..`, no `/`, no NUL or control
/// characters (U+0001–U+001F, U+007F–U+009F), nothing in U+D800–U+F8FF or
/// U+FFF0–U+FFFF, and, since Java sees them as surrogate pairs, nothing beyond
/// U+FFFF.
pub fn is_valid_child_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.chars().all(|ch| {
            let c = ch as u32;
            ch != '/'
                && c != 0
                && !(0x01..=0x1f).contains(&c)
                && !(0x7f..=0x9f).contains(&c)
                && !(0xd800..=0xf8ff).contains(&c)
                && !(0xfff0..=0xffff).contains(&c)
                && c <= 0xffff
        })
}

fn random_text(c: &mut impl Choices, len: u64) -> String {
    (0..len).map(|_| *pick(c, NAME_CHARS)).collect()
}

fn random_digits(c: &mut impl Choices, len: u64) -> String {
    (0..len).map(|_| char::from(b'0' + c.below(10) as u8)).collect()
}

/// A protected prefix `_c_<uuid v4>-`; all choices 0 give the nil-like UUID.
fn protected_prefix(c: &mut impl Choices) -> String {
    let hi = c.below(u64::MAX);
    let lo = c.below(u64::MAX);
    let hex = format!("{hi:016x}{lo:016x}");
    format!("_c_{}-{}-4{}-8{}-{}-", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

/// A foreign child: a name no conforming contender of this lock would create.
fn foreign_name(c: &mut impl Choices, existing: &[String]) -> String {
    match c.below(10) {
        0..=2 => {
            let len = 1 + c.below(12);
            random_text(c, len)
        }
        3 => {
            if chance(c, 50) {
                let len = 1 + c.below(12);
                random_digits(c, len)
            } else {
                pick(c, DIGITISH).to_string()
            }
        }
        4 | 5 => {
            let head_len = c.below(4);
            let head = random_text(c, head_len);
            let part = pick(c, NAME_PARTS);
            let tail = match c.below(3) {
                0 => String::new(),
                1 => {
                    let len = 1 + c.below(11);
                    random_digits(c, len)
                }
                _ => {
                    let len = 1 + c.below(4);
                    random_text(c, len)
                }
            };
            format!("{head}{part}{tail}")
        }
        6 => {
            // kazoo's own lock nodes (not this protocol).
            let id = format!("{:016x}{:016x}", c.below(u64::MAX), c.below(u64::MAX));
            let kind = if chance(c, 50) { "__rlock__" } else { "__lock__" };
            format!("{id}{kind}{:010}", c.below(100_000))
        }
        7 | 8 if !existing.is_empty() => {
            let base = pick(c, existing).clone();
            if chance(c, 50) {
                format!("{base}{}", pick(c, OUR_NAME_SUFFIXES))
            } else {
                // A proper prefix of an existing child.
                let chars: Vec<char> = base.chars().collect();
                let keep = 1 + c.below(chars.len().saturating_sub(1).max(1) as u64) as usize;
                chars[..keep.min(chars.len())].iter().collect()
            }
        }
        _ => {
            // A protected name with a near-miss lock name.
            let prefix = protected_prefix(c);
            let name = pick(c, &["lock", "__read__", "__WRITE__", "_READ__", "lock_", "__WRIT_"]);
            format!("{prefix}{name}{:010}", c.below(100_000))
        }
    }
}

/// A node this case's contenders created.
struct Node {
    owner: usize,
    lock_name: &'static str,
    name: String,
}

/// Builds one case from `c`. Features, each with a small probability: several
/// owners, reentrant nodes (one owner, several nodes), mixed `lock-`, `__READ__`
/// and `__WRIT__` nodes, downgrade nodes (a `__READ__` node with the owner's
/// `__WRIT__` suffix, as Curator 5.5+ and zkurator create them), foreign children
/// of many shapes (sorting before and after digits, containing lock names,
/// prefixes and extensions of other children, kazoo's names, non-ASCII), wrapped
/// negative and 19-digit sequences, our node missing, `max_leases` 0 to 4.
pub fn build_case(c: &mut impl Choices) -> Case {
    let question = match c.below(100) {
        0..=29 => {
            let roll = c.below(40);
            let max_leases = match roll {
                0..=19 => 1,
                20..=37 => 2 + (roll % 3) as u32,
                _ => 0,
            };
            Question::Mutex { max_leases }
        }
        30..=54 => Question::Write,
        _ => Question::Read { owns_write: false },
    };
    let read_write = !matches!(question, Question::Mutex { .. });
    let owner_count = 1 + c.below(5) as usize;
    let owners: Vec<String> = (0..owner_count).map(|_| protected_prefix(c)).collect();
    let style = match c.below(10) {
        0..=6 => SequenceStyle::Normal,
        7 | 8 => SequenceStyle::Wrapping,
        _ => SequenceStyle::Long,
    };
    let mut counter: i64 = match style {
        SequenceStyle::Normal if chance(c, 20) => 2_000_000_000 + c.below(100_000_000) as i64,
        SequenceStyle::Normal => c.below(100_000) as i64,
        SequenceStyle::Wrapping => i64::from(i32::MAX) - c.below(8) as i64,
        SequenceStyle::Long => 1_000_000_000_000_000_000 + c.below(8_000_000_000_000_000_000) as i64,
    };
    let mut seen = HashSet::new();
    let mut children = Vec::new();
    let mut push = |children: &mut Vec<String>, name: String| -> bool {
        if is_valid_child_name(&name) && seen.insert(name.clone()) {
            children.push(name);
            true
        } else {
            false
        }
    };

    let mut nodes: Vec<Node> = Vec::new();
    for _ in 0..c.below(9) {
        let owner = c.below(owner_count as u64) as usize;
        let roll = c.below(100);
        let lock_name = if read_write {
            match roll {
                0..=45 => READ_LOCK_NAME,
                46..=91 => WRITE_LOCK_NAME,
                _ => MUTEX_LOCK_NAME,
            }
        } else {
            match roll {
                0..=87 => MUTEX_LOCK_NAME,
                88..=93 => READ_LOCK_NAME,
                _ => WRITE_LOCK_NAME,
            }
        };
        let name = format!("{}{lock_name}{}", owners[owner], format_sequence(style, counter));
        counter += 1 + c.below(3) as i64;
        if push(&mut children, name.clone()) {
            nodes.push(Node { owner, lock_name, name });
        }
    }
    if read_write {
        let writers: Vec<(usize, String)> = nodes
            .iter()
            .filter(|n| n.lock_name == WRITE_LOCK_NAME)
            .map(|n| (n.owner, n.name[owners[n.owner].len() + WRITE_LOCK_NAME.len()..].to_string()))
            .collect();
        for (owner, sequence) in writers {
            if chance(c, 35) {
                let name = format!("{}{READ_LOCK_NAME}{sequence}", owners[owner]);
                if push(&mut children, name.clone()) {
                    nodes.push(Node { owner, lock_name: READ_LOCK_NAME, name });
                }
            }
        }
    }
    let foreign = match c.below(20) {
        0..=8 => 0,
        9..=14 => 1,
        15..=17 => 2,
        _ => 3 + c.below(2),
    };
    for _ in 0..foreign {
        let name = foreign_name(c, &children);
        push(&mut children, name);
    }

    let lock_name = question.lock_name();
    let candidates: Vec<&Node> = nodes.iter().filter(|n| n.lock_name == lock_name).collect();
    let (ours, our_owner) = if candidates.is_empty() || chance(c, 8) {
        let owner = c.below(owner_count as u64 + 1) as usize;
        let prefix = match owners.get(owner) {
            Some(prefix) => prefix.clone(),
            None => protected_prefix(c),
        };
        (format!("{prefix}{lock_name}{}", format_sequence(style, counter)), Some(owner).filter(|o| *o < owner_count))
    } else {
        let node = *pick(c, &candidates);
        (node.name.clone(), Some(node.owner))
    };
    let question = match question {
        Question::Read { .. } => {
            let owner_writes =
                our_owner.is_some_and(|o| nodes.iter().any(|n| n.owner == o && n.lock_name == WRITE_LOCK_NAME));
            Question::Read { owns_write: if owner_writes { chance(c, 70) } else { chance(c, 8) } }
        }
        other => other,
    };
    if chance(c, 12) {
        let name = format!("{ours}{}", pick(c, OUR_NAME_SUFFIXES));
        push(&mut children, name);
    }
    // Server order: a shuffle (Fisher-Yates).
    for i in (1..children.len()).rev() {
        let j = c.below(i as u64 + 1) as usize;
        children.swap(i, j);
    }
    Case { question, children, ours }
}
