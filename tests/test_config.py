"""[tool.releasekit] is read strictly: defaults, kebab-case keys, typos and wrong types refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasekit.config import Config, load_config
from releasekit.errors import ConfigError


def write_pyproject(project: Path, text: str) -> Path:
    path = project / "pyproject.toml"
    path.write_text('[project]\nname = "sample"\nversion = "1.0.0"\n\n' + text, encoding="utf-8")
    return path


def test_defaults_without_pyproject(tmp_path: Path) -> None:
    config = load_config(tmp_path)

    assert config == Config()
    assert config.tag_format == ""  # follow the repository's tags, else v{version}
    assert config.tag_for("1.0") == "v1.0"
    assert config.remote == "origin"
    assert config.release_branch == ""
    assert config.test_repository == "testpypi"
    assert config.repository == "pypi"
    assert config.commit_message == "Release {version}"
    assert config.tag_message == "Release {version}"
    assert config.verify is True
    assert config.timeout == 60.0
    assert config.simple_index == {}
    assert config.tag_for("1.2.3") == "v1.2.3"


def test_defaults_when_pyproject_has_no_releasekit_table(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "[tool.other]\nkey = 1\n")

    assert load_config(tmp_path) == Config()


def test_kebab_case_keys_are_read(tmp_path: Path) -> None:
    write_pyproject(
        tmp_path,
        "[tool.releasekit]\n"
        'tag-format = "release-{version}"\n'
        'remote = "upstream"\n'
        'release-branch = "stable"\n'
        'test-repository = "staging"\n'
        'repository = "corp"\n'
        'commit-message = "Bump to {version}"\n'
        'tag-message = "Version {version}"\n'
        "verify = false\n"
        "timeout = 15\n"
        "\n"
        "[tool.releasekit.simple-index]\n"
        'corp = "https://mirror.example.invalid/simple/"\n',
    )

    config = load_config(tmp_path)

    assert config == Config(
        tag_format="release-{version}",
        remote="upstream",
        release_branch="stable",
        test_repository="staging",
        repository="corp",
        commit_message="Bump to {version}",
        tag_message="Version {version}",
        verify=False,
        timeout=15.0,
        simple_index={"corp": "https://mirror.example.invalid/simple/"},
    )
    assert isinstance(config.timeout, float)
    assert config.tag_for("2.0.0") == "release-2.0.0"


def test_a_typo_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[tool.releasekit]\ntag-fromat = "v{version}"\n')

    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)

    assert "unknown key 'tag-fromat'" in str(caught.value)
    assert "did you mean 'tag-format'" in str(caught.value)


def test_an_unknown_key_without_a_close_match_lists_the_known_keys(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "[tool.releasekit]\nzzz = 1\n")

    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)

    assert "unknown key 'zzz'" in str(caught.value)
    assert "known keys: tag-format, remote," in str(caught.value)


def test_snake_case_spelling_of_a_key_is_not_a_typo(tmp_path: Path) -> None:
    # The key is normalised to its attribute name; both spellings address the same setting.
    write_pyproject(tmp_path, '[tool.releasekit]\ntag_format = "rel-{version}"\n')

    assert load_config(tmp_path).tag_format == "rel-{version}"


@pytest.mark.parametrize(
    ("line", "key", "type_name"),
    [
        ('timeout = "x"', "timeout", "str"),
        ("timeout = true", "timeout", "bool"),
        ('verify = "yes"', "verify", "str"),
        ("verify = 1", "verify", "int"),
        ("remote = 1", "remote", "int"),
        ('simple-index = "https://mirror.example.invalid/simple/"', "simple-index", "str"),
    ],
)
def test_wrong_types_are_refused(tmp_path: Path, line: str, key: str, type_name: str) -> None:
    write_pyproject(tmp_path, f"[tool.releasekit]\n{line}\n")

    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)

    assert str(caught.value) == f"'{key}' in [tool.releasekit] has the wrong type ({type_name})"


@pytest.mark.parametrize("value", ["0", "-1.5", "0.0"])
def test_a_timeout_that_is_not_positive_is_refused(tmp_path: Path, value: str) -> None:
    write_pyproject(tmp_path, f"[tool.releasekit]\ntimeout = {value}\n")

    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)

    assert "'timeout' in [tool.releasekit] must be a positive number of seconds" in str(caught.value)


def test_a_fractional_timeout_is_accepted(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "[tool.releasekit]\ntimeout = 0.5\n")

    assert load_config(tmp_path).timeout == 0.5


@pytest.mark.parametrize("tag_format", ["v", "release-{ver}", "{VERSION}"])
def test_a_tag_format_without_version_is_refused(tmp_path: Path, tag_format: str) -> None:
    write_pyproject(tmp_path, f'[tool.releasekit]\ntag-format = "{tag_format}"\n')

    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)

    assert "'tag-format' in [tool.releasekit] must contain {version}" in str(caught.value)


def test_overrides_win_over_pyproject(tmp_path: Path) -> None:
    write_pyproject(
        tmp_path,
        '[tool.releasekit]\ntag-format = "release-{version}"\nremote = "upstream"\ntimeout = 15\n',
    )

    config = load_config(tmp_path, {"tag-format": "rel/{version}", "timeout": 5})

    assert config.tag_format == "rel/{version}"
    assert config.timeout == 5.0
    assert config.remote == "upstream"  # not overridden: pyproject's value stays


def test_overrides_are_validated_and_named_as_such(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, {"timeout": 0})

    assert "'timeout' in the releasekit settings must be a positive number" in str(caught.value)

    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, {"tag-fromat": "v{version}"})

    assert "unknown key 'tag-fromat' in the releasekit settings" in str(caught.value)
    assert "did you mean 'tag-format'" in str(caught.value)


def test_invalid_toml_names_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.releasekit\ntimeout = 5\n", encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)

    message = str(caught.value)
    assert message.startswith("pyproject.toml is not valid TOML: ")
    assert "line 1" in message


def test_simple_index_values_must_be_strings(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "[tool.releasekit.simple-index]\ntestpypi = 1\n")

    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)

    assert "simple-index" in str(caught.value)


def test_a_releasekit_key_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool]\nreleasekit = "v{version}"\n', encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)

    assert "[tool.releasekit]" in str(caught.value)


def test_a_tag_format_with_an_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[tool.releasekit]\ntag-format = "{version}-{name}"\n')

    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)

    assert "tag-format" in str(caught.value)


# Issue 11, case 7: values that only release time would trip over are refused when loaded.


def test_bad_utf8_in_pyproject_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b'[project]\nname = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"pyproject.toml is not UTF-8 \(line 2\)"):
        load_config(tmp_path)


@pytest.mark.parametrize("value", ["nan", "inf", "+inf", "-inf", "-nan"])
def test_timeout_must_be_finite(tmp_path: Path, value: str) -> None:
    write_pyproject(tmp_path, f"[tool.releasekit]\ntimeout = {value}\n")
    with pytest.raises(ConfigError, match=r"'timeout' in \[tool.releasekit\] must be a positive number"):
        load_config(tmp_path)


def test_timeout_nan_from_the_invoke_config_is_refused_too(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'timeout' in the releasekit settings"):
        load_config(tmp_path, {"timeout": float("nan")})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("commit-message", "Release {ver}"),
        ("tag-message", "Release {0}"),
        ("commit-message", "Release {version"),
        ("tag-message", "Release {version.major}"),
        ("commit-message", "}"),
    ],
)
def test_message_formats_are_checked_when_loaded(tmp_path: Path, key: str, value: str) -> None:
    write_pyproject(tmp_path, f'[tool.releasekit]\n{key} = "{value}"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert caught.value.message == f"'{key}' in [tool.releasekit] is not a valid format ({value!r})"
    assert caught.value.hint and "{{" in caught.value.hint


def test_message_formats_that_work(tmp_path: Path) -> None:
    write_pyproject(
        tmp_path, '[tool.releasekit]\ncommit-message = "Bump to {version} {{skip ci}}"\ntag-message = "v"\n'
    )
    config = load_config(tmp_path)
    assert config.commit_message.format(version="1.0") == "Bump to 1.0 {skip ci}"


@pytest.mark.parametrize(("text", "expected"), [("true", True), ("false", False), ('"auto"', "auto")])
def test_pypi_rules(tmp_path: Path, text: str, expected: str | bool) -> None:
    assert Config().pypi_rules == "auto"
    write_pyproject(tmp_path, f"[tool.releasekit]\npypi-rules = {text}\n")
    assert load_config(tmp_path).pypi_rules == expected


@pytest.mark.parametrize("text", ['"yes"', '"true"', "1", '""'])
def test_pypi_rules_takes_only_true_false_or_auto(tmp_path: Path, text: str) -> None:
    write_pyproject(tmp_path, f"[tool.releasekit]\npypi-rules = {text}\n")
    with pytest.raises(ConfigError, match="'pypi-rules'"):
        load_config(tmp_path)
