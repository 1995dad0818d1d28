"""The report: run the notebook plan through papermill, render HTML, write ``reports/index.html``.

The plan (``params/plan.yaml``) lists notebooks in order with the parameter files merged into each run.
Inside a notebook, ``header()`` shows the run's provenance and tags the output with the embedder used, which
the runner reads back into the index.
"""
from __future__ import annotations

import fnmatch
import html
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import yaml

from . import data
from .results import REPO_ROOT, RESULTS_ENV, git_commit, manifest, write_json

META_KEY = "rnalib"


@dataclass(frozen=True)
class PlanEntry:
    """One notebook run: output name, notebook path and the parameter files merged left to right."""

    name: str
    notebook: str
    params: tuple[str, ...] = ()


@dataclass
class RunRecord:
    """What happened to one plan entry."""

    name: str
    notebook: str
    params: list[str]
    status: str = "not run"
    wall_s: float = 0.0
    embedder: str = "none"
    fallback: bool = False
    error: str = ""
    html: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


class ReportError(RuntimeError):
    """A notebook of the plan failed; the message names the notebook and the cell."""


def load_plan(path: str | Path, root: Path = REPO_ROOT) -> list[PlanEntry]:
    """Read the plan YAML: a list of ``{name, notebook, params: [yaml files]}``, paths relative to the repo."""
    path = Path(path)
    entries = yaml.safe_load(path.read_text()) or []
    plan = []
    for i, item in enumerate(entries):
        missing = [k for k in ("name", "notebook") if k not in item]
        if missing:
            raise ValueError(f"{path}: entry {i}: missing {', '.join(missing)}")
        for rel in [item["notebook"], *item.get("params", [])]:
            if not (root / rel).is_file():
                raise ValueError(f"{path}: entry {item['name']}: no such file {rel}")
        plan.append(PlanEntry(item["name"], item["notebook"], tuple(item.get("params", []))))
    return plan


def merged_parameters(entry: PlanEntry, root: Path = REPO_ROOT) -> dict[str, Any]:
    """The entry's parameter files merged left to right (later files win)."""
    merged: dict[str, Any] = {}
    for rel in entry.params:
        merged.update(yaml.safe_load((root / rel).read_text()) or {})
    return merged


def select(plan: list[PlanEntry], only: str | None) -> list[PlanEntry]:
    """Entries whose name or notebook stem matches the glob (or substring) ``only``."""
    if not only:
        return plan
    pattern = only if any(ch in only for ch in "*?[") else f"*{only}*"
    return [e for e in plan if fnmatch.fnmatch(e.name, pattern) or fnmatch.fnmatch(Path(e.notebook).stem, pattern)]


def notebook_tags(nb) -> dict[str, Any]:
    """The ``rnalib`` metadata that ``header()`` left in an executed notebook's outputs (last one wins)."""
    found: dict[str, Any] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            found.update(output.get("metadata", {}).get(META_KEY, {}))
    return found


def render_html(ipynb: Path, target: Path) -> None:
    """Executed notebook → standalone HTML (images inline)."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_filename(str(ipynb))
    target.write_text(body, encoding="utf-8")


def failing_cell(notebook: Path, executed: Path) -> str:
    """'cell N (`first line`)' for the cell holding the error; N counts the cells of the notebook as stored,
    from 1 (the executed copy also holds papermill's injected-parameters and error-banner cells)."""
    import nbformat

    cells = nbformat.read(str(executed), as_version=4).cells
    cell = next((c for c in cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
    if cell is None:
        return "a cell"
    original = nbformat.read(str(notebook), as_version=4).cells
    position = next((i for i, c in enumerate(original) if c.get("id") == cell.get("id")), None)
    where = f"cell {position + 1}" if position is not None else "the injected-parameters cell"
    first = next((line for line in cell.source.splitlines() if line.strip()), "")
    return f"{where} (`{first[:60]}`)"


def run_entry(entry: PlanEntry, kernel: str, out_dir: Path, root: Path = REPO_ROOT) -> RunRecord:
    """Execute one notebook with papermill (named kernel), render it; a failing cell becomes ``ReportError``."""
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    params = merged_parameters(entry, root)
    record = RunRecord(entry.name, entry.notebook, list(entry.params), parameters=params)
    executed = out_dir / "notebooks" / f"{entry.name}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    notebook = root / entry.notebook
    start = time.time()
    error = None
    try:
        pm.execute_notebook(str(notebook), str(executed), parameters=params, kernel_name=kernel,
                            cwd=str(notebook.parent), progress_bar=False)
        record.status = "ok"
    except PapermillExecutionError as exc:
        record.status = "failed"
        evalue = str(exc.evalue).splitlines()[0] if exc.evalue else ""
        record.error = f"{entry.notebook}: {failing_cell(notebook, executed)} raised " \
                       f"{exc.ename}: {evalue}"
        error = ReportError(record.error)
    record.wall_s = round(time.time() - start, 1)
    if executed.is_file():
        tags = notebook_tags(nbformat.read(str(executed), as_version=4))
        record.embedder = tags.get("embedder", "none")
        record.fallback = bool(tags.get("fallback", False))
        html_path = out_dir / f"{entry.name}.html"
        render_html(executed, html_path)
        record.html = html_path.name
    if error:
        raise error from None
    return record


def write_index(records: list[RunRecord], out_dir: Path, title: str = "rnalib report") -> Path:
    """``index.html``: one row per notebook with status, wall time, embedder and a link to its page."""
    rows = []
    for r in records:
        link = f'<a href="{html.escape(r.html)}">{html.escape(r.name)}</a>' if r.html else html.escape(r.name)
        embedder = html.escape(r.embedder) + (' <b class="warn">(fallback)</b>' if r.fallback else "")
        status = html.escape(r.status) + (f"<br><small>{html.escape(r.error)}</small>" if r.error else "")
        rows.append(f"<tr class='{html.escape(r.status.replace(' ', '-'))}'><td>{link}</td><td>{status}</td>"
                    f"<td>{r.wall_s:.1f} s</td><td>{embedder}</td>"
                    f"<td>{html.escape(', '.join(r.params) or '—')}</td></tr>")
    fallback_note = ("<p class='warn'>Some notebooks used a fallback embedder (no foundation-model weights were "
                     "found); their numbers are not RNA-FM numbers.</p>" if any(r.fallback for r in records) else "")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.35em .7em;text-align:left}}.failed{{background:#fdd}}
.not-run{{color:#888}}.warn{{color:#a40}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>git commit <code>{html.escape(git_commit())}</code> · data from
<code>{html.escape(os.environ.get(data.DATA_ENV) or 'pinned upstream downloads')}</code> ·
generated {time.strftime('%Y-%m-%d %H:%M:%S %Z')}</p>{fallback_note}
<table><tr><th>notebook</th><th>status</th><th>wall time</th><th>embedder</th><th>parameter files</th></tr>
{''.join(rows)}
</table><p>Machine-readable: <a href="manifest.json">manifest.json</a>; per-run results under
<code>results/</code>.</p></body></html>
"""
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def run_report(plan_path: str | Path, kernel: str, out_dir: str | Path, only: str | None = None,
               root: Path = REPO_ROOT) -> list[RunRecord]:
    """Run the (selected) plan in order; stop at the first failing notebook. Always writes index and manifest."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = select(load_plan(plan_path, root), only)
    if not plan:
        raise ValueError(f"{plan_path}: no notebook matches {only!r}")
    records = [RunRecord(e.name, e.notebook, list(e.params)) for e in plan]
    started = time.time()
    # the notebooks' kernels (child processes) write their results beside the report
    results_here = mock.patch.dict(os.environ, {RESULTS_ENV: str(out_dir.resolve())})
    try:
        with results_here:
            for i, entry in enumerate(plan):
                try:
                    records[i] = run_entry(entry, kernel, out_dir, root)
                except ReportError as exc:
                    records[i].status, records[i].error = "failed", str(exc)
                    records[i].html = f"{entry.name}.html" if (out_dir / f"{entry.name}.html").is_file() else ""
                    raise
    finally:
        write_index(records, out_dir)
        write_json(out_dir / "manifest.json", manifest(
            {"plan": str(plan_path), "only": only, "kernel": kernel}, started,
            extra={"runs": [asdict(r) for r in records]}))
    return records


# --------------------------------------------------------------------------- inside notebooks


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
