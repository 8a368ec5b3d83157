//! The main job: a full backup and restore of the demo cluster on the embedded defaults.
//!
//! Builds the demo cluster of `examples/demo-cluster/` in a fresh work folder (its
//! `cluster.conf`, Terraform files, policy documents and job-data registry) and its four
//! databases on a PostgreSQL server; plans the backup; backs the whole platform up into a
//! local store; verifies the set; restores it into a fresh cluster folder and `_restored`
//! copies of the databases; and compares every artifact with its original — files byte for
//! byte, job data object by object, databases table by table with digests computed by the
//! server. Exits 1 when anything differs.
//!
//! ```sh
//! bash scripts/demo.sh [WORKDIR]           # starts a throwaway PostgreSQL, then runs this
//! cargo run --release -p continuum-examples --example demo -- [WORKDIR] [POSTGRES_URL]
//! ```
//!
//! The server is the URL given, else `CONTINUUM_DEMO_PG_URL`, else `CONTINUUM_TEST_PG_URL`,
//! else what `DATABASE_URL` and the `PG*` variables describe. The work folder (default
//! `target/demo`) is removed first, when it is an earlier run's (it holds a marker file) or
//! empty. The demo drops and recreates the databases `component_database`,
//! `auditlog_database`, `monitoring`, `orchestrator` and their `_restored` copies: give it
//! a server of its own.

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use continuum_cntmp::{
    Dependency, FolderRegistry, Object, PackageSpec, Registry, create_object, package_from_files,
};
use continuum_core::{
    DynStore, Namespace, Reason, StoreOptions, digest_reader, load_manifest, open_artifact,
    open_store, verify_set,
};
use continuum_orchestrator::{
    ArtifactSource, BackupPlan, ClusterConf, Coverage, DATABASE_PREFIX, INSTALLATION_PREFIX,
    JOB_DATA_ARTIFACT, PLATFORM_GLOBALS_ARTIFACT, POLICY_PREFIX, PgTarget, PlanOptions,
    PlatformBackupOptions, PlatformBackupReport, PlatformRestoreOptions, Progress,
    RestoreDestination, backup_platform, pg_program, plan_platform_restore, redact_secrets,
    render_graph,
};

type DemoResult<T> = Result<T, Box<dyn Error>>;

/// The file that marks a work folder as the demo's own, so a later run may remove it.
const MARKER: &str = ".continuum-demo";
/// What a restored database's name gets after the original's.
const RESTORED_SUFFIX: &str = "_restored";

#[cfg_attr(test, expect(dead_code, reason = "the test calls `run`, not `main`"))]
fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let first = args.next();
    if first.as_deref().is_some_and(|a| a == "-h" || a == "--help") {
        println!("usage: demo [WORKDIR (default target/demo)] [POSTGRES_URL]");
        return ExitCode::SUCCESS;
    }
    let work = first.map_or_else(|| PathBuf::from("target/demo"), PathBuf::from);
    let url = args
        .next()
        .map(|u| u.to_string_lossy().into_owned())
        .or_else(|| std::env::var("CONTINUUM_DEMO_PG_URL").ok())
        .or_else(|| std::env::var("CONTINUUM_TEST_PG_URL").ok())
        .filter(|u| !u.is_empty());
    let target = match url {
        Some(url) => PgTarget::parse(&url),
        None => PgTarget::from_env(),
    };
    let outcome = target
        .map_err(Box::<dyn Error>::from)
        .and_then(|target| run(&work, &target, ""));
    match outcome {
        Ok(outcome) if outcome.differences.is_empty() => ExitCode::SUCCESS,
        Ok(outcome) => {
            eprintln!(
                "demo: FAILED: {} of {} artifact(s) not equal after the round trip:",
                outcome.differences.len(),
                outcome.artifacts
            );
            for d in &outcome.differences {
                eprintln!("  - {d}");
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("demo: FAILED: {}", error_chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// An error with the causes its message does not already show.
fn error_chain(e: &dyn Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            let _ = write!(text, ": {more}");
        }
        source = s.source();
    }
    text
}

/// How a run ended (errors aside).
#[derive(Debug)]
pub(crate) struct Outcome {
    /// Artifacts of the set.
    pub(crate) artifacts: usize,
    /// One line per artifact (or file) that did not come back equal.
    pub(crate) differences: Vec<String>,
}

/// The whole demo: prepare, plan, back up, verify, restore, compare. The databases get
/// their default names with `database_prefix` before them (the demo gives none; a test
/// gives one, to keep clear of other tests' databases).
pub(crate) fn run(work: &Path, target: &PgTarget, database_prefix: &str) -> DemoResult<Outcome> {
    let started = Instant::now();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo-cluster");
    let cluster = work.join("cluster");
    let restored = work.join("restored");
    let store_dir = work.join("store");

    // 1. A fresh cluster folder.
    section(&format!("1. the demo cluster, in {}", work.display()));
    fresh_work_folder(work)?;
    let installed = copy_cluster_files(&fixture, &cluster)?;
    println!(
        "  installation files and policy documents: {}",
        installed.join(", ")
    );
    let objects = build_job_data(&fixture.join("jobdata-src"), &cluster, &work.join("layers"))?;
    println!("  job data: {}", objects.join(", "));

    // The plan is worked out from cluster.conf alone: it names the databases to seed.
    let config = cluster.join("cluster.conf");
    let conf = ClusterConf::load(&config)?;
    let mut plan_options = PlanOptions::default();
    plan_options.with_job_data = true;
    let database_of = |plan: &BackupPlan| -> Vec<(String, String)> {
        plan.artifacts()
            .filter_map(|(c, a)| match &a.source {
                ArtifactSource::Database { database } => {
                    Some((c.component.clone(), database.clone()))
                }
                _ => None,
            })
            .collect()
    };
    if !database_prefix.is_empty() {
        let defaults = database_of(&BackupPlan::new(&conf, &plan_options)?);
        plan_options.databases = defaults
            .into_iter()
            .map(|(component, database)| (component, format!("{database_prefix}{database}")))
            .collect();
    }
    let plan = BackupPlan::new(&conf, &plan_options)?;
    let databases: Vec<String> = database_of(&plan).into_iter().map(|(_, d)| d).collect();

    // 2. The databases, seeded.
    section(&format!("2. the databases, on {}", target.label()));
    println!("  PostgreSQL {}", target.server_version()?);
    for database in &databases {
        let seed = fixture.join("seed").join(format!(
            "{}.sql",
            database.strip_prefix(database_prefix).unwrap_or(database)
        ));
        let rows = seed_database(target, database, &seed)?;
        println!("  {database:<20} created and seeded: {rows}");
    }

    // 3. The plan.
    section("3. the plan");
    print!("{}", indent(&plan.to_table()));
    let dot = plan.to_dot();
    render_graph(&dot, &work.join("plan.dot"), true)?;
    let mut drawn = vec![work.join("plan.dot").display().to_string()];
    if has_graphviz() {
        match render_graph(&dot, &work.join("plan.svg"), true) {
            Ok(()) => drawn.push(work.join("plan.svg").display().to_string()),
            Err(e) => println!("  (plan.svg not drawn: {e})"),
        }
    } else {
        println!("  (Graphviz `dot` is not installed: no plan.svg)");
    }
    println!("  graph: {}", drawn.join(", "));

    // 4. The backup.
    section(&format!(
        "4. backup into the local store {}",
        store_dir.display()
    ));
    fs::create_dir_all(&store_dir)?;
    // Absolute, so the store's `file://` URL in the report is one.
    let store_path = fs::canonicalize(&store_dir)?;
    let store_url = store_path
        .to_str()
        .ok_or("the work folder's path is not UTF-8")?;
    let store = open_store(store_url, &StoreOptions::default())?;
    let source = continuum_orchestrator::PlatformSource::new(&config, &cluster, target.clone());
    let mut backup_options = PlatformBackupOptions::default();
    backup_options.with_job_data = true;
    backup_options.reason = Reason::Manual;
    backup_options.databases = plan_options.databases.clone();
    let progress = progress_printer();
    let report = backup_platform(store.clone(), &source, &backup_options, Some(&progress))?;
    print_backup_report(&report);

    // 5. Verify.
    section("5. verify");
    let verified = verify_set(store.as_ref(), &report.set_id)?;
    println!(
        "  set {}: {}, {} artifact(s), {} read and hashed",
        verified.set_id,
        if verified.ok { "ok" } else { "DAMAGED" },
        verified.artifacts.len(),
        size(verified.bytes_checked)
    );
    if !verified.ok {
        return Err(format!("verify found damage in set {}", report.set_id).into());
    }

    // 6. Restore into fresh targets.
    section(&format!(
        "6. restore into {} and `*{RESTORED_SUFFIX}` databases",
        restored.display()
    ));
    let destination = RestoreDestination::new(&restored, Some(target.clone()));
    let mut restore_options = PlatformRestoreOptions::default();
    restore_options.databases = databases
        .iter()
        .map(|d| (d.clone(), format!("{d}{RESTORED_SUFFIX}")))
        .collect();
    restore_options.with_globals = true;
    let restore_plan = plan_platform_restore(
        store.as_ref(),
        &report.set_id,
        &destination,
        &restore_options,
    )?;
    println!("  plan:");
    let width = restore_plan
        .items
        .iter()
        .map(|i| i.artifact.len())
        .max()
        .unwrap_or(0);
    for item in &restore_plan.items {
        println!(
            "    {:<7} {:<width$}  → {}{}",
            item.action.as_str(),
            item.artifact,
            item.destination,
            item.note
                .as_deref()
                .map(|n| format!(" — {n}"))
                .unwrap_or_default()
        );
    }
    for note in &restore_plan.notes {
        println!("    note: {note}");
    }
    let restore_report = restore_plan.apply(store.as_ref(), Some(&progress))?;
    println!(
        "  restored {} item(s), {} read, in {:.2} s:",
        restore_report.items.len(),
        size(restore_report.bytes_read),
        restore_report.duration.as_secs_f64()
    );
    for item in &restore_report.items {
        println!("    {:<width$}  {}", item.artifact, item.verified);
    }
    for note in &restore_report.notes {
        println!("    note: {note}");
    }

    // 7. Compare.
    section("7. compare the originals with what came back");
    let compare = Compare {
        store: &store,
        set_id: &report.set_id,
        target,
        cluster: &cluster,
        restored: &restored,
    };
    let differences = compare.all(&report)?;
    let elapsed = started.elapsed();
    println!(
        "\n(left for a look: {}/ with cluster/, store/, restored/ and plan.dot)",
        work.display()
    );
    if differences.is_empty() {
        println!(
            "demo: {} artifacts backed up, restored and compared equal in {:.1} s",
            report.artifacts.len(),
            elapsed.as_secs_f64()
        );
    }
    Ok(Outcome {
        artifacts: report.artifacts.len(),
        differences,
    })
}

fn section(title: &str) {
    println!("\n== {title}");
}

fn indent(text: &str) -> String {
    text.lines().fold(String::new(), |mut out, line| {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "  {line}");
        }
        out
    })
}

/// `1.2 KiB`, `3.4 MiB`.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = "KiB";
    for u in UNITS.iter().skip(1) {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    format!("{value:.1} {unit}")
}

/// Removes an earlier run's work folder (or an empty one) and makes it again, marked.
fn fresh_work_folder(work: &Path) -> DemoResult<()> {
    match fs::symlink_metadata(work) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
        Ok(meta) => {
            // Cargo's output folder is disposable; anywhere else, only the demo's own.
            let build_output = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
            let in_build_output = match (fs::canonicalize(work), fs::canonicalize(build_output)) {
                (Ok(w), Ok(t)) => w.starts_with(&t) && w != t,
                _ => false,
            };
            let ours = meta.is_dir()
                && (work.join(MARKER).is_file()
                    || in_build_output
                    || fs::read_dir(work)?.next().is_none());
            if !ours {
                return Err(format!(
                    "`{}` exists and is not a demo work folder (no `{MARKER}` in it, not \
                     below the workspace's `target/`): refusing to remove it; give a new or \
                     empty folder",
                    work.display()
                )
                .into());
            }
            fs::remove_dir_all(work)?;
            println!("  removed the earlier run's {}", work.display());
        }
    }
    fs::create_dir_all(work)?;
    fs::write(
        work.join(MARKER),
        "a continuum-backup demo work folder: the next demo run removes it\n",
    )?;
    Ok(())
}

/// Copies `cluster.conf`, the Terraform files and `policy/*.pol`; returns what it copied.
fn copy_cluster_files(fixture: &Path, cluster: &Path) -> DemoResult<Vec<String>> {
    fs::create_dir_all(cluster.join("policy"))?;
    let mut copied = Vec::new();
    for (from, to) in [
        (fixture, cluster),
        (&fixture.join("policy"), &cluster.join("policy")),
    ] {
        let mut names: Vec<String> = fs::read_dir(from)?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<Result<_, _>>()?;
        names.sort();
        for name in names {
            let wanted = name == "cluster.conf"
                || name.ends_with(".tf")
                || name.ends_with(".tfvars")
                || name.ends_with(".pol");
            if wanted && from.join(&name).is_file() {
                fs::copy(from.join(&name), to.join(&name))?;
                copied.push(if to == cluster {
                    name
                } else {
                    format!("policy/{name}")
                });
            }
        }
    }
    Ok(copied)
}

/// Builds the job-data registry `<cluster>/jobdata` from `jobdata-src`: one package per
/// entry of `packages.json` (its folder packed into one deterministic gzip tarball), then
/// the jobs of `jobs.json` with their `"@<package FQN>"` placeholders replaced by the
/// packages' ids. Returns the objects' FQNs.
fn build_job_data(src: &Path, cluster: &Path, layers: &Path) -> DemoResult<Vec<String>> {
    let registry = FolderRegistry::for_cluster(cluster)?;
    fs::create_dir_all(layers)?;
    let packages: serde_json::Value =
        serde_json::from_slice(&fs::read(src.join("packages.json"))?)?;
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let mut made = Vec::new();
    for p in packages
        .get("packages")
        .and_then(serde_json::Value::as_array)
        .ok_or("packages.json: no `packages` array")?
    {
        let field = |key: &str| -> DemoResult<&str> {
            p.get(key)
                .and_then(serde_json::Value::as_str)
                .ok_or_else(|| format!("packages.json: a package without `{key}`").into())
        };
        let list = |key: &str| -> DemoResult<Vec<Dependency>> {
            p.get(key)
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .map(|d| {
                    d.as_str()
                        .and_then(Dependency::parse)
                        .ok_or_else(|| format!("packages.json: bad `{key}` entry {d}").into())
                })
                .collect()
        };
        let name = field("name")?;
        let layer = layers.join(format!("{name}.tar.gz"));
        pack_folder(&src.join(field("files")?), &layer)?;
        let mut spec = PackageSpec::new(name, vec![layer])?;
        spec.namespace = Namespace::parse(field("namespace")?)?;
        spec.provides = list("provides")?;
        spec.depends = list("depends")?;
        if let Some(env) = p.get("environment").and_then(serde_json::Value::as_object) {
            for (k, v) in env {
                let v = v
                    .as_str()
                    .ok_or_else(|| format!("packages.json: `{k}` is not a string"))?;
                spec.environment.insert(k.clone(), v.to_string());
            }
        }
        let package = package_from_files(&registry, &spec)?;
        let fqn = package.fqn.to_string();
        if fqn != field("fqn")? {
            return Err(
                format!("packages.json: made `{fqn}`, expected `{}`", field("fqn")?).into(),
            );
        }
        let uuid = package
            .uuid
            .clone()
            .ok_or_else(|| format!("package `{fqn}` got no id"))?;
        ids.insert(format!("@{fqn}"), uuid);
        made.push(fqn);
    }
    let jobs: Vec<serde_json::Value> = serde_json::from_slice(&fs::read(src.join("jobs.json"))?)?;
    for mut job in jobs {
        for package in job
            .get_mut("packages")
            .and_then(serde_json::Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(uuid) = package.get_mut("uuid") {
                let placeholder = uuid.as_str().unwrap_or_default();
                if placeholder.starts_with('@') {
                    let id = ids.get(placeholder).ok_or_else(|| {
                        format!("jobs.json: `{placeholder}` names no package of packages.json")
                    })?;
                    *uuid = serde_json::Value::String(id.clone());
                }
            }
        }
        let object = create_object(&registry, &job)?;
        made.push(object.fqn().to_string());
    }
    Ok(made)
}

/// Packs a folder into a deterministic gzip tarball: names sorted, owner 0, time 0.
fn pack_folder(dir: &Path, to: &Path) -> DemoResult<()> {
    let gz = flate2::GzBuilder::new().write(File::create(to)?, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    let mut entries = Vec::new();
    while let Some((path, name)) = stack.pop() {
        let mut children: Vec<(PathBuf, String)> = fs::read_dir(&path)?
            .map(|e| {
                e.map(|e| {
                    let child = e.file_name().to_string_lossy().into_owned();
                    (e.path(), format!("{name}{child}"))
                })
            })
            .collect::<Result<_, _>>()?;
        children.sort();
        for (path, name) in children {
            let meta = fs::symlink_metadata(&path)?;
            if meta.is_dir() {
                stack.push((path.clone(), format!("{name}/")));
                entries.push((path, format!("{name}/"), meta));
            } else if meta.is_file() {
                entries.push((path, name, meta));
            } else {
                return Err(
                    format!("{}: only files and folders are packed", path.display()).into(),
                );
            }
        }
    }
    entries.sort_by(|a, b| a.1.cmp(&b.1));
    for (path, name, meta) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_metadata_in_mode(&meta, tar::HeaderMode::Deterministic);
        header.set_mtime(0);
        if meta.is_dir() {
            tar.append_data(&mut header, &name, io::empty())?;
        } else {
            tar.append_data(&mut header, &name, File::open(&path)?)?;
        }
    }
    tar.into_inner()?.finish()?.sync_all()?;
    Ok(())
}

/// Drops what an earlier run left (the database and its restored copy), creates the
/// database and loads its seed; returns its tables and rows in words.
fn seed_database(target: &PgTarget, database: &str, seed: &Path) -> DemoResult<String> {
    if !seed.is_file() {
        return Err(format!("no seed for database `{database}`: {}", seed.display()).into());
    }
    target.drop_database(&format!("{database}{RESTORED_SUFFIX}"))?;
    target.drop_database(database)?;
    target.create_database(database)?;
    let on = target.with_database(database);
    let mut psql = on.command("psql");
    psql.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(on.dbname_arg())
        .arg("-f")
        .arg(seed)
        .stdin(Stdio::null());
    let out = psql
        .output()
        .map_err(|e| format!("run {}: {e}", pg_program("psql").display()))?;
    if !out.status.success() {
        return Err(format!(
            "psql -f {}: {}: {}",
            seed.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    let counts = target.row_counts(database)?;
    Ok(format!(
        "{} tables, {} rows",
        counts.len(),
        counts.values().sum::<u64>()
    ))
}

fn has_graphviz() -> bool {
    Command::new("dot")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A progress callback that prints a compact line now and then: at most every second, and
/// at the end.
fn progress_printer() -> impl Fn(&Progress) + Send + Sync {
    let last: Mutex<Option<Instant>> = Mutex::new(None);
    move |p: &Progress| {
        let mut last = last.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let due = last.is_none_or(|l| now.duration_since(l) >= Duration::from_secs(1));
        if !(due || p.finished) {
            return;
        }
        *last = Some(now);
        let mut line = format!(
            "  [{}] {}/{} artifacts, {}",
            p.operation,
            p.artifacts_done,
            p.artifacts_total,
            size(p.bytes_done),
        );
        if p.finished {
            let _ = write!(
                line,
                " in {:.2} s ({}/s)",
                p.elapsed.as_secs_f64(),
                size(p.bytes_per_second as u64)
            );
        } else {
            let _ = write!(
                line,
                " of ~{} (estimated), {}/s",
                size(p.bytes_total),
                size(p.bytes_per_second as u64)
            );
            if let Some(eta) = p.eta {
                let _ = write!(line, ", ~{:.0} s left", eta.as_secs_f64().ceil());
            }
            if !p.current.is_empty() {
                let _ = write!(line, ", now: {}", p.current.join(", "));
            }
        }
        println!("{line}");
    }
}

fn print_backup_report(report: &PlatformBackupReport) {
    println!(
        "  set {} committed to {} in {:.2} s ({} artifacts at once)",
        report.set_id,
        report.store,
        report.duration.as_secs_f64(),
        report.parallel
    );
    let width = report
        .artifacts
        .iter()
        .map(|a| a.name.len())
        .max()
        .unwrap_or(0);
    println!(
        "    {:<width$}  {:>10}  {:>10}  {:>7}  COMPONENT",
        "ARTIFACT", "STORED", "READ", "TIME"
    );
    for a in &report.artifacts {
        println!(
            "    {:<width$}  {:>10}  {:>10}  {:>5.2} s  {}",
            a.name,
            size(a.size),
            size(a.source_bytes),
            a.duration.as_secs_f64(),
            a.component
        );
    }
    println!(
        "    {} artifacts: {} stored from {} read",
        report.artifacts.len(),
        size(report.bytes_stored),
        size(report.bytes_read)
    );
    if report.redacted_secrets.is_empty() {
        println!("  secrets redacted: none");
    } else {
        println!(
            "  secrets redacted in cluster.conf ({}): {}",
            report.redacted_secrets.len(),
            report.redacted_secrets.join(", ")
        );
    }
    println!("  not backed up, and why:");
    for c in report
        .plan
        .components
        .iter()
        .filter(|c| c.coverage != Coverage::BackedUp)
    {
        println!(
            "    {:<18} {:<13} {}",
            c.component,
            c.coverage.as_str(),
            c.reason
        );
    }
    for w in &report.warnings {
        println!("  warning: {w}");
    }
}

/// Compares what was backed up with what came back.
struct Compare<'a> {
    store: &'a DynStore,
    set_id: &'a str,
    target: &'a PgTarget,
    cluster: &'a Path,
    restored: &'a Path,
}

impl Compare<'_> {
    /// One line per artifact; returns the differences.
    fn all(&self, report: &PlatformBackupReport) -> DemoResult<Vec<String>> {
        let mut differences = Vec::new();
        let width = report
            .artifacts
            .iter()
            .map(|a| a.name.len())
            .max()
            .unwrap_or(0);
        for artifact in &report.artifacts {
            let name = artifact.name.as_str();
            let result = if name == PLATFORM_GLOBALS_ARTIFACT {
                self.globals(name)
            } else if let Some(db) = name
                .strip_prefix(DATABASE_PREFIX)
                .and_then(|n| n.strip_suffix(".dump.zst"))
            {
                self.database(db)
            } else if name == JOB_DATA_ARTIFACT {
                self.job_data()
            } else if let Some(file) = name.strip_prefix(INSTALLATION_PREFIX) {
                self.file(file, report)
            } else if name.starts_with(POLICY_PREFIX) {
                self.file(name, report)
            } else {
                Err("an artifact the demo does not know how to compare".into())
            };
            match result {
                Ok(how) => println!("  {name:<width$}  equal {how}"),
                Err(e) => {
                    let e = error_chain(e.as_ref());
                    println!("  {name:<width$}  NOT EQUAL: {e}");
                    differences.push(format!("{name}: {e}"));
                }
            }
        }
        // Every file of the cluster folder went into the set, and nothing else came back.
        let original = files_below(self.cluster, "jobdata")?;
        let came_back = files_below(self.restored, "jobdata")?;
        if original == came_back {
            println!(
                "  (the cluster folder and the restored one hold the same {} files, job data aside)",
                original.len()
            );
        } else {
            let missing: Vec<_> = original.difference(&came_back).cloned().collect();
            let extra: Vec<_> = came_back.difference(&original).cloned().collect();
            let d = format!(
                "the restored folder lacks [{}] and has extra [{}]",
                missing.join(", "),
                extra.join(", ")
            );
            println!("  NOT EQUAL: {d}");
            differences.push(d);
        }
        Ok(differences)
    }

    /// A file byte for byte; `cluster.conf` against the original with its secrets redacted.
    fn file(&self, relative: &str, report: &PlatformBackupReport) -> DemoResult<String> {
        let original = fs::read(self.cluster.join(relative))?;
        let back = fs::read(self.restored.join(relative))?;
        if relative == "cluster.conf" {
            let text = String::from_utf8(original)?;
            let redacted = redact_secrets(&text, relative)?;
            if back != redacted.text.as_bytes() {
                return Err("differs from the original with its secrets redacted".into());
            }
            if redacted.redacted != report.redacted_secrets {
                return Err(format!(
                    "the backup redacted [{}], the original has secrets [{}]",
                    report.redacted_secrets.join(", "),
                    redacted.redacted.join(", ")
                )
                .into());
            }
            let changed = text.as_bytes() != back.as_slice();
            return Ok(format!(
                "({} secrets redacted as planned{})",
                redacted.redacted.len(),
                if changed || redacted.redacted.is_empty() {
                    ""
                } else {
                    ", yet the text is unchanged"
                }
            ));
        }
        if original != back {
            return Err(format!(
                "{} bytes came back for {} (first difference at byte {})",
                back.len(),
                original.len(),
                original
                    .iter()
                    .zip(&back)
                    .position(|(a, b)| a != b)
                    .unwrap_or(original.len().min(back.len()))
            )
            .into());
        }
        Ok(format!("({} bytes)", original.len()))
    }

    /// The same objects, the same JSON, the same resources in both registries.
    fn job_data(&self) -> DemoResult<String> {
        let a = FolderRegistry::for_cluster(self.cluster)?;
        let b = FolderRegistry::for_cluster(self.restored)?;
        let (fa, fb) = (a.list(None)?, b.list(None)?);
        if fa != fb {
            let names = |l: &[continuum_core::Fqn]| {
                l.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(format!("objects [{}] came back as [{}]", names(&fa), names(&fb)).into());
        }
        let mut resources = 0;
        for fqn in &fa {
            let (Some(oa), Some(ob)) = (a.get(fqn)?, b.get(fqn)?) else {
                return Err(format!("`{fqn}` is listed but cannot be read").into());
            };
            if serde_json::to_value(&oa)? != serde_json::to_value(&ob)? {
                return Err(format!(
                    "`{fqn}` came back different:\n    was {}\n    is  {}",
                    serde_json::to_string(&oa)?,
                    serde_json::to_string(&ob)?
                )
                .into());
            }
            if let Object::Package(p) = &oa {
                for r in &p.resources {
                    for (registry, which) in [(&a, "original"), (&b, "restored")] {
                        let (digest, _) = digest_reader(registry.open_resource(&r.digest)?)?;
                        if digest != r.digest {
                            return Err(format!(
                                "`{fqn}`: the {which} resource {} reads as {digest}",
                                r.digest
                            )
                            .into());
                        }
                    }
                    resources += 1;
                }
            }
        }
        Ok(format!(
            "({} objects: {}; {resources} resources, SHA-256 checked)",
            fa.len(),
            fa.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }

    /// The database and its restored copy: every table's content digest, every relation,
    /// index, sequence value and enum, as the server computes them.
    fn database(&self, database: &str) -> DemoResult<String> {
        let copy = format!("{database}{RESTORED_SUFFIX}");
        let a = database_digest(self.target, database)?;
        let b = database_digest(self.target, &copy)?;
        if a != b {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            let differing: Vec<String> = keys
                .into_iter()
                .filter(|k| a.get(*k) != b.get(*k))
                .take(5)
                .cloned()
                .collect();
            return Err(format!("`{copy}` differs in {}", differing.join(", ")).into());
        }
        let rows: u64 = self.target.row_counts(database)?.values().sum();
        let tables = a.keys().filter(|k| k.starts_with("table ")).count();
        Ok(format!(
            "→ `{copy}` ({tables} tables, {rows} rows, {} schema objects; digests by the server)",
            a.len() - tables
        ))
    }

    /// The roles: the server's roles after the restore dump as the set's do.
    fn globals(&self, name: &str) -> DemoResult<String> {
        let manifest = load_manifest(self.store.as_ref(), self.set_id)?;
        let mut stored = String::new();
        zstd::stream::read::Decoder::new(open_artifact(self.store.as_ref(), &manifest, name)?)?
            .read_to_string(&mut stored)?;
        let mut cmd = self.target.command("pg_dumpall");
        cmd.arg("--globals-only")
            .arg("-l")
            .arg(self.target.dbname_arg())
            .stdin(Stdio::null());
        let out = cmd.output()?;
        if !out.status.success() {
            return Err(format!(
                "pg_dumpall --globals-only: {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )
            .into());
        }
        let now = String::from_utf8(out.stdout)?;
        // Comments and the `\restrict KEY` lines (a random key per dump, since PostgreSQL
        // 17.6, 16.10, 15.14 …) aside.
        let statements = |s: &str| -> Vec<String> {
            s.lines()
                .filter(|l| {
                    !(l.starts_with("--")
                        || l.starts_with("\\restrict ")
                        || l.starts_with("\\unrestrict ")
                        || l.trim().is_empty())
                })
                .map(str::to_string)
                .collect()
        };
        if statements(&stored) != statements(&now) {
            return Err("the server's roles and tablespaces differ from the set's".into());
        }
        let roles = statements(&stored)
            .iter()
            .filter(|l| l.starts_with("CREATE ROLE"))
            .count();
        Ok(format!(
            "({roles} role(s): the server's roles after the restore are the set's)"
        ))
    }
}

/// Files below `dir` as relative paths, the folder `skip` (and the demo's marker) aside.
fn files_below(dir: &Path, skip: &str) -> DemoResult<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, prefix)) = stack.pop() {
        for entry in fs::read_dir(&path)? {
            let entry = entry?;
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if name == skip {
                continue;
            }
            if entry.file_type()?.is_dir() {
                stack.push((entry.path(), format!("{name}/")));
            } else {
                out.insert(name);
            }
        }
    }
    Ok(out)
}

/// What a database holds, as the server computes it: `table s.t` → an MD5 of its rows in
/// order, `relation s.x` → its kind (and a view's definition), `index s.i` → its
/// definition, `sequence s.q` → its last value, `enum s.e` → its labels.
fn database_digest(target: &PgTarget, database: &str) -> DemoResult<BTreeMap<String, String>> {
    let mut config = postgres::Config::new();
    config
        .host(&target.host)
        .port(target.port)
        .user(&target.user)
        .dbname(database)
        .application_name("continuum-backup demo")
        .connect_timeout(Duration::from_secs(30));
    if let Some(pw) = &target.password {
        config.password(pw.expose());
    }
    let mut client = config
        .connect(postgres::NoTls)
        .map_err(|e| format!("connect to `{database}`: {e}"))?;
    // User schemas: not `information_schema`, not `pg_catalog`, `pg_toast`, `pg_temp_N` …
    let user =
        |column: &str| format!("{column} <> 'information_schema' AND {column} NOT LIKE 'pg\\_%'");
    let mut out = BTreeMap::new();
    let objects = client.query(
        &format!(
            "SELECT 'relation ' || n.nspname || '.' || c.relname, \
                    c.relkind::text || CASE WHEN c.relkind IN ('v', 'm') \
                      THEN ' ' || pg_get_viewdef(c.oid) ELSE '' END \
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
              WHERE {} AND c.relkind <> 'i' \
             UNION ALL \
             SELECT 'index ' || schemaname || '.' || indexname, indexdef FROM pg_indexes \
              WHERE {} \
             UNION ALL \
             SELECT 'sequence ' || schemaname || '.' || sequencename, \
                    coalesce(last_value::text, 'not called') FROM pg_sequences \
              WHERE {} \
             UNION ALL \
             SELECT 'enum ' || n.nspname || '.' || t.typname, \
                    string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) \
               FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
               JOIN pg_enum e ON e.enumtypid = t.oid \
              WHERE {} GROUP BY 1",
            user("n.nspname"),
            user("schemaname"),
            user("schemaname"),
            user("n.nspname"),
        ),
        &[],
    )?;
    for row in objects {
        out.insert(row.try_get(0)?, row.try_get(1)?);
    }
    let tables: Vec<(String, String)> = client
        .query(
            &format!(
                "SELECT schemaname::text, tablename::text FROM pg_tables WHERE {} ORDER BY 1, 2",
                user("schemaname")
            ),
            &[],
        )?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, postgres::Error>>()?;
    for (schema, table) in tables {
        let quoted = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let digest: String = client
            .query_one(
                &format!(
                    "SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), 'empty') \
                       FROM {}.{} t",
                    quoted(&schema),
                    quoted(&table)
                ),
                &[],
            )?
            .try_get(0)?;
        out.insert(format!("table {schema}.{table}"), digest);
    }
    Ok(out)
}
