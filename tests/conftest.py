import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rnalib import data

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def bundled_data():
    """Tests on the real bundled files need RNALIB_DATA_DIR (CI points it at ../shared/data)."""
    root = os.environ.get(data.DATA_ENV)
    if not root or not Path(root).is_dir():
        pytest.skip(f"{data.DATA_ENV} is not set to the bundled data folder")
    return Path(root)


@pytest.fixture
def isolated_env(tmp_path, monkeypatch):
    """No local data folder, no mirror, a private cache: resolution must download or fail."""
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.delenv(data.MIRROR_ENV, raising=False)
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture(scope="session")
def chromium():
    """Browser tests need Chromium (Debian's /usr/bin/chromium, or RNALIB_CHROMIUM); without it they skip, unless
    RNALIB_REQUIRE_BROWSER=1 (CI), where they fail."""
    from rnalib.report import sitecheck

    path = sitecheck.find_chromium()
    if path is None:
        message = f"Chromium not found (apt-get install chromium, or set {sitecheck.CHROMIUM_ENV})"
        if os.environ.get("RNALIB_REQUIRE_BROWSER") == "1":
            pytest.fail(f"RNALIB_REQUIRE_BROWSER=1: {message}")
        pytest.skip(message)
    return path


REHEARSAL = ["config/full.yaml", "config/rehearsal.yaml"]


def copy_workflow(work):
    """The workflow's files (notebooks, parameters, profiles, Snakefile) copied into `work`, to run it there."""
    for folder in ("notebooks", "params", "config", "workflow"):
        shutil.copytree(REPO / folder, work / folder)
    shutil.copy(REPO / "environment.yml", work)
    return work


@pytest.fixture(scope="session")
def rehearsal(tmp_path_factory):
    """The rehearsal profile run locally (2 cores) in a copy of the workflow's files (reports/ and .snakemake/
    stay there); shared by the workflow tests and the SLURM test, which compares its site with this one."""
    work = copy_workflow(tmp_path_factory.mktemp("rehearsal"))
    cmd = [sys.executable, "-m", "snakemake", "-s", "workflow/Snakefile", "--configfile", *REHEARSAL, "--cores", "2"]
    done = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    log = "\n".join(p.read_text()[-2000:] for p in (work / "reports" / "rehearsal" / "logs").glob("*.log")
                    if "Error" in p.read_text()) if done.returncode else ""
    assert done.returncode == 0, f"rehearsal failed:\n{done.stderr[-3000:]}\n{log}"
    return work
