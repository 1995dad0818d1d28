"""Inside the notebooks: the provenance header every report page starts with (``header``). It tags the page
with the embedder used, which ``rnalib.pages`` carries into the site's index."""
from __future__ import annotations

import html
import json
import os
from typing import Any

from . import data
from .results import git_commit

META_KEY = "rnalib"


def header(title: str, params: dict[str, Any] | None = None, embedder: dict[str, Any] | None = None) -> None:
    """Show the run's provenance at the top of a notebook and tag it for the index.

    ``embedder`` is ``EmbedderChoice.as_dict()``; a fallback is shown as a warning, never silently.
    """
    from IPython.display import HTML, display

    emb = embedder or {"used": "none", "fallback": False, "reason": "this notebook embeds nothing"}
    warn = (f"<p style='color:#a40'><b>Embedder fallback:</b> {html.escape(emb['reason'])}</p>"
            if emb.get("fallback") else f"<p>Embedder: <code>{html.escape(emb['used'])}</code> — "
                                        f"{html.escape(emb.get('reason', ''))}</p>")
    shown = html.escape(json.dumps(params or {}, default=str))
    body = (f"<h2>{html.escape(title)}</h2><p>git <code>{html.escape(git_commit())}</code> · data "
            f"<code>{html.escape(os.environ.get(data.DATA_ENV) or 'pinned upstream downloads')}</code></p>"
            f"{warn}<p><small>parameters: <code>{shown}</code></small></p>")
    display(HTML(body), metadata={META_KEY: {"embedder": emb["used"], "fallback": bool(emb.get("fallback"))}})
