__all__ = [
    "AlreadyExistsError",
    "BehindUpstreamError",
    "CorruptError",
    "DecryptError",
    "Error",
    "IdentityRequiredError",
    "InvalidInputError",
    "NotFoundError",
    "PolicyError",
    "ReleaseGateError",
    "StoreError",
]

from collections.abc import Sequence

from ._native import Diagnostic

class Error(Exception):
    """Base class of every error raised by continuum_backup."""

class InvalidInputError(Error, ValueError):
    """A value given was refused: an FQN, a store URL, a set id, an option, an unsafe path,
    or a document (manifest) that is malformed or of an unsupported version."""

class ReleaseGateError(InvalidInputError):
    """An orchestrator archive made by a platform release before 2.4.0: it is sound but must
    be restored by hand (the message says how); nothing was changed."""

class NotFoundError(Error, LookupError):
    """An object or a backup set does not exist in the store."""

class AlreadyExistsError(Error):
    """An object exists already (stores never overwrite), or a file that was not to be
    replaced (an export without ``force``)."""

class CorruptError(Error):
    """Data does not match what was recorded for it."""

class StoreError(Error, OSError):
    """The store backend or the file system failed."""

class DecryptError(Error, ValueError):
    """Encrypted data (an artifact or the catalog of an encrypted set) cannot be read: no
    identity given matches the set's recipients, or the ciphertext is damaged. The message
    names the artifact, never a key."""

class IdentityRequiredError(DecryptError):
    """Encrypted data is to be read and no identity was given: pass ``identity=`` (an age
    identity file, ``AGE-SECRET-KEY-1…``, as ``age-keygen`` writes it)."""

class BehindUpstreamError(Error):
    """A git branch is behind its upstream (as last fetched): committing would fork the shared
    history; nothing was changed."""

class PolicyError(Error, ValueError):
    """A policy document has errors. ``diagnostics`` holds every error and warning found in
    one pass, in document order; ``file``, ``line`` and ``column`` are those of the first
    error (``None`` when there is no diagnostic). The message renders every diagnostic with its
    source line and a caret."""

    diagnostics: list[Diagnostic]
    file: str | None
    line: int | None
    column: int | None
    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None: ...
