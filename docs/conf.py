"""Sphinx configuration of the reference site: the README's sections as the guide, the
docstrings as the reference. Build it with (from the repository's root)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import kore_campaign_async

project = "kore_campaign_async"
author = "The kore_campaign_async maintainers"
copyright = "2026, The kore_campaign_async maintainers"
release = kore_campaign_async.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]

html_theme = "furo"
html_title = f"kore_campaign_async {release}"

# The guide pages include the README's sections, whose headings start at level three.
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_class_signature = "separated"
autodoc_default_options = {"members": True, "show-inheritance": True}

# Offline: no inventories are fetched; references to other projects stay plain text.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
