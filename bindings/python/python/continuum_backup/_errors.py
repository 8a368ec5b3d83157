"""The exceptions of continuum_backup: one base class, subclasses of the built-in ones where they fit.

The native module raises these; the message is the library's own text.
"""

__all__ = [
    "AlreadyExistsError",
    "CorruptError",
    "Error",
    "InvalidInputError",
    "NotFoundError",
    "StoreError",
]


class Error(Exception):
    """Base class of every error raised by continuum_backup."""


class InvalidInputError(Error, ValueError):
    """A value given was refused: an FQN, a store URL, a set id, an option, an unsafe path,
    or a document (manifest) that is malformed or of an unsupported version."""


class NotFoundError(Error, LookupError):
    """An object or a backup set does not exist in the store."""


class AlreadyExistsError(Error):
    """An object exists already; stores never overwrite."""


class CorruptError(Error):
    """Data does not match what was recorded for it."""


class StoreError(Error, OSError):
    """The store backend or the file system failed."""


# Shown and pickled as members of the package, where users import them from.
for _class in (Error, InvalidInputError, NotFoundError, AlreadyExistsError, CorruptError, StoreError):
    _class.__module__ = "continuum_backup"
del _class
