"""The one exception hierarchy: every failure a user can act on is a ReleaseError.

Each message says what failed, the offending value and what to do next; the task layer turns
these into one line and exit code 1. Anything that is not a ReleaseError is a bug and keeps its
traceback.
"""

from __future__ import annotations


class ReleaseError(Exception):
    """A failure the user can act on: a one-line message plus an optional hint."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class ConfigError(ReleaseError):
    """[tool.releasekit], setup.cfg or .pypirc say something we cannot use."""


class VersionError(ReleaseError):
    """The version cannot be read, is not PEP 440, or does not move forward."""


class GitError(ReleaseError):
    """The work tree, branch, tags or remote are not in a state we can release from."""


class BuildError(ReleaseError):
    """Building or checking the sdist and wheel failed."""


class PackageIndexError(ReleaseError):
    """A package index is unreachable, refuses us, or holds bytes we did not expect."""


class CredentialsError(ReleaseError):
    """Credentials are missing or would travel unsafely."""


class UploadError(PackageIndexError):
    """An upload did not land as the identical file."""


class VerifyError(ReleaseError):
    """The published files do not install or import in a fresh environment."""


class LocalIndexError(ReleaseError):
    """The embedded local index (pypiserver) could not start."""


class Aborted(ReleaseError):
    """The user declined, or a live release was asked for without a way to confirm it."""


class Interrupted(ReleaseError):
    """Ctrl-C or SIGTERM stopped the release; the message says what state it is in."""


class ScaffoldError(ReleaseError):
    """A new package cannot be created as asked; nothing was written."""


class LockedError(ReleaseError):
    """Another release of the same repository is running on this machine."""


class BurntError(UploadError):
    """An index holds other bytes under one of our file names: this version cannot be published there."""


class PyPIRulesError(BuildError):
    """An artifact breaks a rule of PyPI's upload endpoint: PyPI would answer 400 half-way through."""


class ChangelogError(ReleaseError):
    """The changelog cannot be read or rolled forward, or has no notes where a release needs them."""
