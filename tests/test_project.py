"""Project hygiene: the pinned environment files agree; notebooks are stored clean with one parameters cell
(tests/test_workflow.py checks the workflow only passes parameters the notebooks declare)."""
import re
from pathlib import Path

import nbformat
import pytest
import tomllib

from rnalib.report import envfiles

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_lock_and_environment_yml_agree():
    lock = envfiles.lock_pins(REPO / "requirements.lock")
    python, env = envfiles.environment_pins(REPO / "environment.yml")
    assert python == "python=3.11"
    assert lock == env, {k: (lock.get(k), env.get(k)) for k in set(lock) ^ set(env) | {
        k for k in lock if lock.get(k) != env.get(k)}}
    assert lock["torch"] == "2.13.0"


def test_every_declared_dependency_is_pinned():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    lock = envfiles.lock_pins(REPO / "requirements.lock")
    names = [re.split(r"[<>=!~ \[]", d, maxsplit=1)[0].lower().replace("_", "-") for d in deps]
    assert [n for n in names if n not in lock] == []


def test_pin_parser_rejects_loose_lines(tmp_path):
    with pytest.raises(ValueError, match="lock:2: not an exact pin"):
        envfiles.parse_pins(["a==1", "b>=2"], "lock")
    assert envfiles.parse_pins(["# c", "Foo_Bar==1.0  # why"], "x") == {"foo-bar": "1.0"}


def parameters_cell(nb):
    return [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_stored_clean(path):
    nb = nbformat.read(str(path), as_version=4)
    assert len(parameters_cell(nb)) == 1
    assert nb.metadata["kernelspec"]["name"] == "rnalib"
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert dirty == []
