import json

import nbformat
import pytest
import yaml

from rnalib import report

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
    make_notebook(tmp_path / "notebooks" / "a.ipynb", "n = 1",
                  "from rnalib import report\nreport.header('A', params={'n': n}, embedder={'used': 'kmer-k1-5-freq-v1',"
                  " 'fallback': True, 'reason': 'FALLBACK to the k-mer spectrum: no weights'})",
                  "print('n is', n)")
    make_notebook(tmp_path / "notebooks" / "b.ipynb", "x = 0", "y = 1", "1 / x")
    make_notebook(tmp_path / "notebooks" / "c.ipynb", "z = 0", "print(z)")
    (tmp_path / "params" / "a.yaml").write_text("n: 5\n")
    (tmp_path / "params" / "a_big.yaml").write_text("n: 50\n")
    plan = [{"name": "01_a", "notebook": "notebooks/a.ipynb", "params": ["params/a.yaml", "params/a_big.yaml"]},
            {"name": "02_b", "notebook": "notebooks/b.ipynb"},
            {"name": "03_c", "notebook": "notebooks/c.ipynb"}]
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan))
    return tmp_path


def test_plan_loading_merging_and_selection(project):
    plan = report.load_plan(project / "plan.yaml", root=project)
    assert [e.name for e in plan] == ["01_a", "02_b", "03_c"]
    assert report.merged_parameters(plan[0], root=project) == {"n": 50}
    assert [e.name for e in report.select(plan, "b")] == ["02_b"]
    assert [e.name for e in report.select(plan, "0[13]_*")] == ["01_a", "03_c"]
    (project / "bad.yaml").write_text(yaml.safe_dump([{"name": "x", "notebook": "notebooks/missing.ipynb"}]))
    with pytest.raises(ValueError, match="no such file notebooks/missing.ipynb"):
        report.load_plan(project / "bad.yaml", root=project)


def test_run_report_renders_indexes_and_stops_at_failing_cell(project):
    out = project / "reports"
    with pytest.raises(report.ReportError) as excinfo:
        report.run_report(project / "plan.yaml", KERNEL, out, root=project)
    message = str(excinfo.value)
    assert "notebooks/b.ipynb" in message and "cell 3" in message and "ZeroDivisionError" in message
    assert (out / "01_a.html").is_file() and (out / "02_b.html").is_file() and not (out / "03_c.html").exists()
    executed = nbformat.read(str(out / "notebooks" / "01_a.ipynb"), as_version=4)
    assert "n is 50" in "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    index = (out / "index.html").read_text()
    assert "01_a.html" in index and "kmer-k1-5-freq-v1" in index and "(fallback)" in index
    assert "ZeroDivisionError" in index and "not run" in index
    runs = json.loads((out / "manifest.json").read_text())["runs"]
    assert [r["status"] for r in runs] == ["ok", "failed", "not run"]
    assert runs[0]["embedder"] == "kmer-k1-5-freq-v1" and runs[0]["fallback"] is True
    assert runs[0]["parameters"] == {"n": 50} and runs[0]["wall_s"] > 0


def test_run_report_only(project):
    records = report.run_report(project / "plan.yaml", KERNEL, project / "out", only="03_c", root=project)
    assert [(r.name, r.status, r.embedder) for r in records] == [("03_c", "ok", "none")]
    with pytest.raises(ValueError, match="no notebook matches"):
        report.run_report(project / "plan.yaml", KERNEL, project / "out", only="zzz", root=project)


def test_notebooks_write_results_beside_the_report(project):
    make_notebook(project / "notebooks" / "r.ipynb", "x = 1",
                  "import os\nfrom rnalib import results\nprint('ROOT', results.results_root())")
    (project / "plan_r.yaml").write_text(yaml.safe_dump([{"name": "r", "notebook": "notebooks/r.ipynb"}]))
    report.run_report(project / "plan_r.yaml", KERNEL, project / "out", root=project)
    executed = nbformat.read(str(project / "out" / "notebooks" / "r.ipynb"), as_version=4)
    text = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert f"ROOT {(project / 'out').resolve()}" in text
