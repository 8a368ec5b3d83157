from __future__ import annotations

import pytest

from conftest import open_s3_store

import continuum_backup
from continuum_backup import (
    AlreadyExistsError,
    CorruptError,
    Error,
    InvalidInputError,
    NotFoundError,
    Store,
    StoreError,
)

SECRET = "do-not-show-this-secret-8f3a"
KEY_ID = "AKIADONOTSHOW4242"


def test_hierarchy() -> None:
    assert issubclass(Error, Exception)
    assert issubclass(InvalidInputError, Error) and issubclass(InvalidInputError, ValueError)
    assert issubclass(NotFoundError, Error) and issubclass(NotFoundError, LookupError)
    assert issubclass(AlreadyExistsError, Error)
    assert issubclass(CorruptError, Error)
    assert issubclass(StoreError, Error) and issubclass(StoreError, OSError)
    for name in continuum_backup.__all__:
        assert getattr(continuum_backup, name) is not None


def test_invalid_url_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown option `colour`"):
        Store.open("s3://bucket/p?colour=red")


def test_secrets_never_show(bucket: str) -> None:
    store = open_s3_store(bucket, access_key_id=KEY_ID, secret_access_key=SECRET, session_token=SECRET)
    shown = [repr(store), str(store), store.url]
    assert store.url == f"s3://{bucket}/prefix"

    # A bucket that does not exist: the server refuses, the message names the store only.
    missing = open_s3_store(
        bucket + "-missing", access_key_id=KEY_ID, secret_access_key=SECRET, session_token=SECRET
    )
    with pytest.raises(StoreError) as caught:
        missing.sets()
    assert "NoSuchBucket" in str(caught.value) or "not found" in str(caught.value)
    shown.append(str(caught.value))
    shown.append(repr(caught.value))

    # A URL that is refused before any request.
    with pytest.raises(InvalidInputError) as refused:
        Store.open(f"s3://{KEY_ID}:{SECRET}@{bucket}/prefix", secret_access_key=SECRET)
    shown.append(str(refused.value))

    for text in shown:
        assert SECRET not in text, text
        assert KEY_ID not in text, text
