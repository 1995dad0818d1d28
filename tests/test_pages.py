"""One report page: papermill with checked parameters, a kernel over Unix sockets, the record and the index."""
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from rnalib.cli.main import main
from rnalib.report import pages

REPO = Path(__file__).resolve().parents[1]

KERNEL = "rnalib"  # registered inside .venv by `make`


def make_notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python (rnalib)", "language": "python"}
    params = nbformat.v4.new_code_cell(sources[0])
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(s) for s in sources[1:])]
    nbformat.write(nb, str(path))


@pytest.fixture
def project(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "params").mkdir()
    make_notebook(tmp_path / "notebooks" / "a.ipynb", "n = 1\nmax_epochs = 2\nthreads = 1",
                  "from rnalib import report\nreport.header('A', params={'n': n}, embedder={'used': 'kmer-k1-5-freq-v1',"
                  " 'fallback': True, 'reason': 'FALLBACK to the k-mer spectrum: no weights'})",
                  "import os, torch\nprint('n is', n, 'threads', threads, torch.get_num_threads(), "
                  "os.environ['OMP_NUM_THREADS'])")
    make_notebook(tmp_path / "notebooks" / "b.ipynb", "x = 0", "y = 1", "1 / x")
    make_notebook(tmp_path / "notebooks" / "r.ipynb", "x = 1",
                  "from rnalib.report import results\nprint('ROOT', results.results_root())")
    (tmp_path / "params" / "a.yaml").write_text("n: 5\n")
    (tmp_path / "params" / "a_big.yaml").write_text("n: 50\n")
    (tmp_path / "params" / "typo.yaml").write_text("max_epoch: 3\n")
    return tmp_path


def outputs(path):
    executed = nbformat.read(str(path), as_version=4)
    return "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))


def test_parameters_merge_left_to_right_and_unknown_keys_stop_with_the_file_and_closest_name(project):
    nb = project / "notebooks" / "a.ipynb"
    files = [project / "params" / "a.yaml", project / "params" / "a_big.yaml"]
    assert pages.merged_parameters(nb, files) == {"n": 50}
    assert pages.merged_parameters(nb, files, {"n": 7}) == {"n": 7}
    with pytest.raises(pages.ReportError, match=r"typo.yaml: unknown parameter 'max_epoch' for a.ipynb "
                                                r"\(did you mean 'max_epochs'\?\)"):
        pages.merged_parameters(nb, [project / "params" / "typo.yaml"])
    with pytest.raises(pages.ReportError, match="the command line: unknown parameter 'zzz'"):
        pages.merged_parameters(nb, [], {"zzz": 1})


def test_page_runs_records_and_caps_threads(project):
    out = project / "out"
    record = pages.run_notebook(project / "notebooks" / "a.ipynb", "01_a", out,
                                [project / "params" / "a.yaml", project / "params" / "a_big.yaml"], threads=1)
    assert record.embedder == "kmer-k1-5-freq-v1" and record.fallback
    assert record.parameters == {"n": 50, "threads": 1} and record.wall_s > 0
    assert "n is 50 threads 1 1 1" in outputs(out / "notebooks" / "01_a.ipynb")
    page = (out / "01_a.html").read_text()
    assert 'class="rnalib-nav"' in page and "rnalib-show-code" in page  # nav bar, code hidden with a toggle
    assert "max_epochs = 2" not in page and "n = 50" not in page  # parameter cells left out of the page
    assert page.count("jp-CodeCell") >= 2 and "jp-Cell-inputWrapper" in page  # the code is there, only hidden
    assert json.loads((out / "runs" / "01_a.json").read_text())["embedder"] == "kmer-k1-5-freq-v1"


def test_failing_page_names_the_cell_and_writes_no_record(project):
    out = project / "out"
    with pytest.raises(pages.ReportError) as excinfo:
        pages.run_notebook(project / "notebooks" / "b.ipynb", "02_b", out)
    message = str(excinfo.value)
    assert "b.ipynb" in message and "cell 3" in message and "ZeroDivisionError" in message
    assert (out / "failed" / "02_b.html").is_file()
    assert not (out / "runs" / "02_b.json").exists() and not (out / "02_b.html").exists()


def test_cli_unknown_parameter_is_one_line(project, capsys):
    code = main(["notebook", str(project / "notebooks" / "a.ipynb"), "--name", "x", "--out", str(project / "o"),
                 "--params", str(project / "params" / "typo.yaml")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "unknown parameter 'max_epoch'" in err
    assert not (project / "o" / "notebooks").exists()


def test_kernels_started_in_parallel_do_not_race(project):
    """Eight pages started at once, each in its own process as under Snakemake (where TCP ports race; our
    kernels talk over Unix sockets)."""
    out = project / "par"
    procs = [subprocess.Popen([sys.executable, "-m", "rnalib", "notebook", str(project / "notebooks" / "r.ipynb"),
                               "--name", f"r{i}", "--out", str(out), "--no-html"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(8)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [err for _, err in results]
    assert all(f"ROOT {out.resolve()}" in outputs(out / "notebooks" / f"r{i}.ipynb") for i in range(8))


def test_index_lists_pages_and_wall_time(project):
    out = project / "out"
    pages.run_notebook(project / "notebooks" / "a.ipynb", "01_a", out, threads=1)
    pages.run_notebook(project / "notebooks" / "r.ipynb", "03_r", out)
    assert main(["index", "--out", str(out), "--title", "t", str(out / "runs" / "01_a.json"),
                 str(out / "runs" / "03_r.json")]) == 0
    log = (out / "runs.html").read_text()
    assert "01_a.html" in log and "03_r.html" in log and "(fallback)" in log and 'href="00_summary.html"' in log
    assert 'url=runs.html' in (out / "index.html").read_text()  # no summary page here: the index opens the log
    assert "/tmp" not in log and str(project) not in log
    manifest = json.loads((out / "manifest.json").read_text())
    assert [r["name"] for r in manifest["runs"]] == ["01_a", "03_r"]
    first, last = manifest["runs"]
    assert manifest["pages_wall_s"] == round(first["wall_s"] + last["wall_s"], 1)
    assert manifest["span_s"] == pytest.approx(last["started"] + last["wall_s"] - first["started"], abs=0.2)


def test_notebook_sources_follow_rnalib_imports(tmp_path):
    root = pages.PACKAGE_ROOT
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from rnalib.report import results\nprint(results.results_root())")]
    nbformat.write(nb, str(tmp_path / "n.ipynb"))
    found = {str(p.relative_to(root)) for p in pages.notebook_sources(tmp_path / "n.ipynb")}
    # the module, the packages above it, and what they import in turn (the header reads data); nothing else
    assert found == {"__init__.py", "data.py", "report/__init__.py", "report/page_header.py", "report/results.py"}
    study_a = {str(p.relative_to(root)) for p in pages.notebook_sources(REPO / "notebooks" / "01_interactions_data.ipynb")}
    assert {"interactions/graph.py", "report/plots.py", "interactions/__init__.py", "interactions/study.py"} <= study_a
    assert not {p for p in study_a if p.startswith(("localization/", "cli/"))} and "report/pages.py" not in study_a


def test_parameter_defaults_read_the_parameters_cell_as_papermill_does(tmp_path):
    """The workflow reads parameters cells without papermill (it builds its DAG in every SLURM job); on every
    notebook of the project the names and defaults are papermill's own."""
    import ast

    import papermill as pm

    for notebook in sorted((REPO / "notebooks").glob("*.ipynb")):
        ours = pages.parameter_defaults(notebook)
        theirs = {name: ast.literal_eval(p["default"]) for name, p in pm.inspect_notebook(str(notebook)).items()}
        assert ours == theirs and ours, notebook.name
    make_notebook(tmp_path / "n.ipynb", "a = 1\nb: float = 0.5\nc = [1, 'x']\nd = len('ab')", "e = 2")
    assert pages.parameter_defaults(tmp_path / "n.ipynb") == {"a": 1, "b": 0.5, "c": [1, "x"], "d": "len('ab')"}
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("a = 1")]
    nbformat.write(nb, str(tmp_path / "untagged.ipynb"))
    with pytest.raises(pages.ReportError, match="untagged.ipynb: no cell tagged 'parameters'"):
        pages.parameter_defaults(tmp_path / "untagged.ipynb")
    (tmp_path / "broken.ipynb").write_text("{not json")
    with pytest.raises(pages.ReportError, match="broken.ipynb: not a readable notebook"):
        pages.declared_parameters(tmp_path / "broken.ipynb")


def test_rendered_page_leaves_out_progress_bars_and_keeps_other_stderr(tmp_path):
    nb = nbformat.v4.new_notebook()
    stderr = lambda text: nbformat.v4.new_output("stream", name="stderr", text=text)  # noqa: E731
    nb.cells = [nbformat.v4.new_code_cell("train()", outputs=[
        stderr("\repochs:   0%|          | 0/12 [00:00<?, ?it/s]"),
        stderr("\repochs:   8%|▊         | 1/12 [00:08<01:32,  8.40s/it]"), stderr("\n"),
        stderr("\r120RNAs [00:01, 90.1RNAs/s]"),
        stderr("UserWarning: kept in sight\n"),
        nbformat.v4.new_output("stream", name="stdout", text="done\n")])]
    nbformat.write(nb, str(tmp_path / "p.ipynb"))
    pages.render_html(tmp_path / "p.ipynb", tmp_path / "p.html")
    page = (tmp_path / "p.html").read_text()
    assert "it/s" not in page and "RNAs/s" not in page and "epochs" not in page
    assert "UserWarning: kept in sight" in page and "done" in page
    assert page.count('data-mime-type="application/vnd.jupyter.stderr"') == 1
    scripts = "".join(re.findall(r"<script\b.*?</script>", page, re.DOTALL))
    assert "://" not in scripts and "mathjax" not in scripts.lower()  # nothing fetched from a CDN
    assert "rnalib-show-code" in page  # the code toggle (inline, not a script tag) stays


def test_run_log_breaks_long_page_names_between_their_parts(tmp_path):
    record = pages.RunRecord("02_train__Compact__C1__s0", "nb.ipynb", [], html="02_train__Compact__C1__s0.html")
    pages.write_index([record], tmp_path)
    assert ">02_train__<wbr>Compact__<wbr>C1__<wbr>s0</a>" in (tmp_path / "runs.html").read_text()


def test_kernel_hides_the_tqdm_widget_warning_and_keeps_other_warnings(tmp_path):
    make_notebook(tmp_path / "w.ipynb", "x = 1", "import tqdm.auto\nimport warnings\nwarnings.warn('kept')")
    pages.run_notebook(tmp_path / "w.ipynb", "w", tmp_path / "out", render=False)
    text = outputs(tmp_path / "out" / "notebooks" / "w.ipynb")
    assert "IProgress" not in text and "UserWarning: kept" in text
