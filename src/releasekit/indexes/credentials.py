"""One index and the credentials to reach it, in one order, trusted publishing included.

`resolve.resolve_repository` finds the stored credentials (the repository URL, the role's
environment variables, `~/.pypirc`, keyring); `IndexAccess` adds the last source, a token minted
from the CI job's OIDC identity, and renews that token before an upload when it is about to
expire. Every upload asks the access for its repository, so no other code holds credentials
that may have gone stale, and nothing outside this module mints.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from releasekit.indexes.resolve import Repository, resolve_repository
from releasekit.indexes.trusted_publishing import MintedToken, publish_as, renewed


class IndexAccess:
    """An index as the release reaches it: its URLs, and whichever credentials the order gives.

    Minting happens once, in `prepare_upload`, before any byte is uploaded (a refused exchange
    stops the release there); `for_upload` renews the token when it expires within minutes.
    """

    def __init__(
        self,
        repository: Repository,
        *,
        trusted_publishing: str = "never",
        timeout: float = 10.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._repository = repository
        self._setting = trusted_publishing
        self._timeout = timeout
        self._environ = environ
        self._minted: MintedToken | None = None
        self._prepared = False

    def __repr__(self) -> str:  # never the credentials
        return f"IndexAccess({self._repository.label!r})"

    @property
    def repository(self) -> Repository:
        """The repository with the credentials in force now (a minted token once there is one)."""
        return self._repository

    @property
    def label(self) -> str:
        return self._repository.label

    @property
    def minted(self) -> bool:
        return self._minted is not None

    def prepare_upload(self) -> Repository:
        """Mint an upload token when trusted publishing applies (once); the repository to use.

        Raises CredentialsError when the exchange is refused or "always" finds no identity.
        """
        if not self._prepared:
            environ = os.environ if self._environ is None else self._environ
            repo, token = publish_as(
                self._repository, setting=self._setting, timeout=self._timeout, environ=environ
            )
            self._repository, self._minted, self._prepared = repo, token, True
        return self._repository

    def for_upload(self) -> Repository:
        """The repository for the next upload: a minted token is renewed when it expires soon."""
        self.prepare_upload()
        if self._minted is not None:
            self._repository, self._minted = renewed(self._repository, self._minted, timeout=self._timeout)
        return self._repository


def open_index(
    name: str,
    *,
    role: Literal["test", "live"],
    simple_overrides: dict[str, str],
    trusted_publishing: str,
    timeout: float,
) -> IndexAccess:
    """The one way the release resolves an index: a section name or URL, for a role.

    The role decides whose environment credentials apply (TWINE_* only to the live index).
    """
    repository = resolve_repository(name, simple_overrides=simple_overrides, role=role, timeout=timeout)
    return IndexAccess(repository, trusted_publishing=trusted_publishing, timeout=timeout)
