"""Inside the notebooks: the provenance header every report page starts with (``header``). It tags the page
with the embedder used, which ``rnalib.report.pages`` carries into the site's index."""
from __future__ import annotations

import html
import json
import os
from typing import Any

from rnalib import data

from .results import git_commit

META_KEY = "rnalib"


def data_line() -> str:
    """The data sets by name and checksum, and whether they came from a local copy or the pinned upstream."""
    source = "a local copy (RNALIB_DATA_DIR)" if os.environ.get(data.DATA_ENV) else "the pinned upstream"
    sets = ", ".join(f"{name} (sha256 {digest[:12]})" for name, digest in data.dataset_checksums().items())
    return f"{sets}; files from {source}, each checked against its pinned sha256"


def parameter_table(params: dict[str, Any]) -> str:
    """A small two-column HTML table of a page's parameters."""
    rows = "".join(f"<tr><td><code>{html.escape(str(k))}</code></td><td>{html.escape(json.dumps(v, default=str))}"
                   "</td></tr>" for k, v in params.items())
    return f"<table class='rnalib-params'><tr><th>parameter</th><th>value</th></tr>{rows}</table>"


def header(title: str, params: dict[str, Any] | None = None, embedder: dict[str, Any] | None = None) -> None:
    """Show the run's provenance at the top of a notebook and tag it for the index: title, git commit, data
    sets (names and checksums, never a path), the embedder (a fallback as a warning, never silently) and the
    parameters as a small table. ``embedder`` is ``EmbedderChoice.as_dict()``."""
    from IPython.display import HTML, display

    emb = embedder or {"used": "none", "fallback": False, "reason": "this notebook embeds nothing"}
    warn = (f"<p style='color:#a40'><b>Embedder fallback:</b> {html.escape(emb['reason'])}</p>"
            if emb.get("fallback") else f"<p>Embedder: <code>{html.escape(emb['used'])}</code> — "
                                        f"{html.escape(emb.get('reason', ''))}</p>")
    body = (f"<h2>{html.escape(title)}</h2><p><small>git <code>{html.escape(git_commit())}</code> · data: "
            f"{html.escape(data_line())}</small></p>{warn}"
            f"<details><summary>parameters</summary>{parameter_table(params or {})}</details>")
    display(HTML(body), metadata={META_KEY: {"embedder": emb["used"], "fallback": bool(emb.get("fallback"))}})
