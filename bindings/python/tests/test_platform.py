"""continuum_backup.plan, backup and restore: the whole platform in one set, against the live
PostgreSQL server (CONTINUUM_TEST_PG_URL) and the live S3 server (CONTINUUM_TEST_S3_ENDPOINT).

The plan of the demo cluster; a backup and restore round trip of a small cluster folder and
four databases with unique names, with progress reports; an encrypted set in S3 that only
its identity opens; dry runs and conflicts; and a progress callback (or Ctrl-C) that stops a
backup before anything is committed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from conftest import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY, open_s3_store, s3_endpoint

import continuum_backup as cb
from continuum_backup import (
    AlreadyExistsError,
    BackupPlan,
    BackupReport,
    DecryptError,
    Error,
    IdentityRequiredError,
    InvalidInputError,
    Progress,
    RestorePlan,
    RestoreReport,
    Store,
)
from continuum_backup.orchestrator import Placement

ROOT = Path(__file__).resolve().parents[3]
DEMO_CONF = ROOT / "examples" / "demo-cluster" / "cluster.conf"

DB_COMPONENTS = ["component-database", "auditlog-database", "monitoring", "orchestrator"]

# No secret: a set in clear keeps this file byte for byte.
CONF = """
# a small cluster for the Python platform tests
machines: {
  central: { hosts: ["10.0.0.11"], suitable_tags: ["component-database", "auditlog-database", "api-server", "redis-server"] }
  monitoring: { hosts: ["10.0.0.21"], suitable_tags: [monitoring] }
}
components: { component-database: 1, auditlog-database: 1, monitoring: 1, api-server: 2, redis-server: 1 }
chef: { continuum: { cluster_name: py-platform, base_domain: "test.example.com" } }
"""

SECRET_VALUE = "py/platform/secret-value-8d2e"

# No database component: only the orchestrator's database is in the plan. Holds a secret,
# which an encrypted set keeps.
SECRET_CONF = f"""
machines: {{ central: {{ hosts: ["10.0.0.11"], suitable_tags: ["api-server"] }} }}
components: {{ api-server: 1 }}
chef: {{ continuum: {{ cluster_name: py-encrypted,
  database_backups: {{ access_key: AKIAPYPLATFORM, secret_key: "{SECRET_VALUE}", endpoint: eu-west-1, bucket: b }}
}} }}
"""

TF = 'resource "aws_instance" "central" {}\n'
POLICY = "on job::/sandbox/tom { { permit read } }\n"


def url_for(base: str, database: str) -> str:
    return urlsplit(base)._replace(path=f"/{database}").geturl()


def psql(url: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"psql {sql!r}: {done.stderr}"
    return done.stdout.strip()


def exists(base: str, database: str) -> bool:
    return psql(base, f"SELECT count(*) FROM pg_database WHERE datname = '{database}'") == "1"


def content(base: str, database: str) -> tuple[str, str]:
    url = url_for(base, database)
    return (
        psql(url, "SELECT count(*) FROM items"),
        psql(url, "SELECT md5(string_agg(i::text, '|' ORDER BY id)) FROM items i"),
    )


@pytest.fixture
def names(pg_url: str) -> Iterator[Callable[[str], str]]:
    """Hands out database names no other test uses; drops those databases at the end."""
    made: list[str] = []

    def name(prefix: str) -> str:
        made.append(f"cb_py_{prefix}_{uuid.uuid4().hex[:12]}")
        return made[-1]

    yield name
    for database in made:
        psql(pg_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def make_database(pg_url: str, name: str, label: str) -> None:
    psql(pg_url, f'CREATE DATABASE "{name}"')
    psql(
        url_for(pg_url, name),
        "CREATE TABLE items (id serial PRIMARY KEY, label text NOT NULL);"
        f"INSERT INTO items (label) SELECT '{label}-' || i FROM generate_series(1, 300) i;",
    )


@pytest.fixture
def databases(pg_url: str, names: Callable[[str], str]) -> dict[str, str]:
    """The four databases of the small cluster, under unique names: component → database."""
    made = {}
    for component in DB_COMPONENTS:
        name = names(component.split("-")[0])
        make_database(pg_url, name, component)
        made[component] = name
    return made


def make_cluster(root: Path, conf: str = CONF) -> Path:
    """A cluster folder: cluster.conf, a Terraform file, a policy document."""
    (root / "terraform").mkdir(parents=True)
    (root / "policy").mkdir()
    (root / "cluster.conf").write_text(conf)
    (root / "terraform" / "main.tf").write_text(TF)
    (root / "policy" / "root.pol").write_text(POLICY)
    return root


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    root.mkdir()
    return root


# --- plan ---------------------------------------------------------------------------------


def test_plan_of_the_demo_cluster(tmp_path: Path) -> None:
    plan = cb.plan(DEMO_CONF)
    assert isinstance(plan, BackupPlan)
    assert plan.cluster_name == "demo"
    assert plan.encrypted is False
    by_name = {c.component: c for c in plan.components}

    redis = by_name["redis-server"]
    assert redis.coverage == "not_backed_up"
    assert "log drain" in redis.reason
    assert redis.artifacts == []
    assert redis.hosts == ["10.20.0.11", "10.20.0.12"]
    assert plan.component("redis-server") is not None
    assert plan.component("no-such-component") is None

    cdb = by_name["component-database"]
    assert cdb.coverage == "backed_up" and cdb.kind == "cluster"
    assert [(a.source, a.database) for a in cdb.artifacts] == [("database", "component_database")]
    assert "backup set" in cdb.destinations
    assert by_name["orchestrator"].coverage == "backed_up"
    assert by_name["job-data"].coverage == "optional"
    assert by_name["splunk-server"].coverage == "optional"
    assert by_name["installation-files"].artifacts[0].source == "installation_files"
    assert by_name["policy"].artifacts[0].source == "policy_documents"

    assert all(isinstance(p, Placement) for p in plan.placements)
    assert {p.host for p in plan.placements} >= {"10.20.0.11", "10.20.0.21"}
    assert "database_backups.secret_key" in plan.secrets and "redacted" in plan.secrets
    assert "AKIADEMOFAKEACCESSKEY" not in json.dumps(plan.to_dict())

    table = plan.to_table()
    assert "redis-server" in table and "not backed up" in table
    assert plan.to_dot().startswith("digraph backup_plan {")

    d = plan.to_dict()
    json.dumps(d)
    redis_dict = next(c for c in d["components"] if c["component"] == "redis-server")
    assert redis_dict == redis.to_dict()
    assert redis_dict["coverage"] == "not_backed_up"
    assert d["cluster_name"] == "demo" and d["warnings"] == plan.warnings


def test_plan_options_and_graph(tmp_path: Path) -> None:
    plan = cb.plan(
        DEMO_CONF,
        host="10.20.0.11",
        with_job_data=True,
        encrypted=True,
        databases={"component-database": "cdb", "orchestrator": "orch"},
    )
    assert [p.host for p in plan.placements] == ["10.20.0.11"]
    assert plan.encrypted and "kept" in plan.secrets
    assert plan.component("job-data").coverage == "backed_up"  # type: ignore[union-attr]
    assert plan.component("component-database").artifacts[0].database == "cdb"  # type: ignore[union-attr]
    assert plan.component("orchestrator").artifacts[0].database == "orch"  # type: ignore[union-attr]

    graph = tmp_path / "plan.dot"
    plan.write_graph(graph)
    assert graph.read_text() == plan.to_dot()
    with pytest.raises(AlreadyExistsError):
        plan.write_graph(graph)
    cb.plan(DEMO_CONF).write_graph(str(graph), force=True)
    assert graph.read_text() == cb.plan(DEMO_CONF).to_dot()
    with pytest.raises(InvalidInputError, match="graph file"):
        plan.write_graph(tmp_path / "plan.txt")

    with pytest.raises(InvalidInputError, match="none of cluster.conf's machine groups"):
        cb.plan(DEMO_CONF, host="10.9.9.9")
    with pytest.raises(InvalidInputError, match="not a database component"):
        cb.plan(DEMO_CONF, databases={"redis-server": "x"})
    with pytest.raises(Error):
        cb.plan(tmp_path / "missing.conf")


# --- backup and restore -------------------------------------------------------------------


def test_backup_restore_round_trip(
    tmp_path: Path,
    pg_url: str,
    databases: dict[str, str],
    names: Callable[[str], str],
    store_dir: Path,
) -> None:
    cluster = make_cluster(tmp_path / "cluster")
    seen: list[Progress] = []
    report = cb.backup(
        cluster / "cluster.conf",
        cluster,
        str(store_dir),
        dsn=pg_url,
        reason="daily",
        databases=databases,
        with_globals=False,
        parallel=2,
        progress=seen.append,
    )
    assert isinstance(report, BackupReport)
    expected = {f"db/{db}.dump.zst" for db in databases.values()} | {
        "install/cluster.conf",
        "install/terraform/main.tf",
        "policy/root.pol",
    }
    assert {a.name for a in report.artifacts} == expected
    assert [a.name for a in report.artifacts] == sorted(expected)
    assert report.parallel == 2
    assert report.duration > 0
    assert report.redacted_secrets == []
    assert report.bytes_stored == sum(a.size for a in report.artifacts)
    assert report.bytes_read == sum(a.source_bytes for a in report.artifacts)
    by_name = {a.name: a for a in report.artifacts}
    assert by_name["policy/root.pol"].component == "policy"
    assert by_name["policy/root.pol"].kind == "policy"
    assert by_name["policy/root.pol"].size == len(POLICY)
    assert by_name["install/cluster.conf"].component == "installation-files"
    assert report.plan.cluster_name == "py-platform"
    assert report.plan.component("redis-server").coverage == "not_backed_up"  # type: ignore[union-attr]

    store = Store.open(str(store_dir))
    assert report.store == store.url
    sets = store.sets()
    assert [m.set_id for m in sets] == [report.set_id]
    assert sets[0].reason == "daily" and sets[0].cluster_name == "py-platform"
    assert store.verify(report.set_id).ok

    # Progress: in order, from start to a last, finished report.
    assert seen and all(isinstance(p, Progress) for p in seen)
    assert all(p.operation == "backup" for p in seen)
    last = seen[-1]
    assert last.finished and last.current == []
    assert last.artifacts_done == last.artifacts_total == len(expected)
    assert not any(p.finished for p in seen[:-1])
    done = [p.artifacts_done for p in seen]
    assert done == sorted(done)
    assert last.bytes_done >= report.bytes_read > 0
    assert last.elapsed > 0 and last.bytes_per_second > 0
    assert last.eta == 0.0
    assert any(p.current for p in seen)
    assert last.to_dict()["finished"] is True

    d = report.to_dict()
    json.dumps(d)
    assert d["set_id"] == report.set_id
    assert [a["name"] for a in d["artifacts"]] == [a.name for a in report.artifacts]
    assert d["plan"]["cluster_name"] == "py-platform"

    # A dry run into an empty folder and fresh databases: everything is created.
    target = tmp_path / "restored"
    renamed = {db: names("restored") for db in databases.values()}
    plan = cb.restore(
        str(store_dir), report.set_id, target, dsn=pg_url, databases=renamed, dry_run=True
    )
    assert isinstance(plan, RestorePlan)
    assert plan.set_id == report.set_id and plan.cluster_name == "py-platform"
    assert {i.artifact: i.action for i in plan.items} == {name: "create" for name in expected}
    assert plan.conflicts == []
    kinds = {i.artifact: i.kind for i in plan.items}
    assert kinds["install/cluster.conf"] == "installation-files"
    assert kinds["policy/root.pol"] == "policy"
    assert all(kinds[f"db/{db}.dump.zst"] == "databases" for db in databases.values())
    assert files_under(tmp_path / "restored") == []
    assert not any(exists(pg_url, db) for db in renamed.values())
    json.dumps(plan.to_dict())

    restored_seen: list[Progress] = []
    restored = cb.restore(
        store,
        report.set_id,
        target,
        dsn=pg_url,
        databases=renamed,
        progress=restored_seen.append,
    )
    assert isinstance(restored, RestoreReport)
    assert restored.set_id == report.set_id
    assert {i.artifact for i in restored.items} == expected
    assert all(i.verified for i in restored.items)
    assert restored.bytes_read == report.bytes_stored
    assert restored_seen[-1].finished and restored_seen[-1].operation == "restore"
    assert restored_seen[-1].artifacts_done == len(expected)
    json.dumps(restored.to_dict())

    for relative in ["cluster.conf", "terraform/main.tf", "policy/root.pol"]:
        assert (target / relative).read_bytes() == (cluster / relative).read_bytes(), relative
    for original, copy in renamed.items():
        assert content(pg_url, copy) == content(pg_url, original)
        assert content(pg_url, copy)[0] == "300"

    # Again: the files are identical, the databases hold data.
    again = cb.restore(
        str(store_dir), report.set_id, target, dsn=pg_url, databases=renamed, dry_run=True
    )
    actions = {i.artifact: i.action for i in again.items}
    assert actions["install/cluster.conf"] == actions["policy/root.pol"] == "skip"
    assert {i.artifact for i in again.conflicts} == {f"db/{db}.dump.zst" for db in databases.values()}
    with pytest.raises(AlreadyExistsError, match="nothing was changed"):
        cb.restore(str(store_dir), report.set_id, target, dsn=pg_url, databases=renamed)

    # Only the files: no server needed, nothing to do but skip.
    files_only = cb.restore(
        str(store_dir), report.set_id, target, only=["installation_files", "policy"]
    )
    assert {i.action for i in files_only.items} == {"skip"}
    assert {i.kind for i in files_only.items} == {"installation-files", "policy"}


def test_encrypted_backup_in_s3_needs_its_identity(
    tmp_path: Path, pg_url: str, names: Callable[[str], str], bucket: str, s3_client: Any
) -> None:
    orchestrator_db = names("orch")
    make_database(pg_url, orchestrator_db, "orchestrator")
    cluster = make_cluster(tmp_path / "cluster", SECRET_CONF)

    # One recipient from generate_identity, one from age-keygen, in a recipients file.
    secret, public = cb.generate_identity()
    assert secret.startswith("AGE-SECRET-KEY-1") and public.startswith("age1")
    own_identity = tmp_path / "own.key"
    own_identity.write_text(f"# made by generate_identity\n{secret}\n")
    keygen_identity = tmp_path / "keygen.key"
    subprocess.run(["age-keygen", "-o", str(keygen_identity)], check=True, capture_output=True)
    keygen_public = subprocess.run(
        ["age-keygen", "-y", str(keygen_identity)], check=True, capture_output=True, text=True
    ).stdout.strip()
    recipients_file = tmp_path / "recipients.txt"
    recipients_file.write_text(f"# backup keys\n{public}\n{keygen_public}\n")

    url = f"s3://{bucket}/platform"
    s3: dict[str, Any] = {
        "endpoint": s3_endpoint(),
        "region": S3_REGION,
        "path_style": True,
        "access_key_id": S3_ACCESS_KEY,
        "secret_access_key": S3_SECRET_KEY,
    }
    report = cb.backup(
        cluster / "cluster.conf",
        cluster,
        url,
        dsn=pg_url,
        databases={"orchestrator": orchestrator_db},
        encrypt_to=str(recipients_file),
        **s3,
    )
    assert report.plan.encrypted
    assert report.redacted_secrets == []
    assert {a.name for a in report.artifacts} == {
        f"db/{orchestrator_db}.dump.zst",
        "db/globals.sql.zst",
        "install/cluster.conf",
        "install/terraform/main.tf",
        "policy/root.pol",
    }
    store = open_s3_store(bucket, "platform")
    assert [m.set_id for m in store.sets()] == [report.set_id]

    # Nothing is stored in clear.
    keys = [
        o["Key"]
        for o in s3_client.list_objects_v2(Bucket=bucket, Prefix="platform/").get("Contents", [])
    ]
    stored_conf = next(k for k in keys if k.endswith("install/cluster.conf"))
    body = s3_client.get_object(Bucket=bucket, Key=stored_conf)["Body"].read()
    assert body.startswith(b"age-encryption.org/v1")
    assert SECRET_VALUE.encode() not in body

    target = tmp_path / "restored"
    with pytest.raises(IdentityRequiredError, match="identity") as required:
        cb.restore(store, report.set_id, target, only=["installation-files"], dry_run=True)
    assert isinstance(required.value, DecryptError) and isinstance(required.value, ValueError)

    stranger_secret, _ = cb.generate_identity()
    stranger = tmp_path / "stranger.key"
    stranger.write_text(stranger_secret + "\n")
    with pytest.raises(DecryptError) as refused:
        cb.restore(store, report.set_id, target, only=["installation-files"], identity=stranger)
    assert not isinstance(refused.value, IdentityRequiredError)
    assert stranger_secret not in str(refused.value)
    assert files_under(tmp_path / "restored") == []

    # The age-keygen identity opens it: cluster.conf comes back with its secret.
    restored = cb.restore(
        url,
        report.set_id,
        target,
        only=["installation-files", "policy"],
        identity=keygen_identity,
        **s3,
    )
    assert {i.artifact for i in restored.items} == {
        "install/cluster.conf",
        "install/terraform/main.tf",
        "policy/root.pol",
    }
    assert (target / "cluster.conf").read_text() == SECRET_CONF
    assert (target / "policy" / "root.pol").read_text() == POLICY

    # And so does the other one, databases included.
    copy = names("orch_copy")
    second = tmp_path / "second"
    plan = cb.restore(
        store,
        report.set_id,
        second,
        dsn=pg_url,
        databases={orchestrator_db: copy},
        identity=str(own_identity),
        dry_run=True,
    )
    assert {i.action for i in plan.items} == {"create"}
    assert any("globals" in n for n in plan.notes)
    cb.restore(
        store,
        report.set_id,
        second,
        dsn=pg_url,
        databases={orchestrator_db: copy},
        identity=str(own_identity),
    )
    assert content(pg_url, copy) == content(pg_url, orchestrator_db)
    assert (second / "cluster.conf").read_text() == SECRET_CONF


# --- stopping -----------------------------------------------------------------------------


class Stop(Exception):
    pass


class Small:
    """A cluster with only the orchestrator's database, backed up into a folder store."""

    def __init__(self, root: Path, pg_url: str, database: str) -> None:
        self.cluster = make_cluster(root / "cluster", SECRET_CONF)
        self.config = self.cluster / "cluster.conf"
        self.pg_url = pg_url
        self.database = database
        self.store_dir = root / "store"
        self.store_dir.mkdir()

    def backup(self, **options: Any) -> BackupReport:
        arguments: dict[str, Any] = {
            "dsn": self.pg_url,
            "databases": {"orchestrator": self.database},
            "with_globals": False,
            "parallel": 1,
        }
        arguments.update(options)
        return cb.backup(self.config, self.cluster, str(self.store_dir), **arguments)


@pytest.fixture
def small(tmp_path: Path, pg_url: str, names: Callable[[str], str]) -> Small:
    database = names("orch")
    make_database(pg_url, database, "orchestrator")
    return Small(tmp_path, pg_url, database)


def assert_nothing_committed(store_dir: Path) -> None:
    assert Store.open(str(store_dir)).sets() == []
    assert files_under(store_dir) == []


@pytest.mark.parametrize("when", ["first", "finished"])
def test_an_exception_in_the_callback_stops_the_backup(small: Small, when: str) -> None:
    calls: list[Progress] = []

    def progress(p: Progress) -> None:
        calls.append(p)
        if when == "first" or p.finished:
            raise Stop(f"stop at {when}")

    with pytest.raises(Stop, match=f"stop at {when}"):
        small.backup(progress=progress)
    # No call after the one that raised; even a raise at the last report commits nothing.
    assert calls[-1].finished == (when == "finished")
    if when == "first":
        assert len(calls) == 1
    assert_nothing_committed(small.store_dir)

    # The store is as good as before.
    report = small.backup()
    assert [m.set_id for m in Store.open(str(small.store_dir)).sets()] == [report.set_id]


def test_keyboard_interrupt_in_the_callback_stops_the_backup(small: Small) -> None:
    def progress(p: Progress) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        small.backup(progress=progress)
    assert_nothing_committed(small.store_dir)


def test_ctrl_c_stops_the_backup(small: Small) -> None:
    """SIGINT while the backup runs: the calling thread sees it and stops the backup."""
    sent: list[float] = []

    def progress(p: Progress) -> None:
        if not sent:
            sent.append(time.monotonic())
            os.kill(os.getpid(), signal.SIGINT)
            # Long enough for the calling thread to see the signal.
            time.sleep(1.0)

    with pytest.raises(KeyboardInterrupt):
        small.backup(progress=progress)
    assert sent
    assert_nothing_committed(small.store_dir)


def test_an_exception_in_the_callback_stops_the_restore(
    small: Small, tmp_path: Path, pg_url: str, names: Callable[[str], str]
) -> None:
    report = small.backup()
    target = tmp_path / "restored"
    copy = names("orch_copy")

    def progress(p: Progress) -> None:
        raise Stop("no restore")

    with pytest.raises(Stop, match="no restore"):
        cb.restore(
            str(small.store_dir),
            report.set_id,
            target,
            dsn=pg_url,
            databases={small.database: copy},
            progress=progress,
        )
    # The first item (the database) was stopped and removed; nothing after it ran.
    assert not exists(pg_url, copy)
    assert files_under(target) == []


# --- refusals -----------------------------------------------------------------------------


def test_refusals(small: Small, tmp_path: Path) -> None:
    # A database the server does not have: the message names the artifact.
    with pytest.raises(InvalidInputError) as missing:
        small.backup(databases={"orchestrator": "cb_py_no_such_db"})
    assert "artifact `db/cb_py_no_such_db.dump.zst`" in str(missing.value)

    with pytest.raises(InvalidInputError, match="parallel"):
        small.backup(parallel=0)
    with pytest.raises(TypeError, match="progress"):
        small.backup(progress=42)
    with pytest.raises(InvalidInputError, match="reason"):
        small.backup(reason="whenever")
    with pytest.raises(InvalidInputError, match="S3 options"):
        cb.backup(small.config, small.cluster, Store.open(str(small.store_dir)), endpoint="http://x")
    with pytest.raises(TypeError, match="store"):
        cb.backup(small.config, small.cluster, 42)  # type: ignore[arg-type]

    secret, _ = cb.generate_identity()
    with pytest.raises(InvalidInputError) as leaked:
        small.backup(encrypt_to=[secret])
    assert secret not in str(leaked.value) and "secret key" in str(leaked.value)
    with pytest.raises(InvalidInputError):
        small.backup(encrypt_to=["age1nonsense"])
    with pytest.raises(Error):
        small.backup(encrypt_to=tmp_path / "no-such-file")
    assert_nothing_committed(small.store_dir)

    with pytest.raises(InvalidInputError, match="restore kind"):
        cb.restore(str(small.store_dir), "x", tmp_path, only=["everything"])
    with pytest.raises(cb.NotFoundError):
        cb.restore(
            str(small.store_dir),
            "20260101T000000Z-0123456789abcdef",
            tmp_path,
            only=["policy"],
            dry_run=True,
        )


def test_module_layout() -> None:
    for name in [
        "BackupPlan",
        "BackupReport",
        "BackedUpArtifact",
        "PlannedArtifact",
        "PlannedComponent",
        "Progress",
        "RestoreItem",
        "RestorePlan",
        "RestoreReport",
        "RestoredItem",
    ]:
        cls = getattr(cb, name)
        assert cls.__name__ == name and cls.__module__ == "continuum_backup"
    for name in ["backup", "restore", "plan", "generate_identity"]:
        assert callable(getattr(cb, name)) and name in cb.__all__
    assert issubclass(IdentityRequiredError, DecryptError)
    assert issubclass(DecryptError, Error) and issubclass(DecryptError, ValueError)
    assert DecryptError.__module__ == IdentityRequiredError.__module__ == "continuum_backup"
