"""Fixtures: a store in a temporary folder, a store in a fresh bucket of a live S3 server, and
the URL of a live PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from continuum_backup import Store

S3_ENDPOINT_VAR = "CONTINUUM_TEST_S3_ENDPOINT"
S3_ACCESS_KEY = "testing"
S3_SECRET_KEY = "testing"
S3_REGION = "us-east-1"
PG_URL_VAR = "CONTINUUM_TEST_PG_URL"


def s3_endpoint() -> str:
    endpoint = os.environ.get(S3_ENDPOINT_VAR, "")
    if not endpoint:
        pytest.fail(
            f"{S3_ENDPOINT_VAR} is not set: these tests need a live S3-compatible server "
            f"(for example `moto_server -p 5055` and {S3_ENDPOINT_VAR}=http://127.0.0.1:5055)",
            pytrace=False,
        )
    return endpoint


@pytest.fixture
def pg_url() -> str:
    """The URL of a live PostgreSQL server whose user may create databases."""
    url = os.environ.get(PG_URL_VAR, "")
    if not url:
        pytest.fail(
            f"{PG_URL_VAR} is not set: these tests need a live PostgreSQL server and its "
            f"programs (psql, pg_dump, pg_restore), for example "
            f"{PG_URL_VAR}=postgresql://postgres@127.0.0.1:5432/postgres",
            pytrace=False,
        )
    return url


@pytest.fixture
def s3_client() -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint(),
        region_name=S3_REGION,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
    )


@pytest.fixture
def bucket(s3_client: Any) -> Iterator[str]:
    name = f"continuum-py-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=name)
    yield name
    listed = s3_client.list_objects_v2(Bucket=name).get("Contents", [])
    for obj in listed:
        s3_client.delete_object(Bucket=name, Key=obj["Key"])
    s3_client.delete_bucket(Bucket=name)


def open_s3_store(bucket: str, prefix: str = "prefix", **overrides: Any) -> Store:
    options: dict[str, Any] = {
        "endpoint": s3_endpoint(),
        "region": S3_REGION,
        "path_style": True,
        "access_key_id": S3_ACCESS_KEY,
        "secret_access_key": S3_SECRET_KEY,
    }
    options.update(overrides)
    return Store.open(f"s3://{bucket}/{prefix}", **options)


class Backend:
    """A store and a way to damage one of its objects behind its back."""

    def __init__(self, name: str, store: Store, corrupt: Callable[[str], None]) -> None:
        self.name = name
        self.store = store
        self.corrupt = corrupt


def flip_first_byte(data: bytes) -> bytes:
    return bytes([data[0] ^ 0xFF]) + data[1:]


@pytest.fixture(params=["folder", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "folder":
        root = tmp_path / "store"
        root.mkdir()
        store = Store.open(str(root))

        def corrupt_file(key: str) -> None:
            path = root / key
            path.write_bytes(flip_first_byte(path.read_bytes()))

        return Backend("folder", store, corrupt_file)

    client = request.getfixturevalue("s3_client")
    name = request.getfixturevalue("bucket")
    store = open_s3_store(name)

    def corrupt_object(key: str) -> None:
        full = f"prefix/{key}"
        data = client.get_object(Bucket=name, Key=full)["Body"].read()
        client.put_object(Bucket=name, Key=full, Body=flip_first_byte(data))

    return Backend("s3", store, corrupt_object)


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    src = tmp_path / "src"
    src.mkdir()
    a = src / "cluster.conf"
    a.write_text("name = prod\nnodes = 3\n")
    b = src / "components.sql"
    b.write_bytes(b"-- dump\n" + bytes(range(256)) * 64)
    return [a, b]
