"""What a release relies on: one version number, a changelog in its form, the templates."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import alloy

ROOT = Path(__file__).resolve().parents[1]


def _version_line(pyproject: str) -> str:
    """``version`` of the ``[project]`` table, read line by line (Python 3.10 has no tomllib)."""
    table = None
    for line in pyproject.splitlines():
        header = re.fullmatch(r"\s*\[([^\]]+)\]\s*(#.*)?", line)
        if header:
            table = header[1].strip()
        elif table == "project":
            found = re.fullmatch(r'\s*version\s*=\s*"([^"]+)"\s*(#.*)?', line)
            if found:
                return found[1]
    raise AssertionError("pyproject.toml: no version in [project]")


def test_version_is_the_one_in_pyproject() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    if sys.version_info >= (3, 11):
        import tomllib

        declared = tomllib.loads(text)["project"]["version"]
        assert _version_line(text) == declared
    else:
        declared = _version_line(text)
    assert alloy.__version__ == declared


def test_version_line_reader() -> None:
    text = '[tool.x]\nversion = "9"\n[project]\nname = "a"\nversion = "1.2.3"  # here\n'
    assert _version_line(text) == "1.2.3"


def test_changelog_is_in_keep_a_changelog_form() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "https://keepachangelog.com/en/1.1.0/" in text
    assert "docs/versioning.md" in text
    versions = re.findall(r"^## \[([^\]]+)\](.*)$", text, flags=re.MULTILINE)
    assert versions[0] == ("Unreleased", "")
    for number, dated in versions[1:]:
        assert re.fullmatch(r"\d+\.\d+\.\d+", number), number
        assert re.fullmatch(r" - \d{4}-\d{2}-\d{2}", dated), dated
    # The version alloy says it is has its section, or is the one being prepared.
    assert alloy.__version__ in {number for number, _ in versions}
    for heading in re.findall(r"^### (.+)$", text, flags=re.MULTILINE):
        assert heading in {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_templates_exist_and_are_linked() -> None:
    templates = [
        ".github/ISSUE_TEMPLATE/bug_report.md",
        ".github/ISSUE_TEMPLATE/feature_request.md",
        ".github/pull_request_template.md",
    ]
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in templates:
        assert (ROOT / path).read_text(encoding="utf-8").startswith("---\n") or "pull" in path
        assert path in contributing, path
    for target in ("CHANGELOG.md", "docs/versioning.md", "CONTRIBUTING.md"):
        assert f"]({target})" in readme, target
    assert "](CHANGELOG.md)" in contributing
    assert "](docs/versioning.md)" in contributing
