"""continuum-uniffi from Python, through the module uniffi-bindgen generates.

bindings/uniffi/run-tests.sh builds the library, generates `continuum_uniffi.py` into
target/uniffi-generated/python/ (next to a copy of libcontinuum_uniffi.so) and runs this file
with pytest or `python3 -m unittest`. Against the live PostgreSQL server
(CONTINUUM_TEST_PG_URL) and the live S3 server (CONTINUUM_TEST_S3_ENDPOINT): without them the
tests that need them fail. Databases and buckets get unique names and are dropped at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[3]
GENERATED = Path(os.environ.get("CONTINUUM_UNIFFI_GENERATED", ROOT / "target" / "uniffi-generated"))
sys.path.insert(0, str(GENERATED / "python"))

import continuum_uniffi as cu  # noqa: E402
from continuum_uniffi import ContinuumError  # noqa: E402

DEMO_CONF = ROOT / "examples" / "demo-cluster" / "cluster.conf"

# A cluster whose only database is the orchestrator's (mapped to a unique name).
SMALL_CONF = """
machines: { central: { hosts: ["10.0.0.11"], suitable_tags: ["api-server", "redis-server"] } }
components: { api-server: 1, redis-server: 1 }
chef: { continuum: { cluster_name: uniffi-py } }
"""
POLICY = "on job::/sandbox/tom { { permit read } }\n"


def pg_url() -> str:
    url = os.environ.get("CONTINUUM_TEST_PG_URL", "")
    if not url:
        raise AssertionError(
            "CONTINUUM_TEST_PG_URL is not set: these tests need a live PostgreSQL server"
        )
    return url


def s3_endpoint() -> str:
    endpoint = os.environ.get("CONTINUUM_TEST_S3_ENDPOINT", "")
    if not endpoint:
        raise AssertionError(
            "CONTINUUM_TEST_S3_ENDPOINT is not set: these tests need a live S3-compatible server"
        )
    return endpoint


def psql(url: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"psql {sql!r}: {done.stderr}"
    return done.stdout.strip()


def url_for(base: str, database: str) -> str:
    return urlsplit(base)._replace(path=f"/{database}").geturl()


def layer(path: Path, name: str, text: str) -> Path:
    """A gzip tarball holding one file: a package layer."""
    source = path.parent / f"{path.name}.src"
    source.write_text(text)
    with tarfile.open(path, "w:gz") as tar:
        tar.add(source, arcname=name)
    return path


class Recorder(cu.ProgressListener):
    """A progress listener that keeps every report."""

    def __init__(self) -> None:
        self.seen: list[cu.Progress] = []

    def on_progress(self, progress: cu.Progress) -> None:
        self.seen.append(progress)


class Raiser(cu.ProgressListener):
    """A progress listener that fails at once, with `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    def on_progress(self, progress: cu.Progress) -> None:
        self.calls += 1
        raise self.error


class UniffiTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="continuum-uniffi-py-"))
        self.databases: list[str] = []

    def tearDown(self) -> None:
        for database in self.databases:
            psql(pg_url(), f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(self.tmp, ignore_errors=True)

    def database(self, prefix: str, rows: int = 0) -> str:
        """A new database with a unique name (dropped at the end), with `rows` rows."""
        name = f"cb_uf_py_{prefix}_{uuid.uuid4().hex[:10]}"
        self.databases.append(name)
        psql(pg_url(), f'CREATE DATABASE "{name}"')
        if rows:
            psql(
                url_for(pg_url(), name),
                "CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL);"
                f"INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, {rows}) i;",
            )
        return name

    def small_cluster(self, name: str) -> Path:
        cluster = self.tmp / name
        (cluster / "policy").mkdir(parents=True)
        (cluster / "cluster.conf").write_text(SMALL_CONF)
        (cluster / "main.tf").write_text('resource "aws_instance" "central" {}\n')
        (cluster / "policy" / "root.pol").write_text(POLICY)
        return cluster

    # --- FQN ------------------------------------------------------------------------------

    def test_fqn_parse(self) -> None:
        fqn = cu.Fqn.parse("package::/apcera/pkg/runtimes::go-1.5.1")
        self.assertEqual(fqn.resource_type(), "package")
        self.assertEqual(fqn.namespace(), "/apcera/pkg/runtimes")
        self.assertEqual(fqn.local_name(), "go-1.5.1")
        self.assertFalse(fqn.is_realm())
        self.assertEqual(str(fqn), "package::/apcera/pkg/runtimes::go-1.5.1")
        self.assertEqual(fqn, cu.Fqn.parse("package::/apcera/pkg/runtimes::go-1.5.1"))
        self.assertEqual(str(fqn.with_namespace("/acme")), "package::/acme::go-1.5.1")
        self.assertEqual(cu.Fqn.parse("/apcera::guide", "job").text(), "job::/apcera::guide")
        self.assertTrue(cu.Fqn.parse("job::/sandbox/tom").is_realm())

    def test_fqn_errors(self) -> None:
        with self.assertRaises(ContinuumError.InvalidInput) as caught:
            cu.Fqn.parse("no-namespace")
        self.assertIsInstance(caught.exception, ContinuumError)
        self.assertIn("invalid FQN `no-namespace`", str(caught.exception))
        with self.assertRaises(ContinuumError.InvalidInput):
            cu.Fqn.parse("/apcera::x", "no-such-type")

    # --- stores ---------------------------------------------------------------------------

    def round_trip(self, store: cu.Store) -> None:
        files = [self.tmp / "cluster.conf", self.tmp / "main.tf"]
        files[0].write_text("a: 1\n")
        files[1].write_text("b = 2\n")
        manifest = store.create_set(
            [str(f) for f in files], cu.SetSpec(reason="daily", cluster_name="uniffi")
        )
        self.assertEqual(manifest.reason, "daily")
        self.assertEqual(manifest.cluster_name, "uniffi")
        self.assertEqual(len(manifest.artifacts), 2)
        self.assertEqual(json.loads(manifest.json)["set_id"], manifest.set_id)

        sets = store.list_sets()
        self.assertEqual([m.set_id for m in sets], [manifest.set_id])
        report = store.verify_set(manifest.set_id)
        self.assertTrue(report.ok)
        self.assertEqual([c.status for c in report.artifacts], ["ok", "ok"])
        self.assertEqual(report.bytes_checked, sum(a.size for a in manifest.artifacts))

        pruned = store.prune(cu.PruneSettings(keep_last=1, dry_run=True))
        self.assertTrue(pruned.dry_run)
        self.assertEqual([d.keep for d in pruned.decisions], [True])

        with self.assertRaises(ContinuumError.NotFound):
            store.verify_set("20000101T000000Z-00000000")
        with self.assertRaises(ContinuumError.InvalidInput):
            store.prune(cu.PruneSettings())  # a policy with no rule

    def test_folder_store_round_trip(self) -> None:
        store = cu.Store.open(str(self.tmp / "store"))
        self.assertIn("store", store.url())
        self.round_trip(store)

    def test_s3_store_round_trip(self) -> None:
        bucket = f"continuum-uniffi-py-{uuid.uuid4().hex[:12]}"
        # moto takes requests without signatures.
        urllib.request.urlopen(urllib.request.Request(f"{s3_endpoint()}/{bucket}", method="PUT"))
        store = cu.Store.open(
            f"s3://{bucket}/prefix",
            cu.S3Settings(
                endpoint=s3_endpoint(),
                region="us-east-1",
                path_style=True,
                access_key_id="testing",
                secret_access_key="testing",
            ),
        )
        self.assertEqual(store.url(), f"s3://{bucket}/prefix")
        self.round_trip(store)

    # --- policy ---------------------------------------------------------------------------

    def test_policy_check_parse_and_format(self) -> None:
        check = cu.policy_check("on job::/sandbox/tom { { permit fly } }\n", "doc.pol")
        self.assertTrue(check.ok)
        [warning] = check.diagnostics
        self.assertEqual(warning.severity, cu.DiagnosticSeverity.WARNING)
        self.assertEqual((warning.file, warning.line, warning.column), ("doc.pol", 1, 26))
        self.assertIn("`fly`", warning.message)
        self.assertIn("doc.pol:1:26", warning.rendered)

        broken = cu.policy_check("on job::/sandbox/tom { { permit read }\n", "broken.pol")
        self.assertFalse(broken.ok)
        self.assertEqual(broken.diagnostics[0].severity, cu.DiagnosticSeverity.ERROR)
        self.assertEqual(broken.diagnostics[0].line, 2)

        with self.assertRaises(ContinuumError.Policy) as caught:
            cu.policy_parse("on job::/sandbox/tom { { permit read }\n", "broken.pol")
        self.assertIn("broken.pol:2:1: error:", str(caught.exception))

        doc = cu.policy_parse(POLICY, "root")
        self.assertEqual(doc.name, "root")
        self.assertEqual(doc.realms, ["job::/sandbox/tom"])
        self.assertEqual(json.loads(doc.json)["policies"][0]["realm"], "job::/sandbox/tom")

        formatted = cu.policy_format("on job::/sandbox/tom {   {permit read} }")
        self.assertEqual(formatted, "on job::/sandbox/tom {\n    { permit read }\n}\n")

    def test_policy_export_and_import(self) -> None:
        source = self.small_cluster("source")
        out = self.tmp / "out"
        out.mkdir()
        files = cu.policy_export(str(source), str(out))
        self.assertEqual(files, [str(out / "root.pol")])
        with self.assertRaises(ContinuumError.AlreadyExists):
            cu.policy_export(str(source), str(out))

        target = self.tmp / "target"
        dry = cu.policy_import(str(target), [str(out / "*.pol")], True)
        self.assertTrue(dry.dry_run)
        self.assertFalse((target / "policy" / "root.pol").exists())
        report = cu.policy_import(str(target), [str(out / "*.pol")])
        self.assertEqual([(d.name, d.outcome) for d in report.documents], [("root", "created")])
        self.assertEqual((target / "policy" / "root.pol").read_text(), POLICY)

    # --- job data -------------------------------------------------------------------------

    def test_cntmp_export_then_import_into_a_second_cluster(self) -> None:
        first = self.tmp / "first"
        layers = [
            layer(self.tmp / "base.tar.gz", "bin/tool", "tool v1\n"),
            layer(self.tmp / "config.tar.gz", "etc/tool.conf", "mode=fast\n"),
        ]
        package = cu.cntmp_package_from_files(
            str(first),
            [str(p) for p in layers],
            cu.PackageSettings(name="tool", provides=["runtime.tool"], environment={"A": "1"}),
        )
        self.assertEqual(package.fqn, "package::/apcera/pkg/packages::tool")
        self.assertEqual(len(package.digests), 2)

        out = self.tmp / "all.cntmp"
        exported = cu.cntmp_export(str(first), str(out), cu.CntmpSelection(all=True))
        self.assertEqual(exported.objects, [package.fqn])
        self.assertEqual(exported.resources, 2)

        inspection = cu.cntmp_inspect(str(out))
        self.assertFalse(inspection.legacy)
        self.assertEqual([(o.kind, o.fqn) for o in inspection.objects], [("package", package.fqn)])
        self.assertEqual(
            [r.sha256 for r in inspection.objects[0].resources], package.digests
        )
        self.assertIn("manifest.json", [e.name for e in inspection.entries])
        self.assertEqual(cu.cntmp_verify(str(out)), exported.resource_bytes)

        second = self.tmp / "second"
        imported = cu.cntmp_import(str(second), [str(out)], cu.CntmpImportSettings())
        self.assertEqual([(o.fqn, o.action) for o in imported.objects], [(package.fqn, "create")])
        self.assertEqual(cu.cntmp_list_objects(str(second)), [package.fqn])
        self.assertEqual(cu.cntmp_list_objects(str(second), "job"), [])

        with self.assertRaises(ContinuumError.AlreadyExists):
            cu.cntmp_import(str(second), [str(out)], cu.CntmpImportSettings())
        again = cu.cntmp_import(str(second), [str(out)], cu.CntmpImportSettings(skip_existing=True))
        self.assertEqual([o.action for o in again.objects], ["unchanged"])
        moved = cu.cntmp_import(
            str(second), [str(out)], cu.CntmpImportSettings(override_namespace="/acme", dry_run=True)
        )
        self.assertEqual([o.fqn for o in moved.objects], ["package::/acme::tool"])

        with self.assertRaises(ContinuumError.InvalidInput):
            cu.cntmp_list_objects(str(second), "no-such-kind")

    # --- cluster data ---------------------------------------------------------------------

    def test_cluster_conf_is_redacted(self) -> None:
        conf = cu.cluster_conf_load(str(DEMO_CONF))
        self.assertEqual(conf.cluster_name, "demo")
        self.assertTrue(conf.database_backups.has_credentials)
        self.assertEqual(conf.components["redis-server"], 1)
        self.assertIn("central", [g.name for g in conf.machine_groups])
        for secret in ("AKIADEMOFAKEACCESSKEY", "demo/FAKE+secret+key", "DEMOFAKEPRIVATEKEY"):
            self.assertNotIn(secret, conf.json)
        self.assertEqual(json.loads(conf.json)["cluster_name"], "demo")
        placement = cu.cluster_conf_placement(str(DEMO_CONF), conf.machine_groups[0].hosts[0])
        self.assertIsInstance(placement.keep_local, bool)

    def test_database_backup_and_restore(self) -> None:
        source = self.database("src", rows=250)
        copy = f"cb_uf_py_copy_{uuid.uuid4().hex[:10]}"
        self.databases.append(copy)
        store = cu.Store.open(str(self.tmp / "store"))

        manifest = cu.database_backup(
            store, [source], cu.DatabaseBackupSettings(dsn=pg_url(), with_globals=False)
        )
        self.assertEqual([a.name for a in manifest.artifacts], [f"{source}.dump.zst"])
        self.assertTrue(store.verify_set(manifest.set_id).ok)

        settings = cu.DatabaseRestoreSettings(dsn=pg_url(), as_name=copy)
        plan = cu.database_plan_restore(store, manifest.set_id, source, settings)
        self.assertEqual((plan.target_database, plan.action), (copy, "create"))
        self.assertEqual(plan.expected_rows, {"public.items": 250})

        report = cu.database_restore(store, manifest.set_id, source, settings)
        self.assertEqual((report.target_database, report.action), (copy, "create"))
        self.assertEqual([(t.table, t.expected, t.actual) for t in report.tables],
                         [("public.items", 250, 250)])
        self.assertEqual(psql(url_for(pg_url(), copy), "SELECT count(*) FROM items"), "250")

        with self.assertRaises(ContinuumError.AlreadyExists):
            cu.database_restore(store, manifest.set_id, source, settings)
        forced = cu.database_restore(
            store, manifest.set_id, source,
            cu.DatabaseRestoreSettings(dsn=pg_url(), as_name=copy, force=True),
        )
        self.assertEqual(forced.action, "replace")
        with self.assertRaises(ContinuumError.InvalidInput):
            cu.database_backup(store, [source], cu.DatabaseBackupSettings(dsn="mysql://x/y"))

    def test_orchestrator_archive_backup_verify_restore(self) -> None:
        orch = self.database("orch", rows=40)
        cluster = self.small_cluster("installation")
        out = self.tmp / "archives"
        out.mkdir()
        addresses = ["192.0.2.10"]
        archive = cu.orchestrator_backup(
            str(cluster / "cluster.conf"),
            str(out),
            cu.OrchestratorBackupSettings(
                release="2.6.1",
                dsn=pg_url(),
                host_addresses=addresses,
                database=orch,
                archive_database=f"{orch}_none",
            ),
        )
        self.assertTrue(Path(archive.path).name.startswith("orchestrator_backup_"))
        self.assertEqual(archive.release, "2.6.1")
        verified = cu.orchestrator_verify(archive.path)
        self.assertTrue(verified.restorable)
        self.assertEqual(verified.size, archive.size)
        self.assertEqual(json.loads(verified.metadata_json)["platform_release"], "2.6.1")

        config_dir = self.tmp / "restored-config"
        settings = cu.OrchestratorRestoreSettings(dsn=pg_url(), host_addresses=addresses)
        with self.assertRaises(ContinuumError.AlreadyExists):
            cu.orchestrator_restore(archive.path, str(config_dir), settings)
        psql(pg_url(), f'DROP DATABASE "{orch}" WITH (FORCE)')
        dry = cu.orchestrator_restore(
            archive.path,
            str(config_dir),
            cu.OrchestratorRestoreSettings(dsn=pg_url(), host_addresses=addresses, dry_run=True),
        )
        self.assertTrue(dry.dry_run)
        self.assertIn((orch, "create"), [(i.target, i.action) for i in dry.items])
        report = cu.orchestrator_restore(archive.path, str(config_dir), settings)
        [database] = report.databases
        self.assertEqual((database.name, database.total_rows), (orch, 40))
        self.assertEqual((config_dir / "cluster.conf").read_text(), SMALL_CONF)

        with self.assertRaises(ContinuumError.NotFound):
            cu.orchestrator_verify(str(self.tmp / "missing.tgz"))
        with self.assertRaises(ContinuumError.InvalidInput):
            cu.orchestrator_backup(
                str(cluster / "cluster.conf"), str(out), cu.OrchestratorBackupSettings(release=" ")
            )

    # --- the whole platform ---------------------------------------------------------------

    def test_platform_plan_of_the_demo_cluster(self) -> None:
        plan = cu.platform_plan(str(DEMO_CONF), cu.PlanSettings())
        self.assertEqual(plan.cluster_name, "demo")
        by_name = {c.component: c for c in plan.components}
        redis = by_name["redis-server"]
        self.assertEqual(redis.coverage, "not_backed_up")
        self.assertIn("log drain", redis.reason)
        self.assertEqual(redis.artifacts, [])
        cdb = by_name["component-database"]
        self.assertEqual(cdb.coverage, "backed_up")
        self.assertEqual([(a.source, a.database) for a in cdb.artifacts],
                         [("database", "component_database")])
        self.assertIn("redis-server", plan.table)
        self.assertTrue(plan.dot.startswith("digraph backup_plan {"))
        self.assertNotIn("AKIADEMOFAKEACCESSKEY", plan.json)

        narrowed = cu.platform_plan(
            str(DEMO_CONF), cu.PlanSettings(host="10.20.0.11", with_job_data=True)
        )
        self.assertEqual([p.host for p in narrowed.placements], ["10.20.0.11"])
        self.assertEqual(
            {c.component: c for c in narrowed.components}["job-data"].coverage, "backed_up"
        )

    def test_platform_backup_and_restore_with_progress(self) -> None:
        orch = self.database("porch", rows=30)
        cluster = self.small_cluster("cluster")
        store = cu.Store.open(str(self.tmp / "store"))
        settings = cu.PlatformBackupSettings(
            dsn=pg_url(), reason="daily", databases={"orchestrator": orch}, with_globals=False
        )
        recorder = Recorder()
        report = cu.platform_backup(
            store, str(cluster / "cluster.conf"), str(cluster), settings, recorder
        )
        names = [a.name for a in report.artifacts]
        self.assertEqual(
            names,
            [f"db/{orch}.dump.zst", "install/cluster.conf", "install/main.tf", "policy/root.pol"],
        )
        self.assertEqual(report.plan.cluster_name, "uniffi-py")
        self.assertTrue(store.verify_set(report.set_id).ok)
        self.assertTrue(recorder.seen)
        last = recorder.seen[-1]
        self.assertTrue(last.finished)
        self.assertEqual((last.operation, last.artifacts_done), ("backup", 4))
        self.assertFalse(any(p.finished for p in recorder.seen[:-1]))

        target = self.tmp / "restored"
        only = cu.PlatformRestoreSettings(only=["installation-files", "policy"])
        plan = cu.platform_plan_restore(store, report.set_id, str(target), only)
        self.assertEqual([i.action for i in plan.items], ["create"] * 3)
        self.assertFalse(plan.has_conflicts)
        self.assertFalse(target.exists())

        restorer = Recorder()
        restored = cu.platform_restore(store, report.set_id, str(target), only, restorer)
        self.assertEqual(len(restored.items), 3)
        self.assertEqual((target / "policy" / "root.pol").read_text(), POLICY)
        self.assertEqual((target / "cluster.conf").read_text(), SMALL_CONF)
        self.assertTrue(restorer.seen[-1].finished)
        self.assertEqual(restorer.seen[-1].operation, "restore")

        # Again: identical files are skipped; without a listener.
        again = cu.platform_restore(store, report.set_id, str(target), only)
        self.assertEqual([i.action for i in again.items], ["skip"] * 3)

    def test_an_encrypted_set_needs_its_identity(self) -> None:
        orch = self.database("enc", rows=7)
        cluster = self.small_cluster("cluster")
        store = cu.Store.open(str(self.tmp / "store"))
        keys = cu.generate_identity()
        self.assertTrue(keys.public_key.startswith("age1"))
        report = cu.platform_backup(
            store,
            str(cluster / "cluster.conf"),
            str(cluster),
            cu.PlatformBackupSettings(
                dsn=pg_url(),
                databases={"orchestrator": orch},
                with_globals=False,
                encrypt_to=[keys.public_key],
            ),
        )
        [manifest] = store.list_sets()
        self.assertTrue(manifest.encrypted)
        self.assertTrue(all(a.encrypted for a in manifest.artifacts))

        only = ["policy"]
        target = str(self.tmp / "restored")
        with self.assertRaises(ContinuumError.IdentityRequired):
            cu.platform_plan_restore(
                store, report.set_id, target, cu.PlatformRestoreSettings(only=only)
            )
        identity = self.tmp / "key.txt"
        identity.write_text(keys.secret_key + "\n")
        identity.chmod(0o600)
        restored = cu.platform_restore(
            store,
            report.set_id,
            target,
            cu.PlatformRestoreSettings(only=only, identity_file=str(identity)),
        )
        self.assertEqual([i.artifact for i in restored.items], ["policy/root.pol"])
        self.assertEqual((self.tmp / "restored" / "policy" / "root.pol").read_text(), POLICY)
        with self.assertRaises(ContinuumError.InvalidInput):
            cu.platform_backup(
                store,
                str(cluster / "cluster.conf"),
                str(cluster),
                cu.PlatformBackupSettings(dsn=pg_url(), encrypt_to=["not-a-key"]),
            )

    def test_a_failing_listener_does_not_stop_the_backup(self) -> None:
        orch = self.database("fail", rows=5)
        cluster = self.small_cluster("cluster")
        store = cu.Store.open(str(self.tmp / "store"))
        settings = cu.PlatformBackupSettings(
            dsn=pg_url(), databases={"orchestrator": orch}, with_globals=False
        )
        made = []
        for error in (RuntimeError("listener failed"), cu.ProgressListenerError.Failed("stop")):
            raiser = Raiser(error)
            report = cu.platform_backup(
                store, str(cluster / "cluster.conf"), str(cluster), settings, raiser
            )
            self.assertEqual(raiser.calls, 1)
            made.append(report.set_id)
        self.assertEqual(sorted(m.set_id for m in store.list_sets()), sorted(made))

    # --- bad input ------------------------------------------------------------------------

    def test_bad_input_raises(self) -> None:
        missing = str(self.tmp / "missing.conf")
        with self.assertRaises(ContinuumError.NotFound):
            cu.cluster_conf_load(missing)
        with self.assertRaises(ContinuumError.NotFound):
            cu.platform_plan(missing, cu.PlanSettings())
        with self.assertRaises(ContinuumError.NotFound):
            cu.cntmp_inspect(str(self.tmp / "missing.cntmp"))
        with self.assertRaises(ContinuumError.InvalidInput):
            cu.Store.open("ftp://example.invalid/x")
        with self.assertRaises(ContinuumError.InvalidInput):
            cu.platform_plan(str(DEMO_CONF), cu.PlanSettings(host="10.9.9.9"))
        store = cu.Store.open(str(self.tmp / "store"))
        with self.assertRaises(ContinuumError.InvalidInput):
            store.create_set([missing], cu.SetSpec(reason="someday"))
        with self.assertRaises(ContinuumError.NotFound):
            store.create_set([missing], cu.SetSpec())
        bad_conf = self.tmp / "bad.conf"
        bad_conf.write_text("machines: { central: [ }\n")
        with self.assertRaises(ContinuumError.InvalidInput):
            cu.cluster_conf_load(str(bad_conf))


if __name__ == "__main__":
    unittest.main()
