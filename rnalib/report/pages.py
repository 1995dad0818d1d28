"""The report site's pages: run one notebook through papermill, render its HTML, and build the site's index.

The workflow (``workflow/Snakefile``) calls ``run_notebook`` once per page (``python -m rnalib notebook``) and
``write_index`` once at the end (``python -m rnalib index``). Inside a notebook, ``report.header()`` shows the run's
provenance and tags the output with the embedder used, which the page's record carries into the index.
"""
from __future__ import annotations

import difflib
import functools
import html
import json
import os
import re
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .page_header import META_KEY
from .results import RESULTS_ENV, git_commit, manifest, write_json

THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
              "NUMBA_NUM_THREADS")


@dataclass
class RunRecord:
    """One page that ran: written to ``runs/<name>.json`` when it succeeds and read back by ``write_index`` (a
    failing page writes no record: the workflow stops there and shows its log)."""

    name: str
    notebook: str
    params: list[str]
    started: float = 0.0
    wall_s: float = 0.0
    threads: int = 1
    embedder: str = "none"
    fallback: bool = False
    html: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


class ReportError(RuntimeError):
    """A page failed; the message names the notebook and the cell (or the parameter file and key)."""


def _cells(notebook: str | Path) -> list[dict]:
    """A notebook's cells as stored (nbformat 4 JSON), each ``source`` joined into one string. Read as plain JSON:
    the workflow calls this for every page when it builds its DAG, in every SLURM job, and importing nbformat
    (jsonschema's format checkers) costs seconds there."""
    try:
        cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ReportError(f"{notebook}: not a readable notebook ({err})") from None
    return [{**c, "source": "".join(c.get("source", ""))} for c in cells]


def parameter_defaults(notebook: str | Path) -> dict[str, Any]:
    """The notebook's ``parameters`` cell (the cell tagged ``parameters``, as papermill finds it): each assigned
    name with its default, a Python literal (a default that is not a literal maps to its source text)."""
    import ast

    cell = next((c for c in _cells(notebook) if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        raise ReportError(f"{notebook}: no cell tagged 'parameters'")
    defaults: dict[str, Any] = {}
    for node in ast.parse(cell["source"]).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name):
                    try:
                        defaults[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        defaults[target.id] = ast.get_source_segment(cell["source"], node.value)
    return defaults


def declared_parameters(notebook: str | Path) -> set[str]:
    """Names assigned in the notebook's ``parameters`` cell."""
    return set(parameter_defaults(notebook))


def merged_parameters(notebook: str | Path, files: list[str | Path], overrides: dict[str, Any] | None = None,
                      declared: set[str] | None = None) -> dict[str, Any]:
    """Parameter files merged left to right, then ``overrides``; a key the notebook does not declare stops the
    run with one line naming the file, the key and the closest declared name."""
    declared = declared_parameters(notebook) if declared is None else declared
    merged: dict[str, Any] = {}
    sources = [(str(f), yaml.safe_load(Path(f).read_text()) or {}) for f in files]
    for source, values in sources + [("the command line", overrides or {})]:
        if not isinstance(values, dict):
            raise ReportError(f"{source}: expected a mapping of parameter names to values")
        for key in values:
            if key not in declared:
                close = difflib.get_close_matches(key, sorted(declared), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ReportError(f"{source}: unknown parameter '{key}' for {Path(notebook).name}{hint}")
        merged.update(values)
    return merged


def notebook_tags(nb) -> dict[str, Any]:
    """The ``rnalib`` metadata that ``header()`` left in an executed notebook's outputs (last one wins)."""
    found: dict[str, Any] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            found.update(output.get("metadata", {}).get(META_KEY, {}))
    return found


PACKAGE_ROOT = Path(__file__).resolve().parents[1]
"""The folder of the ``rnalib`` package."""


def module_file(dotted: str, root: Path = PACKAGE_ROOT) -> Path | None:
    """The file of a module of ``rnalib`` (``rnalib.a.b`` → ``a/b.py`` or ``a/b/__init__.py``), or None when the
    name is not a module (a function or class imported from one)."""
    base = root.joinpath(*dotted.split(".")[1:])
    for path in (base / "__init__.py", base.with_suffix(".py")):
        if path.is_file():
            return path
    return None


def rnalib_imports(code: str, module: str = "", is_package: bool = False) -> set[str]:
    """The dotted names of ``rnalib`` that ``code`` imports, anywhere in it (inside functions too), relative
    imports resolved against ``module`` (the importing module's dotted name; '' for a notebook). A name may be a
    module or something defined in one; ``from rnalib.a import b`` gives both ``rnalib.a`` and ``rnalib.a.b``."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            found |= {base} | {f"{base}.{a.name}" for a in node.names}
    return {name for name in found if name.split(".")[0] == "rnalib"}


def module_closure(names: set[str], root: Path = PACKAGE_ROOT) -> set[Path]:
    """The files of the modules ``names`` import when loaded: each module, the ``__init__`` of every package
    above it, and everything they import from rnalib in turn."""
    todo, files, done = set(names), set(), set()
    while todo:
        name = todo.pop()
        if name in done:
            continue
        done.add(name)
        parts = name.split(".")
        todo |= {".".join(parts[:k]) for k in range(1, len(parts))}  # importing a.b.c runs a and a.b first
        path = module_file(name, root)
        if path is None or path in files:
            continue
        files.add(path)
        todo |= _file_imports(path, path.stat().st_mtime_ns, name)
    return files


@functools.lru_cache(maxsize=None)
def _file_imports(path: Path, mtime_ns: int, name: str) -> frozenset[str]:
    """``rnalib_imports`` of one module file, parsed once per version of the file (the workflow asks for the
    closure of every notebook, and the notebooks share most modules)."""
    return frozenset(rnalib_imports(path.read_text(), name, path.name == "__init__.py"))


def notebook_sources(notebook: str | Path) -> list[Path]:
    """The rnalib modules a notebook imports, with everything they import from rnalib in turn (the workflow's
    inputs: editing one of them reruns the pages that use it, and only those)."""
    code = "\n".join(c["source"] for c in _cells(notebook) if c.get("cell_type") == "code")
    names = rnalib_imports(code) | set(re.findall(r"\brnalib(?:\.\w+)+", code)) | {"rnalib"}
    return sorted(module_closure(names))


NAV = (("00_summary.html", "Summary"), ("03_interactions_compare.html", "Study A"),
       ("07_localization_compare.html", "Study B"), ("runs.html", "Run log"))
SITE_STYLE = """<style>
.rnalib-nav{position:sticky;top:0;z-index:10;background:#f6f6f6;border-bottom:1px solid #ddd;padding:.5em 1em;
  font-family:system-ui,sans-serif;display:flex;gap:1.2em;align-items:center;flex-wrap:wrap}
.rnalib-nav a{text-decoration:none;color:#234}.rnalib-nav button{margin-left:auto}
body:not(.rnalib-show-code) .jp-CodeCell .jp-Cell-inputWrapper{display:none}
.jp-OutputArea-output{max-width:100%;overflow-x:auto}
table.rnalib-params td,table.rnalib-params th{padding:.1em .6em;font-size:90%}
</style>"""


def nav_bar(show_code_button: bool = True) -> str:
    """The bar across the top of every page: summary, the two studies, the run log (and a code toggle)."""
    links = "".join(f'<a href="{href}">{label}</a>' for href, label in NAV)
    button = ('<button type="button" onclick="document.body.classList.toggle(\'rnalib-show-code\')">'
              "show / hide code</button>" if show_code_button else "")
    return f'<nav class="rnalib-nav">{links}{button}</nav>'


# Kernel warnings that would print a machine path onto a page and mean nothing to its reader: tqdm.auto (imported by
# Hugging Face libraries) without ipywidgets falls back to the text bars, which the page leaves out anyway.
QUIET_WARNINGS = "ignore:IProgress not found:Warning"
# tqdm's elapsed-time bracket: "[00:08<01:32, ..." or "[00:01, 3.2it/s]".
PROGRESS_LINE = re.compile(r"\[\d+:\d\d(?::\d\d)?(?:<|,|\])")


def is_progress(output: dict[str, Any]) -> bool:
    """A progress bar (tqdm) or blank line on stderr: every non-blank segment between carriage returns and
    newlines is a bar. The kernel records each refresh as an output of its own, which a static page would show
    as a stack of stderr boxes."""
    if output.get("output_type") != "stream" or output.get("name") != "stderr":
        return False
    text = output.get("text", "")
    text = "".join(text) if isinstance(text, list) else text
    return all(PROGRESS_LINE.search(s) for s in re.split(r"[\r\n]", text) if s.strip())


def without_progress(nb: Any) -> Any:
    """The notebook with its progress-bar outputs left out (everything else on stderr stays in sight)."""
    for cell in nb.cells:
        if "outputs" in cell:
            cell.outputs = [o for o in cell.outputs if not is_progress(o)]
    return nb


_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL | re.IGNORECASE)


def without_remote_scripts(page: str) -> str:
    """The page without the scripts the template fetches from a CDN (require.js, MathJax and its configuration,
    mermaid): the report is read offline and uses none of them."""
    return _SCRIPT.sub(lambda m: "" if "://" in m.group(0) or "mathjax" in m.group(0).lower() else m.group(0), page)


def render_html(ipynb: Path, target: Path) -> None:
    """Executed notebook → standalone HTML page of the site: findings as the notebook shows them, code hidden
    (a button shows it), the parameter cells left out (the header's table lists the parameters once), no
    prompts and no progress bars, the navigation bar on top; images inline."""
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(template_name="lab", exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.register_preprocessor(TagRemovePreprocessor(
        remove_cell_tags={"parameters", "injected-parameters"}, enabled=True), enabled=True)
    nb = without_progress(nbformat.read(str(ipynb), as_version=4))
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": Path(ipynb).stem}})
    body = without_remote_scripts(body)
    head_end, body_start = body.index("</head>"), body.index(">", body.index("<body")) + 1
    body = body[:head_end] + SITE_STYLE + body[head_end:body_start] + nav_bar() + body[body_start:]
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


def _ipc_kernel_manager():
    """A kernel manager talking to its kernel over Unix sockets with a unique path prefix: kernels started in
    parallel never race for TCP ports (a known papermill / jupyter_client failure under Snakemake)."""
    from jupyter_client.manager import KernelManager
    from traitlets import default

    class IPCKernelManager(KernelManager):
        @default("transport")
        def _default_transport(self):
            return "ipc"

        @default("ip")
        def _default_ip(self):
            return os.path.join(tempfile.gettempdir(), f"rnalib-kernel-{uuid.uuid4().hex[:16]}")

    return IPCKernelManager


def run_notebook(notebook: str | Path, name: str, out_dir: str | Path, params: list[str | Path] = (),
                 overrides: dict[str, Any] | None = None, kernel: str = "rnalib", threads: int = 1,
                 render: bool = True) -> RunRecord:
    """Execute one page: ``notebooks/<name>.ipynb`` and ``runs/<name>.json`` under ``out_dir``, and with
    ``render`` its ``<name>.html`` (the workflow renders in a rule of its own).

    Parameters are checked against the notebook's ``parameters`` cell first; ``threads`` caps torch and BLAS
    (environment of the kernel, and the notebook's ``threads`` parameter where it has one). The notebook writes
    its results under ``out_dir``. A failing cell raises ``ReportError`` naming notebook and cell; the failed
    page is rendered to ``failed/<name>.html`` and no record is written.
    """
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    notebook, out_dir = Path(notebook), Path(out_dir)
    declared = declared_parameters(notebook)
    values = merged_parameters(notebook, list(params), overrides, declared)
    if "threads" in declared:
        values["threads"] = threads
    record = RunRecord(name, str(notebook), [str(p) for p in params], parameters=values, threads=threads)
    executed = out_dir / "notebooks" / f"{name}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    env = {RESULTS_ENV: str(out_dir.resolve()), **{k: str(threads) for k in THREAD_ENV},
           "PYTHONWARNINGS": ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), QUIET_WARNINGS]))}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    record.started = time.time()
    try:
        pm.execute_notebook(str(notebook), str(executed), parameters=values, kernel_name=kernel,
                            cwd=str(notebook.parent), progress_bar=False,
                            kernel_manager_class=_ipc_kernel_manager())
    except PapermillExecutionError as exc:
        evalue = str(exc.evalue).splitlines()[0] if exc.evalue else ""
        failed = out_dir / "failed" / f"{name}.html"
        failed.parent.mkdir(exist_ok=True)
        render_html(executed, failed)
        raise ReportError(f"{notebook}: {failing_cell(notebook, executed)} raised {exc.ename}: {evalue} "
                          f"(page: {failed})") from None
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    record.wall_s = round(time.time() - record.started, 1)
    tags = notebook_tags(nbformat.read(str(executed), as_version=4))
    record.embedder, record.fallback = tags.get("embedder", "none"), bool(tags.get("fallback", False))
    record.html = f"{name}.html"
    if render:
        render_html(executed, out_dir / record.html)
    (out_dir / "runs").mkdir(exist_ok=True)
    write_json(out_dir / "runs" / f"{name}.json", asdict(record))
    return record


def read_records(paths: list[str | Path]) -> list[RunRecord]:
    """Page records (``runs/<name>.json``) in the order given."""
    known = set(RunRecord.__dataclass_fields__)
    return [RunRecord(**{k: v for k, v in json.loads(Path(p).read_text()).items() if k in known}) for p in paths]


def write_index(records: list[RunRecord], out_dir: str | Path, title: str = "rnalib report",
                settings: dict[str, Any] | None = None) -> Path:
    """The run log ``runs.html`` (one row per page: link, wall time, threads, embedder, parameter files),
    ``index.html`` (opens the summary page when there is one, else the run log) and ``manifest.json`` (the
    records; ``pages_wall_s``, their sum; ``span_s``, from the first page's start to the last page's end, which
    after an incremental rerun spans the earlier run too)."""
    from .page_header import data_line

    out_dir = Path(out_dir)
    rows = []
    for r in records:
        name = html.escape(r.name).replace("__", "__<wbr>")  # long page names break between their parts
        link = f'<a href="{html.escape(r.html)}">{name}</a>' if r.html else name
        embedder = html.escape(r.embedder) + (' <b class="warn">(fallback)</b>' if r.fallback else "")
        rows.append(f"<tr><td>{link}</td><td>{r.wall_s:.1f} s</td><td>{r.threads}</td><td>{embedder}</td>"
                    f"<td>{html.escape(', '.join(r.params) or '—')}</td></tr>")
    fallback_note = ("<p class='warn'>Some notebooks used a fallback embedder (no foundation-model weights were "
                     "found); their numbers are not RNA-FM numbers.</p>" if any(r.fallback for r in records) else "")
    now = time.time()
    span = max((r.started + r.wall_s for r in records), default=now) - min((r.started for r in records), default=now)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} · run log</title>{SITE_STYLE}
<style>body{{font-family:system-ui,sans-serif;margin:0}}main{{margin:1em 2em;max-width:90em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.35em .7em;text-align:left}}
th,td:nth-child(2){{white-space:nowrap}}
.warn{{color:#a40}}</style></head><body>{nav_bar(show_code_button=False)}<main>
<h1>{html.escape(title)} · run log</h1>
<p>git commit <code>{html.escape(git_commit())}</code> · data: {html.escape(data_line())} ·
generated {time.strftime('%Y-%m-%d %H:%M:%S %Z')} · {len(records)} pages, {span / 60:.1f} min from the first
page's start to the last page's end</p>{fallback_note}
<table><tr><th>page</th><th>wall time</th><th>threads</th><th>embedder</th><th>parameter files</th></tr>
{''.join(rows)}
</table><p>Machine-readable: <a href="manifest.json">manifest.json</a>; per-run results under
<code>results/</code>.</p></main></body></html>
"""
    (out_dir / "runs.html").write_text(page, encoding="utf-8")
    start = NAV[0][0] if any(r.html == NAV[0][0] for r in records) else "runs.html"
    (out_dir / "index.html").write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta http-equiv="refresh" content="0; url={start}"></head><body><a href="{start}">{html.escape(title)}'
        "</a></body></html>\n", encoding="utf-8")
    write_json(out_dir / "manifest.json", manifest(
        settings or {}, now, extra={"runs": [asdict(r) for r in records], "span_s": round(span, 1),
                                    "pages_wall_s": round(sum(r.wall_s for r in records), 1)}))
    return out_dir / "index.html"
