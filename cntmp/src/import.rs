//! Import: plan, check every digest, then commit — a corrupt or truncated file imports
//! nothing, and an existing object is never replaced.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::path::Path;

use continuum_core::{Digest, Fqn, Limits, Namespace};
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::format::CntmpReader;
use crate::objects::{Object, ObjectKind};
use crate::registry::{Registry, Staged};

/// Options of [`import_files`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ImportOptions {
    /// Skip objects that exist already (reporting whether they differ) instead of failing.
    pub skip_existing: bool,
    /// Move every object into this namespace; FQN and id references between the imported
    /// objects are rewritten to match.
    pub override_namespace: Option<Namespace>,
    /// Check everything and report, but store nothing.
    pub dry_run: bool,
    /// Bounds on the files read.
    pub limits: Limits,
}

/// What happens to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ImportAction {
    /// It is new: created.
    Create,
    /// It exists with the same content: skipped.
    Unchanged,
    /// It exists with other content: skipped, the existing one kept.
    SkippedDiffers,
}

impl ImportAction {
    /// The text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Unchanged => "unchanged",
            Self::SkippedDiffers => "skipped, differs",
        }
    }
}

/// One object of an import.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ImportedObject {
    /// Its kind.
    pub kind: ObjectKind,
    /// Its FQN in the registry.
    pub fqn: Fqn,
    /// Its FQN in the file (differs with a namespace override).
    pub source_fqn: Fqn,
    /// The file it came from.
    pub file: String,
    /// What happens to it.
    pub action: ImportAction,
}

/// The result of an import.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ImportReport {
    /// True when nothing was stored on purpose.
    pub dry_run: bool,
    /// One entry per object, sorted by FQN.
    pub objects: Vec<ImportedObject>,
    /// Resources newly stored (or that would be).
    pub resources_stored: usize,
    /// Bytes read and checked.
    pub bytes_checked: u64,
    /// What legacy files lacked, and other remarks.
    pub notes: Vec<String>,
}

/// A stable id for an object that moved to another FQN.
fn derived_uuid(fqn: &Fqn) -> String {
    let digest = Digest::of(format!("continuum-uuid:{fqn}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(digest.as_bytes().get(..16).unwrap_or(&[0u8; 16]));
    crate::create::format_uuid(bytes, 5)
}

fn rewrite_strings(value: &mut Value, map: &HashMap<String, String>) {
    match value {
        Value::String(s) => {
            if let Some(new) = map.get(s.as_str()) {
                s.clone_from(new);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_strings(v, map)),
        Value::Object(fields) => fields.values_mut().for_each(|v| rewrite_strings(v, map)),
        _ => {}
    }
}

/// Imports cntmp files into a registry.
///
/// First every file is opened and its manifest checked, the plan is made (an existing
/// object is an error unless `skip_existing`), then every resource is read and its SHA-256
/// and length checked while it streams into the registry's staging area. Only when all of
/// that succeeded are the resources and objects committed; on any failure the staging is
/// removed and the registry is as it was.
pub fn import_files<P: AsRef<Path>>(
    registry: &dyn Registry,
    files: &[P],
    options: &ImportOptions,
) -> Result<ImportReport> {
    let readers = files
        .iter()
        .map(|f| CntmpReader::open(f.as_ref(), options.limits))
        .collect::<Result<Vec<_>>>()?;
    import_readers(registry, readers, options)
}

/// [`import_files`] of files open already (see [`CntmpReader::from_file`]).
pub fn import_readers(
    registry: &dyn Registry,
    mut readers: Vec<CntmpReader>,
    options: &ImportOptions,
) -> Result<ImportReport> {
    let mut notes = Vec::new();
    for reader in &readers {
        notes.extend(
            reader
                .notes()
                .iter()
                .map(|n| format!("{}: {n}", reader.name())),
        );
    }

    // Objects, with the namespace override applied consistently.
    let mut renames: HashMap<String, String> = HashMap::new();
    if let Some(ns) = &options.override_namespace {
        for reader in &readers {
            for ro in reader.objects() {
                let old = ro.object.fqn();
                let new = old.with_namespace(ns.clone());
                renames.insert(old.to_string(), new.to_string());
                if let Some(uuid) = ro.object.uuid() {
                    renames.insert(uuid.to_string(), derived_uuid(&new));
                }
            }
        }
    }
    let mut planned: BTreeMap<Fqn, (usize, Object, Fqn)> = BTreeMap::new();
    for (index, reader) in readers.iter().enumerate() {
        for ro in reader.objects() {
            let source_fqn = ro.object.fqn().clone();
            let object = if renames.is_empty() {
                ro.object.clone()
            } else {
                let mut json = ro.object.to_api_json();
                rewrite_strings(&mut json, &renames);
                Object::from_api_json(ro.object.kind(), json).map_err(|e| Error::InvalidObject {
                    kind: ro.object.kind().to_string(),
                    fqn: source_fqn.to_string(),
                    reason: e.to_string(),
                })?
            };
            let fqn = object.fqn().clone();
            if let Some((_, existing, _)) = planned.get(&fqn) {
                if *existing != object {
                    return Err(Error::InvalidObject {
                        kind: object.kind().to_string(),
                        fqn: fqn.to_string(),
                        reason: "it appears twice in the files, with different content".to_string(),
                    });
                }
                continue;
            }
            planned.insert(fqn, (index, object, source_fqn));
        }
    }

    // The plan: nothing exists, or skip what does.
    let mut report_objects = Vec::with_capacity(planned.len());
    for (fqn, (index, object, source_fqn)) in &planned {
        let action = match registry.get(fqn)? {
            None => ImportAction::Create,
            Some(_) if !options.skip_existing => {
                return Err(Error::Conflict {
                    fqn: fqn.to_string(),
                });
            }
            Some(existing) if existing == *object => ImportAction::Unchanged,
            Some(_) => ImportAction::SkippedDiffers,
        };
        report_objects.push(ImportedObject {
            kind: object.kind(),
            fqn: fqn.clone(),
            source_fqn: source_fqn.clone(),
            file: readers
                .get(*index)
                .map(|r| r.name().to_string())
                .unwrap_or_default(),
            action,
        });
    }
    let creating: Vec<&Object> = report_objects
        .iter()
        .filter(|o| o.action == ImportAction::Create)
        .filter_map(|o| planned.get(&o.fqn).map(|(_, object, _)| object))
        .collect();
    let needed: BTreeSet<Digest> = creating
        .iter()
        .flat_map(|o| o.resources().iter().map(|r| r.digest))
        .collect();

    // Every resource of every file is read and checked; the ones needed are staged.
    let mut staged: Vec<Staged> = Vec::new();
    let mut seen: BTreeSet<Digest> = BTreeSet::new();
    let mut bytes_checked = 0u64;
    let mut resources_stored = 0usize;
    let outcome = (|| -> Result<()> {
        for reader in &mut readers {
            let refs: BTreeMap<String, crate::format::ResourceRef> = reader
                .objects()
                .iter()
                .flat_map(|o| o.resources.iter().cloned())
                .map(|r| (r.entry.clone(), r))
                .collect();
            for r in refs.values() {
                if needed.contains(&r.sha256) && !options.dry_run && seen.insert(r.sha256) {
                    // The registry checks the SHA-256 as it stages (hashing beside the write).
                    let file_name = reader.name().to_string();
                    let mut entry = reader.open_entry(r)?;
                    let s = registry
                        .stage_resource(&mut entry, Some(r.sha256))
                        .map_err(|e| name_entry(e, &file_name, &r.entry))?;
                    bytes_checked += s.length;
                    if s.path.is_some() {
                        resources_stored += 1;
                    }
                    staged.push(s);
                } else {
                    let mut entry = reader.open_resource(r)?;
                    let new = needed.contains(&r.sha256)
                        && seen.insert(r.sha256)
                        && !registry.has_resource(&r.sha256)?;
                    resources_stored += usize::from(new);
                    bytes_checked += io::copy(&mut entry, &mut io::sink()).map_err(|e| {
                        match continuum_core::from_io(e) {
                            Ok(ours) => Error::Core(ours),
                            Err(e) => Error::BadEntry {
                                file: String::new(),
                                entry: r.entry.clone(),
                                reason: e.to_string(),
                            },
                        }
                    })?;
                }
            }
        }
        // Every package being created must find each of its resources.
        for object in &creating {
            for r in object.resources() {
                if !seen.contains(&r.digest) && !options.dry_run {
                    return Err(Error::MissingResource {
                        fqn: object.fqn().to_string(),
                        digest: r.digest.to_string(),
                    });
                }
            }
        }
        Ok(())
    })();
    if let Err(e) = outcome {
        registry.discard(&staged);
        return Err(e);
    }
    if !options.dry_run {
        let batch: Vec<Object> = creating.into_iter().cloned().collect();
        if let Err(e) = registry.commit(&staged, &batch) {
            registry.discard(&staged);
            return Err(e);
        }
    }
    Ok(ImportReport {
        dry_run: options.dry_run,
        objects: report_objects,
        resources_stored,
        bytes_checked,
        notes,
    })
}

/// A digest mismatch found while staging names the file's entry, not the staging path.
fn name_entry(e: Error, file: &str, entry: &str) -> Error {
    match e {
        Error::Core(continuum_core::Error::Corrupt {
            expected, actual, ..
        }) => Error::Core(continuum_core::Error::Corrupt {
            entry: format!("{file}:{entry}"),
            expected,
            actual,
        }),
        other => other,
    }
}
