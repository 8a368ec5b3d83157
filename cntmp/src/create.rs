//! Creating objects in a registry: a package from files (the platform's `package from
//! file`) and any object from its API JSON.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;

use continuum_core::{Fqn, Namespace};

use crate::error::{Error, Result};
use crate::objects::{Dependency, Object, Package, PackageResource};
use crate::registry::Registry;

/// The namespace of packages made from files when none is given.
pub const DEFAULT_PACKAGE_NAMESPACE: &str = "/apcera/pkg/packages";

/// How to make a package from files.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PackageSpec {
    /// The package name (its FQN's local name).
    pub name: String,
    /// Its namespace.
    pub namespace: Namespace,
    /// The files, in order: each becomes one resource (layer).
    pub files: Vec<PathBuf>,
    /// What it provides.
    pub provides: Vec<Dependency>,
    /// What it depends on.
    pub depends: Vec<Dependency>,
    /// Its environment.
    pub environment: BTreeMap<String, String>,
}

impl PackageSpec {
    /// A package of a name, from files, in the default namespace.
    pub fn new(name: impl Into<String>, files: Vec<PathBuf>) -> Result<Self> {
        Ok(Self {
            name: name.into(),
            namespace: Namespace::parse(DEFAULT_PACKAGE_NAMESPACE)?,
            files,
            provides: Vec::new(),
            depends: Vec::new(),
            environment: BTreeMap::new(),
        })
    }
}

/// Formats 16 bytes as an RFC 4122 UUID of the given version (4: random, 5: name-based).
pub(crate) fn format_uuid(mut b: [u8; 16], version: u8) -> String {
    if let Some(v) = b.get_mut(6) {
        *v = (*v & 0x0f) | (version << 4);
    }
    if let Some(v) = b.get_mut(8) {
        *v = (*v & 0x3f) | 0x80;
    }
    let h = hex::encode(b);
    let part = |a: usize, z: usize| h.get(a..z).unwrap_or("0").to_string();
    format!(
        "{}-{}-{}-{}-{}",
        part(0, 8),
        part(8, 12),
        part(12, 16),
        part(16, 20),
        part(20, 32)
    )
}

fn new_uuid() -> String {
    format_uuid(rand::random(), 4)
}

/// Makes a package whose resources are the files, in order, and stores it. Refuses a
/// package that exists. Resources are streamed (never held whole) and stored once.
pub fn package_from_files(registry: &dyn Registry, spec: &PackageSpec) -> Result<Package> {
    let fqn = Fqn::parse(&format!("package::{}::{}", spec.namespace, spec.name))?;
    if registry.get(&fqn)?.is_some() {
        return Err(Error::Conflict {
            fqn: fqn.to_string(),
        });
    }
    if spec.files.is_empty() {
        return Err(Error::InvalidObject {
            kind: "package".to_string(),
            fqn: fqn.to_string(),
            reason: "give at least one file".to_string(),
        });
    }
    let mut staged = Vec::with_capacity(spec.files.len());
    let mut resources = Vec::with_capacity(spec.files.len());
    for file in &spec.files {
        let opened = File::open(file).map_err(|e| Error::io("open", file, e));
        let s = opened.and_then(|mut f| registry.stage_resource(&mut f, None));
        match s {
            Ok(s) => {
                resources.push(PackageResource {
                    uuid: Some(new_uuid()),
                    digest: s.digest,
                    length: s.length,
                    extra: BTreeMap::new(),
                });
                staged.push(s);
            }
            Err(e) => {
                registry.discard(&staged);
                return Err(e);
            }
        }
    }
    let mut extra = BTreeMap::new();
    extra.insert(
        "state".to_string(),
        serde_json::Value::String("ready".to_string()),
    );
    let package = Package {
        fqn,
        uuid: Some(new_uuid()),
        name: spec.name.clone(),
        resources,
        dependencies: spec.depends.clone(),
        provides: spec.provides.clone(),
        environment: spec.environment.clone(),
        tags: BTreeMap::new(),
        extra,
    };
    if let Err(e) = registry.commit(&staged, &[Object::Package(package.clone())]) {
        registry.discard(&staged);
        return Err(e);
    }
    Ok(package)
}

/// Stores a new object given in the API's JSON shape; its kind comes from its FQN.
/// Refuses an object that exists, and a package whose resources the registry lacks.
pub fn create_object(registry: &dyn Registry, json: &serde_json::Value) -> Result<Object> {
    let fqn_text = json
        .get("fqn")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| Error::InvalidObject {
            kind: "object".to_string(),
            fqn: String::new(),
            reason: "missing `fqn`".to_string(),
        })?;
    let fqn = Fqn::parse(fqn_text)?;
    let kind = fqn
        .resource_type()
        .and_then(crate::objects::ObjectKind::from_resource_type)
        .ok_or_else(|| Error::InvalidObject {
            kind: "object".to_string(),
            fqn: fqn.to_string(),
            reason: "expected a package, job, stagpipe, service, provider or binding FQN"
                .to_string(),
        })?;
    let object = Object::from_api_json(kind, json.clone()).map_err(|e| Error::InvalidObject {
        kind: kind.to_string(),
        fqn: fqn.to_string(),
        reason: e.to_string(),
    })?;
    object.check().map_err(|reason| Error::InvalidObject {
        kind: kind.to_string(),
        fqn: fqn.to_string(),
        reason,
    })?;
    if registry.get(&fqn)?.is_some() {
        return Err(Error::Conflict {
            fqn: fqn.to_string(),
        });
    }
    // Every object gets an id, as the platform gives one.
    let object = match object {
        Object::Job(mut j) if j.uuid.is_none() => {
            j.uuid = Some(new_uuid());
            Object::Job(j)
        }
        Object::Package(mut p) if p.uuid.is_none() => {
            p.uuid = Some(new_uuid());
            Object::Package(p)
        }
        Object::Stagpipe(mut s) if s.uuid.is_none() => {
            s.uuid = Some(new_uuid());
            Object::Stagpipe(s)
        }
        other => other,
    };
    for r in object.resources() {
        if !registry.has_resource(&r.digest)? {
            return Err(Error::MissingResource {
                fqn: fqn.to_string(),
                digest: r.digest.to_string(),
            });
        }
    }
    registry.commit(&[], std::slice::from_ref(&object))?;
    Ok(object)
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuids_have_the_rfc_4122_version_and_variant() {
        for _ in 0..100 {
            let u = super::new_uuid();
            let parts: Vec<&str> = u.split('-').collect();
            assert_eq!(
                parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
                [8, 4, 4, 4, 12]
            );
            assert!(parts[2].starts_with('4'), "{u}");
            assert!(
                matches!(parts[3].chars().next(), Some('8' | '9' | 'a' | 'b')),
                "{u}"
            );
        }
        let named = super::format_uuid([0xff; 16], 5);
        assert_eq!(named, "ffffffff-ffff-5fff-bfff-ffffffffffff");
    }
}
