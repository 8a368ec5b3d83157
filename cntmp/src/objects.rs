//! The platform's objects, in the shapes of its public API (field names as the API spells
//! them). Fields this crate does not use are kept as they are, so nothing is lost on a
//! round trip.

use std::collections::BTreeMap;
use std::fmt;

use continuum_core::{Digest, Fqn, ResourceType};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Fields of an object this crate does not interpret, kept verbatim.
pub type Extra = BTreeMap<String, Value>;

/// What a package depends on or provides: `{type, name}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(expecting = "an object with a dependency's `type` and `name`")]
pub struct Dependency {
    /// `os`, `package`, `file` or `runtime`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What is depended on or provided (`java`, `ubuntu-14.04`).
    pub name: String,
}

impl Dependency {
    /// A dependency of a type and a name.
    pub fn new(kind: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            name: name.into(),
        }
    }

    /// Parses `TYPE.NAME` (`runtime.go`, `os.linux`); the type is one of os, package, file, runtime.
    pub fn parse(text: &str) -> Option<Self> {
        let (kind, name) = text.split_once('.')?;
        (matches!(kind, "os" | "package" | "file" | "runtime") && !name.is_empty())
            .then(|| Self::new(kind, name))
    }
}

impl fmt::Display for Dependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind, self.name)
    }
}

/// A package's binary resource (one layer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(expecting = "an object with a resource's `digest` and `length`")]
pub struct PackageResource {
    /// The resource's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// The hash with its algorithm: here always `sha256:<hex>`.
    pub digest: Digest,
    /// Size in bytes.
    pub length: u64,
    /// Other fields (`sha1` …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A package: resources (layers), what it depends on and provides, its environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(expecting = "a package object")]
pub struct Package {
    /// `package::/ns::name`.
    pub fqn: Fqn,
    /// The package's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// The package's name.
    #[serde(default)]
    pub name: String,
    /// The binary resources, in order (a multi-layer package has several).
    #[serde(default)]
    pub resources: Vec<PackageResource>,
    /// What the package needs.
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
    /// What the package provides.
    #[serde(default)]
    pub provides: Vec<Dependency>,
    /// Environment variables for processes that use it.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Every other API field (`state`, `staging_pipeline_fqn`, `created_at` …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A package a job uses (by id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(expecting = "an object with a package's `uuid`")]
pub struct PackageInfo {
    /// The package's id.
    pub uuid: String,
    /// Other fields (`source`, `state`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A job: packages, processes, ports and routes, resources, tags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(expecting = "a job object")]
pub struct Job {
    /// `job::/ns::name`.
    pub fqn: Fqn,
    /// The job's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// The job's name.
    #[serde(default)]
    pub name: String,
    /// The packages it runs with.
    #[serde(default)]
    pub packages: Vec<PackageInfo>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Every other API field (`processes`, `ports`, `resources`, `bindings` …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A stager job of a pipeline (by id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(expecting = "a stager job object")]
pub struct StagerJob {
    /// The stager job's id.
    pub uuid: String,
}

/// A staging pipeline: the stager jobs that stage packages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(expecting = "a staging pipeline object")]
pub struct StagingPipeline {
    /// `stagpipe::/ns::name`.
    pub fqn: Fqn,
    /// Its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// The stager jobs, in order.
    #[serde(default)]
    pub stagers: Vec<StagerJob>,
    /// Every other API field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Any other object kept as the API gives it (services, providers, bindings), with its FQN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(expecting = "an object with an `fqn`")]
pub struct Other {
    /// Its FQN.
    pub fqn: Fqn,
    /// Every other API field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The kinds of object in job data.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ObjectKind {
    /// A package.
    Package,
    /// A job.
    Job,
    /// A staging pipeline.
    Stagpipe,
    /// A service.
    Service,
    /// A provider.
    Provider,
    /// A binding.
    Binding,
}

impl ObjectKind {
    /// Every kind.
    pub const ALL: [ObjectKind; 6] = [
        ObjectKind::Package,
        ObjectKind::Job,
        ObjectKind::Stagpipe,
        ObjectKind::Service,
        ObjectKind::Provider,
        ObjectKind::Binding,
    ];

    /// The text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Package => "package",
            Self::Job => "job",
            Self::Stagpipe => "stagpipe",
            Self::Service => "service",
            Self::Provider => "provider",
            Self::Binding => "binding",
        }
    }

    /// The FQN resource type of this kind.
    pub fn resource_type(self) -> ResourceType {
        match self {
            Self::Package => ResourceType::Package,
            Self::Job => ResourceType::Job,
            Self::Stagpipe => ResourceType::StagPipe,
            Self::Service => ResourceType::Service,
            Self::Provider => ResourceType::Provider,
            Self::Binding => ResourceType::Binding,
        }
    }

    /// The kind of an FQN's resource type, if job data holds it.
    pub fn from_resource_type(t: ResourceType) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.resource_type() == t)
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One object of job data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "object", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Object {
    /// A package.
    Package(Package),
    /// A job.
    Job(Job),
    /// A staging pipeline.
    Stagpipe(StagingPipeline),
    /// A service.
    Service(Other),
    /// A provider.
    Provider(Other),
    /// A binding.
    Binding(Other),
}

impl Object {
    /// Its kind.
    pub fn kind(&self) -> ObjectKind {
        match self {
            Object::Package(_) => ObjectKind::Package,
            Object::Job(_) => ObjectKind::Job,
            Object::Stagpipe(_) => ObjectKind::Stagpipe,
            Object::Service(_) => ObjectKind::Service,
            Object::Provider(_) => ObjectKind::Provider,
            Object::Binding(_) => ObjectKind::Binding,
        }
    }

    /// Its FQN.
    pub fn fqn(&self) -> &Fqn {
        match self {
            Object::Package(p) => &p.fqn,
            Object::Job(j) => &j.fqn,
            Object::Stagpipe(s) => &s.fqn,
            Object::Service(o) | Object::Provider(o) | Object::Binding(o) => &o.fqn,
        }
    }

    /// Its id, when it has one.
    pub fn uuid(&self) -> Option<&str> {
        match self {
            Object::Package(p) => p.uuid.as_deref(),
            Object::Job(j) => j.uuid.as_deref(),
            Object::Stagpipe(s) => s.uuid.as_deref(),
            Object::Service(o) | Object::Provider(o) | Object::Binding(o) => {
                o.extra.get("uuid").and_then(Value::as_str)
            }
        }
    }

    /// The resources it holds (packages only).
    pub fn resources(&self) -> &[PackageResource] {
        match self {
            Object::Package(p) => &p.resources,
            _ => &[],
        }
    }

    /// Checks the object: its FQN has the kind's type and a local name, and (for a package)
    /// its resources are listed with their digests.
    pub fn check(&self) -> Result<(), String> {
        let fqn = self.fqn();
        let expected = self.kind().resource_type();
        if fqn.resource_type() != Some(expected) {
            return Err(format!("`{fqn}` is not a `{expected}` FQN"));
        }
        if fqn.is_realm() {
            return Err(format!("`{fqn}` names a namespace, not an object"));
        }
        Ok(())
    }

    /// Serializes the object alone (the API shape), pretty, deterministic (keys sorted).
    pub fn to_api_json(&self) -> Value {
        let value = match self {
            Object::Package(p) => serde_json::to_value(p),
            Object::Job(j) => serde_json::to_value(j),
            Object::Stagpipe(s) => serde_json::to_value(s),
            Object::Service(o) | Object::Provider(o) | Object::Binding(o) => {
                serde_json::to_value(o)
            }
        };
        value.unwrap_or(Value::Null)
    }

    /// Reads an object of a kind from its API shape.
    pub fn from_api_json(kind: ObjectKind, value: Value) -> Result<Self, serde_json::Error> {
        Ok(match kind {
            ObjectKind::Package => Object::Package(serde_json::from_value(value)?),
            ObjectKind::Job => Object::Job(serde_json::from_value(value)?),
            ObjectKind::Stagpipe => Object::Stagpipe(serde_json::from_value(value)?),
            ObjectKind::Service => Object::Service(serde_json::from_value(value)?),
            ObjectKind::Provider => Object::Provider(serde_json::from_value(value)?),
            ObjectKind::Binding => Object::Binding(serde_json::from_value(value)?),
        })
    }
}
