"""The reference site documents every public name, and its guide pages include README sections
that exist (the build itself, with warnings as errors, is a CI step of its own)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import kore_campaign_async
import kore_campaign_async.testing

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
_DIRECTIVE = re.compile(r"^\.\. (?:currentmodule|auto(?:class|data|exception|function))::\s*(\S+)")


def _documented() -> dict[str, set[str]]:
    """Return the names each module's reference pages document with an autodoc directive."""
    names: dict[str, set[str]] = {}
    for page in sorted((DOCS / "reference").glob("*.rst")):
        module = ""
        for line in page.read_text(encoding="utf-8").splitlines():
            found = _DIRECTIVE.match(line)
            if found is None:
                continue
            if line.startswith(".. currentmodule::"):
                module = found.group(1)
            else:
                names.setdefault(module, set()).add(found.group(1))
    return names


@pytest.mark.parametrize("module", [kore_campaign_async, kore_campaign_async.testing])
def test_the_reference_documents_every_public_name(module: object) -> None:
    public = set(getattr(module, "__all__"))  # noqa: B009 - typed as object here
    assert _documented().get(getattr(module, "__name__"), set()) == public  # noqa: B009


def test_every_guide_page_includes_readme_text_that_exists() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    anchors = re.findall(
        r':(?:start-after|end-before): "([^"]+)"',
        "".join(p.read_text(encoding="utf-8") for p in DOCS.rglob("*.md")),
    )
    assert len(anchors) >= 20
    assert [a for a in anchors if a not in readme] == []
