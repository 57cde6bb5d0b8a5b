"""Release tags: the styles releasekit recognises, the versions they name, the style a project follows."""

from __future__ import annotations

from packaging.version import Version

from releasekit.config import Config
from releasekit.errors import VersionError
from releasekit.versioning import pep440


def version_from_tags(tags: dict[str, str], tag_format: str) -> str:
    """A git-derived version's current value: the newest release tag's (0.0.0 before the first)."""
    versions = tag_versions(tags, tag_format)
    return max(versions, key=Version) if versions else "0.0.0"


def tag_styles(name: str) -> tuple[str, ...]:
    """The tag formats releasekit recognises in a repository's history, most common first."""
    names = dict.fromkeys((name, name.replace("-", "_")))
    return (
        "v{version}",
        "{version}",
        *(f"{n}-v{{version}}" for n in names),
        *(f"{n}-{{version}}" for n in names),
    )


def choose_tag_format(config: Config, tags: dict[str, str], name: str) -> tuple[str, str]:
    """(tag format, how it was chosen): the configured one, else the style the history uses."""
    if config.tag_format:
        return config.tag_format, "tag-format in the configuration"
    counts = {style: len(tag_versions(tags, style)) for style in tag_styles(name)}
    best = max(counts, key=lambda style: counts[style])  # ties: the first, v{version}
    if not counts[best]:
        return "v{version}", "the default: no release tags yet"
    return best, f"followed from {counts[best]} existing tag(s)"


def released_versions(tags: dict[str, str], name: str, tag_format: str) -> set[str]:
    """Versions named by tags of any recognised style: every style counts as released."""
    out: set[str] = set()
    for style in {tag_format, *tag_styles(name)}:
        out |= tag_versions(tags, style)
    return out


def tag_versions(tags: dict[str, str], tag_format: str) -> set[str]:
    """The canonical versions that tags of one format name."""
    prefix, _, suffix = tag_format.partition("{version}")
    out = set()
    for tag in tags:
        if tag.startswith(prefix) and tag.endswith(suffix) and len(tag) > len(prefix) + len(suffix):
            text = tag[len(prefix) : len(tag) - len(suffix)]
            try:
                out.add(pep440.normalise(text))
            except VersionError:
                continue
    return out
