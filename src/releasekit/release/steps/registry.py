"""The one ordered registry of release steps: adding a step is adding one line here."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass
from releasekit.release.model import Phase, Role, StepName
from releasekit.release.steps.artifacts import (
    build,
    check,
    decide_build,
    decide_check,
    decide_download,
    download,
    undo_build,
)
from releasekit.release.steps.git import (
    bump,
    decide_bump,
    decide_post,
    decide_push,
    decide_tag,
    post_release,
    push,
    tag,
    undo_bump,
    undo_tag,
)
from releasekit.release.steps.publish import decide_upload, decide_verify, upload_to, verify_on
from releasekit.release.steps.run import Step

STEPS: tuple[Step, ...] = (
    Step(StepName.BUMP, Phase.LOCAL, decide_bump, bump, undo_bump),
    Step(StepName.TAG, Phase.LOCAL, decide_tag, tag, undo_tag),
    Step(StepName.BUILD, Phase.LOCAL, decide_build, build, undo_build),
    Step(StepName.DOWNLOAD, Phase.LOCAL, decide_download, download),
    Step(StepName.CHECK, Phase.LOCAL, decide_check, check),
    Step(StepName.UPLOAD_TEST, Phase.PUBLISHED, decide_upload(Role.TEST), upload_to(Role.TEST)),
    Step(StepName.VERIFY_TEST, Phase.PUBLISHED, decide_verify(Role.TEST), verify_on(Role.TEST)),
    Step(StepName.UPLOAD_LIVE, Phase.PUBLISHED, decide_upload(Role.LIVE), upload_to(Role.LIVE)),
    Step(StepName.VERIFY_LIVE, Phase.PUBLISHED, decide_verify(Role.LIVE), verify_on(Role.LIVE)),
    Step(StepName.PUSH, Phase.PUBLISHED, decide_push, push),
    Step(StepName.POST_RELEASE, Phase.POST, decide_post, post_release),
)
