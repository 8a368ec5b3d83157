//! `continuum-backup package …`, `job …`, `import`, `export …` and `cntmp …`: job data
//! (packages, jobs and the cntmp files that move them between clusters), as the platform's
//! `apc` commands do it.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use continuum_cntmp::{
    CntmpReader, DEFAULT_PACKAGE_NAMESPACE, Dependency, EntryInfo, Error, ExportReport,
    FolderRegistry, ImportAction, ImportOptions, Object, ObjectKind, PackageSpec, Registry,
    ResourceRef, Selection, create_object, export_to_file, import_files, package_from_files,
    select,
};
use continuum_core::{Fqn, Limits, Namespace, ResourceType};
use serde::Serialize;
use serde_json::Value;

use crate::output::{json, say, size, table};
use crate::{Failure, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum PackageCommand {
    /// Make a package whose layers are the files, in order; prints its FQN.
    FromFile {
        /// The files (gzip tarballs), one layer each.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The package name.
        #[arg(long)]
        name: String,
        /// The package's namespace.
        #[arg(long, value_name = "NS", default_value = DEFAULT_PACKAGE_NAMESPACE)]
        namespace: String,
        /// What it provides: `TYPE.NAME` (TYPE is os, package, file or runtime), comma-separated.
        #[arg(long, value_name = "T.NAME", value_delimiter = ',', value_parser = parse_dependency)]
        provides: Vec<Dependency>,
        /// What it depends on: `TYPE.NAME`, comma-separated.
        #[arg(long, value_name = "T.NAME", value_delimiter = ',', value_parser = parse_dependency)]
        depends: Vec<Dependency>,
        /// An environment variable of its processes (repeatable).
        #[arg(long, value_name = "K=V", value_parser = parse_env)]
        env: Vec<(String, String)>,
        /// The cluster folder (job data lives in `DIR/jobdata/`).
        #[arg(long, value_name = "DIR")]
        cluster: PathBuf,
    },
    /// List the packages.
    List {
        /// The cluster folder.
        #[arg(long, value_name = "DIR")]
        cluster: PathBuf,
        /// Print the packages as JSON, in the API's shape.
        #[arg(long)]
        json: bool,
    },
    /// Export packages (FQN, name or `*` pattern) into cntmp files.
    Export {
        /// The packages; without -o each is written to `<name>.cntmp` here.
        #[arg(required = true)]
        names: Vec<String>,
        /// The cluster folder.
        #[arg(long, value_name = "DIR")]
        cluster: PathBuf,
        /// Write every selected package into this one file.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Also the packages that provide what they depend on (transitively).
        #[arg(long)]
        with_dependencies: bool,
        /// Replace files that exist.
        #[arg(long)]
        force: bool,
    },
    /// Import package cntmp files (as `import`), all or nothing.
    Import(ImportArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum JobCommand {
    /// Store a new job given as one object in the API's JSON shape; prints its FQN.
    Create {
        /// The JSON file.
        #[arg(long, value_name = "FILE")]
        from_json: PathBuf,
        /// The cluster folder.
        #[arg(long, value_name = "DIR")]
        cluster: PathBuf,
    },
    /// List the jobs.
    List {
        /// The cluster folder.
        #[arg(long, value_name = "DIR")]
        cluster: PathBuf,
        /// Print the jobs as JSON, in the API's shape.
        #[arg(long)]
        json: bool,
    },
    /// Export jobs (FQN or name, no wildcards) into cntmp files.
    Export {
        /// The jobs; without -o each is written to `<name>.cntmp` here.
        #[arg(required = true)]
        names: Vec<String>,
        /// The cluster folder.
        #[arg(long, value_name = "DIR")]
        cluster: PathBuf,
        /// Write every selected job into this one file.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replace files that exist.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ExportCommand {
    /// Every package, job, staging pipeline, service, provider and binding, into one file.
    All {
        /// The cluster folder.
        #[arg(long, value_name = "DIR")]
        cluster: PathBuf,
        /// The file to write.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: PathBuf,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum CntmpCommand {
    /// Show a file's objects, entries and (for a legacy file) what it lacks.
    Inspect {
        /// The cntmp file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Read every resource and check its SHA-256 and length (exit 1 on damage).
    Verify {
        /// The cntmp file.
        file: PathBuf,
    },
}

/// The options of `import` and `package import`.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The cntmp files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The cluster folder (job data lives in `DIR/jobdata/`).
    #[arg(long, value_name = "DIR")]
    cluster: PathBuf,
    /// Skip objects that exist (saying whether they differ) instead of failing.
    #[arg(short = 's', long)]
    skip_existing: bool,
    /// Move every object into this namespace (references between them follow).
    #[arg(short = 'o', long = "override", value_name = "NS")]
    override_namespace: Option<String>,
    /// Check everything and report, but store nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        match e {
            Error::Core(core) => Failure::from(core),
            other => Failure {
                message: other.to_string(),
                code: 2,
            },
        }
    }
}

fn parse_dependency(text: &str) -> Result<Dependency, String> {
    Dependency::parse(text).ok_or_else(|| {
        format!("`{text}` is not TYPE.NAME with TYPE one of os, package, file, runtime")
    })
}

fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{text}` is not K=V")),
    }
}

fn bad_input(message: String) -> Failure {
    Failure { message, code: 2 }
}

/// Every object of a kind, in FQN order.
fn objects_of(registry: &FolderRegistry, kind: ObjectKind) -> Result<Vec<Object>, Failure> {
    let mut out = Vec::new();
    for fqn in registry.list(Some(kind))? {
        if let Some(o) = registry.get(&fqn)? {
            out.push(o);
        }
    }
    Ok(out)
}

fn print_export(report: &ExportReport) {
    say!(
        "{}: {} object(s), {} resource(s), {}",
        report.file.display(),
        report.objects.len(),
        report.resources,
        size(report.resource_bytes)
    );
    for note in &report.notes {
        eprintln!("{note}");
    }
}

/// Exports each object the names select into its own `<local-name>.cntmp` in the current
/// folder. Every target is worked out (and checked free, unless `force`) before anything
/// is written.
fn export_separately(
    registry: &FolderRegistry,
    names: &[String],
    kind: ObjectKind,
    with_dependencies: bool,
    force: bool,
) -> Result<(), Failure> {
    let selection_of = |name: &str| match kind {
        ObjectKind::Job => Selection::jobs([name]),
        _ => Selection::packages([name]),
    };
    let mut targets: Vec<(Fqn, PathBuf)> = Vec::new();
    for name in names {
        let (objects, _) = select(registry, &selection_of(name))?;
        for object in objects {
            let fqn = object.fqn().clone();
            if targets.iter().any(|(f, _)| *f == fqn) {
                continue;
            }
            let local = fqn.local_name().unwrap_or_default();
            if local.contains(['/', '\\']) {
                return Err(bad_input(format!(
                    "`{fqn}`: its name cannot be a file name; give -o FILE"
                )));
            }
            let file = PathBuf::from(format!("{local}.cntmp"));
            if let Some((other, _)) = targets.iter().find(|(_, p)| *p == file) {
                return Err(bad_input(format!(
                    "`{other}` and `{fqn}` would both be written to `{}`; give -o FILE",
                    file.display()
                )));
            }
            if !force && std::fs::symlink_metadata(&file).is_ok() {
                return Err(continuum_core::Error::FileExists { path: file }.into());
            }
            targets.push((fqn, file));
        }
    }
    for (fqn, file) in &targets {
        let mut selection = selection_of(&fqn.to_string());
        selection.with_dependencies = with_dependencies;
        print_export(&export_to_file(registry, &selection, file, force)?);
    }
    Ok(())
}

fn list(cluster: &Path, kind: ObjectKind, as_json: bool) -> Result<Outcome, Failure> {
    let registry = FolderRegistry::for_cluster(cluster)?;
    let objects = objects_of(&registry, kind)?;
    if as_json {
        json(&objects.iter().map(Object::to_api_json).collect::<Vec<_>>());
        return Ok(Outcome::Success);
    }
    let mut rows = match kind {
        ObjectKind::Job => vec![vec!["FQN".to_string(), "PACKAGES".to_string()]],
        _ => vec![vec![
            "FQN".to_string(),
            "LAYERS".to_string(),
            "SIZE".to_string(),
        ]],
    };
    for object in &objects {
        match object {
            Object::Job(j) => rows.push(vec![j.fqn.to_string(), j.packages.len().to_string()]),
            other => rows.push(vec![
                other.fqn().to_string(),
                other.resources().len().to_string(),
                size(other.resources().iter().map(|r| r.length).sum()),
            ]),
        }
    }
    table(&rows);
    Ok(Outcome::Success)
}

pub(crate) fn run_package(command: PackageCommand) -> Result<Outcome, Failure> {
    match command {
        PackageCommand::FromFile {
            files,
            name,
            namespace,
            provides,
            depends,
            env,
            cluster,
        } => {
            let registry = FolderRegistry::for_cluster(&cluster)?;
            let mut spec = PackageSpec::new(name, files)?;
            spec.namespace = Namespace::parse(&namespace)?;
            spec.provides = provides;
            spec.depends = depends;
            spec.environment = env.into_iter().collect();
            let package = package_from_files(&registry, &spec)?;
            say!("{}", package.fqn);
            Ok(Outcome::Success)
        }
        PackageCommand::List {
            cluster,
            json: as_json,
        } => list(&cluster, ObjectKind::Package, as_json),
        PackageCommand::Export {
            names,
            cluster,
            output,
            with_dependencies,
            force,
        } => {
            let registry = FolderRegistry::for_cluster(&cluster)?;
            match output {
                Some(file) => {
                    let mut selection = Selection::packages(&names);
                    selection.with_dependencies = with_dependencies;
                    print_export(&export_to_file(&registry, &selection, &file, force)?);
                }
                None => export_separately(
                    &registry,
                    &names,
                    ObjectKind::Package,
                    with_dependencies,
                    force,
                )?,
            }
            Ok(Outcome::Success)
        }
        PackageCommand::Import(args) => import(args),
    }
}

pub(crate) fn run_job(command: JobCommand) -> Result<Outcome, Failure> {
    match command {
        JobCommand::Create { from_json, cluster } => {
            let bytes = std::fs::read(&from_json)
                .map_err(|e| continuum_core::Error::io("read", &from_json, e))?;
            let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
                bad_input(
                    continuum_core::Error::json(from_json.display().to_string(), &e).to_string(),
                )
            })?;
            if let Some(fqn) = value
                .get("fqn")
                .and_then(Value::as_str)
                .and_then(|t| Fqn::parse(t).ok())
                && fqn.resource_type() != Some(ResourceType::Job)
            {
                return Err(bad_input(format!(
                    "`{fqn}` is not a job FQN (`job::/namespace::name`)"
                )));
            }
            let registry = FolderRegistry::for_cluster(&cluster)?;
            let object = create_object(&registry, &value)?;
            say!("{}", object.fqn());
            Ok(Outcome::Success)
        }
        JobCommand::List {
            cluster,
            json: as_json,
        } => list(&cluster, ObjectKind::Job, as_json),
        JobCommand::Export {
            names,
            cluster,
            output,
            force,
        } => {
            let registry = FolderRegistry::for_cluster(&cluster)?;
            match output {
                Some(file) => print_export(&export_to_file(
                    &registry,
                    &Selection::jobs(&names),
                    &file,
                    force,
                )?),
                None => export_separately(&registry, &names, ObjectKind::Job, false, force)?,
            }
            Ok(Outcome::Success)
        }
    }
}

pub(crate) fn run_export(command: ExportCommand) -> Result<Outcome, Failure> {
    match command {
        ExportCommand::All {
            cluster,
            output,
            force,
        } => {
            let registry = FolderRegistry::for_cluster(&cluster)?;
            print_export(&export_to_file(
                &registry,
                &Selection::everything(),
                &output,
                force,
            )?);
            Ok(Outcome::Success)
        }
    }
}

pub(crate) fn import(args: ImportArgs) -> Result<Outcome, Failure> {
    let registry = FolderRegistry::for_cluster(&args.cluster)?;
    let mut options = ImportOptions::default();
    options.skip_existing = args.skip_existing;
    options.override_namespace = args
        .override_namespace
        .as_deref()
        .map(Namespace::parse)
        .transpose()?;
    options.dry_run = args.dry_run;
    let report = import_files(&registry, &args.files, &options)?;
    if args.json {
        json(&report);
        return Ok(Outcome::Success);
    }
    let mut rows = vec![vec![
        "KIND".to_string(),
        "FQN".to_string(),
        if args.dry_run {
            "WOULD ACTION"
        } else {
            "ACTION"
        }
        .to_string(),
        "FILE".to_string(),
    ]];
    for o in &report.objects {
        rows.push(vec![
            o.kind.to_string(),
            o.fqn.to_string(),
            o.action.as_str().to_string(),
            o.file.clone(),
        ]);
    }
    table(&rows);
    let created = report
        .objects
        .iter()
        .filter(|o| o.action == ImportAction::Create)
        .count();
    say!(
        "{} {created} object(s), {} new resource(s); {} checked",
        if args.dry_run {
            "would create"
        } else {
            "created"
        },
        report.resources_stored,
        size(report.bytes_checked)
    );
    for note in &report.notes {
        eprintln!("{note}");
    }
    Ok(Outcome::Success)
}

/// `cntmp inspect --json`.
#[derive(Serialize)]
struct Inspection<'a> {
    file: &'a str,
    format_version: Option<u64>,
    producer: Option<&'a str>,
    objects: Vec<InspectedObject<'a>>,
    entries: &'a [EntryInfo],
    notes: &'a [String],
}

#[derive(Serialize)]
struct InspectedObject<'a> {
    kind: ObjectKind,
    fqn: &'a Fqn,
    resources: &'a [ResourceRef],
}

pub(crate) fn run_cntmp(command: CntmpCommand) -> Result<Outcome, Failure> {
    match command {
        CntmpCommand::Inspect {
            file,
            json: as_json,
        } => {
            let reader = CntmpReader::open(&file, Limits::default())?;
            let objects: Vec<InspectedObject<'_>> = reader
                .objects()
                .iter()
                .map(|ro| InspectedObject {
                    kind: ro.object.kind(),
                    fqn: ro.object.fqn(),
                    resources: &ro.resources,
                })
                .collect();
            if as_json {
                json(&Inspection {
                    file: reader.name(),
                    format_version: reader.manifest().map(|m| m.format_version),
                    producer: reader.manifest().map(|m| m.producer.as_str()),
                    objects,
                    entries: reader.entries(),
                    notes: reader.notes(),
                });
                return Ok(Outcome::Success);
            }
            let mut rows = vec![vec![
                "KIND".to_string(),
                "FQN".to_string(),
                "RESOURCES".to_string(),
            ]];
            for o in &objects {
                rows.push(vec![
                    o.kind.to_string(),
                    o.fqn.to_string(),
                    o.resources.len().to_string(),
                ]);
            }
            table(&rows);
            say!();
            let mut rows = vec![vec![
                "ENTRY".to_string(),
                "SIZE".to_string(),
                "METHOD".to_string(),
            ]];
            for e in reader.entries() {
                rows.push(vec![e.name.clone(), size(e.size), e.method.clone()]);
            }
            table(&rows);
            for note in reader.notes() {
                eprintln!("{}: {note}", reader.name());
            }
            Ok(Outcome::Success)
        }
        CntmpCommand::Verify { file } => {
            let checked = CntmpReader::open(&file, Limits::default()).and_then(|mut reader| {
                let bytes = reader.verify()?;
                Ok((reader.objects().len(), bytes))
            });
            match checked {
                Ok((objects, bytes)) => {
                    say!(
                        "{}: ok ({objects} objects, {bytes} bytes checked)",
                        file.display()
                    );
                    Ok(Outcome::Success)
                }
                Err(
                    e @ (Error::Core(continuum_core::Error::Corrupt { .. })
                    | Error::BadEntry { .. }),
                ) => Err(Failure {
                    message: e.to_string(),
                    code: 1,
                }),
                Err(e) => Err(e.into()),
            }
        }
    }
}
