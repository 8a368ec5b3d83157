//! Installation files: `cluster.conf` and the Terraform files (`*.tf`, `*.tfvars`) that
//! describe a cluster, collected with their checksums, and kept under version control in a
//! git repository, as the operations guide asks.
//!
//! Git is driven through the `git` program, never a library: what it writes is exactly what
//! a person running `git` would get, hooks and all.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use continuum_core::{Digest, MemberPath, WriteOptions, digest_reader, write_atomic};
use serde::Serialize;

use crate::error::{Error, Result};

/// The name under which the cluster's configuration is always found.
pub const CLUSTER_CONF: &str = "cluster.conf";

/// The author of the commits [`snapshot_to_git`] makes.
const GIT_AUTHOR: [&str; 4] = [
    "-c",
    "user.name=continuum-backup",
    "-c",
    "user.email=continuum-backup@localhost",
];

/// One installation file, with what it held when it was collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct InstallationFile {
    /// Where the file is.
    pub path: PathBuf,
    /// Its name in a snapshot or an archive: the path below the folder it was found in, `/`
    /// separated, or the file name for a file given by itself.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256.
    pub sha256: Digest,
}

/// True for the names the installation consists of: `cluster.conf` and Terraform's
/// configuration and variable files (`*.tf`, `*.tfvars`, and their `.json` forms).
///
/// Terraform's state (`*.tfstate`) and its working folder (`.terraform/`) are not
/// configuration and are left out.
pub fn is_installation_file(name: &str) -> bool {
    name == CLUSTER_CONF
        || [".tf", ".tfvars", ".tf.json", ".tfvars.json"]
            .iter()
            .any(|ext| name.len() > ext.len() && name.ends_with(ext))
}

/// Collects the installation files of `inputs`, with sizes and SHA-256 digests, sorted by name.
///
/// A folder is searched through (hidden folders such as `.git` and `.terraform` aside, and
/// without following links to folders) for [`is_installation_file`] names; a file named by
/// itself is taken whatever its name. Two files that would get the same name are refused.
pub fn collect_installation_files<P: AsRef<Path>>(inputs: &[P]) -> Result<Vec<InstallationFile>> {
    let mut found: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut add = |name: String, path: PathBuf| -> Result<()> {
        if let Some(earlier) = found.get(&name) {
            if same_file(earlier, &path) {
                return Ok(());
            }
            return Err(continuum_core::Error::InvalidInput {
                what: "installation file",
                value: path.display().to_string(),
                reason: format!(
                    "its name `{name}` is taken already by `{}`",
                    earlier.display()
                ),
            }
            .into());
        }
        found.insert(name, path);
        Ok(())
    };
    for input in inputs {
        let input = input.as_ref();
        let meta = fs::metadata(input).map_err(|e| continuum_core::Error::io("read", input, e))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(input, "", &mut files)?;
            for (name, path) in files {
                add(name, path)?;
            }
        } else {
            let name = input
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| continuum_core::Error::InvalidInput {
                    what: "installation file",
                    value: input.display().to_string(),
                    reason: "names no file".to_string(),
                })?;
            add(name, input.to_path_buf())?;
        }
    }
    found
        .into_iter()
        .map(|(name, path)| {
            let file =
                File::open(&path).map_err(|e| continuum_core::Error::io("open", &path, e))?;
            let (sha256, size) =
                digest_reader(file).map_err(|e| continuum_core::Error::io("read", &path, e))?;
            Ok(InstallationFile {
                path,
                name,
                size,
                sha256,
            })
        })
        .collect()
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Finds installation files below `dir`; `prefix` is the name of `dir` relative to the root.
fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    let entries = fs::read_dir(dir).map_err(|e| continuum_core::Error::io("list", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| continuum_core::Error::io("list", dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| continuum_core::Error::io("read", &path, e))?;
        let relative = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        if kind.is_dir() {
            if !name.starts_with('.') {
                walk(&path, &relative, out)?;
            }
        } else if is_installation_file(&name) && path.is_file() {
            // `is_file` follows a link: a linked file counts, a link to a folder does not.
            out.push((relative, path));
        }
    }
    Ok(())
}

/// What [`snapshot_to_git`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct GitSnapshot {
    /// The repository.
    pub repo: PathBuf,
    /// The repository was created by this snapshot.
    pub initialized: bool,
    /// The files whose content changed (or that are new), by name.
    pub changed: Vec<String>,
    /// The commit made; `None` when nothing had changed, so no commit was needed.
    pub commit: Option<String>,
    /// The commit the branch points at afterwards (`None` for a repository without commits).
    pub head: Option<String>,
}

/// Commits `files` to the git repository `repo_dir` (created with `git init` when missing),
/// each under its name, with `message`.
///
/// Refuses, changing nothing, when the current branch has an upstream and is behind it (as
/// last fetched: `git rev-list --count HEAD..@{u}`, since fetching needs the network) — the
/// snapshot would otherwise fork the history others share — and when a file no longer holds
/// what it held when it was collected (its SHA-256 differs). Files are written atomically; a commit is
/// made only when something changed.
pub fn snapshot_to_git(
    files: &[InstallationFile],
    repo_dir: &Path,
    message: &str,
) -> Result<GitSnapshot> {
    let mut names = Vec::with_capacity(files.len());
    for f in files {
        let member = MemberPath::parse(&f.name)?;
        if member
            .as_str()
            .split('/')
            .any(|seg| seg.eq_ignore_ascii_case(".git"))
        {
            return Err(continuum_core::Error::InvalidInput {
                what: "installation file name",
                value: f.name.clone(),
                reason: "may not lead into `.git`".to_string(),
            }
            .into());
        }
        if names.iter().any(|(m, _)| m == &member) {
            return Err(continuum_core::Error::InvalidInput {
                what: "installation file name",
                value: f.name.clone(),
                reason: "named twice".to_string(),
            }
            .into());
        }
        names.push((member, f));
    }
    if message.trim().is_empty() {
        return Err(continuum_core::Error::InvalidInput {
            what: "commit message",
            value: String::new(),
            reason: "give a message".to_string(),
        }
        .into());
    }
    let initialized = if repo_dir.join(".git").exists() {
        false
    } else {
        fs::create_dir_all(repo_dir)
            .map_err(|e| continuum_core::Error::io("create", repo_dir, e))?;
        git(repo_dir, &["-c", "init.defaultBranch=main", "init", "-q"])?;
        true
    };
    check_not_behind(repo_dir)?;
    // Every file must still hold what was collected, before anything is written.
    for (_, file) in &names {
        let (sha256, size) = File::open(&file.path)
            .and_then(digest_reader)
            .map_err(|e| continuum_core::Error::io("read", &file.path, e))?;
        if sha256 != file.sha256 || size != file.size {
            return Err(continuum_core::Error::Corrupt {
                entry: file.path.display().to_string(),
                expected: file.sha256.to_string(),
                actual: format!("{sha256} (it changed since it was collected)"),
            }
            .into());
        }
    }
    let mut changed = Vec::new();
    for (member, file) in &names {
        let dest = member.to_path(repo_dir);
        let unchanged = File::open(&dest)
            .ok()
            .and_then(|f| digest_reader(f).ok())
            .is_some_and(|(sha, size)| sha == file.sha256 && size == file.size);
        if unchanged {
            continue;
        }
        let mut source =
            File::open(&file.path).map_err(|e| continuum_core::Error::io("open", &file.path, e))?;
        let mut options = WriteOptions::replacing(true);
        options.expected_sha256 = Some(file.sha256);
        write_atomic(&dest, &mut source, options)?;
        changed.push(member.to_string());
    }
    let paths: Vec<&str> = names.iter().map(|(m, _)| m.as_str()).collect();
    let with_paths = |head: &[&'static str]| -> Vec<&str> {
        let mut args: Vec<&str> = head.to_vec();
        args.extend(paths.iter().copied());
        args
    };
    // Named files count even where a `.gitignore` would leave them out.
    let differs = !paths.is_empty() && {
        git(repo_dir, &with_paths(&["add", "-f", "--"]))?;
        // `diff --cached --quiet` exits 1 when the index differs from HEAD (or, before the
        // first commit, from the empty tree) for these paths.
        git_differs(
            repo_dir,
            &with_paths(&["diff", "--cached", "--quiet", "--"]),
        )?
    };
    let commit = if !differs {
        None
    } else {
        // Only these paths are committed: whatever else someone staged stays staged.
        let mut args: Vec<&str> = GIT_AUTHOR.to_vec();
        args.extend([
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "-m",
            message,
            "--",
        ]);
        args.extend(paths.iter().copied());
        git(repo_dir, &args)?;
        Some(git(repo_dir, &["rev-parse", "HEAD"])?.trim().to_string())
    };
    let head = git_output_ok(repo_dir, &["rev-parse", "--verify", "-q", "HEAD"])?
        .map(|h| h.trim().to_string());
    Ok(GitSnapshot {
        repo: repo_dir.to_path_buf(),
        initialized,
        changed,
        commit,
        head,
    })
}

/// Refuses when the current branch is behind its upstream (as last fetched).
fn check_not_behind(repo: &Path) -> Result<()> {
    let Some(upstream) = git_output_ok(
        repo,
        &["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}"],
    )?
    else {
        return Ok(());
    };
    let upstream = upstream.trim().to_string();
    let has_head = git_output_ok(repo, &["rev-parse", "--verify", "-q", "HEAD"])?.is_some();
    let range = if has_head { "HEAD..@{u}" } else { "@{u}" };
    let count = git(repo, &["rev-list", "--count", range])?;
    let behind = count.trim().parse::<u64>().unwrap_or_default();
    if behind == 0 {
        return Ok(());
    }
    let branch = git_output_ok(repo, &["symbolic-ref", "--short", "-q", "HEAD"])?
        .map(|b| b.trim().to_string())
        .unwrap_or_else(|| "HEAD".to_string());
    Err(Error::BehindUpstream {
        repo: repo.display().to_string(),
        branch,
        upstream,
        behind,
    })
}

/// `git -C repo …`, with the environment that could point it elsewhere removed.
fn git_command(repo: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(repo).args(args);
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
    ] {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null());
    cmd
}

fn run_git(repo: &Path, args: &[&str]) -> Result<std::process::Output> {
    git_command(repo, args)
        .output()
        .map_err(|source| Error::Spawn {
            program: "git".to_string(),
            source,
        })
}

fn git_failed(args: &[&str], out: &std::process::Output) -> Error {
    Error::ChildFailed {
        program: format!(
            "git {}",
            args.iter().take(3).copied().collect::<Vec<_>>().join(" ")
        ),
        status: out.status.to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs git; its stdout when it succeeds.
fn git(repo: &Path, args: &[&str]) -> Result<String> {
    let out = run_git(repo, args)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(git_failed(args, &out))
    }
}

/// Runs git; its stdout when it succeeds, `None` when it fails (a question answered no).
fn git_output_ok(repo: &Path, args: &[&str]) -> Result<Option<String>> {
    let out = run_git(repo, args)?;
    Ok(out
        .status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// Runs a git command that answers with its exit code: true for 1 (`--quiet` commands'
/// "there are differences"), false for 0, an error otherwise.
fn git_differs(repo: &Path, args: &[&str]) -> Result<bool> {
    let out = run_git(repo, args)?;
    match out.status.code() {
        Some(0) => Ok(false),
        Some(1) => Ok(true),
        _ => Err(git_failed(args, &out)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installation_names() {
        for yes in [
            "cluster.conf",
            "main.tf",
            "terraform.tfvars",
            "x.tf.json",
            "prod.tfvars.json",
        ] {
            assert!(is_installation_file(yes), "{yes}");
        }
        for no in [
            "terraform.tfstate",
            "cluster.conf.bak",
            ".tf",
            "notes.txt",
            "main.tf~",
        ] {
            assert!(!is_installation_file(no), "{no}");
        }
    }
}
