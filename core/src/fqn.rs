//! Fully qualified names: `ResType::/Namespace[/…]::LocalName[/…]`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result, printable};

macro_rules! resource_types {
    ($($variant:ident => $text:literal),+ $(,)?) => {
        /// The type part of an FQN (`job`, `package`, …).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ResourceType {
            $(
                #[doc = concat!("`", $text, "`")]
                $variant,
            )+
        }

        impl ResourceType {
            /// Every known type, in the order of their text form.
            pub const ALL: &'static [ResourceType] = &[$(ResourceType::$variant),+];

            /// The text form, as written in an FQN.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ResourceType::$variant => $text,)+
                }
            }

            /// Parses the text form; `None` for an unknown type.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($text => Some(ResourceType::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

resource_types! {
    Audit => "audit",
    Auth => "auth",
    Binding => "binding",
    Cluster => "cluster",
    Gateway => "gateway",
    Job => "job",
    Network => "network",
    Package => "package",
    Policy => "policy",
    PolicyDoc => "policydoc",
    Principal => "principal",
    Provider => "provider",
    Quota => "quota",
    Route => "route",
    Secret => "secret",
    SemPipeRule => "sempiperule",
    Service => "service",
    StagPipe => "stagpipe",
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResourceType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::from_name(s).ok_or_else(|| Error::InvalidFqn {
            input: printable(s),
            column: 1,
            reason: format!("unknown resource type, expected one of {}", known_types()),
        })
    }
}

fn known_types() -> String {
    ResourceType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A namespace: `/` or `/seg[/seg…]`.
///
/// Segments are non-empty, hold no whitespace, control characters or `:`, and are never
/// `.` or `..`. A trailing `/` is accepted on input and dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Namespace(String);

impl Namespace {
    /// The root namespace `/`.
    pub fn root() -> Self {
        Self("/".to_string())
    }

    /// Parses a namespace.
    pub fn parse(text: &str) -> Result<Self> {
        parse_namespace(text, text, 0)
    }

    /// The text form (`/apcera/pkg`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The segments, outermost first; empty for the root.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|s| !s.is_empty())
    }

    /// True for `/`.
    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// True when `self` is `other` or lies inside it.
    pub fn is_within(&self, other: &Namespace) -> bool {
        other.is_root()
            || self.0 == other.0
            || (self.0.starts_with(&other.0) && self.0.as_bytes().get(other.0.len()) == Some(&b'/'))
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Namespace {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// A fully qualified name.
///
/// ```
/// use continuum_core::{Fqn, Namespace, ResourceType};
/// let fqn: Fqn = "package::/apcera/pkg/runtimes::go-1.5.1".parse()?;
/// assert_eq!(fqn.resource_type(), Some(ResourceType::Package));
/// assert_eq!(fqn.namespace().as_str(), "/apcera/pkg/runtimes");
/// assert_eq!(fqn.local_name(), Some("go-1.5.1"));
/// let moved = fqn.with_namespace(Namespace::parse("/acme/pkg/runtimes")?);
/// assert_eq!(moved.to_string(), "package::/acme/pkg/runtimes::go-1.5.1");
/// # Ok::<(), continuum_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fqn {
    resource_type: Option<ResourceType>,
    namespace: Namespace,
    local_name: Option<String>,
}

impl Fqn {
    /// Builds an FQN from validated parts; the local name is checked.
    pub fn new(
        resource_type: Option<ResourceType>,
        namespace: Namespace,
        local_name: Option<&str>,
    ) -> Result<Self> {
        if let Some(name) = local_name {
            check_local_name(name, name, 0)?;
        }
        Ok(Self {
            resource_type,
            namespace,
            local_name: local_name.map(str::to_string),
        })
    }

    /// Parses `type::/ns::name`, `type::/ns` (a realm), or the untyped `/ns::name`.
    pub fn parse(text: &str) -> Result<Self> {
        if text.is_empty() {
            return Err(fqn_error(
                text,
                0,
                "empty text, expected `type::/namespace::name`",
            ));
        }
        let (resource_type, rest, offset) = if text.starts_with('/') {
            (None, text, 0)
        } else {
            let Some(idx) = text.find("::") else {
                return Err(fqn_error(
                    text,
                    0,
                    "expected `type::/namespace` or `/namespace::name`",
                ));
            };
            let type_text = text.get(..idx).unwrap_or_default();
            if let Some(bad) = type_text
                .char_indices()
                .find(|(_, c)| !c.is_ascii_alphanumeric())
            {
                return Err(fqn_error(
                    text,
                    bad.0,
                    "resource type holds only letters and digits",
                ));
            }
            let Some(rt) = ResourceType::from_name(type_text) else {
                return Err(fqn_error(
                    text,
                    0,
                    &format!(
                        "unknown resource type `{type_text}`, expected one of {}",
                        known_types()
                    ),
                ));
            };
            (Some(rt), text.get(idx + 2..).unwrap_or_default(), idx + 2)
        };
        if !rest.starts_with('/') {
            return Err(fqn_error(text, offset, "namespace must start with `/`"));
        }
        let (ns_text, local) = match rest.find("::") {
            Some(idx) => (
                rest.get(..idx).unwrap_or_default(),
                Some((rest.get(idx + 2..).unwrap_or_default(), offset + idx + 2)),
            ),
            None => (rest, None),
        };
        let namespace = parse_namespace(ns_text, text, offset)?;
        let local_name = match local {
            Some((name, name_offset)) => {
                check_local_name(name, text, name_offset)?;
                Some(name.to_string())
            }
            None => None,
        };
        Ok(Self {
            resource_type,
            namespace,
            local_name,
        })
    }

    /// Parses an FQN whose type may be omitted; an omitted type becomes `default_type`.
    /// A type that is given must equal `default_type`.
    pub fn parse_as(text: &str, default_type: ResourceType) -> Result<Self> {
        let mut fqn = Self::parse(text)?;
        match fqn.resource_type {
            None => fqn.resource_type = Some(default_type),
            Some(t) if t == default_type => {}
            Some(t) => {
                return Err(fqn_error(
                    text,
                    0,
                    &format!("expected a `{default_type}` FQN, found `{t}`"),
                ));
            }
        }
        Ok(fqn)
    }

    /// The type, if written.
    pub fn resource_type(&self) -> Option<ResourceType> {
        self.resource_type
    }

    /// The namespace.
    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    /// The local name; `None` for a realm.
    pub fn local_name(&self) -> Option<&str> {
        self.local_name.as_deref()
    }

    /// True when the FQN names a realm (no local name).
    pub fn is_realm(&self) -> bool {
        self.local_name.is_none()
    }

    /// The same name in another namespace, keeping the type and local name.
    pub fn with_namespace(&self, namespace: Namespace) -> Self {
        Self {
            resource_type: self.resource_type,
            namespace,
            local_name: self.local_name.clone(),
        }
    }

    /// The same name with the given type.
    pub fn with_type(&self, resource_type: ResourceType) -> Self {
        Self {
            resource_type: Some(resource_type),
            ..self.clone()
        }
    }
}

impl fmt::Display for Fqn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(t) = self.resource_type {
            write!(f, "{t}::")?;
        }
        f.write_str(self.namespace.as_str())?;
        if let Some(name) = &self.local_name {
            write!(f, "::{name}")?;
        }
        Ok(())
    }
}

impl FromStr for Fqn {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl Serialize for Fqn {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fqn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Namespace {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Namespace {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

fn fqn_error(input: &str, byte_offset: usize, reason: &str) -> Error {
    let column = input
        .get(..byte_offset)
        .map_or(byte_offset, |s| s.chars().count())
        + 1;
    Error::InvalidFqn {
        input: printable(input),
        column,
        reason: reason.to_string(),
    }
}

/// Checks one segment; returns the byte offset (within the segment) and reason of a fault.
fn segment_fault(segment: &str, allow_colon: bool) -> Option<(usize, &'static str)> {
    if segment.is_empty() {
        return Some((0, "empty segment (`//`)"));
    }
    if segment == "." || segment == ".." {
        return Some((0, "`.` and `..` are not allowed as segments"));
    }
    for (i, c) in segment.char_indices() {
        if c.is_whitespace() {
            return Some((i, "whitespace is not allowed"));
        }
        if c.is_control() {
            return Some((i, "control characters are not allowed"));
        }
        if !allow_colon && c == ':' {
            return Some((i, "`:` is not allowed in a namespace"));
        }
    }
    None
}

fn parse_namespace(ns: &str, whole: &str, offset: usize) -> Result<Namespace> {
    if !ns.starts_with('/') {
        return Err(fqn_error(whole, offset, "namespace must start with `/`"));
    }
    if ns == "/" {
        return Ok(Namespace::root());
    }
    // A trailing `/` is tolerated (`/sandbox/tom/`) and dropped.
    let body = ns.strip_suffix('/').unwrap_or(ns);
    let mut pos = 1;
    for segment in body.get(1..).unwrap_or_default().split('/') {
        if let Some((i, reason)) = segment_fault(segment, false) {
            return Err(fqn_error(whole, offset + pos + i, reason));
        }
        pos += segment.len() + 1;
    }
    Ok(Namespace(body.to_string()))
}

fn check_local_name(name: &str, whole: &str, offset: usize) -> Result<()> {
    if name.is_empty() {
        return Err(fqn_error(whole, offset, "empty local name after `::`"));
    }
    if name.contains("::") {
        let idx = name.find("::").unwrap_or(0);
        return Err(fqn_error(whole, offset + idx, "`::` may appear only twice"));
    }
    let mut pos = 0;
    for segment in name.split('/') {
        if let Some((i, reason)) = segment_fault(segment, true) {
            return Err(fqn_error(whole, offset + pos + i, reason));
        }
        pos += segment.len() + 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_documented_examples() {
        let f = Fqn::parse("job::/apcera::continuum-guide").unwrap();
        assert_eq!(f.resource_type(), Some(ResourceType::Job));
        assert_eq!(f.namespace().as_str(), "/apcera");
        assert_eq!(f.local_name(), Some("continuum-guide"));

        let f = Fqn::parse("auth::/prod/test::user/name").unwrap();
        assert_eq!(f.local_name(), Some("user/name"));

        let realm = Fqn::parse("job::/sandbox/tom").unwrap();
        assert!(realm.is_realm());
        assert_eq!(
            realm.namespace().segments().collect::<Vec<_>>(),
            ["sandbox", "tom"]
        );

        let root = Fqn::parse("job::/").unwrap();
        assert!(root.namespace().is_root());
        assert_eq!(root.to_string(), "job::/");

        let untyped =
            Fqn::parse_as("/apcera/pkg/runtimes::go-1.5.1", ResourceType::Package).unwrap();
        assert_eq!(
            untyped.to_string(),
            "package::/apcera/pkg/runtimes::go-1.5.1"
        );

        let trailing = Fqn::parse("job::/sandbox/tom/").unwrap();
        assert_eq!(trailing.to_string(), "job::/sandbox/tom");
    }

    #[test]
    fn namespace_override_keeps_type_and_name() {
        let f = Fqn::parse("package::/apcera/pkg/runtimes::go-1.5.1").unwrap();
        let moved = f.with_namespace(Namespace::parse("/acme/pkg/runtimes").unwrap());
        assert_eq!(moved.to_string(), "package::/acme/pkg/runtimes::go-1.5.1");
        assert_eq!(moved.resource_type(), f.resource_type());
        assert_eq!(moved.local_name(), f.local_name());
    }

    fn err(text: &str) -> (usize, String) {
        match Fqn::parse(text).unwrap_err() {
            Error::InvalidFqn { column, reason, .. } => (column, reason),
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn invalid_text_says_what_and_where() {
        assert!(err("").1.contains("empty"));
        let (col, reason) = err("job::/a//b::x");
        assert_eq!(col, 9);
        assert!(reason.contains("empty segment"), "{reason}");
        let (col, reason) = err("job::apcera::x");
        assert_eq!(col, 6);
        assert!(reason.contains("start with `/`"), "{reason}");
        let (_, reason) = err("jobs::/apcera::x");
        assert!(reason.contains("unknown resource type `jobs`"), "{reason}");
        let (col, reason) = err("job::/apc era::x");
        assert_eq!(col, 10);
        assert!(reason.contains("whitespace"), "{reason}");
        let (col, reason) = err("job::/apcera/../x::y");
        assert_eq!(col, 14);
        assert!(reason.contains("`..`"), "{reason}");
        let (_, reason) = err("job::/apcera::");
        assert!(reason.contains("empty local name"), "{reason}");
        let (_, reason) = err("job::/a::b::c");
        assert!(reason.contains("`::`"), "{reason}");
        let (_, reason) = err("apcera");
        assert!(reason.contains("expected"), "{reason}");
        let msg = Fqn::parse("job::/a//b::x").unwrap_err().to_string();
        assert!(
            msg.starts_with("invalid FQN `job::/a//b::x` at column 9"),
            "{msg}"
        );
    }

    #[test]
    fn parse_as_refuses_another_type() {
        let e = Fqn::parse_as("job::/a::b", ResourceType::Package).unwrap_err();
        assert!(e.to_string().contains("expected a `package` FQN"));
    }

    #[test]
    fn namespace_containment() {
        let a = Namespace::parse("/apcera/pkg").unwrap();
        assert!(
            Namespace::parse("/apcera/pkg/runtimes")
                .unwrap()
                .is_within(&a)
        );
        assert!(!Namespace::parse("/apcera/pkgs").unwrap().is_within(&a));
        assert!(a.is_within(&Namespace::root()));
    }

    fn segment() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9_@+*-][a-zA-Z0-9_.@+*-]{0,12}"
            .prop_filter("no dot segments", |s| s != "." && s != "..")
    }

    fn fqn_strategy() -> impl Strategy<Value = Fqn> {
        (
            proptest::option::of(proptest::sample::select(ResourceType::ALL.to_vec())),
            proptest::collection::vec(segment(), 0..4),
            proptest::option::of(proptest::collection::vec(segment(), 1..3)),
        )
            .prop_map(|(rt, ns, local)| {
                let ns = Namespace::parse(&format!("/{}", ns.join("/"))).unwrap();
                let local = local.map(|l| l.join("/"));
                Fqn::new(rt, ns, local.as_deref()).unwrap()
            })
            .prop_filter("an untyped realm is only a namespace", |f| {
                f.resource_type().is_some() || !f.is_realm()
            })
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(fqn in fqn_strategy()) {
            let text = fqn.to_string();
            prop_assert_eq!(Fqn::parse(&text).unwrap(), fqn);
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,40}") {
            let _ = Fqn::parse(&text);
        }
    }
}
