//! Database backups: `pg_dump` streamed through zstd into a backup set, and the restore that
//! plans, applies and then proves itself by the row counts recorded at dump time.
//!
//! A dump is never held whole, in memory or on disk: `pg_dump` writes into a pipe, a thread
//! compresses (zstd, several workers) into a bounded queue of chunks, and the store's `put`
//! reads from the queue, hashing as it goes. `pg_dump`'s exit status is checked at the end of
//! its output, before the artifact counts; any failure leaves the set uncommitted.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::Scope;

use continuum_core::{
    Artifact, ArtifactDetails, ArtifactSpec, Compression, DataKind, DynStore, Manifest, Reason,
    SetOptions, SetWriter, Store, load_manifest, open_artifact,
};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::pg::{ChildReader, DatabaseInfo, PgTarget, StagingDatabase, error_from_io, feed_child};

/// The artifact holding roles and tablespaces (`pg_dumpall --globals-only`).
pub const GLOBALS_ARTIFACT: &str = "globals.sql.zst";

/// The component databases are filed under unless the options name another.
pub const DEFAULT_DB_COMPONENT: &str = "postgresql";

/// Compressed bytes per chunk handed from the compressor to the store.
const CHUNK: usize = 1 << 20;
/// Chunks waiting for the store at most: with [`CHUNK`], what a dump holds in memory.
const QUEUE: usize = 8;

/// The artifact name of a database's dump.
pub fn dump_artifact_name(database: &str) -> String {
    format!("{database}.dump.zst")
}

/// Options of [`backup_databases`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct DbBackupOptions {
    /// Why the set is made.
    pub reason: Reason,
    /// The cluster, recorded in the manifest.
    pub cluster_name: Option<String>,
    /// The component the artifacts are filed under.
    pub component: String,
    /// Also save roles and tablespaces (`pg_dumpall --globals-only`, which needs a superuser).
    pub with_globals: bool,
    /// The zstd level (1–19; 3 is zstd's own default).
    pub zstd_level: i32,
    /// zstd worker threads per dump; 0 picks the number of CPUs.
    pub threads: u32,
    /// Databases dumped at once; 0 means 1.
    pub parallel: usize,
}

impl Default for DbBackupOptions {
    fn default() -> Self {
        Self {
            reason: Reason::default(),
            cluster_name: None,
            component: DEFAULT_DB_COMPONENT.to_string(),
            with_globals: true,
            zstd_level: 3,
            threads: 0,
            parallel: 4,
        }
    }
}

impl DbBackupOptions {
    /// Default options with a reason.
    pub fn new(reason: Reason) -> Self {
        Self {
            reason,
            ..Self::default()
        }
    }

    fn workers(&self) -> u32 {
        if self.threads > 0 {
            return self.threads;
        }
        std::thread::available_parallelism()
            .map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX))
    }
}

/// Every database of a server, as `psql -l` lists them.
pub fn list_databases(target: &PgTarget) -> Result<Vec<DatabaseInfo>> {
    target.list_databases()
}

/// Backs up `databases` of the server `target` points at into one new backup set, and
/// commits it.
///
/// Per database: artifact `<db>.dump.zst`, `pg_dump -Fc -Z0` compressed with zstd, with the
/// database name, the server version and the exact row count of every table. The counts and
/// the dump come from one snapshot: a REPEATABLE READ transaction exports it, counts, and
/// stays open until `pg_dump --snapshot` has finished, so they agree whatever writes go on.
/// With `with_globals`, `globals.sql.zst` holds `pg_dumpall --globals-only`.
///
/// Databases are dumped in parallel (`options.parallel` at once). Any failure (a missing
/// database, `pg_dump` failing or killed, the store) leaves no set behind and names the
/// database concerned.
pub fn backup_databases(
    store: DynStore,
    target: &PgTarget,
    databases: &[String],
    options: &DbBackupOptions,
) -> Result<Manifest> {
    check_database_list(databases)?;
    let server_version = target.server_version()?;
    let mut set_options = SetOptions::new(options.reason);
    set_options.cluster_name = options.cluster_name.clone();
    let writer = SetWriter::begin(store, set_options)?;
    let mut jobs: Vec<Job<'_>> = databases.iter().map(|d| Job::Database(d)).collect();
    if options.with_globals {
        jobs.push(Job::Globals);
    }
    let outcome = run_jobs(
        &jobs,
        options.parallel.max(1),
        "dump worker",
        |job| match job {
            Job::Database(db) => {
                let name = dump_artifact_name(db);
                let dump = Dump::new(&name, &options.component);
                dump_database(&writer, target, db, &server_version, options, &dump).map_err(|e| {
                    Error::Database {
                        database: (*db).to_string(),
                        source: Box::new(e),
                    }
                })
            }
            Job::Globals => dump_globals(
                &writer,
                target,
                options,
                &Dump::new(GLOBALS_ARTIFACT, &options.component),
            ),
        },
    );
    match outcome {
        // Dropped uncommitted, the writer removes what it wrote (and `prune` whatever a
        // crash left), so no partial set is ever listed.
        Err(e) => {
            drop(writer);
            Err(e)
        }
        Ok(_artifacts) => Ok(writer.commit()?),
    }
}

fn check_database_list(databases: &[String]) -> Result<()> {
    if databases.is_empty() {
        return Err(continuum_core::Error::InvalidInput {
            what: "database list",
            value: String::new(),
            reason: "name at least one database".to_string(),
        }
        .into());
    }
    for (i, db) in databases.iter().enumerate() {
        if databases.iter().skip(i + 1).any(|other| other == db) {
            return Err(continuum_core::Error::InvalidInput {
                what: "database list",
                value: db.clone(),
                reason: "named twice".to_string(),
            }
            .into());
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Job<'a> {
    Database(&'a str),
    Globals,
}

/// Runs `work` over `jobs` with `parallel` threads named `<what> N`; after a failure no new
/// job starts. The error of the first job (in list order) that failed is returned; the
/// results come in list order.
pub(crate) fn run_jobs<J: Sync, T: Send>(
    jobs: &[J],
    parallel: usize,
    what: &str,
    work: impl Fn(&J) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let worker = || {
        let mut done = Vec::new();
        while !failed.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = jobs.get(i) else { break };
            let result = work(job);
            if result.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            done.push((i, result));
        }
        done
    };
    let mut results: Vec<(usize, Result<T>)> = std::thread::scope(|s| {
        let handles = (0..parallel.min(jobs.len()).max(1))
            .map(|n| {
                std::thread::Builder::new()
                    .name(format!("{what} {n}"))
                    .spawn_scoped(s, worker)
                    .map_err(|source| Error::Spawn {
                        program: format!("a {what} thread"),
                        source,
                    })
            })
            .collect::<Vec<_>>();
        let mut results = Vec::new();
        for handle in handles {
            match handle {
                Ok(h) => results.extend(
                    h.join()
                        .unwrap_or_else(|_| vec![(usize::MAX, Err(thread_died(what)))]),
                ),
                Err(e) => results.push((usize::MAX, Err(e))),
            }
        }
        results
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

fn thread_died(what: &str) -> Error {
    Error::Stream {
        action: format!("run {what}"),
        source: io::Error::other("the thread panicked"),
    }
}

/// Where a dump goes in a set, and who hears of its progress.
pub(crate) struct Dump<'a> {
    /// The artifact name.
    pub(crate) name: &'a str,
    /// The component it is filed under.
    pub(crate) component: &'a str,
    /// Called with the number of bytes the program wrote, as they come.
    pub(crate) on_bytes: Option<&'a (dyn Fn(u64) + Sync)>,
}

impl<'a> Dump<'a> {
    pub(crate) fn new(name: &'a str, component: &'a str) -> Self {
        Self {
            name,
            component,
            on_bytes: None,
        }
    }
}

pub(crate) fn dump_database(
    writer: &SetWriter,
    target: &PgTarget,
    database: &str,
    server_version: &str,
    options: &DbBackupOptions,
    to: &Dump<'_>,
) -> Result<Artifact> {
    let db_target = target.with_database(database);
    let mut session = db_target.connect()?;
    let snapshot = session.export_snapshot()?;
    let mut cmd = db_target.command("pg_dump");
    // -Z0: zstd compresses far better and faster than pg_dump's own gzip, and in parallel.
    cmd.args(["-Fc", "-Z0"])
        .arg(format!("--snapshot={}", snapshot.id()))
        .arg("-d")
        .arg(db_target.dbname_arg());
    let dump = ChildReader::spawn(cmd)?.redacting(target.secrets());
    let snapshot_id = snapshot.id().to_string();
    let details = |row_counts| ArtifactDetails::Database {
        database: database.to_string(),
        server_version: server_version.to_string(),
        row_counts,
    };
    let artifact = std::thread::scope(|s| {
        let (queue, received) = sync_channel(QUEUE);
        let producer = spawn_compressor(s, dump, queue, options, to.on_bytes)?;
        // The rows are counted on a second connection that imports the same snapshot, beside
        // the dump rather than before it: a full scan of each table costs as much as dumping it.
        let counter = s.spawn(|| db_target.connect()?.count_rows_in(&snapshot_id));
        let spec = ArtifactSpec::new(DataKind::Cluster, to.component, to.name)
            .compression(Compression::Zstd)
            .details(details(BTreeMap::new()));
        let added = writer
            .add(spec, &mut ChunkReader::new(received))
            .map_err(Error::from);
        let counted = counter.join().map_err(|_| thread_died("the row count"));
        let added = settle(added, producer.join())?;
        let row_counts = counted??;
        writer.set_details(&added.name, details(row_counts.clone()))?;
        let mut artifact = added;
        artifact.details = details(row_counts);
        Ok::<_, Error>(artifact)
    })?;
    // Only now may the snapshot go: pg_dump has finished with it.
    snapshot.finish()?;
    Ok(artifact)
}

pub(crate) fn dump_globals(
    writer: &SetWriter,
    target: &PgTarget,
    options: &DbBackupOptions,
    to: &Dump<'_>,
) -> Result<Artifact> {
    let mut cmd = target.command("pg_dumpall");
    cmd.arg("--globals-only").arg("-l").arg(target.dbname_arg());
    let dump = ChildReader::spawn(cmd)?.redacting(target.secrets());
    std::thread::scope(|s| {
        let (queue, received) = sync_channel(QUEUE);
        let producer = spawn_compressor(s, dump, queue, options, to.on_bytes)?;
        let spec = ArtifactSpec::new(DataKind::Cluster, to.component, to.name)
            .compression(Compression::Zstd);
        let added = writer
            .add(spec, &mut ChunkReader::new(received))
            .map_err(Error::from);
        settle(added, producer.join())
    })
}

/// The outcome of a streamed artifact: the compressor's failure is the cause when there is
/// one (the store only saw the stream break); otherwise the store's.
fn settle(
    added: Result<Artifact>,
    produced: std::thread::Result<std::result::Result<(), Produce>>,
) -> Result<Artifact> {
    match produced {
        Ok(Err(Produce::Failed(e))) => Err(e),
        Err(_) => Err(thread_died("the compressor")),
        Ok(Ok(())) | Ok(Err(Produce::ConsumerGone)) => added,
    }
}

/// A chunk on its way from the compressor to the store.
enum Chunk {
    Data(Vec<u8>),
    /// The stream is complete and the program succeeded.
    End,
    /// The stream failed; the message of the compressor's error.
    Failed(String),
}

/// Why the compressor stopped early.
enum Produce {
    /// The reading side went away (the store failed, or the rows could not be counted).
    ConsumerGone,
    /// The program or the compression failed.
    Failed(Error),
}

/// Marks the write error of a queue whose reader is gone.
#[derive(Debug, thiserror::Error)]
#[error("the reader of the stream went away")]
struct ConsumerGone;

fn spawn_compressor<'scope>(
    s: &'scope Scope<'scope, '_>,
    source: ChildReader,
    queue: SyncSender<Chunk>,
    options: &DbBackupOptions,
    on_bytes: Option<&'scope (dyn Fn(u64) + Sync)>,
) -> Result<std::thread::ScopedJoinHandle<'scope, std::result::Result<(), Produce>>> {
    let level = options.zstd_level;
    let workers = options.workers();
    let program = source.program().to_string();
    std::thread::Builder::new()
        .name(format!("{program} zstd"))
        .spawn_scoped(s, move || compress(source, queue, level, workers, on_bytes))
        .map_err(|source| Error::Spawn {
            program: format!("{program} (its compressor thread)"),
            source,
        })
}

/// Compresses `source` into the queue; tells the reader how it ended.
fn compress(
    mut source: ChildReader,
    queue: SyncSender<Chunk>,
    level: i32,
    workers: u32,
    on_bytes: Option<&(dyn Fn(u64) + Sync)>,
) -> std::result::Result<(), Produce> {
    let program = source.program().to_string();
    let result = compress_into(&mut source, &queue, level, workers, &program, on_bytes);
    match &result {
        Ok(()) => {
            // A reader gone by now has failed on its own; its error is the one reported.
            let _ = queue.send(Chunk::End);
        }
        Err(Produce::Failed(e)) => {
            let _ = queue.send(Chunk::Failed(e.to_string()));
        }
        Err(Produce::ConsumerGone) => {}
    }
    // Dropping the source here kills the program when it has not finished.
    result
}

fn compress_into(
    source: &mut ChildReader,
    queue: &SyncSender<Chunk>,
    level: i32,
    workers: u32,
    program: &str,
    on_bytes: Option<&(dyn Fn(u64) + Sync)>,
) -> std::result::Result<(), Produce> {
    let sink_error = |e: io::Error| {
        if e.get_ref().is_some_and(|inner| inner.is::<ConsumerGone>()) {
            Produce::ConsumerGone
        } else {
            Produce::Failed(Error::Stream {
                action: format!("compress the output of `{program}`"),
                source: e,
            })
        }
    };
    let mut encoder = zstd::stream::write::Encoder::new(ChunkWriter::new(queue.clone()), level)
        .map_err(sink_error)?;
    encoder.multithread(workers).map_err(sink_error)?;
    // A frame checksum lets a restore notice damage even without the manifest's SHA-256.
    encoder.include_checksum(true).map_err(sink_error)?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match source.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Produce::Failed(error_from_io(
                    e,
                    &format!("read the output of `{program}`"),
                )));
            }
        };
        encoder
            .write_all(buf.get(..n).unwrap_or_default())
            .map_err(sink_error)?;
        if let Some(report) = on_bytes {
            report(n as u64);
        }
    }
    let mut writer = encoder.finish().map_err(sink_error)?;
    writer.flush().map_err(sink_error)
}

/// Gathers compressed bytes into chunks for the queue.
struct ChunkWriter {
    queue: SyncSender<Chunk>,
    buf: Vec<u8>,
}

impl ChunkWriter {
    fn new(queue: SyncSender<Chunk>) -> Self {
        Self {
            queue,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.queue
            .send(Chunk::Data(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, ConsumerGone))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// The store's end of the queue: a [`Read`] that fails with the compressor's error, and
/// fails too when the compressor vanished without saying the stream was complete.
struct ChunkReader {
    queue: Receiver<Chunk>,
    current: Vec<u8>,
    pos: usize,
    ended: bool,
}

impl ChunkReader {
    fn new(queue: Receiver<Chunk>) -> Self {
        Self {
            queue,
            current: Vec::new(),
            pos: 0,
            ended: false,
        }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut rest = self.current.get(self.pos..).unwrap_or_default();
            if !rest.is_empty() || buf.is_empty() {
                let n = rest.read(buf)?;
                self.pos += n;
                return Ok(n);
            }
            if self.ended {
                return Ok(0);
            }
            match self.queue.recv() {
                Ok(Chunk::Data(data)) => {
                    self.current = data;
                    self.pos = 0;
                }
                Ok(Chunk::End) => self.ended = true,
                Ok(Chunk::Failed(message)) => return Err(io::Error::other(message)),
                Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the compressor stopped before the end of the stream",
                    ));
                }
            }
        }
    }
}

/// Options of [`restore_database`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct DbRestoreOptions {
    /// Restore under this name instead of the original one.
    pub as_name: Option<String>,
    /// Replace a target database that holds data (the restore is made beside it, and the old
    /// database is dropped only once the new one is complete and verified).
    pub force: bool,
    /// Also restore the roles and tablespaces of the set (before the database); errors for
    /// roles that exist already are tolerated.
    pub with_globals: bool,
}

/// What a restore will do to the target database.
///
/// Whatever the action, the dump is restored into a staging database of its own
/// (`<target>__restore_<hex>`) and verified there; only then does it take the target's name.
/// Until that moment the target is as it was, and a failure (or a process killed) changes
/// nothing under the target's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RestoreAction {
    /// The database does not exist: restore, then rename the restored database to its name.
    Create,
    /// The database exists and is empty: restore beside it, then swap the restored database
    /// in and drop the empty one (whose sessions are ended).
    Fill,
    /// The database holds data and force was given: restore beside it, then swap the restored
    /// database in and drop the old one (whose sessions are ended).
    Replace,
}

/// A restore worked out and checked, with nothing changed yet; [`DbRestorePlan::apply`]
/// carries it out. Serializes for `--dry-run`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct DbRestorePlan {
    /// The backup set.
    pub set_id: String,
    /// The database as backed up.
    pub database: String,
    /// The artifact restored.
    pub artifact: String,
    /// Its size as stored.
    pub artifact_size: u64,
    /// The server version it was dumped from.
    pub server_version: String,
    /// The database restored into.
    pub target_database: String,
    /// What happens to it.
    pub action: RestoreAction,
    /// Roles and tablespaces are restored first.
    pub globals: bool,
    /// The rows each table must hold afterwards.
    pub expected_rows: BTreeMap<String, u64>,
    #[serde(skip)]
    target: PgTarget,
    #[serde(skip)]
    globals_artifact: Option<String>,
    #[serde(skip)]
    manifest: Manifest,
}

/// One table's check after a restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TableCheck {
    /// `schema.table`.
    pub table: String,
    /// Rows recorded at backup time.
    pub expected: Option<u64>,
    /// Rows found after the restore.
    pub actual: Option<u64>,
}

impl TableCheck {
    /// The counts agree.
    pub fn ok(&self) -> bool {
        self.expected == self.actual
    }
}

/// What a restore did and found.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RestoreReport {
    /// The backup set.
    pub set_id: String,
    /// The database as backed up.
    pub database: String,
    /// The database restored into.
    pub target_database: String,
    /// What was done to it.
    pub action: RestoreAction,
    /// Roles and tablespaces were restored.
    pub globals_restored: bool,
    /// Every table's count, in name order; all agree when the restore returned this report.
    pub tables: Vec<TableCheck>,
    /// Rows in all tables.
    pub total_rows: u64,
    /// What deserves attention though the restore succeeded (a replaced database that could
    /// not be dropped, and was kept under another name).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Plans a restore and changes nothing: loads the set's manifest, finds the dump (and the
/// globals when asked), and decides what happens to the target database, refusing one that
/// holds data unless `force` is set.
pub fn plan_database_restore(
    store: &dyn Store,
    set_id: &str,
    database: &str,
    target: &PgTarget,
    options: &DbRestoreOptions,
) -> Result<DbRestorePlan> {
    let manifest = load_manifest(store, set_id)?;
    let globals = options.with_globals.then_some(GLOBALS_ARTIFACT);
    plan_restore_in(
        manifest,
        &dump_artifact_name(database),
        globals,
        database,
        target,
        options,
    )
}

/// Plans the restore of the dump `artifact_name` of a loaded manifest (with the globals of
/// `globals_artifact` first when given).
pub(crate) fn plan_restore_in(
    manifest: Manifest,
    artifact_name: &str,
    globals_artifact: Option<&str>,
    database: &str,
    target: &PgTarget,
    options: &DbRestoreOptions,
) -> Result<DbRestorePlan> {
    let set_id = manifest.set_id.clone();
    let missing = |artifact: &str| Error::ArtifactMissing {
        set_id: set_id.clone(),
        artifact: artifact.to_string(),
        available: manifest
            .artifacts
            .iter()
            .map(|a| format!("`{}`", a.name))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let artifact = manifest
        .artifacts
        .iter()
        .find(|a| a.name == artifact_name)
        .ok_or_else(|| missing(artifact_name))?;
    if let Some(globals) = globals_artifact
        && !manifest.artifacts.iter().any(|a| a.name == globals)
    {
        return Err(missing(globals));
    }
    let (server_version, expected_rows) = match &artifact.details {
        ArtifactDetails::Database {
            server_version,
            row_counts,
            ..
        } => (server_version.clone(), row_counts.clone()),
        _ => (String::new(), BTreeMap::new()),
    };
    let target_database = options
        .as_name
        .clone()
        .unwrap_or_else(|| database.to_string());
    let action = decide_action(target, &target_database, options.force)?;
    Ok(DbRestorePlan {
        set_id: set_id.clone(),
        database: database.to_string(),
        artifact: artifact_name.to_string(),
        artifact_size: artifact.size,
        server_version,
        target_database,
        action,
        globals: globals_artifact.is_some(),
        expected_rows,
        target: target.clone(),
        globals_artifact: globals_artifact.map(str::to_string),
        manifest,
    })
}

fn decide_action(target: &PgTarget, database: &str, force: bool) -> Result<RestoreAction> {
    if !target.database_exists(database)? {
        Ok(RestoreAction::Create)
    } else if target.is_empty(database)? {
        Ok(RestoreAction::Fill)
    } else if force {
        Ok(RestoreAction::Replace)
    } else {
        Err(Error::DatabaseNotEmpty {
            database: database.to_string(),
        })
    }
}

impl DbRestorePlan {
    /// Carries the plan out, verifies it, and only then puts it in place: the globals (when
    /// planned) with `psql`; a staging database `<target>__restore_<hex>` created (from
    /// `template0`); the dump streamed from the store (size and SHA-256 checked) through zstd
    /// into `pg_restore --no-owner --exit-on-error` against the staging database; every
    /// table's row count there compared with the one recorded at dump time; finally the swap
    /// (see [`RestoreAction`]): the staging database renamed to the target's name, for a fill
    /// or a replace in one transaction with the renaming of the old database, which is
    /// dropped afterwards and whose owner the new one keeps.
    ///
    /// A failure before the swap (the restore, the check, the swap itself) drops the staging
    /// database again and leaves the target exactly as it was: for a replace, the old data is
    /// intact. A process killed outright may leave the staging database behind, never a
    /// half-restored database under the target's name; killed after the swap but before the
    /// drop, it leaves the old database as `<target>__old_<hex>`.
    ///
    /// A fill or a replace ends the target's other sessions when it swaps, and needs the
    /// rights to create databases and to rename (own) the target.
    pub fn apply(self, store: &dyn Store) -> Result<RestoreReport> {
        let manifest = self.manifest.clone();
        self.apply_with(&|name| -> Result<Box<dyn Read + Send>> {
            Ok(open_artifact(store, &manifest, name)?)
        })
    }

    /// [`DbRestorePlan::apply`], with artifacts opened by `open` (which checks them: size and
    /// SHA-256, and decrypts when the set is encrypted).
    pub(crate) fn apply_with(self, open: &ArtifactOpener<'_>) -> Result<RestoreReport> {
        let target_database = self.target_database.clone();
        self.apply_inner(open).map_err(|e| match e {
            Error::DatabaseNotEmpty { .. } => e,
            other => Error::Database {
                database: target_database,
                source: Box::new(other),
            },
        })
    }

    fn apply_inner(self, open: &ArtifactOpener<'_>) -> Result<RestoreReport> {
        // The target may have changed since the plan: never replace data that was not planned.
        let now = decide_action(&self.target, &self.target_database, true)?;
        if now == RestoreAction::Replace && self.action != RestoreAction::Replace {
            return Err(Error::DatabaseNotEmpty {
                database: self.target_database.clone(),
            });
        }
        if let Some(globals) = &self.globals_artifact {
            self.restore_globals(open, globals)?;
        }
        // Dropped on any failure before the swap, the staging database takes the partial
        // restore with it.
        let staging = StagingDatabase::create(&self.target, &self.target_database, now)?;
        self.restore_dump(open, staging.name())?;
        let (tables, found) = check_row_counts(&self.target, &staging, &self.expected_rows)?;
        let warnings = staging.swap_into(now, true)?.into_iter().collect();
        Ok(RestoreReport {
            total_rows: found.values().sum(),
            set_id: self.set_id,
            database: self.database,
            target_database: self.target_database,
            action: now,
            globals_restored: self.globals,
            tables,
            warnings,
        })
    }

    fn restore_dump(&self, open: &ArtifactOpener<'_>, database: &str) -> Result<()> {
        let db_target = self.target.with_database(database);
        let mut cmd = db_target.command("pg_restore");
        cmd.args(["--no-owner", "--exit-on-error", "-d"])
            .arg(db_target.dbname_arg());
        let mut input = open_zstd(open, &self.artifact)?;
        feed_child(cmd, &mut input, &self.artifact, &self.target.secrets())?;
        Ok(())
    }

    fn restore_globals(&self, open: &ArtifactOpener<'_>, globals: &str) -> Result<()> {
        restore_globals_from(&self.target, open, globals)
    }
}

/// Restores roles and tablespaces from a globals artifact (errors for roles that exist
/// already are tolerated).
pub(crate) fn restore_globals_from(
    target: &PgTarget,
    open: &ArtifactOpener<'_>,
    globals: &str,
) -> Result<()> {
    let mut cmd = target.command("psql");
    cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=0", "-d"])
        .arg(target.dbname_arg())
        .args(["-f", "-"]);
    let mut input = open_zstd(open, globals)?;
    let stderr = feed_child(cmd, &mut input, globals, &target.secrets())?;
    // psql goes on after a failed statement; only a role or tablespace that exists
    // already (this server's own `postgres`, at least) is expected to fail.
    let fatal: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("ERROR:") && !l.contains("already exists"))
        .collect();
    if fatal.is_empty() {
        Ok(())
    } else {
        Err(Error::ChildFailed {
            program: "psql".to_string(),
            status: format!("{} statements of `{globals}` failed", fatal.len()),
            stderr: fatal.join("\n"),
        })
    }
}

/// Opens an artifact of a set by name, checked as it is read.
pub(crate) type ArtifactOpener<'a> = dyn Fn(&str) -> Result<Box<dyn Read + Send + 'a>> + 'a;

/// An artifact's bytes decompressed, its size and SHA-256 checked as it is read.
fn open_zstd<'a>(open: &ArtifactOpener<'a>, name: &str) -> Result<impl Read + use<'a>> {
    let raw = open(name)?;
    zstd::stream::read::Decoder::new(raw).map_err(|source| Error::Stream {
        action: format!("start decompressing `{name}`"),
        source,
    })
}

/// Counts every table of a restored staging database and compares with what the backup
/// recorded: a table missing, extra or with another count is an error naming it (and the
/// database the restore is for). Returns the checks and the counts found.
pub(crate) fn check_row_counts(
    target: &PgTarget,
    staging: &StagingDatabase,
    expected: &BTreeMap<String, u64>,
) -> Result<(Vec<TableCheck>, BTreeMap<String, u64>)> {
    let found = target.row_counts(staging.name())?;
    let mut names: Vec<&String> = expected.keys().chain(found.keys()).collect();
    names.sort();
    names.dedup();
    let tables: Vec<TableCheck> = names
        .into_iter()
        .map(|name| TableCheck {
            table: name.clone(),
            expected: expected.get(name).copied(),
            actual: found.get(name).copied(),
        })
        .collect();
    if let Some(bad) = tables.iter().find(|t| !t.ok()) {
        return Err(Error::RowCountMismatch {
            database: staging.target().to_string(),
            table: bad.table.clone(),
            expected: bad.expected,
            actual: bad.actual,
        });
    }
    Ok((tables, found))
}

/// Restores one database of a backup set: [`plan_database_restore`] then
/// [`DbRestorePlan::apply`] (which verifies).
pub fn restore_database(
    store: &dyn Store,
    set_id: &str,
    database: &str,
    target: &PgTarget,
    options: &DbRestoreOptions,
) -> Result<RestoreReport> {
    plan_database_restore(store, set_id, database, target, options)?.apply(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_reader_reports_how_the_stream_ended() {
        let (tx, rx) = sync_channel(4);
        tx.send(Chunk::Data(b"abc".to_vec())).unwrap();
        tx.send(Chunk::Failed("`pg_dump` failed (exit status: 1)".into()))
            .unwrap();
        let mut out = Vec::new();
        let e = ChunkReader::new(rx).read_to_end(&mut out).unwrap_err();
        assert_eq!(out, b"abc");
        assert!(e.to_string().contains("pg_dump"), "{e}");

        let (tx, rx) = sync_channel(4);
        tx.send(Chunk::Data(b"abc".to_vec())).unwrap();
        drop(tx);
        let e = ChunkReader::new(rx)
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);

        let (tx, rx) = sync_channel(4);
        tx.send(Chunk::Data(b"ab".to_vec())).unwrap();
        tx.send(Chunk::Data(b"cd".to_vec())).unwrap();
        tx.send(Chunk::End).unwrap();
        let mut out = Vec::new();
        ChunkReader::new(rx).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abcd");
    }

    #[test]
    fn database_lists_are_checked() {
        assert!(check_database_list(&[]).is_err());
        let e = check_database_list(&["a".into(), "b".into(), "a".into()]).unwrap_err();
        assert!(e.to_string().contains("named twice"), "{e}");
    }

    #[test]
    fn jobs_stop_after_a_failure_and_report_the_first_in_order() {
        let jobs: Vec<u32> = (0..20).collect();
        let out = run_jobs(&jobs, 3, "worker", |j| Ok(j * 2)).unwrap();
        assert_eq!(out, (0..20).map(|j| j * 2).collect::<Vec<_>>());
        let e = run_jobs(&jobs, 2, "worker", |j| {
            if *j == 3 {
                Err(Error::DatabaseNotEmpty {
                    database: "three".into(),
                })
            } else {
                Ok(*j)
            }
        })
        .unwrap_err();
        assert!(e.to_string().contains("three"), "{e}");
    }
}
