"""The error hierarchy: each error carries its one-line message and exit code.

Exit codes are part of the scripting contract (see README, "Exit codes"):
0 success, 1 domain error, 2 usage error, 3 storage error.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_DOMAIN = 1
EXIT_USAGE = 2
EXIT_STORAGE = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


class CarecoordError(Exception):
    """Base class for errors shown to the user as one line on stderr."""

    exit_code = EXIT_DOMAIN

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(CarecoordError):
    """A record named on the command line does not exist."""


class AmbiguousError(CarecoordError):
    """A reference matches more than one record."""


class ValidationError(CarecoordError):
    """A value is not acceptable (bad date, empty name, ...)."""


class ConflictError(CarecoordError):
    """The change clashes with what is stored (duplicate MRN, not allowed transition)."""


class RefusedError(CarecoordError):
    """The server refused: the signed-in role may not see or change this (a team store's access rules)."""


class UsageError(CarecoordError):
    """The command was called the wrong way (e.g. a destructive command without --yes)."""

    exit_code = EXIT_USAGE


class StorageError(CarecoordError):
    """The database cannot be used: locked, unreadable, not a database, too new."""

    exit_code = EXIT_STORAGE


class Interrupted(CarecoordError):
    """The user stopped the command (Ctrl-C); the message says what became of the data."""

    exit_code = EXIT_INTERRUPTED
