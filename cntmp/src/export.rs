//! Export: select packages, jobs and pipelines (or everything) and write them into one
//! cntmp file, atomically.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use continuum_core::{Fqn, ResourceType};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::format::{CntmpManifest, CntmpWriter};
use crate::objects::{Object, ObjectKind};
use crate::registry::Registry;

/// What to export.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Selection {
    /// Packages by FQN (`package::/ns::name`, `/ns::name`) or name; `*` matches any text
    /// in a name (`/apcera/pkg/runtimes::go-*`, `go-*`).
    pub packages: Vec<String>,
    /// Jobs by FQN or name (no wildcards, as the platform's tool).
    pub jobs: Vec<String>,
    /// Staging pipelines by FQN or name; their stager jobs come along.
    pub pipelines: Vec<String>,
    /// Everything: every package, job, staging pipeline, service, provider and binding.
    pub all: bool,
    /// Also the packages that satisfy the selected packages' dependencies (transitively).
    pub with_dependencies: bool,
}

impl Selection {
    /// Everything in the registry.
    pub fn everything() -> Self {
        Self {
            all: true,
            ..Self::default()
        }
    }

    /// The named packages.
    pub fn packages(names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            packages: names.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// The named jobs.
    pub fn jobs(names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            jobs: names.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ExportReport {
    /// The file.
    pub file: PathBuf,
    /// The objects, sorted by FQN.
    pub objects: Vec<Fqn>,
    /// Distinct resources stored.
    pub resources: usize,
    /// Bytes of resources stored.
    pub resource_bytes: u64,
    /// Remarks (unsatisfied dependencies, missing stagers).
    pub notes: Vec<String>,
}

/// `*` matches any run of characters; everything else matches itself.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return false;
    };
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = text.get(first.len()..text.len() - last.len()).unwrap_or("");
    for middle in parts.get(1..parts.len() - 1).unwrap_or(&[]) {
        match rest.find(middle) {
            Some(i) => rest = rest.get(i + middle.len()..).unwrap_or(""),
            None => return false,
        }
    }
    true
}

/// Resolves a name, FQN or pattern to the objects of a kind it names.
fn resolve(all: &[Fqn], kind: ObjectKind, pattern: &str, wildcards: bool) -> Result<Vec<Fqn>> {
    let what = match kind {
        ObjectKind::Package => "package",
        ObjectKind::Job => "job",
        ObjectKind::Stagpipe => "staging pipeline",
        _ => "object",
    };
    // A name that exists as written is that object, even if it holds a `*`.
    let exact: Vec<Fqn> = all
        .iter()
        .filter(|f| {
            f.local_name() == Some(pattern)
                || Fqn::parse_as(pattern, kind.resource_type()).is_ok_and(|wanted| &wanted == *f)
        })
        .cloned()
        .collect();
    if pattern.contains('*') && exact.len() == 1 {
        return Ok(exact);
    }
    if pattern.contains('*') && !wildcards {
        return Err(Error::NothingMatches {
            what: "job (wildcards are for packages)",
            pattern: pattern.to_string(),
        });
    }
    let found: Vec<Fqn> = if pattern.contains("::") || pattern.starts_with('/') {
        let wanted = Fqn::parse_as(pattern, kind.resource_type())?;
        let local = wanted.local_name().unwrap_or("*");
        all.iter()
            .filter(|f| {
                f.namespace() == wanted.namespace()
                    && f.local_name().is_some_and(|l| wildcard_match(local, l))
            })
            .cloned()
            .collect()
    } else {
        let matches: Vec<Fqn> = all
            .iter()
            .filter(|f| f.local_name().is_some_and(|l| wildcard_match(pattern, l)))
            .cloned()
            .collect();
        if !pattern.contains('*') && matches.len() > 1 {
            return Err(Error::Ambiguous {
                pattern: pattern.to_string(),
                candidates: matches.iter().map(ToString::to_string).collect(),
            });
        }
        matches
    };
    if found.is_empty() {
        return Err(Error::NothingMatches {
            what,
            pattern: pattern.to_string(),
        });
    }
    Ok(found)
}

fn load(registry: &dyn Registry, fqn: &Fqn) -> Result<Object> {
    registry.get(fqn)?.ok_or_else(|| Error::NothingMatches {
        what: "object",
        pattern: fqn.to_string(),
    })
}

/// The objects a selection names, with what comes along (stagers, dependencies), sorted by
/// FQN, and remarks.
pub fn select(
    registry: &dyn Registry,
    selection: &Selection,
) -> Result<(Vec<Object>, Vec<String>)> {
    let mut chosen: BTreeMap<Fqn, Object> = BTreeMap::new();
    let mut notes = Vec::new();
    let packages = registry.list(Some(ObjectKind::Package))?;
    let jobs = registry.list(Some(ObjectKind::Job))?;
    let pipelines = registry.list(Some(ObjectKind::Stagpipe))?;
    if selection.all {
        for fqn in registry.list(None)? {
            let o = load(registry, &fqn)?;
            chosen.insert(fqn, o);
        }
    }
    for p in &selection.packages {
        for fqn in resolve(&packages, ObjectKind::Package, p, true)? {
            let o = load(registry, &fqn)?;
            chosen.insert(fqn, o);
        }
    }
    for j in &selection.jobs {
        for fqn in resolve(&jobs, ObjectKind::Job, j, false)? {
            let o = load(registry, &fqn)?;
            chosen.insert(fqn, o);
        }
    }
    let mut job_by_uuid: Option<BTreeMap<String, Fqn>> = None;
    for s in &selection.pipelines {
        for fqn in resolve(&pipelines, ObjectKind::Stagpipe, s, true)? {
            let o = load(registry, &fqn)?;
            if let Object::Stagpipe(pipeline) = &o {
                let index = match &job_by_uuid {
                    Some(i) => i,
                    None => {
                        let mut i = BTreeMap::new();
                        for jf in &jobs {
                            if let Some(uuid) = load(registry, jf)?.uuid() {
                                i.insert(uuid.to_string(), jf.clone());
                            }
                        }
                        job_by_uuid.insert(i)
                    }
                };
                for stager in &pipeline.stagers {
                    match index.get(&stager.uuid) {
                        Some(jf) => {
                            let job = load(registry, jf)?;
                            chosen.insert(jf.clone(), job);
                        }
                        None => notes.push(format!(
                            "{fqn}: its stager job {} is not in the registry",
                            stager.uuid
                        )),
                    }
                }
            }
            chosen.insert(fqn, o);
        }
    }
    if selection.with_dependencies {
        add_dependencies(registry, &packages, &mut chosen, &mut notes)?;
    }
    Ok((chosen.into_values().collect(), notes))
}

/// Adds, transitively, the packages that provide what the chosen packages depend on.
fn add_dependencies(
    registry: &dyn Registry,
    packages: &[Fqn],
    chosen: &mut BTreeMap<Fqn, Object>,
    notes: &mut Vec<String>,
) -> Result<()> {
    let mut all = Vec::with_capacity(packages.len());
    for fqn in packages {
        if let Object::Package(p) = load(registry, fqn)? {
            all.push(p);
        }
    }
    let mut queue: Vec<Fqn> = chosen
        .keys()
        .filter(|f| f.resource_type() == Some(ResourceType::Package))
        .cloned()
        .collect();
    let mut done = BTreeSet::new();
    while let Some(fqn) = queue.pop() {
        if !done.insert(fqn.clone()) {
            continue;
        }
        let Some(Object::Package(package)) = chosen.get(&fqn).cloned() else {
            continue;
        };
        for dep in &package.dependencies {
            let providers: Vec<&crate::objects::Package> = all
                .iter()
                .filter(|p| {
                    p.provides.contains(dep) || (dep.kind == "package" && p.name == dep.name)
                })
                .collect();
            if providers.is_empty() {
                notes.push(format!("{fqn}: nothing in the registry provides `{dep}`"));
            }
            for p in providers {
                if !chosen.contains_key(&p.fqn) {
                    chosen.insert(p.fqn.clone(), Object::Package(p.clone()));
                    queue.push(p.fqn.clone());
                }
            }
        }
    }
    Ok(())
}

/// Writes objects (sorted by FQN) and their resources into a cntmp stream.
pub fn write_cntmp<W: Write + Seek>(
    registry: &dyn Registry,
    objects: &[Object],
    out: W,
    name: &str,
) -> Result<(W, CntmpManifest, u64)> {
    let mut sorted: Vec<&Object> = objects.iter().collect();
    sorted.sort_by(|a, b| a.fqn().cmp(b.fqn()));
    let mut writer = CntmpWriter::new(out, name);
    let mut bytes = 0u64;
    let mut added = BTreeSet::new();
    for object in &sorted {
        for r in object.resources() {
            if !added.insert(r.digest) {
                continue;
            }
            if !registry.has_resource(&r.digest)? {
                return Err(Error::MissingResource {
                    fqn: object.fqn().to_string(),
                    digest: r.digest.to_string(),
                });
            }
            let mut data = registry.open_resource(&r.digest)?;
            writer.add_resource(r.digest, r.length, &mut data)?;
            bytes += r.length;
        }
        writer.add_object(object)?;
    }
    let (inner, manifest) = writer.finish()?;
    Ok((inner, manifest, bytes))
}

/// Exports a selection into one cntmp file, written under a temporary name and moved into
/// place when complete. An existing file is refused unless `force`.
pub fn export_to_file(
    registry: &dyn Registry,
    selection: &Selection,
    out: &Path,
    force: bool,
) -> Result<ExportReport> {
    if !force && fs::symlink_metadata(out).is_ok() {
        return Err(Error::Core(continuum_core::Error::FileExists {
            path: out.to_path_buf(),
        }));
    }
    let (objects, notes) = select(registry, selection)?;
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
    // A file with no name until it is whole: a crash, even a SIGKILL, leaves nothing.
    let mut pending = continuum_core::PendingFile::create_in(&dir)?;
    let (manifest, resource_bytes) = {
        let (buffered, manifest, bytes) = write_cntmp(
            registry,
            &objects,
            BufWriter::with_capacity(1 << 20, {
                let file: &std::fs::File = pending.file();
                continuum_core::WriteBehind::new(file, file, continuum_core::WRITE_BEHIND_STEP)
            }),
            &out.display().to_string(),
        )?;
        buffered
            .into_inner()
            .map_err(|e| Error::io("write", out, e.into_error()))?
            .into_inner();
        (manifest, bytes)
    };
    pending.persist(out, force)?;
    let resources: BTreeSet<&str> = manifest
        .objects
        .iter()
        .flat_map(|o| o.resources.iter().map(|r| r.entry.as_str()))
        .collect();
    Ok(ExportReport {
        file: out.to_path_buf(),
        objects: manifest.objects.iter().map(|o| o.fqn.clone()).collect(),
        resources: resources.len(),
        resource_bytes,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::wildcard_match;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("go-*", "go-1.5.1"));
        assert!(wildcard_match("*", "x"));
        assert!(wildcard_match("a*b*c", "a-b-c"));
        assert!(!wildcard_match("a*b*c", "a-c-b"));
        assert!(!wildcard_match("go-*", "ruby"));
        assert!(wildcard_match("exact", "exact"));
        assert!(!wildcard_match("ab*ba", "aba"));
    }
}
