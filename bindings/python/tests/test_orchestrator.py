"""continuum_backup.orchestrator: cluster.conf parsed into typed views, the placement rule,
errors with their position, and secrets that never reach Python."""

from __future__ import annotations

import json
import pickle
import threading
from pathlib import Path
from typing import Any

import pytest

import continuum_backup
import continuum_backup.orchestrator as orchestrator_module
from continuum_backup import Error, InvalidInputError, StoreError, orchestrator
from continuum_backup.orchestrator import (
    ClusterConf,
    DatabaseBackups,
    MachineGroup,
    Placement,
)

SECRETS = [
    "AKIADBBACKUPKEY7Q",
    "db/backup+secret=Zq9",
    "AKIAPKGSTOREKEY3",
    "pkg-store-secret-8x",
    "hunter2-vault-token",
    "-----BEGIN RSA PRIVATE KEY-----",
]

# Shaped like a platform cluster.conf: comments, optional colons and commas, quoted and bare
# strings, a raw block, and secrets in several places.
CONF = r"""
# Cluster definition for prod
provisioner {
  type: generic
}

machines: {
  central: {
    hosts: ["10.0.0.11", "10.0.0.12"]
    suitable_tags: [
      "component-database"
      "auditlog-database"
      "api-server"
      "job-manager"
    ]
  }
  monitoring: { hosts: ["10.0.0.21"], suitable_tags: [monitoring] }
  instance_manager: {
    hosts: ["10.0.1.1", "10.0.1.2", "10.0.1.3"]
    suitable_tags: ["instance-manager"]
  }
}

components: {
  component-database: 2
  auditlog-database: 2
  api-server: 2
  job-manager: 2
  monitoring: 1
  instance-manager: 3
}

chef: {
  "continuum": {
    "cluster_name": "prod",
    "base_domain": "prod.example.com",
    "database_backups": {
      "access_key": "AKIADBBACKUPKEY7Q",
      "secret_key": "db/backup+secret=Zq9",
      "endpoint": "eu-west-1",
      "bucket": "prod-db-backups"
    },
    "package_manager": {
      "package_store_type": "s3",
      "s3_store": {
        "bucket": "prod-packages",
        "endpoint": "s3.eu-west-1.amazonaws.com",
        "access_key": "AKIAPKGSTOREKEY3",
        "secret_key": "pkg-store-secret-8x"
      }
    },
    "vault": { token: "hunter2-vault-token" }
    "ssl": {
      "tlshost": "*.prod.example.com"
      "private_key": (-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEA
-----END RSA PRIVATE KEY-----)
    }
  }
}
"""


@pytest.fixture
def conf() -> ClusterConf:
    return ClusterConf.parse(CONF)


def everything_shown(conf: ClusterConf) -> list[str]:
    """Every text Python can get of the conf and of what hangs off it."""
    shown: list[Any] = [conf, conf.to_dict(), json.dumps(conf.to_dict())]
    shown += [conf.database_backups, conf.components]
    assert conf.database_backups is not None
    shown.append(conf.database_backups.to_dict())
    for group in conf.machine_groups:
        shown += [group, group.to_dict()]
        for host in group.hosts:
            p = conf.placement(host)
            shown += [p, p.to_dict()]
    # Every attribute Python can reach, whatever its name.
    for obj in (conf, conf.database_backups):
        for name in dir(obj):
            if not name.startswith("__"):
                value = getattr(obj, name)
                if not callable(value):
                    shown.append(value)
    return [f(s) for s in shown for f in (repr, str)]


def test_module_layout() -> None:
    assert continuum_backup.orchestrator is orchestrator_module
    functions = {"backup", "collect_installation_files", "restore", "snapshot_to_git", "verify"}
    assert set(orchestrator.__all__) == {
        "Archive",
        "ArchiveReport",
        "ClusterConf",
        "DatabaseBackups",
        "GitSnapshot",
        "InstallationFile",
        "MachineGroup",
        "Placement",
        "RestoreItem",
        "RestoreReport",
        "RestoredDatabase",
        "RestoredFile",
    } | functions
    for name in set(orchestrator.__all__) - functions:
        cls = getattr(orchestrator, name)
        assert cls.__name__ == name
        assert cls.__module__ == "continuum_backup.orchestrator"


def test_typed_views(conf: ClusterConf) -> None:
    assert conf.file == "cluster.conf"
    assert conf.cluster_name == "prod"
    assert conf.base_domain == "prod.example.com"
    assert conf.provisioner == "generic"
    assert [g.name for g in conf.machine_groups] == ["central", "monitoring", "instance_manager"]
    central = conf.machine_groups[0]
    assert isinstance(central, MachineGroup)
    assert central.hosts == ["10.0.0.11", "10.0.0.12"]
    assert central.suitable_tags == [
        "component-database",
        "auditlog-database",
        "api-server",
        "job-manager",
    ]
    assert central.to_dict() == {
        "name": "central",
        "hosts": ["10.0.0.11", "10.0.0.12"],
        "suitable_tags": central.suitable_tags,
    }
    assert conf.components == {
        "api-server": 2,
        "auditlog-database": 2,
        "component-database": 2,
        "instance-manager": 3,
        "job-manager": 2,
        "monitoring": 1,
    }
    db = conf.database_backups
    assert isinstance(db, DatabaseBackups)
    assert (db.bucket, db.region) == ("prod-db-backups", "eu-west-1")
    assert db.store_url == "s3://prod-db-backups/database_backups"
    assert db.has_credentials is True
    assert db.to_dict() == {
        "bucket": "prod-db-backups",
        "region": "eu-west-1",
        "store_url": "s3://prod-db-backups/database_backups",
        "has_credentials": True,
    }
    assert repr(db) == "DatabaseBackups(bucket='prod-db-backups', region='eu-west-1', has_credentials=True)"
    assert repr(conf) == (
        "ClusterConf(file='cluster.conf', cluster_name='prod', machine_groups=3, "
        "database_backups='s3://prod-db-backups/database_backups')"
    )


def test_the_keys_are_not_reachable(conf: ClusterConf) -> None:
    db = conf.database_backups
    assert db is not None
    public = {n for n in dir(db) if not n.startswith("_")}
    assert public == {"bucket", "region", "store_url", "has_credentials", "to_dict"}
    for name in ("access_key", "secret_key", "access_key_id", "secret_access_key"):
        assert not hasattr(db, name)
        assert not hasattr(conf, name)
    assert not hasattr(conf, "package_store")
    assert not hasattr(conf, "tree")
    with pytest.raises(AttributeError):
        db.bucket = "other"  # type: ignore[misc]


def test_secrets_never_shown(conf: ClusterConf) -> None:
    shown = everything_shown(conf)
    assert any("prod-db-backups" in s for s in shown)
    for text in shown:
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked in {text[:200]!r}"


def test_to_dict_is_the_redacted_serialization(conf: ClusterConf) -> None:
    d = conf.to_dict()
    assert d["cluster_name"] == "prod"
    assert d["file"] == "cluster.conf"
    assert d["components"]["instance-manager"] == 3
    assert d["machine_groups"][0] == conf.machine_groups[0].to_dict()
    assert d["database_backups"] == {
        "access_key": "***",
        "secret_key": "***",
        "region": "eu-west-1",
        "bucket": "prod-db-backups",
    }
    tree = d["tree"]
    continuum = tree["chef"]["continuum"]
    assert continuum["database_backups"]["secret_key"] == "***"
    assert continuum["package_manager"]["s3_store"]["access_key"] == "***"
    assert continuum["package_manager"]["s3_store"]["bucket"] == "prod-packages"
    assert continuum["vault"]["token"] == "***"
    assert continuum["ssl"]["private_key"] == "***"
    assert continuum["ssl"]["tlshost"] == "*.prod.example.com"
    assert tree["machines"]["central"]["hosts"] == ["10.0.0.11", "10.0.0.12"]
    # Plain data, JSON all the way down.
    assert json.loads(json.dumps(d)) == d


def test_placement_master_replica_and_others(conf: ClusterConf) -> None:
    master = conf.placement("10.0.0.11")
    assert isinstance(master, Placement)
    assert master.host == "10.0.0.11"
    assert master.databases == ["component-database", "auditlog-database"]
    assert master.keep_local and master.upload_s3
    assert master.local_dir == "/var/lib/postgresql/backups"
    assert "master of central" in master.reason
    assert repr(master) == "Placement(host='10.0.0.11', keep_local=True, upload_s3=True)"
    assert master.to_dict() == {
        "host": "10.0.0.11",
        "databases": ["component-database", "auditlog-database"],
        "keep_local": True,
        "upload_s3": True,
        "local_dir": "/var/lib/postgresql/backups",
        "reason": master.reason,
    }

    replica = conf.placement("10.0.0.12")
    assert replica.databases == ["component-database", "auditlog-database"]
    assert not replica.keep_local and replica.upload_s3
    assert "only each group's master" in replica.reason

    monitoring = conf.placement("10.0.0.21")
    assert monitoring.databases == ["monitoring"]
    assert monitoring.keep_local and monitoring.upload_s3

    im = conf.placement("10.0.1.1")
    assert im.databases == []
    assert not im.keep_local and not im.upload_s3
    assert "runs no database component" in im.reason

    unknown = conf.placement("192.0.2.99")
    assert unknown.databases == [] and not unknown.upload_s3


def test_placement_without_s3() -> None:
    start = CONF.index('"database_backups"')
    end = CONF.index('"package_manager"')
    conf = ClusterConf.parse(CONF[:start] + CONF[end:])
    assert conf.database_backups is None
    assert "database_backups=None" in repr(conf)
    assert conf.to_dict()["database_backups"] is None
    for host in ("10.0.0.11", "10.0.0.12", "10.0.0.21"):
        p = conf.placement(host)
        assert p.keep_local and not p.upload_s3, host
        assert "no S3 bucket is configured" in p.reason
    assert not conf.placement("10.0.1.2").keep_local


def test_an_empty_conf() -> None:
    conf = ClusterConf.parse("", "empty.conf")
    assert conf.file == "empty.conf"
    assert conf.cluster_name is None and conf.base_domain is None and conf.provisioner is None
    assert conf.machine_groups == [] and conf.components == {}
    assert conf.database_backups is None


def test_syntax_errors_say_where() -> None:
    with pytest.raises(InvalidInputError) as e:
        ClusterConf.parse("machines: {\n  central: { hosts: [\"a\"] }\n", "prod.conf")
    assert isinstance(e.value, ValueError) and isinstance(e.value, Error)
    assert str(e.value).startswith("prod.conf:3:1: expected `}`"), str(e.value)
    with pytest.raises(InvalidInputError, match=r"^cluster\.conf:2:9: expected `]`"):
        ClusterConf.parse("a: 1\nb: [1, 2")
    with pytest.raises(InvalidInputError, match=r"^cluster\.conf:1:4: .*expected a value"):
        ClusterConf.parse("a: }")


def test_shape_errors_are_named() -> None:
    with pytest.raises(InvalidInputError, match=r"components\.a` must be a whole number"):
        ClusterConf.parse("components: { a: many }")
    with pytest.raises(InvalidInputError, match=r"database_backups\.access_key` is missing"):
        ClusterConf.parse("chef: { continuum: { database_backups: { bucket: b } } }")
    with pytest.raises(InvalidInputError, match=r"machines\.g\.hosts` must be an array of strings"):
        ClusterConf.parse("machines: { g: { hosts: { a: 1 } } }")


def test_errors_do_not_repeat_secrets() -> None:
    broken = CONF.replace('"bucket": "prod-db-backups"', '"bucket": ""')
    with pytest.raises(InvalidInputError) as e:
        ClusterConf.parse(broken)
    assert "database_backups.bucket" in str(e.value)
    for secret in SECRETS:
        assert secret not in str(e.value)


def test_load(tmp_path: Path) -> None:
    path = tmp_path / "cluster.conf"
    path.write_text(CONF)
    conf = ClusterConf.load(path)
    assert conf.file == str(path)
    assert conf.cluster_name == "prod"
    assert ClusterConf.load(str(path)).to_dict() == conf.to_dict()

    (tmp_path / "bad.conf").write_text("x: [\n")
    with pytest.raises(InvalidInputError, match=r"bad\.conf:2:1: "):
        ClusterConf.load(tmp_path / "bad.conf")
    with pytest.raises(StoreError) as missing:
        ClusterConf.load(tmp_path / "absent.conf")
    assert isinstance(missing.value, OSError)
    assert "absent.conf" in str(missing.value)


def test_objects_are_immutable_and_not_picklable(conf: ClusterConf) -> None:
    with pytest.raises(AttributeError):
        conf.cluster_name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ClusterConf()
    with pytest.raises(TypeError):
        pickle.dumps(conf.database_backups)


def test_threads_share_a_conf(conf: ClusterConf) -> None:
    results: list[bool] = []

    def work() -> None:
        for _ in range(50):
            ClusterConf.parse(CONF)
            results.append(conf.placement("10.0.0.11").keep_local)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 200
