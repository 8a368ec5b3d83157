//! The hostile-input corpus (`tests/hostile/`, written by `generate.py`): every reader of
//! untrusted input — cntmp files, orchestrator archives, backup-set manifests, policy
//! documents, `cluster.conf`, store URLs — meets damaged, truncated and malicious inputs.
//! Each must end in an error that holds the expected text (which names the file, entry or
//! `line:column`), is short and free of control characters, within a time and a memory
//! bound, and with the target (a registry, a configuration folder, a store, a policy store)
//! unchanged byte for byte. `tests/hostile/cases.json` lists the cases.
//!
//! Every case runs in a child process (this test binary again, running `child_case`): its
//! peak memory is its own (a process that already ran other cases reuses memory its
//! allocator kept, and would hide a bomb), a crash (a stack overflow) is reported as such,
//! and a case that hangs is killed. `CONTINUUM_HOSTILE_SHOW=1` prints every message.
#![cfg(test)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use continuum_cntmp::{CntmpReader, FolderRegistry, ImportOptions, PackageSpec};
use continuum_core::{Limits, LocalStore, Manifest, StoreOptions, load_manifest, open_store};
use continuum_orchestrator::{ClusterConf, OrchestratorRestoreOptions, PgTarget};
use serde::{Deserialize, Serialize};

/// Every case must end within this (debug builds, a loaded CI machine).
const TIME_LIMIT: Duration = Duration::from_secs(5);
/// A child still running after this is killed.
const KILL_AFTER: Duration = Duration::from_secs(60);
/// How much more memory a case may hold at its peak than before it, unless it says otherwise.
const MEMORY_LIMIT_MB: u64 = 64;
/// The longest error message accepted, unless a case says otherwise.
const MESSAGE_LIMIT: usize = 16 << 10;
/// Hostile cases each reader must have at least.
const MIN_CASES: usize = 25;
/// The set every manifest case is stored as.
const SET_ID: &str = "20261125T120000Z-0a1b2c3d";
/// The environment variable that hands a case to a child.
const CHILD_ENV: &str = "CONTINUUM_HOSTILE_CASE";
/// The line a child reports on.
const RESULT_MARK: &str = "HOSTILE-RESULT ";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Corpus {
    about: String,
    counts: BTreeMap<String, usize>,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    reader: String,
    file: String,
    tests: String,
    expect: String,
    /// A control: every call succeeds.
    #[serde(default)]
    ok: bool,
    /// Built at run time: `[text, times]` parts, concatenated.
    #[serde(default)]
    build: Option<Vec<(String, usize)>>,
    /// `[max entry size, max total size, max entries]`.
    #[serde(default)]
    limits: Option<[u64; 3]>,
    /// cntmp: the file reads and verifies; only the import refuses it.
    #[serde(default)]
    reader_ok: bool,
    /// Orchestrator archive: it verifies; only the restore refuses it.
    #[serde(default)]
    verify_ok: bool,
    /// Manifest: it parses; only loading it from its set refuses it.
    #[serde(default)]
    from_json_ok: bool,
    /// Manifest: only through a store (the object itself is the problem).
    #[serde(default)]
    store_only: bool,
    #[serde(default)]
    max_mb: Option<u64>,
    #[serde(default)]
    max_message: Option<usize>,
    /// Text that must never appear in the error.
    #[serde(default)]
    secret: Option<String>,
}

impl Case {
    fn limits(&self) -> Option<Limits> {
        self.limits.map(|[e, t, n]| Limits::new(e, t, n))
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/hostile")
}

fn corpus() -> Corpus {
    let text = std::fs::read_to_string(root().join("cases.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Targets

/// A folder's content, byte for byte (files, links, folders, modes).
#[derive(Debug, PartialEq, Eq)]
enum Node {
    Dir(u32),
    File(u32, Vec<u8>),
    Link(PathBuf),
    Other(u32),
}

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Node> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            let md = std::fs::symlink_metadata(&path).unwrap();
            let mode = md.permissions().mode();
            let node = if md.is_symlink() {
                Node::Link(std::fs::read_link(&path).unwrap())
            } else if md.is_dir() {
                stack.push(path.clone());
                Node::Dir(mode)
            } else if md.is_file() {
                Node::File(mode, std::fs::read(&path).unwrap())
            } else {
                Node::Other(mode)
            };
            out.insert(path, node);
        }
    }
    out
}

/// Makes the target a reader's cases must leave alone: something is there already, so
/// "unchanged" means more than "still empty".
fn setup(reader: &str, scratch: &Path) -> PathBuf {
    let target = scratch.join("target");
    std::fs::create_dir_all(&target).unwrap();
    match reader {
        "cntmp" => {
            let layer = scratch.join("existing.tar.gz");
            std::fs::write(&layer, b"already here").unwrap();
            let r = FolderRegistry::open(target.join("jobdata")).unwrap();
            let spec = PackageSpec::new("existing", vec![layer]).unwrap();
            continuum_cntmp::package_from_files(&r, &spec).unwrap();
        }
        "archive" => {
            std::fs::create_dir_all(target.join("config")).unwrap();
            std::fs::write(target.join("config/cluster.conf"), "a: 1\n").unwrap();
            std::fs::write(target.join("config/main.tf"), "# mine\n").unwrap();
        }
        "manifest" => {
            let set = target.join("sets").join(SET_ID);
            std::fs::create_dir_all(set.join("artifacts")).unwrap();
            std::fs::write(set.join("artifacts/all.cntmp"), b"artifact").unwrap();
        }
        "policy" => {
            let policy = target.join("policy");
            std::fs::create_dir_all(&policy).unwrap();
            std::fs::write(
                policy.join("existing.pol"),
                "on job::/ { { permit read } }\n",
            )
            .unwrap();
        }
        _ => {}
    }
    target
}

// ---------------------------------------------------------------------------------------------
// The child: one case, its calls, its peak memory

/// What the parent hands a child.
#[derive(Debug, Serialize, Deserialize)]
struct Job {
    index: usize,
    input: PathBuf,
    target: PathBuf,
}

/// What a child reports.
#[derive(Debug, Serialize, Deserialize)]
struct Report {
    elapsed_ms: u64,
    peak_mb: Option<u64>,
    /// Each call: its name and its error (`None`: it succeeded).
    outcomes: Vec<(String, Option<String>)>,
}

fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the peak resident size to the current one; false where the kernel cannot.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok() && status_kb("VmHWM:").is_some()
}

fn outcome<T, E: std::fmt::Display>(call: &str, r: Result<T, E>) -> (String, Option<String>) {
    (call.to_string(), r.err().map(|e| e.to_string()))
}

fn run_calls(
    case: &Case,
    input: &Path,
    target: &Path,
    bytes: &[u8],
) -> Vec<(String, Option<String>)> {
    let text = std::str::from_utf8(bytes).ok();
    let name = input.display().to_string();
    let mut out = Vec::new();
    match case.reader.as_str() {
        "cntmp" => {
            let limits = case.limits().unwrap_or_default();
            let read = CntmpReader::open(input, limits).and_then(|mut r| r.verify());
            out.push(outcome("open+verify", read));
            let mut options = ImportOptions::default();
            options.limits = limits;
            let registry = FolderRegistry::open(target.join("jobdata")).unwrap();
            let import = continuum_cntmp::import_files(&registry, &[input], &options);
            out.push(outcome("import", import));
        }
        "archive" => {
            let verify = match case.limits() {
                Some(l) => continuum_orchestrator::verify_archive_with(input, l),
                None => continuum_orchestrator::verify_archive(input),
            };
            out.push(outcome("verify", verify));
            // A sound archive's plan goes on to ask the server about its databases: no
            // server listens there, so a plan that got that far fails loudly.
            if !case.ok {
                let server = PgTarget::parse("postgresql://nobody@127.0.0.1:1/postgres").unwrap();
                let mut options = OrchestratorRestoreOptions::default();
                options.limits = case.limits().unwrap_or_default();
                options.host_addresses = Some(vec!["192.0.2.2".to_string()]);
                let config = target.join("config");
                let plan = continuum_orchestrator::plan_orchestrator_restore(
                    input, &server, &config, &options,
                );
                out.push(outcome("plan restore", plan));
            }
        }
        "manifest" => {
            let key = format!("sets/{SET_ID}/manifest.json");
            if !case.store_only {
                out.push(outcome("from_json", Manifest::from_json(&key, bytes)));
            }
            let store = LocalStore::new(target.to_path_buf());
            out.push(outcome("load_manifest", load_manifest(&store, SET_ID)));
        }
        "policy" => {
            if let Some(text) = text {
                out.push(outcome("check", continuum_policy::check(text, &name)));
            }
            let store = continuum_policy::FolderPolicyStore::new(target.join("policy"));
            let options = continuum_policy::ImportOptions::default();
            let import = continuum_policy::import(&store, std::slice::from_ref(&name), options);
            out.push(outcome("import", import));
        }
        "dconf" => {
            out.push(outcome("load", ClusterConf::load(input)));
            if let Some(text) = text {
                out.push(outcome("parse", ClusterConf::parse(text, &name)));
            }
        }
        "url" => {
            let url = text.expect("store URLs are text");
            out.push(outcome(
                "open_store",
                open_store(url, &StoreOptions::default()),
            ));
        }
        other => panic!("unknown reader `{other}`"),
    }
    out
}

/// Runs the case the parent handed over (and nothing when run as an ordinary test).
#[test]
fn child_case() {
    let Ok(job) = std::env::var(CHILD_ENV) else {
        return;
    };
    let job: Job = serde_json::from_str(&job).unwrap();
    let corpus = corpus();
    let case = &corpus.cases[job.index];
    let bytes = std::fs::read(&job.input).unwrap();
    let measuring = reset_peak();
    let start_kb = status_kb("VmHWM:").unwrap_or(0);
    let started = Instant::now();
    let outcomes = run_calls(case, &job.input, &job.target, &bytes);
    let elapsed = started.elapsed();
    let peak_mb =
        measuring.then(|| status_kb("VmHWM:").unwrap_or(0).saturating_sub(start_kb) >> 10);
    let report = Report {
        elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        peak_mb,
        outcomes,
    };
    println!("\n{RESULT_MARK}{}", serde_json::to_string(&report).unwrap());
}

// ---------------------------------------------------------------------------------------------
// The parent: hands each case to a child, checks what it reports

/// Runs one case in a child; every way it failed.
fn run_case(
    index: usize,
    case: &Case,
    scratch: &Path,
    target: &Path,
) -> (Option<Report>, Vec<String>) {
    let label = format!("{} ({})", case.file, case.tests);
    // The input: committed, or built now (too big to commit).
    let input = match &case.build {
        Some(parts) => {
            let mut text = String::new();
            for (part, times) in parts {
                text.push_str(&part.repeat(*times));
            }
            let path = scratch.join("built").join(&case.file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path
        }
        None => root().join(&case.file),
    };
    if case.reader == "manifest" {
        let object = target.join("sets").join(SET_ID).join("manifest.json");
        std::fs::copy(&input, object).unwrap();
    }
    let before = snapshot(target);
    let job = Job {
        index,
        input: input.clone(),
        target: target.to_path_buf(),
    };
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["child_case", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, serde_json::to_string(&job).unwrap())
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read what it writes while it runs: a message of megabytes would fill the pipe.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > KILL_AFTER {
            child.kill().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    if case.build.is_some() {
        std::fs::remove_file(&input).unwrap();
    }
    let mut problems = Vec::new();
    // A control imports into a target of its own: only hostile cases must leave it alone.
    if !case.ok && snapshot(target) != before {
        problems.push(format!("{label}: the target changed"));
    }
    let stdout = String::from_utf8_lossy(&stdout);
    let report = stdout
        .lines()
        .find_map(|l| l.split_once(RESULT_MARK).map(|(_, json)| json))
        .and_then(|json| serde_json::from_str::<Report>(json).ok());
    let Some(report) = report else {
        let how = match status {
            None => format!("still running after {KILL_AFTER:?}: killed"),
            Some(s) => format!("the child ended ({s}) without a report"),
        };
        let stderr = String::from_utf8_lossy(&stderr);
        problems.push(format!("{label}: {how}; stderr: {}", cut(&stderr)));
        return (None, problems);
    };
    let elapsed = Duration::from_millis(report.elapsed_ms);
    if elapsed >= TIME_LIMIT {
        problems.push(format!("{label}: took {elapsed:?}"));
    }
    if let Some(mb) = report.peak_mb {
        let limit = case.max_mb.unwrap_or(MEMORY_LIMIT_MB);
        if mb >= limit {
            problems.push(format!(
                "{label}: peak memory grew by {mb} MiB (limit {limit} MiB)"
            ));
        }
    }
    if std::env::var_os("CONTINUUM_HOSTILE_SHOW").is_some() {
        for (call, error) in &report.outcomes {
            let shown = error.as_deref().map_or("ok".to_string(), cut);
            eprintln!("{label}\n  {call}: {shown}");
        }
    }
    for (call, error) in &report.outcomes {
        let must_succeed = case.ok
            || (call == "open+verify" && case.reader_ok)
            || (call == "verify" && case.verify_ok)
            || (call == "from_json" && case.from_json_ok);
        match error {
            None if !must_succeed => problems.push(format!("{label}: {call} accepted it")),
            None => {}
            Some(message) if must_succeed => {
                problems.push(format!("{label}: {call} failed: {}", cut(message)));
            }
            Some(message) => problems.extend(check_message(case, &label, call, message)),
        }
    }
    (Some(report), problems)
}

/// What is wrong with an error message: it must hold the expected text, be short, hold no
/// control character (a hostile name could rewrite the terminal), name no Rust type, and
/// never show a secret.
fn check_message(case: &Case, label: &str, call: &str, message: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut problem = |what: String| problems.push(format!("{label}: {call}: {what}"));
    if !message.contains(&case.expect) {
        problem(format!("expected `{}` in: {}", case.expect, cut(message)));
    }
    let limit = case.max_message.unwrap_or(MESSAGE_LIMIT);
    if message.len() > limit {
        problem(format!(
            "a message of {} bytes (limit {limit}): {}",
            message.len(),
            cut(message)
        ));
    }
    // Policy errors list their diagnostics on lines of their own; every other error is one.
    let line_breaks = case.reader == "policy";
    if message
        .chars()
        .any(|c| c.is_control() && !(line_breaks && c == '\n'))
    {
        problem(format!("a control character in: {:?}", cut(message)));
    }
    let rust_path = message.split("::").skip(1).any(|after| {
        // `module::module::` (an FQN has `type::/namespace::name`, never two in a row).
        !after.is_empty() && after.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    });
    if rust_path
        || ["struct ", "enum ", "Vec<", "Option<"]
            .iter()
            .any(|r| message.contains(r))
    {
        problem(format!("a Rust type name in: {}", cut(message)));
    }
    if let Some(secret) = &case.secret
        && message.contains(secret.as_str())
    {
        problem(format!("the secret shows in: {}", cut(message)));
    }
    problems
}

fn cut(message: &str) -> String {
    match message.char_indices().nth(600) {
        Some((i, _)) => format!("{}… ({} bytes)", &message[..i], message.len()),
        None => message.to_string(),
    }
}

fn run_reader(reader: &str) {
    let corpus = corpus();
    let cases: Vec<(usize, &Case)> = corpus
        .cases
        .iter()
        .enumerate()
        .filter(|(_, c)| c.reader == reader)
        .collect();
    let hostile = cases.iter().filter(|(_, c)| !c.ok).count();
    assert_eq!(
        corpus.counts.get(reader),
        Some(&hostile),
        "{}",
        corpus.about
    );
    assert!(
        hostile >= MIN_CASES,
        "{reader}: only {hostile} hostile cases"
    );
    let scratch = tempfile::tempdir().unwrap();
    let target = setup(reader, scratch.path());
    let started = Instant::now();
    let (mut slowest, mut hungriest) = ((0, ""), (0, ""));
    let mut problems = Vec::new();
    for (i, (index, case)) in cases.iter().enumerate() {
        // A control changes its target (it imports): it gets a target of its own.
        let own;
        let target = if case.ok {
            own = setup(reader, &scratch.path().join(format!("control-{i}")));
            &own
        } else {
            &target
        };
        let (report, found) = run_case(*index, case, scratch.path(), target);
        problems.extend(found);
        if let Some(r) = report {
            if r.elapsed_ms >= slowest.0 {
                slowest = (r.elapsed_ms, case.file.as_str());
            }
            if let Some(mb) = r.peak_mb
                && mb >= hungriest.0
            {
                hungriest = (mb, case.file.as_str());
            }
        }
    }
    eprintln!(
        "{reader}: {hostile} hostile cases (+{} controls) in {:.1?}; slowest {} ({} ms); \
         most memory {} (+{} MiB)",
        cases.len() - hostile,
        started.elapsed(),
        slowest.1,
        slowest.0,
        hungriest.1,
        hungriest.0
    );
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn cntmp_files() {
    run_reader("cntmp");
}

#[test]
fn orchestrator_archives() {
    run_reader("archive");
}

#[test]
fn backup_set_manifests() {
    run_reader("manifest");
}

#[test]
fn policy_documents() {
    run_reader("policy");
}

#[test]
fn cluster_conf() {
    run_reader("dconf");
}

#[test]
fn store_urls() {
    run_reader("url");
}

/// The committed corpus is what `generate.py` writes today.
#[test]
fn corpus_is_current() {
    let out = tempfile::tempdir().unwrap();
    let o = Command::new("python3")
        .arg(root().join("generate.py"))
        .arg(out.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let files = |dir: &Path| -> BTreeMap<PathBuf, Vec<u8>> {
        snapshot(dir)
            .into_iter()
            .filter_map(|(p, n)| match n {
                Node::File(_, bytes) => Some((p.strip_prefix(dir).unwrap().to_path_buf(), bytes)),
                _ => None,
            })
            .filter(|(p, _)| {
                p.extension()
                    .is_none_or(|e| e != "py" && e != "pyc" && e != "md")
            })
            .collect()
    };
    let (committed, fresh) = (files(&root()), files(out.path()));
    let names = |m: &BTreeMap<PathBuf, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&committed),
        names(&fresh),
        "run python3 tests/hostile/generate.py"
    );
    for (path, bytes) in &fresh {
        assert!(
            committed.get(path) == Some(bytes),
            "`{}` differs: run python3 tests/hostile/generate.py",
            path.display()
        );
    }
}
