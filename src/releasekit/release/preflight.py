"""Between the plan and the first act: credentials made ready, then every refusal that needs the plan.

Trusted-publishing tokens are minted here (through each index's `IndexAccess`), so a refused
exchange stops the release before any byte is uploaded; then credentials, confirmation, the
indexes the release reads back, and the remote's answer to a dry-run push are checked. Nothing
here changes the repository or an index.
"""

from __future__ import annotations

from releasekit import vcs
from releasekit.config import Config
from releasekit.errors import Aborted, CredentialsError
from releasekit.indexes import listing
from releasekit.release.model import Intent, Plan, Role, StepName
from releasekit.release.state import ReleaseState
from releasekit.release.steps.git import probe_push

_ENV_HINT = {
    Role.TEST: "or set RELEASEKIT_TEST_PASSWORD (TWINE_PASSWORD is for the live index only)",
    Role.LIVE: "or set TWINE_PASSWORD",
}


def prepare_credentials(plan: Plan) -> None:
    """Mint a token for each index the plan uploads to that trusted publishing applies to."""
    for target in plan.targets:
        if plan.will(target.role.upload_step):
            target.access.prepare_upload()


def preflight(state: ReleaseState, plan: Plan, intent: Intent, config: Config) -> None:
    """The refusals that need the whole plan: credentials, confirmation, every index the release
    will read back must answer (before a byte is uploaded, not after), and the push probe."""
    uploading = [t for t in plan.targets if plan.will(t.role.upload_step)]
    for target in uploading:
        repo = target.access.repository
        if not repo.has_credentials:
            raise CredentialsError(
                f"no credentials for {repo.label}",
                f"add a [{repo.label}] section with an API token to ~/.pypirc, {_ENV_HINT[target.role]}",
            )
    if plan.needs_confirmation and not (intent.yes or intent.can_confirm or intent.dry_run):
        raise Aborted(
            f"a live release of {plan.version} needs confirmation and there is no terminal",
            "pass --yes to release without asking",
        )
    for target in uploading:
        # An index that listed this project's files has answered already; a new project's page
        # is a 404, and then the index itself must be shown to answer.
        if target.new:
            listing.check_readable(target.access.repository, state.name, config.timeout)
    if plan.will(StepName.PUSH):
        probe_push(state, plan, vcs.open_repo(state.project), config.timeout)
