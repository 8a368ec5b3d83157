"""continuum_backup.db against a live PostgreSQL server (CONTINUUM_TEST_PG_URL; without it
these tests fail): backup into a folder store, restore planned then applied under another
name, the content compared by the server's own digests, refusals, and the database list."""

from __future__ import annotations

import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import continuum_backup
import continuum_backup.db as db_module
from continuum_backup import (
    AlreadyExistsError,
    Error,
    InvalidInputError,
    Manifest,
    NotFoundError,
    Store,
    StoreError,
    db,
)
from continuum_backup.db import DatabaseInfo, RestorePlan, RestoreReport

ROWS = 1000
EVENTS = 250

SCHEMA = f"""
CREATE TABLE t (
    id int PRIMARY KEY,
    name text NOT NULL,
    amount numeric(12, 2),
    tags text[],
    doc jsonb,
    at timestamptz
);
INSERT INTO t
SELECT i, 'row ' || i || E' \\u00e9\\t|', i * 1.25, ARRAY['a' || i, NULL],
       jsonb_build_object('i', i, 'even', i % 2 = 0),
       timestamptz '2026-01-01 00:00:00+00' + i * interval '1 minute'
FROM generate_series(1, {ROWS}) AS i;
CREATE SCHEMA app;
CREATE TABLE app.events (id bigserial PRIMARY KEY, payload bytea);
INSERT INTO app.events (payload) SELECT decode(md5(i::text), 'hex') FROM generate_series(1, {EVENTS}) AS i;
CREATE TABLE empty (id int PRIMARY KEY);
CREATE VIEW big_rows AS SELECT * FROM t WHERE amount > 100;
"""

TABLES = ["app.events", "public.empty", "public.t"]


def url_for(base: str, database: str) -> str:
    return urlsplit(base)._replace(path=f"/{database}").geturl()


def psql(url: str, sql: str) -> str:
    """Runs SQL with the `psql` program and returns its unaligned, tuples-only output."""
    done = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"psql {sql!r}: {done.stderr}"
    return done.stdout.strip()


def digests(base: str, database: str) -> dict[str, str]:
    """Every table's content as one digest, computed by the server."""
    url = url_for(base, database)
    return {
        table: psql(url, f"SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM {table} t")
        for table in TABLES
    }


def exists(base: str, database: str) -> bool:
    return psql(base, f"SELECT count(*) FROM pg_database WHERE datname = '{database}'") == "1"


def unique(prefix: str) -> str:
    return f"cb_py_{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def names(pg_url: str) -> Iterator[Callable[[str], str]]:
    """Hands out database names no other test uses; drops those databases at the end."""
    made: list[str] = []

    def name(prefix: str) -> str:
        made.append(unique(prefix))
        return made[-1]

    yield name
    for database in made:
        psql(pg_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture
def source(pg_url: str, names: Callable[[str], str]) -> str:
    """A database with three tables (one empty, one in its own schema) and a view."""
    database = names("src")
    psql(pg_url, f'CREATE DATABASE "{database}"')
    psql(url_for(pg_url, database), SCHEMA)
    return database


@pytest.fixture
def store_dir(tmp_path: Path) -> str:
    root = tmp_path / "store"
    root.mkdir()
    return str(root)


def test_module_layout() -> None:
    assert continuum_backup.db is db_module
    assert set(db.__all__) == {
        "DatabaseInfo",
        "RestorePlan",
        "RestoreReport",
        "backup",
        "list_databases",
        "restore",
    }
    for name in ("DatabaseInfo", "RestorePlan", "RestoreReport"):
        cls = getattr(db, name)
        assert cls.__name__ == name
        assert cls.__module__ == "continuum_backup.db"


def test_backup_then_restore_under_another_name(
    pg_url: str, source: str, store_dir: str, names: Callable[[str], str]
) -> None:
    before = digests(pg_url, source)
    manifest = db.backup([source], store_dir, dsn=pg_url, cluster_name="py-test")
    assert isinstance(manifest, Manifest)
    assert manifest.reason == "manual"
    assert manifest.cluster_name == "py-test"
    by_name = {a.name: a for a in manifest.artifacts}
    assert set(by_name) == {f"{source}.dump.zst", "globals.sql.zst"}
    dump = by_name[f"{source}.dump.zst"]
    assert dump.component == "postgresql" and dump.compression == "zstd"
    store = Store.open(store_dir)
    assert [m.set_id for m in store.sets()] == [manifest.set_id]
    assert store.verify(manifest.set_id).ok

    copy = names("copy")
    plan = db.restore(store_dir, manifest.set_id, source, dsn=pg_url, as_name=copy, dry_run=True)
    assert isinstance(plan, RestorePlan)
    assert (plan.set_id, plan.database, plan.target_database) == (manifest.set_id, source, copy)
    assert plan.action == "create"
    assert plan.artifact == f"{source}.dump.zst"
    assert plan.artifact_size == dump.size
    assert plan.server_version
    assert plan.globals is False
    assert plan.expected_rows == {"app.events": EVENTS, "public.empty": 0, "public.t": ROWS}
    assert plan.to_dict()["expected_rows"] == plan.expected_rows
    assert plan.to_dict()["action"] == "create"
    assert repr(plan) == f"RestorePlan(database={source!r}, target_database={copy!r}, action='create')"
    # A dry run changes nothing.
    assert not exists(pg_url, copy)
    assert copy not in {d.name for d in db.list_databases(pg_url)}

    report = db.restore(store_dir, manifest.set_id, source, dsn=pg_url, as_name=copy)
    assert isinstance(report, RestoreReport)
    assert (report.set_id, report.database, report.target_database) == (
        manifest.set_id,
        source,
        copy,
    )
    assert report.action == "create"
    assert report.globals_restored is False
    assert report.tables == [
        ("app.events", EVENTS, EVENTS),
        ("public.empty", 0, 0),
        ("public.t", ROWS, ROWS),
    ]
    assert report.total_rows == ROWS + EVENTS
    assert report.to_dict()["tables"][2] == {"table": "public.t", "expected": ROWS, "actual": ROWS}
    assert repr(report) == (
        f"RestoreReport(target_database={copy!r}, action='create', tables=3, total_rows={ROWS + EVENTS})"
    )
    assert digests(pg_url, copy) == before
    assert psql(url_for(pg_url, copy), "SELECT count(*) FROM big_rows") == str(ROWS - 80)

    # The copy holds data now: no restore over it without force, planned or not.
    for dry_run in (True, False):
        with pytest.raises(AlreadyExistsError) as refused:
            db.restore(
                store_dir, manifest.set_id, source, dsn=pg_url, as_name=copy, dry_run=dry_run
            )
        assert copy in str(refused.value) and "force" in str(refused.value)
    assert digests(pg_url, copy) == before

    # With force it is replaced.
    psql(url_for(pg_url, copy), "DELETE FROM t WHERE id > 10")
    plan = db.restore(
        store_dir, manifest.set_id, source, dsn=pg_url, as_name=copy, force=True, dry_run=True
    )
    assert isinstance(plan, RestorePlan) and plan.action == "replace"
    report = db.restore(store_dir, manifest.set_id, source, dsn=pg_url, as_name=copy, force=True)
    assert report.action == "replace"
    assert digests(pg_url, copy) == before

    listed = {d.name: d for d in db.list_databases(pg_url)}
    assert source in listed and copy in listed
    info = listed[copy]
    assert isinstance(info, DatabaseInfo)
    assert info.owner == (urlsplit(pg_url).username or "postgres")
    assert info.encoding
    assert info.size is not None and info.size > 0
    assert not info.is_template and info.allows_connections
    assert info.to_dict()["name"] == copy
    assert repr(info).startswith(f"DatabaseInfo(name={copy!r}, ")


def test_restore_into_an_existing_empty_database(
    pg_url: str, source: str, store_dir: str, names: Callable[[str], str]
) -> None:
    manifest = db.backup([source], store_dir, dsn=pg_url, with_globals=False, reason="migration")
    assert [a.name for a in manifest.artifacts] == [f"{source}.dump.zst"]
    assert manifest.reason == "migration"
    empty = names("empty")
    psql(pg_url, f'CREATE DATABASE "{empty}"')
    report = db.restore(store_dir, manifest.set_id, source, dsn=pg_url, as_name=empty)
    assert isinstance(report, RestoreReport)
    assert report.action == "fill"
    assert digests(pg_url, empty) == digests(pg_url, source)


def test_the_environment_names_the_server(
    pg_url: str, source: str, store_dir: str, names: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DATABASE_URL", pg_url)
    assert source in {d.name for d in db.list_databases()}
    manifest = db.backup([source], store_dir, with_globals=False)
    copy = names("env")
    report = db.restore(store_dir, manifest.set_id, source, as_name=copy)
    assert isinstance(report, RestoreReport)
    assert report.total_rows == ROWS + EVENTS

    monkeypatch.setenv("DATABASE_URL", "mysql://nobody@127.0.0.1/x")
    with pytest.raises(InvalidInputError, match="DATABASE_URL"):
        db.list_databases()


def test_list_databases_shows_the_templates(pg_url: str) -> None:
    listed = {d.name: d for d in db.list_databases(dsn=pg_url)}
    assert listed["template0"].is_template
    assert not listed["template0"].allows_connections
    assert listed["template1"].is_template
    assert not listed[urlsplit(pg_url).path.lstrip("/") or "postgres"].is_template


def test_backup_refusals(pg_url: str, source: str, store_dir: str) -> None:
    with pytest.raises(InvalidInputError, match="at least one database"):
        db.backup([], store_dir, dsn=pg_url)
    with pytest.raises(InvalidInputError, match="named twice"):
        db.backup([source, source], store_dir, dsn=pg_url)
    with pytest.raises(InvalidInputError):
        db.backup([source], store_dir, dsn=pg_url, reason="whenever")
    with pytest.raises(InvalidInputError, match="invalid PostgreSQL connection"):
        db.backup([source], store_dir, dsn="mysql://root@127.0.0.1/x")
    # A lone name is a Sequence[str] to a type checker, but refused at run time.
    with pytest.raises(TypeError):
        db.backup(source, store_dir, dsn=pg_url)

    absent = unique("absent")
    with pytest.raises(StoreError) as failed:
        db.backup([source, absent], store_dir, dsn=pg_url)
    assert isinstance(failed.value, OSError) and isinstance(failed.value, Error)
    assert absent in str(failed.value)
    # Nothing is left behind.
    assert Store.open(store_dir).sets() == []


def test_restore_refusals(pg_url: str, source: str, store_dir: str, tmp_path: Path) -> None:
    manifest = db.backup([source], store_dir, dsn=pg_url, with_globals=False)
    with pytest.raises(InvalidInputError) as missing:
        db.restore(store_dir, manifest.set_id, "other_db", dsn=pg_url, dry_run=True)
    assert "other_db.dump.zst" in str(missing.value)
    assert f"{source}.dump.zst" in str(missing.value)
    with pytest.raises(InvalidInputError, match="globals.sql.zst"):
        db.restore(
            store_dir, manifest.set_id, source, dsn=pg_url, as_name=unique("g"), with_globals=True
        )
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(NotFoundError):
        db.restore(str(other), manifest.set_id, source, dsn=pg_url, dry_run=True)
    with pytest.raises(InvalidInputError):
        db.restore(store_dir, "../escape", source, dsn=pg_url, dry_run=True)
    # The source itself holds data.
    with pytest.raises(AlreadyExistsError):
        db.restore(store_dir, manifest.set_id, source, dsn=pg_url)


def test_passwords_are_never_shown(store_dir: str) -> None:
    password = "pw-hunter2-" + uuid.uuid4().hex[:8]
    dsn = f"postgresql://postgres:{password}@127.0.0.1:1/postgres?connect_timeout=5"
    for call in (
        lambda: db.list_databases(dsn),
        lambda: db.backup(["x"], store_dir, dsn=dsn),
        lambda: db.restore(store_dir, "20260101T000000Z-00000000", "x", dsn=dsn),
    ):
        with pytest.raises(Error) as failed:
            call()
        assert password not in str(failed.value), str(failed.value)
        assert password not in repr(failed.value)
    with pytest.raises(StoreError) as refused:
        db.list_databases(dsn)
    assert "postgres@127.0.0.1:1/postgres" in str(refused.value)


def test_the_gil_is_released(pg_url: str, source: str, store_dir: str) -> None:
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
        db.backup([source], store_dir, dsn=pg_url, with_globals=False)
        during = ticks - before
    finally:
        stop.set()
        thread.join()
    assert during > 1000


EVERY_TYPE_SQL = (Path(__file__).resolve().parents[3] / "testkit" / "fixtures" / "every_type.sql").read_text()
PGBENCH_TABLES = ["pgbench_accounts", "pgbench_branches", "pgbench_tellers", "pgbench_history", "every_type"]


def test_pgbench_and_every_column_type_round_trip(
    pg_url: str, names: Callable[[str], str], store_dir: str
) -> None:
    """A pgbench database with a table of every common column type, backed up, restored
    under another name, and compared table by table by the server's digests."""
    src = names("bench")
    psql(pg_url, f'CREATE DATABASE "{src}"')
    bench = subprocess.run(
        ["pgbench", "-i", "-q", "-s", "2", "-d", url_for(pg_url, src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if bench.returncode != 0:  # Debian keeps pgbench beside the server, off the PATH
        bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
        bench = subprocess.run(
            [f"{bindir}/pgbench", "-i", "-q", "-s", "2", "-d", url_for(pg_url, src)],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert bench.returncode == 0, bench.stderr
    psql(url_for(pg_url, src), EVERY_TYPE_SQL)
    manifest = db.backup([src], store_dir, dsn=pg_url, with_globals=False)
    copy = names("bench_copy")
    report = db.restore(store_dir, manifest.set_id, src, dsn=pg_url, as_name=copy)
    assert isinstance(report, RestoreReport)
    assert report.total_rows > 200_000
    for table in PGBENCH_TABLES:
        query = f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {table} x"
        assert psql(url_for(pg_url, src), query) == psql(url_for(pg_url, copy), query), table
    assert psql(url_for(pg_url, copy), "SELECT add_one(41)") == "42"
