"""continuum_backup.orchestrator's archive functions against a live PostgreSQL server
(CONTINUUM_TEST_PG_URL; without it these tests fail): backup, verify, restore planned in
dry-run mode then applied, the 2.4.0 release gate, a flipped byte, installation files and
their git snapshot.

The tests use the databases `orchestrator` and `orchestrator_archive` (the names the
archive knows), dropped before and after each test; the Rust CLI tests use them too, but
never at the same time as pytest.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import continuum_backup
import continuum_backup.orchestrator as orchestrator_module
from continuum_backup import (
    AlreadyExistsError,
    BehindUpstreamError,
    CorruptError,
    Error,
    InvalidInputError,
    ReleaseGateError,
    StoreError,
    orchestrator,
)
from continuum_backup.orchestrator import (
    Archive,
    ArchiveReport,
    GitSnapshot,
    InstallationFile,
    RestoredDatabase,
    RestoredFile,
    RestoreItem,
    RestoreReport,
)

DATABASE = "orchestrator"
ARCHIVE_DATABASE = "orchestrator_archive"
ROWS = 321
MARKER = "py-archive-marker-5d0c9e7a41"
ADDRESSES = ["192.0.2.10"]

SCHEMA = f"""
CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, {ROWS}) AS i;
"""

CLUSTER_CONF = """\
# the cluster
chef: {
  continuum: {
    cluster_name: "py-archive"
  }
}
"""

MAIN_TF = f"""\
# {MARKER}
resource "null_resource" "orchestrator" {{
  triggers = {{ id = "1" }}
}}
"""


def url_for(base: str, database: str) -> str:
    return urlsplit(base)._replace(path=f"/{database}").geturl()


def psql(url: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def drop_databases(pg_url: str) -> None:
    for name in (DATABASE, ARCHIVE_DATABASE):
        psql(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def exists(pg_url: str, name: str) -> bool:
    return psql(pg_url, f"SELECT count(*) FROM pg_database WHERE datname = '{name}'") == "1"


def row_count(pg_url: str) -> int:
    return int(psql(url_for(pg_url, DATABASE), "SELECT count(*) FROM items"))


def sha256_of(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path) -> list[str]:
    """Staging and temporary folders or files the library may have left behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".continuum-"))


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def source(pg_url: str) -> Iterator[str]:
    """A fresh `orchestrator` database holding `items`, no `orchestrator_archive`; both are
    dropped again afterwards."""
    drop_databases(pg_url)
    psql(pg_url, f'CREATE DATABASE "{DATABASE}"')
    psql(url_for(pg_url, DATABASE), SCHEMA)
    yield DATABASE
    drop_databases(pg_url)


@pytest.fixture
def installation(tmp_path: Path) -> tuple[Path, Path]:
    """`cluster.conf` and `main.tf`, in a folder of their own."""
    etc = tmp_path / "etc"
    etc.mkdir()
    conf = etc / "cluster.conf"
    conf.write_text(CLUSTER_CONF)
    tf = etc / "main.tf"
    tf.write_text(MAIN_TF)
    return conf, tf


def make_backup(
    pg_url: str, installation: tuple[Path, Path], out_dir: Path, release: str = "2.6.1"
) -> Archive:
    conf, tf = installation
    return orchestrator.backup(
        conf,
        out_dir,
        release=release,
        dsn=pg_url,
        config_files=[tf],
        host_addresses=ADDRESSES,
    )


def test_module_layout() -> None:
    assert continuum_backup.orchestrator is orchestrator_module
    for name in (
        "Archive",
        "ArchiveReport",
        "GitSnapshot",
        "InstallationFile",
        "RestoreItem",
        "RestoreReport",
        "RestoredDatabase",
        "RestoredFile",
    ):
        assert name in orchestrator.__all__
        cls = getattr(orchestrator, name)
        assert cls.__name__ == name
        assert cls.__module__ == "continuum_backup.orchestrator"
    for name in ("backup", "verify", "restore", "collect_installation_files", "snapshot_to_git"):
        assert name in orchestrator.__all__
        assert callable(getattr(orchestrator, name))
    assert issubclass(ReleaseGateError, InvalidInputError)
    assert issubclass(ReleaseGateError, ValueError)
    assert issubclass(BehindUpstreamError, Error)
    assert ReleaseGateError.__module__ == "continuum_backup"
    assert BehindUpstreamError.__module__ == "continuum_backup"


def test_backup_verify_and_restore(
    pg_url: str, source: str, installation: tuple[Path, Path], tmp_path: Path
) -> None:
    conf, tf = installation
    out_dir = tmp_path / "out"
    archive = make_backup(pg_url, installation, out_dir)
    assert isinstance(archive, Archive)
    path = Path(archive.path)
    assert path.parent == out_dir
    assert re.fullmatch(r"orchestrator_backup_\d{8}T\d{6}Z\.tgz", path.name), path.name
    assert archive.size == path.stat().st_size
    assert archive.sha256 == sha256_of(path)
    assert sorted(p.name for p in out_dir.iterdir()) == [path.name]

    meta = archive.metadata
    assert meta["release"]["version"] == "2.6.1"
    assert meta["platform_release"] == "2.6.1"
    assert meta["cluster_name"] == "py-archive"
    assert meta["host_addresses"] == ADDRESSES
    assert [d["name"] for d in meta["databases"]] == [DATABASE]
    assert meta["databases"][0]["row_counts"] == {"public.items": ROWS}
    assert meta["config"] == ["config/cluster.conf", "config/main.tf"]
    assert meta["roles"] == "db/roles.sql"
    members = {m["path"]: m for m in meta["members"]}
    assert members["config/main.tf"]["sha256"] == sha256_of(tf)
    assert members["config/cluster.conf"]["size"] == conf.stat().st_size
    assert archive.to_dict()["metadata"] == meta
    assert repr(archive) == f"Archive(path={archive.path!r}, size={archive.size}, release='2.6.1')"

    # GNU tar reads it, and metadata.json comes first.
    listed = subprocess.run(
        ["tar", "tzf", archive.path], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert listed[0] == "metadata.json"
    assert set(listed[1:]) == set(members)

    report = orchestrator.verify(path)
    assert isinstance(report, ArchiveReport)
    assert report.restorable is True
    assert report.release == "2.6.1"
    assert report.metadata["release"]["version"] == "2.6.1"
    assert report.metadata == meta
    assert report.archive == archive.path
    assert report.size == archive.size
    assert report.members == len(members)
    assert report.bytes == sum(m["size"] for m in members.values())
    assert report.to_dict()["restorable"] is True
    assert repr(report).startswith("ArchiveReport(archive=")

    # A dry run into an empty config folder changes nothing.
    config_dir = tmp_path / "restored"
    config_dir.mkdir()
    plan = orchestrator.restore(
        archive.path, config_dir, dsn=pg_url, dry_run=True, host_addresses=ADDRESSES
    )
    assert isinstance(plan, RestoreReport)
    assert plan.dry_run is True
    assert plan.archive == archive.path
    assert all(isinstance(i, RestoreItem) for i in plan.items)
    shown = [(i.kind, i.name, i.action) for i in plan.items]
    assert shown == [
        ("roles", plan.items[0].name, "apply"),
        ("database", DATABASE, "conflict"),
        ("config_file", str(config_dir / "cluster.conf"), "create"),
        ("config_file", str(config_dir / "main.tf"), "create"),
        ("release_file", "release/version", "skip"),
    ]
    assert [i.member for i in plan.items] == [
        "db/roles.sql",
        "db/orchestrator.sql",
        "config/cluster.conf",
        "config/main.tf",
        "release/version",
    ]
    assert "force" in plan.items[1].detail
    assert plan.items[3].size == tf.stat().st_size
    assert plan.databases == [] and plan.files == [] and plan.warnings == []
    assert plan.to_dict()["items"][1] == {
        "kind": "database",
        "name": DATABASE,
        "member": "db/orchestrator.sql",
        "action": "conflict",
        "size": members["db/orchestrator.sql"]["size"],
        "detail": plan.items[1].detail,
    }
    assert list(config_dir.iterdir()) == []
    assert leftovers(tmp_path) == []
    assert row_count(pg_url) == ROWS

    # Another host: the plan warns that the cluster expects the orchestrator at the old address.
    moved = orchestrator.restore(
        archive.path, config_dir, dsn=pg_url, dry_run=True, host_addresses=["192.0.2.99"]
    )
    assert len(moved.warnings) == 1 and "192.0.2.10" in moved.warnings[0]

    # Not a dry run: the database holds data, so nothing is done without force.
    with pytest.raises(AlreadyExistsError) as refused:
        orchestrator.restore(archive.path, config_dir, dsn=pg_url, host_addresses=ADDRESSES)
    assert DATABASE in str(refused.value) and "force" in str(refused.value)
    assert list(config_dir.iterdir()) == []
    assert leftovers(tmp_path) == []

    # The database is lost; the restore brings it back with the config files.
    psql(pg_url, f'DROP DATABASE "{DATABASE}" WITH (FORCE)')
    assert not exists(pg_url, DATABASE)
    restored = orchestrator.restore(archive.path, config_dir, dsn=pg_url, host_addresses=ADDRESSES)
    assert isinstance(restored, RestoreReport)
    assert restored.dry_run is False
    assert [(i.kind, i.action) for i in restored.items][1:4] == [
        ("database", "create"),
        ("config_file", "create"),
        ("config_file", "create"),
    ]
    assert restored.warnings == []
    [db] = restored.databases
    assert isinstance(db, RestoredDatabase)
    assert (db.name, db.action, db.ok) == (DATABASE, "create", True)
    assert db.tables == [("public.items", ROWS, ROWS)]
    assert db.total_rows == ROWS
    assert db.to_dict()["tables"] == [{"table": "public.items", "expected": ROWS, "actual": ROWS}]
    assert row_count(pg_url) == ROWS
    assert all(isinstance(f, RestoredFile) for f in restored.files)
    assert [(f.path, f.action, f.sha256) for f in restored.files] == [
        (str(config_dir / "cluster.conf"), "create", sha256_of(conf)),
        (str(config_dir / "main.tf"), "create", sha256_of(tf)),
    ]
    assert (config_dir / "cluster.conf").read_bytes() == conf.read_bytes()
    assert (config_dir / "main.tf").read_bytes() == tf.read_bytes()
    assert sorted(p.name for p in config_dir.iterdir()) == ["cluster.conf", "main.tf"]
    assert restored.to_dict()["databases"][0]["ok"] is True
    assert leftovers(tmp_path) == []

    # With force, the database is replaced and the identical files are left alone.
    psql(url_for(pg_url, DATABASE), "DELETE FROM items WHERE id > 10")
    forced = orchestrator.restore(
        archive.path, config_dir, dsn=pg_url, force=True, host_addresses=ADDRESSES
    )
    assert [d.action for d in forced.databases] == ["replace"]
    assert [f.action for f in forced.files] == ["skip", "skip"]
    assert row_count(pg_url) == ROWS


def test_release_gate(
    pg_url: str, source: str, installation: tuple[Path, Path], tmp_path: Path
) -> None:
    old = make_backup(pg_url, installation, tmp_path / "old", release="2.3.9")
    report = orchestrator.verify(old.path)
    assert report.restorable is False
    assert report.release == "2.3.9"

    config_dir = tmp_path / "new" / "config"
    for dry_run in (True, False):
        with pytest.raises(ReleaseGateError) as refused:
            orchestrator.restore(old.path, config_dir, dsn=pg_url, dry_run=dry_run)
        assert isinstance(refused.value, InvalidInputError)
        assert isinstance(refused.value, ValueError)
        message = str(refused.value)
        assert "2.4.0" in message and "2.3.9" in message, message
        assert "psql" in message
        assert not config_dir.exists()
        assert not config_dir.parent.exists()
        assert leftovers(tmp_path) == []
    assert row_count(pg_url) == ROWS


def test_a_flipped_byte_is_found(
    pg_url: str, source: str, installation: tuple[Path, Path], tmp_path: Path
) -> None:
    archive = make_backup(pg_url, installation, tmp_path / "out")
    tar = bytearray(gzip.decompress(Path(archive.path).read_bytes()))
    marker = MARKER.encode()
    assert tar.count(marker) == 1
    at = tar.index(marker) + len(marker) // 2
    tar[at] ^= 0x01
    damaged_dir = tmp_path / "damaged"
    damaged_dir.mkdir()
    damaged = damaged_dir / Path(archive.path).name
    damaged.write_bytes(gzip.compress(bytes(tar)))

    with pytest.raises(CorruptError) as corrupt:
        orchestrator.verify(damaged)
    assert "config/main.tf" in str(corrupt.value), str(corrupt.value)

    config_dir = tmp_path / "config"
    with pytest.raises(CorruptError) as corrupt:
        orchestrator.restore(damaged, config_dir, dsn=pg_url, dry_run=True)
    assert "config/main.tf" in str(corrupt.value)
    assert not config_dir.exists()
    assert leftovers(tmp_path) == []

    # A tar whose first member is not metadata.json is no orchestrator archive.
    foreign = damaged_dir / "foreign.tgz"
    with tarfile.open(foreign, "w:gz") as out:
        out.add(installation[0], arcname="cluster.conf")
    with pytest.raises(CorruptError) as refused:
        orchestrator.verify(foreign)
    assert "metadata.json" in str(refused.value)
    # And a file that is no archive at all cannot be read.
    with pytest.raises(Error):
        orchestrator.verify(installation[0])
    with pytest.raises(StoreError):
        orchestrator.verify(damaged_dir / "missing.tgz")


def test_backup_refusals(
    pg_url: str, source: str, installation: tuple[Path, Path], tmp_path: Path
) -> None:
    conf, tf = installation
    out_dir = tmp_path / "out"
    with pytest.raises(InvalidInputError, match="release"):
        orchestrator.backup(conf, out_dir, release=" ", dsn=pg_url)
    with pytest.raises(InvalidInputError, match="invalid PostgreSQL connection"):
        orchestrator.backup(conf, out_dir, release="2.6.1", dsn="mysql://root@127.0.0.1/x")
    # A lone path is a Sequence[str] to a type checker, but refused at run time.
    with pytest.raises(TypeError):
        orchestrator.backup(conf, out_dir, release="2.6.1", dsn=pg_url, config_files=str(tf))
    psql(pg_url, f'DROP DATABASE "{DATABASE}" WITH (FORCE)')
    with pytest.raises(InvalidInputError, match="no such database"):
        orchestrator.backup(conf, out_dir, release="2.6.1", dsn=pg_url)
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


def test_the_gil_is_released(
    pg_url: str, source: str, installation: tuple[Path, Path], tmp_path: Path
) -> None:
    ticks = 0
    stop = threading.Event()

    def tick() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1

    thread = threading.Thread(target=tick)
    thread.start()
    try:
        before = ticks
        make_backup(pg_url, installation, tmp_path / "out")
        during = ticks - before
    finally:
        stop.set()
        thread.join()
    assert during > 1000


def test_installation_files_and_their_git_snapshot(tmp_path: Path) -> None:
    conf = tmp_path / "cluster.conf"
    conf.write_text(CLUSTER_CONF)
    tf = tmp_path / "main.tf"
    tf.write_text(MAIN_TF)
    # Not configuration: Terraform's state, its working folder, other files.
    (tmp_path / "terraform.tfstate").write_text("{}")
    (tmp_path / ".terraform").mkdir()
    (tmp_path / ".terraform" / "module.tf").write_text("# cached\n")
    (tmp_path / "notes.txt").write_text("hello\n")

    files = orchestrator.collect_installation_files(tmp_path)
    assert all(isinstance(f, InstallationFile) for f in files)
    assert [(f.name, f.path, f.size, f.sha256) for f in files] == [
        ("cluster.conf", str(conf), conf.stat().st_size, sha256_of(conf)),
        ("main.tf", str(tf), tf.stat().st_size, sha256_of(tf)),
    ]
    assert files[1].to_dict() == {
        "path": str(tf),
        "name": "main.tf",
        "size": tf.stat().st_size,
        "sha256": sha256_of(tf),
    }
    assert repr(files[0]) == f"InstallationFile(name='cluster.conf', size={conf.stat().st_size})"
    # A file given by itself is taken whatever its name.
    [notes] = orchestrator.collect_installation_files([str(tmp_path / "notes.txt")])
    assert notes.name == "notes.txt"

    repo = tmp_path / "repo"
    first = orchestrator.snapshot_to_git(files, repo)
    assert isinstance(first, GitSnapshot)
    assert first.repo == str(repo)
    assert first.initialized is True
    assert first.changed == ["cluster.conf", "main.tf"]
    assert first.commit is not None and re.fullmatch(r"[0-9a-f]{40}", first.commit)
    assert first.head == first.commit
    assert git(repo, "log", "--format=%s") == "continuum-backup: installation files"
    assert (repo / "main.tf").read_bytes() == tf.read_bytes()

    second = orchestrator.snapshot_to_git(files, repo)
    assert second.initialized is False
    assert second.changed == []
    assert second.commit is None
    assert second.head == first.commit
    assert second.to_dict()["commit"] is None

    # A file that changed since it was collected is refused; paths are collected afresh.
    tf.write_text(MAIN_TF + "# changed\n")
    with pytest.raises(CorruptError):
        orchestrator.snapshot_to_git(files, repo)
    third = orchestrator.snapshot_to_git([tf, files[0]], repo, message="terraform changed")
    assert third.changed == ["main.tf"]
    assert third.commit is not None and third.commit != first.commit
    assert git(repo, "log", "-1", "--format=%s") == "terraform changed"

    # A clone that is behind its upstream refuses to fork the shared history.
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    tf.write_text(MAIN_TF + "# changed again\n")
    assert orchestrator.snapshot_to_git(str(tf), repo).commit is not None
    git(clone, "fetch", "-q")
    head = git(clone, "rev-parse", "HEAD")
    with pytest.raises(BehindUpstreamError) as behind:
        orchestrator.snapshot_to_git(str(tf), clone)
    assert "behind" in str(behind.value)
    assert git(clone, "rev-parse", "HEAD") == head

    with pytest.raises(InvalidInputError):
        orchestrator.snapshot_to_git(files[:1], repo, message=" ")
