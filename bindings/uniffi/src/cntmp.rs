//! Job data (`continuum-cntmp`) of a cluster folder (`<cluster>/jobdata/`): packages made
//! from files, and the cntmp files that move job data between clusters.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use continuum_cntmp::{
    CntmpReader, DEFAULT_PACKAGE_NAMESPACE, Dependency, FolderRegistry, ImportOptions, ObjectKind,
    PackageSpec, Registry, ResourceRef, Selection,
};
use continuum_core::{Limits, Namespace};

use crate::{ContinuumError, Result, count, path_text};

/// The registry of a cluster folder (opening it finishes a batch a crash interrupted).
fn registry(cluster_dir: &str) -> Result<FolderRegistry> {
    Ok(FolderRegistry::for_cluster(Path::new(cluster_dir))?)
}

fn dependencies(texts: &[String]) -> Result<Vec<Dependency>> {
    texts
        .iter()
        .map(|text| {
            Dependency::parse(text).ok_or_else(|| {
                ContinuumError::invalid(format!(
                    "invalid dependency `{text}`: expected TYPE.NAME with TYPE one of os, package, file, runtime"
                ))
            })
        })
        .collect()
}

/// A package to make from files: each file (a tarball) becomes one layer, in order.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PackageSettings {
    pub name: String,
    #[uniffi(default = None)]
    pub namespace: Option<String>,
    /// `TYPE.NAME`, TYPE one of os, package, file, runtime (`runtime.go`).
    #[uniffi(default = [])]
    pub provides: Vec<String>,
    #[uniffi(default = [])]
    pub depends: Vec<String>,
    #[uniffi(default = None)]
    pub environment: Option<HashMap<String, String>>,
}

/// A package stored in a registry.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PackageInfo {
    pub fqn: String,
    pub name: String,
    pub uuid: Option<String>,
    /// The SHA-256 of each layer, in order.
    pub digests: Vec<String>,
    /// The layers' bytes in all.
    pub size: u64,
}

/// What `cntmp_export` puts in the file: names, FQNs or `*` patterns, or everything.
#[derive(Debug, Clone, uniffi::Record)]
pub struct CntmpSelection {
    #[uniffi(default = [])]
    pub packages: Vec<String>,
    #[uniffi(default = [])]
    pub jobs: Vec<String>,
    #[uniffi(default = [])]
    pub pipelines: Vec<String>,
    #[uniffi(default = false)]
    pub all: bool,
    /// Also the packages that satisfy the selected packages' dependencies.
    #[uniffi(default = false)]
    pub with_dependencies: bool,
}

/// What `cntmp_export` wrote.
#[derive(Debug, Clone, uniffi::Record)]
pub struct CntmpExportReport {
    pub file: String,
    /// The objects' FQNs, sorted.
    pub objects: Vec<String>,
    /// Distinct resources stored.
    pub resources: u64,
    pub resource_bytes: u64,
    pub notes: Vec<String>,
}

/// How `cntmp_import` treats what it finds.
#[derive(Debug, Clone, uniffi::Record)]
pub struct CntmpImportSettings {
    /// Skip objects that exist already instead of failing.
    #[uniffi(default = false)]
    pub skip_existing: bool,
    /// Move every object into this namespace.
    #[uniffi(default = None)]
    pub override_namespace: Option<String>,
    #[uniffi(default = false)]
    pub dry_run: bool,
}

/// One object of an import.
#[derive(Debug, Clone, uniffi::Record)]
pub struct CntmpImportedObject {
    pub kind: String,
    pub fqn: String,
    /// Its FQN in the file (differs with a namespace override).
    pub source_fqn: String,
    pub file: String,
    /// `create`, `unchanged` or `skipped, differs`.
    pub action: String,
}

/// What `cntmp_import` did (or, in a dry run, would do).
#[derive(Debug, Clone, uniffi::Record)]
pub struct CntmpImportReport {
    pub dry_run: bool,
    pub objects: Vec<CntmpImportedObject>,
    pub resources_stored: u64,
    pub bytes_checked: u64,
    pub notes: Vec<String>,
}

/// A resource as a cntmp file lists it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct CntmpResource {
    pub entry: String,
    pub sha256: String,
    pub length: u64,
    pub compression: String,
}

impl From<&ResourceRef> for CntmpResource {
    fn from(r: &ResourceRef) -> Self {
        Self {
            entry: r.entry.clone(),
            sha256: r.sha256.to_string(),
            length: r.length,
            compression: r.compression.as_str().to_string(),
        }
    }
}

/// An object of a cntmp file.
#[derive(Debug, Clone, uniffi::Record)]
pub struct CntmpObject {
    pub kind: String,
    pub fqn: String,
    pub resources: Vec<CntmpResource>,
}

/// A ZIP entry of a cntmp file.
#[derive(Debug, Clone, uniffi::Record)]
pub struct CntmpEntry {
    pub name: String,
    pub size: u64,
    /// `stored`, `deflated` …
    pub compression_method: String,
}

/// What `cntmp_inspect` found in a file; `legacy` for a file without our manifest (made by
/// the platform's own tool).
#[derive(Debug, Clone, uniffi::Record)]
pub struct CntmpInspection {
    pub file: String,
    pub legacy: bool,
    pub format_version: Option<u64>,
    pub producer: Option<String>,
    pub objects: Vec<CntmpObject>,
    pub entries: Vec<CntmpEntry>,
    pub notes: Vec<String>,
}

/// Stores a package whose layers are `files`, in order, in a cluster folder's registry.
#[uniffi::export]
pub fn cntmp_package_from_files(
    cluster_dir: String,
    files: Vec<String>,
    settings: PackageSettings,
) -> Result<PackageInfo> {
    let files: Vec<PathBuf> = files.into_iter().map(PathBuf::from).collect();
    let mut spec = PackageSpec::new(settings.name, files)?;
    spec.namespace = Namespace::parse(
        settings
            .namespace
            .as_deref()
            .unwrap_or(DEFAULT_PACKAGE_NAMESPACE),
    )?;
    spec.provides = dependencies(&settings.provides)?;
    spec.depends = dependencies(&settings.depends)?;
    spec.environment = settings
        .environment
        .unwrap_or_default()
        .into_iter()
        .collect::<BTreeMap<_, _>>();
    let package = continuum_cntmp::package_from_files(&registry(&cluster_dir)?, &spec)?;
    Ok(PackageInfo {
        fqn: package.fqn.to_string(),
        digests: package
            .resources
            .iter()
            .map(|r| r.digest.to_string())
            .collect(),
        size: package.resources.iter().map(|r| r.length).sum(),
        name: package.name,
        uuid: package.uuid,
    })
}

/// The FQNs of a cluster folder's objects (of one kind: package, job, stagpipe, service,
/// provider, binding), sorted.
#[uniffi::export(default(kind = None))]
pub fn cntmp_list_objects(cluster_dir: String, kind: Option<String>) -> Result<Vec<String>> {
    let kind = kind
        .map(|text| {
            ObjectKind::ALL
                .into_iter()
                .find(|k| k.as_str() == text)
                .ok_or_else(|| {
                    ContinuumError::invalid(format!(
                        "unknown kind `{text}`: expected package, job, stagpipe, service, provider or binding"
                    ))
                })
        })
        .transpose()?;
    let fqns = registry(&cluster_dir)?.list(kind)?;
    Ok(fqns.iter().map(ToString::to_string).collect())
}

/// Exports the selection of a cluster folder's job data into one cntmp file (never
/// overwritten without `force`).
#[uniffi::export(default(force = false))]
pub fn cntmp_export(
    cluster_dir: String,
    out_file: String,
    selection: CntmpSelection,
    force: bool,
) -> Result<CntmpExportReport> {
    let mut chosen = Selection::default();
    chosen.packages = selection.packages;
    chosen.jobs = selection.jobs;
    chosen.pipelines = selection.pipelines;
    chosen.all = selection.all;
    chosen.with_dependencies = selection.with_dependencies;
    let report = continuum_cntmp::export_to_file(
        &registry(&cluster_dir)?,
        &chosen,
        Path::new(&out_file),
        force,
    )?;
    Ok(CntmpExportReport {
        file: path_text(&report.file),
        objects: report.objects.iter().map(ToString::to_string).collect(),
        resources: count(report.resources),
        resource_bytes: report.resource_bytes,
        notes: report.notes,
    })
}

/// Imports cntmp files into a cluster folder: every file is read and checked first, then
/// everything is stored, or nothing.
#[uniffi::export]
pub fn cntmp_import(
    cluster_dir: String,
    files: Vec<String>,
    settings: CntmpImportSettings,
) -> Result<CntmpImportReport> {
    let mut options = ImportOptions::default();
    options.skip_existing = settings.skip_existing;
    options.override_namespace = settings
        .override_namespace
        .as_deref()
        .map(Namespace::parse)
        .transpose()?;
    options.dry_run = settings.dry_run;
    let report = continuum_cntmp::import_files(&registry(&cluster_dir)?, &files, &options)?;
    Ok(CntmpImportReport {
        dry_run: report.dry_run,
        objects: report
            .objects
            .into_iter()
            .map(|o| CntmpImportedObject {
                kind: o.kind.as_str().to_string(),
                fqn: o.fqn.to_string(),
                source_fqn: o.source_fqn.to_string(),
                file: o.file,
                action: o.action.as_str().to_string(),
            })
            .collect(),
        resources_stored: count(report.resources_stored),
        bytes_checked: report.bytes_checked,
        notes: report.notes,
    })
}

/// The objects, entries and notes of a cntmp file (resources are not read: see
/// `cntmp_verify`).
#[uniffi::export]
pub fn cntmp_inspect(file: String) -> Result<CntmpInspection> {
    let reader = CntmpReader::open(Path::new(&file), Limits::default())?;
    Ok(CntmpInspection {
        file: reader.name().to_string(),
        legacy: reader.manifest().is_none(),
        format_version: reader.manifest().map(|m| m.format_version),
        producer: reader.manifest().map(|m| m.producer.clone()),
        objects: reader
            .objects()
            .iter()
            .map(|o| CntmpObject {
                kind: o.object.kind().as_str().to_string(),
                fqn: o.object.fqn().to_string(),
                resources: o.resources.iter().map(CntmpResource::from).collect(),
            })
            .collect(),
        entries: reader
            .entries()
            .iter()
            .map(|e| CntmpEntry {
                name: e.name.clone(),
                size: e.size,
                compression_method: e.method.clone(),
            })
            .collect(),
        notes: reader.notes().to_vec(),
    })
}

/// Reads every resource of a cntmp file and checks it; the bytes checked.
#[uniffi::export]
pub fn cntmp_verify(file: String) -> Result<u64> {
    Ok(CntmpReader::open(Path::new(&file), Limits::default())?.verify()?)
}
