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
    """(tag format, how it was chosen): the configured one, else the style of the newest release tag.

    The newest release decides, not the majority: a project that moved from `2.0.0` to `v2.1.0`
    tags `v2.1.1` next. Ties (two styles naming the same newest version) go to the style with more
    tags, then to the first in `tag_styles`.
    """
    if config.tag_format:
        return config.tag_format, "tag-format in the configuration"
    found = {style: release_tags(tags, style) for style in tag_styles(name)}
    ranked = [
        (max((Version(v) for v in named.values()), default=None), len(named), -order, style)
        for order, (style, named) in enumerate(found.items())
    ]
    newest, count, _, best = max(ranked, key=lambda r: (r[0] is not None, r[0] or Version("0"), r[1], r[2]))
    if newest is None:
        return "v{version}", "the default: no release tags yet"
    tag = next(t for t, v in found[best].items() if Version(v) == newest)
    return best, f"followed from the newest release tag {tag} ({count} tag(s) of this style)"


def released_versions(tags: dict[str, str], name: str, tag_format: str) -> set[str]:
    """Versions named by tags of any recognised style: every style counts as released."""
    out: set[str] = set()
    for style in {tag_format, *tag_styles(name)}:
        out |= tag_versions(tags, style)
    return out


def tag_versions(tags: dict[str, str], tag_format: str) -> set[str]:
    """The canonical versions that the release tags of one format name."""
    return set(release_tags(tags, tag_format).values())


def release_tags(tags: dict[str, str], tag_format: str) -> dict[str, str]:
    """Tag -> canonical version, for the tags of one format that name a release.

    Names that are no version (`latest`, `nightly`) never count, nor do moving tags: `v1` and
    `v1.3`, which GitHub Actions projects keep on the newest `v1.3.x`, are recognised by pointing
    at the same commit as a tag whose version they are a prefix of.
    """
    prefix, _, suffix = tag_format.partition("{version}")
    named: dict[str, Version] = {}
    for tag in tags:
        if tag.startswith(prefix) and tag.endswith(suffix) and len(tag) > len(prefix) + len(suffix):
            text = tag[len(prefix) : len(tag) - len(suffix)]
            if not text[:1].isdigit():  # "v2.1.0" is the v-style's, not a bare version
                continue
            try:
                named[tag] = Version(pep440.normalise(text))
            except VersionError:
                continue
    return {tag: str(v) for tag, v in named.items() if not _moving(tag, v, named, tags)}


def _moving(tag: str, version: Version, named: dict[str, Version], tags: dict[str, str]) -> bool:
    """`v1.3` at the same commit as `v1.3.2`: an alias of that release, not a release of its own."""
    if version.pre or version.post or version.dev or not tags.get(tag):
        return False
    size = len(version.release)
    return any(
        other != tag
        and tags.get(other) == tags[tag]
        and len(v.release) > size
        and v.release[:size] == version.release
        for other, v in named.items()
    )
