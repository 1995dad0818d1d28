"""The report workflow (workflow/Snakefile): lint, dry runs of every profile, and a rehearsal of the full profile
run end to end with tiny random-init checkpoints, rerun (nothing to do) and touched (only what depends reruns)."""
import json
import re
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from rnalib.report import pages, sitecheck

REPO = Path(__file__).resolve().parents[1]
PROFILES = {"report": ["config/report.yaml"], "full": ["config/full.yaml"],
            "rehearsal": ["config/full.yaml", "config/rehearsal.yaml"]}


def snakemake(configs, *args, cwd=REPO, check=True):
    cmd = [sys.executable, "-m", "snakemake", "-s", "workflow/Snakefile", "--configfile", *configs, *args]
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if check and done.returncode:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def planned(configs, cwd=REPO, *args):
    """Dry run: job counts per rule and the `rnalib notebook` commands."""
    out = snakemake(configs, "-n", "-p", "--cores", "2", *args, cwd=cwd).stdout
    counts = Counter()
    for line in out.split("Job stats:")[-1].splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] not in ("total", "job"):
            counts[parts[0]] = int(parts[1])
    commands = [shlex.split(line.split(" python -m ")[-1] if " python -m " in line else line.strip())
                for line in out.splitlines() if "-m rnalib notebook " in line]
    return counts, commands


def planned_priorities(configs):
    """Each job's scheduling priority, as a forced dry run lists it (0 when the job lists none), by its wildcards
    (``name=...`` for a page, ``html:name`` for its rendering, ``study=..., shard=...`` for a cache job)."""
    out = snakemake(configs, "-n", "--forceall", "--cores", "2").stdout
    found = {}
    for block in re.split(r"\n\[", out):
        wildcards = re.search(r"^\s*wildcards: (.+)$", block, re.M)
        rule = re.search(r"^(?:local)?rule (notebook|embed|html):", block, re.M)
        if rule and wildcards:
            level = re.search(r"^\s*priority: (\d+)", block, re.M)
            key = wildcards.group(1).removeprefix("name=")
            found[f"html:{key}" if rule.group(1) == "html" else key] = int(level.group(1)) if level else 0
    return found


def notebook_command(argv):
    argv = argv[argv.index("notebook") + 1:]
    notebook, rest = argv[0], argv[1:]
    cut = lambda flag: rest[rest.index(flag) + 1:next((i for i in range(rest.index(flag) + 1, len(rest))  # noqa: E731
                                                       if rest[i].startswith("--")), len(rest))]
    values = dict(a.split("=", 1) for a in cut("--set"))
    return notebook, rest[rest.index("--name") + 1], cut("--params"), {k: yaml.safe_load(v) for k, v in values.items()}


@pytest.mark.parametrize("profile", PROFILES)
def test_lint_and_dry_run_pass_only_declared_parameters(profile):
    done = snakemake(PROFILES[profile], "--lint")
    assert "Congratulations" in done.stdout + done.stderr
    counts, commands = planned(PROFILES[profile], REPO, "--forceall")  # whatever reports/ holds already
    assert counts["notebook"] == counts["html"] == len(commands) > 0 and counts["index"] == 1
    names = set()
    for argv in commands:
        notebook, name, files, values = notebook_command(argv)
        pages.merged_parameters(REPO / notebook, [REPO / f for f in files], values)  # raises on an unknown key
        names.add(name)
    if profile == "full":  # the ablations the report profile leaves out
        assert "02_interactions_train__Baseline__C4__s4__norev__ablation" in names
        assert "06_localization_locas__scl_theta0.8_seqcnn" in names and "02_interactions_train__Balanced__C1__s0__table2" in names
    if profile == "report":  # 5 protocols x 5 seeds, C1m x 3 degree-weighted, 01, 03, 04, 05, 7 of 06, 07, 00
        assert counts["notebook"] == 25 + 3 + 4 + 7 + 1 + 1  # with 7 variants
        # Table 2, the no-reverse ablation and LOCAS with the CNN encoder run in the full profile only
        assert not any(name.endswith(("__table2", "__norev__ablation")) for name in names)
        assert "06_localization_locas__scl_theta0.8_seqcnn" not in names and "06_localization_locas__seqcnn" in names
        assert counts["embed"] == 4  # study A, its pair features (2 shards), study B per mRNA (no windows memory)
        assert "02_interactions_train__Compact__C4__s4" in names and "02_interactions_train__Compact__C1m__s0__degneg" in names
        priority = planned_priorities(PROFILES[profile])  # cache jobs first (pages wait for them), then long pages
        assert priority["study=pairs, shard=0"] == priority["study=localization, shard=0"] == 3
        assert (priority["06_localization_locas__seqcnn"] == priority["02_interactions_train__Compact__C1__s3"]
                == priority["05_localization_data"] == 2)
        assert (priority["02_interactions_train__Compact__C3__s0"] == priority["06_localization_locas__noscl"]
                == priority["04_interactions_latent"] == priority["07_localization_compare"] == 1)
        assert priority["01_interactions_data"] == priority["03_interactions_compare"] == 0
        renders = {k: v for k, v in priority.items() if k.startswith("html:")}  # each right after its page
        assert len(renders) == counts["html"] and set(renders.values()) == {4}


def test_rehearsal_runs_every_page_of_the_full_profile_with_foundation_models(rehearsal):
    out = rehearsal / "reports" / "rehearsal"
    manifest = json.loads((out / "manifest.json").read_text())
    runs = {r["name"]: r for r in manifest["runs"]}
    assert set(runs) == {p.stem for p in (out / "notebooks").glob("*.ipynb")} and (out / "index.html").is_file()
    assert runs["02_interactions_train__Baseline__C1__s0"]["embedder"].startswith("rnafm-L2-")
    assert runs["06_localization_locas__scl_theta0.5"]["embedder"].startswith("rinalmo-cls-L2-")
    windowed = runs["06_localization_locas__scl_theta0.8_windows"]["embedder"]
    assert windowed.startswith("rinalmo-cls-L2-") and "-windows-ends-4x250-5p1+whole" in windowed  # window_nt: 250
    assert not any(r["fallback"] for r in runs.values())
    assert all((out / r["html"]).is_file() for r in runs.values())
    assert "url=00_summary.html" in (out / "index.html").read_text()  # the site opens on the summary
    summary = (out / "00_summary.html").read_text()
    assert "03_interactions_compare.html" in summary and "rnalib-nav" in summary and "Traceback" not in summary
    for name in runs:  # the warm-cache jobs embedded everything: no page shows an embedding progress bar
        text = json.dumps(json.loads((out / "notebooks" / f"{name}.ipynb").read_text())["cells"])
        assert "RNAs [" not in text, f"{name} embedded sequences itself"
    compared = runs["03_interactions_compare"]["parameters"]["runs"]
    assert set(compared) == {p.name for p in (out / "results" / "interactions").iterdir()}


def test_rehearsal_site_passes_the_browser_check(rehearsal, chromium):
    """Every page of the rehearsal site in headless Chromium at 1280 px: loads, links and anchors resolve, images
    render, no error or stderr output, no horizontal overflow, the code toggle works; one screenshot per page."""
    out = rehearsal / "reports" / "rehearsal"
    result = sitecheck.check_site(out, chromium=chromium)
    assert result.problems == []
    names = sitecheck.site_pages(out)
    assert {"index.html", "runs.html", "00_summary.html", "03_interactions_compare.html"} <= set(names)
    assert sorted(p.name for p in (out / "screenshots").glob("*.png")) == sorted(
        sitecheck.screenshot_name(n) for n in names)


def test_rerun_does_nothing_and_a_touched_file_reruns_only_its_jobs(rehearsal):
    assert "Nothing to be done" in snakemake(PROFILES["rehearsal"], "-n", "--cores", "2", cwd=rehearsal).stdout
    changed = rehearsal / "params" / "interactions" / "config_Smaller_HighLR.yaml"
    text = changed.read_text()
    changed.write_text(text + "# edited\n")  # a touch alone reruns nothing: Snakemake compares checksums
    try:
        counts, commands = planned(PROFILES["rehearsal"], rehearsal)
    finally:
        changed.write_text(text)
    assert sorted(notebook_command(c)[1] for c in commands) == [
        "00_summary", "02_interactions_train__Smaller_HighLR__C1__s0__table2", "03_interactions_compare"]
    assert counts == Counter(notebook=3, html=3, index=1, all=1)
    base = rehearsal / "params" / "interactions" / "full.yaml"  # read by the cache warming and most pages
    text = base.read_text()
    base.write_text(text + "# edited\n")
    try:
        counts, commands = planned(PROFILES["rehearsal"], rehearsal)
    finally:
        base.write_text(text)
    names = {notebook_command(c)[1] for c in commands}
    trained = {p.stem for p in (rehearsal / "reports" / "rehearsal" / "runs").glob("02_*.json")}
    # study A's embedding shards and pair-feature shards warm again; every study-A page reruns after them
    assert counts["embed"] == 4 and trained <= names
    assert {"03_interactions_compare", "04_interactions_latent", "00_summary"} <= names
    assert not any(n.startswith(("05_", "06_", "07_")) for n in names)
