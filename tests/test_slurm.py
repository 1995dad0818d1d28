"""The report workflow through SLURM: the rehearsal submitted to a one-node cluster on this machine
(workflow/profiles/slurm-local: cluster.py starts munged, slurmctld and slurmd of its own), one sbatch job per job;
HTML and the index are rendered where Snakemake runs (`localrules`).

One submission is interrupted while jobs are queued and resumed; a third run submits nothing. The tests read what
SLURM recorded (`scontrol show job`: finished jobs stay for MinJobAge) and what Snakemake logged (`--verbose`:
every sbatch call and the SLURM job id of every job). Without root or the packages the module skips with the
reason, unless RNALIB_REQUIRE_SLURM=1 (CI), where it fails."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import REHEARSAL, REPO, copy_workflow

CLUSTER = REPO / "workflow" / "profiles" / "slurm-local" / "cluster.py"
UNAVAILABLE = 3  # cluster.py's exit status when the machine cannot run it
SUBMITTED = re.compile(r"^Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (.+)\)\.$", re.M)
FINISHED = re.compile(r"^Finished jobid: (\d+) ", re.M)
SBATCH = re.compile(r"^sbatch call: (sbatch .*)$", re.M)


@pytest.fixture(scope="module")
def cluster():
    """The environment that reaches a fresh one-node cluster; its daemons are stopped however the tests end."""
    folder = Path(tempfile.mkdtemp(prefix="rnalib-slurm-"))  # not under pytest's 0700 tmp: munged's socket
    done = subprocess.run([sys.executable, CLUSTER, "start", folder], capture_output=True, text=True, timeout=300)
    if done.returncode:
        shutil.rmtree(folder, ignore_errors=True)
        reason = (done.stderr.strip().splitlines() or [f"cluster.py start exited {done.returncode}"])[-1]
        if done.returncode == UNAVAILABLE and os.environ.get("RNALIB_REQUIRE_SLURM") != "1":
            pytest.skip(reason)
        pytest.fail(f"local SLURM cluster: {reason}")
    env = {**os.environ, "SLURM_CONF": str(folder / "slurm.conf"),
           "PATH": f"{folder / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    try:
        yield env
    finally:
        subprocess.run([sys.executable, CLUSTER, "stop", folder], capture_output=True, text=True, timeout=300)
        shutil.rmtree(folder, ignore_errors=True)


def slurm_jobs(env: dict) -> dict[str, dict]:
    """Every job the cluster knows (running, pending or finished), by SLURM job id: scontrol's fields."""
    out = subprocess.run(["scontrol", "show", "job", "-o"], env=env, capture_output=True, text=True,
                         check=True).stdout
    jobs = {}
    for line in out.splitlines():
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        if "JobId" in fields:
            jobs[fields["JobId"]] = fields
    return jobs


LAUNCHER = "workflow/profiles/slurm-local/snakemake_local.py"  # snakemake, status checks at most 2 s apart


def snakemake_argv(*args: str) -> list[str]:
    """The rehearsal through the local cluster's profile and launcher; --verbose logs every sbatch call."""
    return [sys.executable, LAUNCHER, "-s", "workflow/Snakefile", "--configfile", *REHEARSAL,
            "--workflow-profile", "workflow/profiles/slurm-local", "--verbose", *args]


# The rehearsal's jobs all ask for 1 thread; `tiny_weights` asks for 2 here, so that a CPU count that ignored
# `threads` would show.
THREADS = ["--set-threads", "tiny_weights=2"]


def planned_jobs(log: str) -> dict[str, dict]:
    """Snakemake's job blocks in a log (`rule X:` or, for a job run where Snakemake runs, `localrule X:`, then
    indented `key: value` lines), by Snakemake job id."""
    jobs = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:\n)", log):
        head = re.match(r"(local)?rule (\w+):\n((?:    .*\n?)*)", block)
        if not head:
            continue
        fields = dict(line.strip().split(": ", 1) for line in head.group(3).splitlines() if ": " in line)
        if "jobid" in fields:
            jobs[fields["jobid"]] = {"rule": head.group(2), "threads": int(fields.get("threads", 1)),
                                     "wildcards": fields.get("wildcards", ""), "local": bool(head.group(1))}
    return jobs


def comment(rule: str, wildcards: str) -> str:
    """The --comment the plugin gives a job: rule_<rule>[_wildcards_<values joined by _>]."""
    values = "_".join(w.split("=", 1)[1] for w in wildcards.split(", ")) if wildcards else ""
    return f"rule_{rule}_wildcards_{values}" if values else f"rule_{rule}"


def wait_until_queued(proc: subprocess.Popen, log: Path, env: dict, seconds: float = 600) -> None:
    """Block until Snakemake has logged a finished page and SLURM holds pending jobs (then the run can be
    interrupted). A page's own files appear before Snakemake's next status check sees its job end, so the log
    decides, not the files."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the first submission ended (exit {proc.returncode}) before it was interrupted")
        text = log.read_text()
        planned = planned_jobs(text)
        pages_done = any(planned.get(j, {}).get("rule") == "notebook" for j in FINISHED.findall(text))
        if pages_done and any(j["JobState"] == "PENDING" for j in slurm_jobs(env).values()):
            return
        time.sleep(2)
    raise AssertionError(f"no page finished with jobs still queued within {seconds:.0f} s")


@pytest.fixture(scope="module")
def slurm_rehearsal(cluster, tmp_path_factory):
    """The rehearsal through the cluster, with the embedding cache on the shared work folder: a first submission
    interrupted (SIGINT, as Ctrl-C) once a page is done and jobs are queued, a second to the end, a third that
    finds nothing to do. Returns the work folder, the runs' logs and SLURM's job records after each run."""
    work = copy_workflow(tmp_path_factory.mktemp("slurm"))
    env = {**cluster, "RNALIB_CACHE_DIR": str(work / "cache")}
    logs, jobs = [], []
    with open(work / "first.log", "w") as sink:
        # SIGINT back to its default in the child: a shell's background job (and so this pytest) may ignore it.
        proc = subprocess.Popen(snakemake_argv(*THREADS), cwd=work, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        try:
            wait_until_queued(proc, work / "first.log", env)
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=180)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    logs.append((work / "first.log").read_text())
    jobs.append(slurm_jobs(env))
    for argv in (snakemake_argv(*THREADS), snakemake_argv(*THREADS)):
        done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{' '.join(argv)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        logs.append(done.stdout + done.stderr)
        jobs.append(slurm_jobs(env))
    return {"work": work, "env": env, "logs": logs, "jobs": jobs}


def submissions(log: str) -> dict[str, dict]:
    """SLURM job id -> the Snakemake job it ran (rule, threads, wildcards, --comment, sbatch call, finished)."""
    planned = planned_jobs(log)
    calls = {re.search(r"--comment (\S+)", c).group(1): c for c in SBATCH.findall(log)}
    finished = set(FINISHED.findall(log))
    out = {}
    for job, slurm_id, slurm_log in SUBMITTED.findall(log):
        info = dict(planned[job], slurm_log=slurm_log, finished=job in finished)
        info["comment"] = comment(info["rule"], info["wildcards"])
        info["sbatch"] = calls[info["comment"]]
        out[slurm_id] = info
    return out


def expected_jobs(out: Path) -> set[str]:
    """Every SLURM job of the finished rehearsal as the plugin's --comment: weights, cache shards, pages."""
    pages = [p.stem for p in (out / "runs").glob("*.json")]
    shards = [p.stem.replace(".", "_") for p in (out / "embeddings").glob("*.json")]
    return ({"rule_tiny_weights"} | {f"rule_embed_wildcards_{s}" for s in shards}
            | {f"rule_notebook_wildcards_{p}" for p in pages})


def ran_to_the_end(info: dict, record: dict) -> bool:
    """SLURM completed the job, or the job's own Snakemake finished its one step (files whole, marked complete)
    before Ctrl-C's scancel reached the job, which SLURM then records as cancelled."""
    log = Path(info["slurm_log"])
    return record["JobState"] == "COMPLETED" or (log.is_file() and "1 of 1 steps (100%) done" in log.read_text())


def local_jobs(log: str) -> set[str]:
    """The jobs a log ran where Snakemake runs (`localrule` blocks that finished), as `rule:wildcards`."""
    finished = set(FINISHED.findall(log))
    return {f"{j['rule']}:{j['wildcards']}" for i, j in planned_jobs(log).items() if j["local"] and i in finished}


def test_every_page_ran_as_a_slurm_job_with_the_cpus_its_rule_asks_for(slurm_rehearsal):
    out = slurm_rehearsal["work"] / "reports" / "rehearsal"
    final = slurm_rehearsal["jobs"][-1]
    submitted = {**submissions(slurm_rehearsal["logs"][0]), **submissions(slurm_rehearsal["logs"][1])}
    done = {i["comment"]: (slurm_id, i) for slurm_id, i in submitted.items() if ran_to_the_end(i, final[slurm_id])}
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["runs"]) == len(list((out / "runs").glob("*.json"))) > 0
    assert set(done) == expected_jobs(out)  # every job of the rehearsal completed as a SLURM job
    pages = [r["name"] for r in manifest["runs"]]
    for name in pages:
        slurm_id, info = done[f"rule_notebook_wildcards_{name}"]
        assert Path(info["slurm_log"]).name == f"{slurm_id}.log" and Path(info["slurm_log"]).is_file()
        assert final[slurm_id]["StdOut"] == info["slurm_log"]  # SLURM wrote the job's output to that log
        assert f"--target-jobs 'notebook:name={name}'" in Path(info["slurm_log"]).read_text()
    for slurm_id, info in (done[c] for c in done):
        record = final[slurm_id]
        assert f"--cpus-per-task={info['threads']}" in info["sbatch"]
        assert int(record["NumCPUs"]) == int(record["CPUs/Task"]) == info["threads"], (info["comment"], record)
    assert {i["threads"] for _, i in done.values()} == {1, 2}  # tiny_weights: 2 CPUs, every other job 1
    # HTML and the index: rendered by Snakemake itself, never submitted
    rendered = local_jobs(slurm_rehearsal["logs"][0]) | local_jobs(slurm_rehearsal["logs"][1])
    assert rendered == {f"html:name={p}" for p in pages} | {"index:", "all:"}
    assert not any(i["rule"] in ("html", "index") for i in submitted.values())


def test_gpu_rules_ask_for_their_gpus_in_the_users_profile_and_for_none_on_the_test_node(slurm_rehearsal,
                                                                                          tmp_path):
    """The local profile maps the GPU request to none (the node has no GPU): no sbatch call of the rehearsal
    asks for one. The user's profile (workflow/profiles/slurm) with config/full.yaml's `gpu: 1`, pointed at this
    cluster, submits a cache-warming job with --gpus=1, which this node refuses at submission."""
    calls = [i["sbatch"] for log in slurm_rehearsal["logs"][:2] for i in submissions(log).values()]
    assert calls and not any("--gpus" in c or "--gres" in c for c in calls)
    work = copy_workflow(tmp_path)
    shutil.copytree(slurm_rehearsal["work"] / "reports" / "rehearsal" / "weights",
                    work / "reports" / "rehearsal" / "weights")  # the one GPU-free job before the cache is warmed
    target = "reports/rehearsal/embeddings/interactions.0.json"
    argv = [sys.executable, "-m", "snakemake", "-s", "workflow/Snakefile", "--configfile", *REHEARSAL,
            "--workflow-profile", "workflow/profiles/slurm", "--config", "gpu=1", "--verbose", "--slurm-no-account",
            "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "1",
            "--default-resources", "slurm_partition=local", "runtime=10", "mem_mb=1000", "--retries", "0", target]
    done = subprocess.run(argv, cwd=work, env=slurm_rehearsal["env"], capture_output=True, text=True)
    log = done.stdout + done.stderr
    gpu_calls = [c for c in SBATCH.findall(log) if "--comment rule_embed_wildcards_interactions_0" in c]
    assert done.returncode != 0 and len(gpu_calls) == 1, log[-3000:]
    assert re.search(r" --gpus=1(\s|$)", gpu_calls[0]) and " -p local" in gpu_calls[0]
    # SLURM saw the request and refused it at submission: this node declares no GPU (no GresTypes)
    assert "SLURM sbatch failed" in log and "Invalid generic resource (gres) specification" in log
    assert not SUBMITTED.search(log)


def test_an_interrupted_submission_resumes_with_only_the_jobs_left(slurm_rehearsal):
    first, second = (submissions(log) for log in slurm_rehearsal["logs"][:2])
    after_first = slurm_rehearsal["jobs"][0]
    finished = {i["comment"] for i in first.values() if i["finished"]}
    cancelled = {i["comment"] for s, i in first.items() if not i["finished"]}
    assert any(c.startswith("rule_notebook_") for c in finished) and cancelled  # stopped midway, jobs queued
    assert not any(j["JobState"] in ("PENDING", "RUNNING") for j in after_first.values())  # Ctrl-C cancelled them
    # a job can finish, its files whole, between Snakemake's last status check and Ctrl-C (SLURM records it as
    # completed, or as cancelled when scancel reached it after its last step): the rerun finds it done; every job
    # that did not run to the end is submitted again
    completed = {i["comment"] for s, i in first.items() if not i["finished"] and ran_to_the_end(i, after_first[s])}
    resumed = {i["comment"] for i in second.values()}
    assert resumed.isdisjoint(finished) and cancelled - completed <= resumed and cancelled - completed
    out = slurm_rehearsal["work"] / "reports" / "rehearsal"
    assert resumed | finished | completed == expected_jobs(out)


def test_a_rerun_submits_nothing(slurm_rehearsal):
    log = slurm_rehearsal["logs"][2]
    assert "Nothing to be done" in log and not SUBMITTED.search(log) and not SBATCH.search(log)
    assert slurm_rehearsal["jobs"][2].keys() == slurm_rehearsal["jobs"][1].keys()


def metrics(out: Path) -> dict[str, dict]:
    """Every results/<study>/<run>/metrics.json of a site (no timing fields in them)."""
    return {str(p.relative_to(out)): json.loads(p.read_text()) for p in sorted(out.glob("results/*/*/metrics.json"))}


def test_the_site_is_the_local_rehearsals(slurm_rehearsal, rehearsal):
    """Same pages and the same numbers as the rehearsal run on local cores (tests/conftest.py)."""
    slurm, local = (w / "reports" / "rehearsal" for w in (slurm_rehearsal["work"], rehearsal))
    assert sorted(p.name for p in slurm.glob("*.html")) == sorted(p.name for p in local.glob("*.html"))
    runs = [{r["name"]: (r["embedder"], r["parameters"]) for r in json.loads((o / "manifest.json").read_text())["runs"]}
            for o in (slurm, local)]
    assert runs[0] == runs[1]
    ours, theirs = metrics(slurm), metrics(local)
    assert ours.keys() == theirs.keys() and len(ours) >= 10
    assert ours == theirs


def test_the_local_launcher_caps_the_pause_between_status_checks():
    """The plugin's back-off (+10 s after every check without a finished job, up to 180 s) is capped at
    STATUS_CHECK_CAP_S (2 s) by the test cluster's launcher; a shorter pause is kept; the launcher is Snakemake."""
    probe = ("import importlib.util, sys; spec = importlib.util.spec_from_file_location('launcher', sys.argv[1]); "
             "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); m.cap_status_checks(); "
             "import snakemake_executor_plugin_slurm as s; e = s.Executor.__new__(s.Executor); "
             "e.next_seconds_between_status_checks = 180; a = e.next_seconds_between_status_checks; "
             "e.next_seconds_between_status_checks = 1; print(a, e.next_seconds_between_status_checks)")
    done = subprocess.run([sys.executable, "-c", probe, str(REPO / LAUNCHER)], capture_output=True, text=True)
    assert done.stdout.split() == ["2", "1"], done.stderr[-2000:]
    version = subprocess.run([sys.executable, str(REPO / LAUNCHER), "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and re.fullmatch(r"\d+\.\d+\.\d+\s*", version.stdout), version.stderr[-2000:]
