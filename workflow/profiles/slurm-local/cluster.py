#!/usr/bin/env python3
"""A one-node SLURM cluster on this machine, for tests: `cluster.py start DIR` / `cluster.py stop DIR`.

`start` writes DIR/slurm.conf from slurm.conf.in (free ports, this machine's CPUs and memory), starts munged on
a socket of its own (DIR/run/munge.socket) and slurmctld and slurmd with DIR's state, spool, logs and pid
files, waits until the node is idle and prints `export SLURM_CONF=DIR/slurm.conf PATH=DIR/bin:$PATH` (clients
find the cluster by SLURM_CONF; DIR/bin holds an srun that sets it inside jobs, see write_srun_shim). It
installs nothing: without root or Debian's `slurm-wlm` and `munge` it exits 3 with one line naming what is
missing. `stop` cancels the cluster's jobs and stops exactly the daemons whose pid files DIR holds (a pid
whose command line does not name DIR is left alone). Another SLURM or munge on the machine is not touched.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
COMMANDS = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo")
DAEMONS = ("slurmd", "slurmctld", "munged")  # stop order: the node, the controller, then munge
UNAVAILABLE = 3  # exit status when the machine cannot run the cluster (the tests skip on it)


class ClusterError(RuntimeError):
    """The cluster could not be started or stopped (message: one line)."""


def missing_prerequisites() -> str | None:
    """Why this machine cannot run the cluster (not root, packages missing), or None."""
    if os.geteuid() != 0:
        return "slurm-local needs root (slurmd runs jobs as their user)"
    missing = [c for c in COMMANDS if shutil.which(c) is None]
    if missing:
        return f"slurm-local: {', '.join(missing)} not found (apt-get install slurm-wlm munge)"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def memory_mb() -> int:
    """90 % of this machine's memory in MB (slurmd refuses a node that claims more than it has)."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 9 // 10 // 1024
    raise ClusterError("slurm-local: no MemTotal in /proc/meminfo")


def write_config(folder: Path, cpus: int) -> Path:
    """DIR/slurm.conf (and an empty plugstack.conf, so no site SPANK plugin loads); its folders made."""
    for sub, mode in (("run", 0o755), ("munge", 0o700), ("state", 0o700), ("spool", 0o755), ("log", 0o755)):
        (folder / sub).mkdir(mode=mode, exist_ok=True)
        (folder / sub).chmod(mode)
    (folder / "plugstack.conf").write_text("")
    ctld_port = free_port()
    slurmd_port = next(p for p in iter(free_port, None) if p != ctld_port)
    text = string.Template((HERE / "slurm.conf.in").read_text()).substitute(
        dir=folder, ctld_port=ctld_port, slurmd_port=slurmd_port, cpus=cpus, memory_mb=memory_mb())
    conf = folder / "slurm.conf"
    conf.write_text(text)
    write_srun_shim(folder, conf)
    return conf


def write_srun_shim(folder: Path, conf: Path) -> Path:
    """DIR/bin/srun: the real srun with SLURM_CONF set when it is missing.

    snakemake-executor-plugin-slurm-jobstep (0.6.1) removes every SLURM_* variable, SLURM_CONF included, from
    the environment of the `srun` it runs inside each job; srun then looks for /etc/slurm/slurm.conf (another
    cluster's, or none). With DIR/bin first on PATH (passed into jobs by sbatch --export=ALL) it finds this one.
    """
    real = shutil.which("srun", path=os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                                                     if Path(p).resolve() != (folder / "bin").resolve()))
    if real is None:
        raise ClusterError("slurm-local: srun not found (apt-get install slurm-wlm)")
    (folder / "bin").mkdir(mode=0o755, exist_ok=True)
    shim = folder / "bin" / "srun"
    shim.write_text(f'#!/bin/sh\nSLURM_CONF="${{SLURM_CONF:-{conf}}}" exec {real} "$@"\n')
    shim.chmod(0o755)
    return shim


def wait_for(check, seconds: float, what: str, log: Path | None = None) -> None:
    """Poll `check()` until it is true; ClusterError naming `what` (and the log's last line) after `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            last = log.read_text().strip().splitlines()[-1:] if log and log.is_file() else []
            raise ClusterError(f"slurm-local: {what} not ready after {seconds:.0f} s"
                               + (f" ({log}: {last[0]})" if last else ""))
        time.sleep(0.3)


def run_daemon(argv: list[str], env: dict[str, str], log: Path) -> None:
    """Start a daemon that forks into the background; ClusterError with its output when it fails."""
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    if done.returncode:
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"see {log}"]
        raise ClusterError(f"slurm-local: {argv[0]} failed to start: {detail[0]}")


def node_state(env: dict[str, str]) -> str:
    """The node's state as sinfo reports it ('' while the controller does not answer)."""
    done = subprocess.run(["sinfo", "-h", "-n", "localhost", "-o", "%t"], env=env, capture_output=True,
                          text=True, timeout=30)
    return done.stdout.strip() if done.returncode == 0 else ""


def start(folder: Path, cpus: int | None = None) -> Path:
    """Start munged, slurmctld and slurmd for a cluster in `folder`; return its slurm.conf."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # munged wants its socket's folder reachable by every user
    if any(pid_of(folder, d) for d in DAEMONS):
        raise ClusterError(f"slurm-local: a cluster already runs in {folder} (cluster.py stop {folder})")
    conf = write_config(folder, cpus or os.cpu_count() or 1)
    env = {**os.environ, "SLURM_CONF": str(conf)}
    key, sock = folder / "munge" / "munge.key", folder / "run" / "munge.socket"
    try:
        if not key.is_file():
            subprocess.run(["mungekey", "--create", f"--keyfile={key}"], check=True, capture_output=True)
        run_daemon(["munged", f"--socket={sock}", f"--key-file={key}", f"--pid-file={folder}/run/munged.pid",
                    f"--log-file={folder}/log/munged.log", f"--seed-file={folder}/munge/munged.seed"],
                   env, folder / "log" / "munged.log")
        wait_for(sock.exists, 20, "munged", folder / "log" / "munged.log")
        run_daemon(["slurmctld", "-f", str(conf)], env, folder / "log" / "slurmctld.log")
        run_daemon(["slurmd", "-f", str(conf), "-N", "localhost"], env, folder / "log" / "slurmd.log")
        wait_for(lambda: node_state(env) == "idle", 60, "the node (sinfo: idle)", folder / "log" / "slurmd.log")
    except (ClusterError, subprocess.SubprocessError, OSError) as error:
        stop(folder)
        raise error if isinstance(error, ClusterError) else ClusterError(f"slurm-local: {error}") from error
    return conf


def pid_of(folder: Path, daemon: str) -> int | None:
    """The pid in DIR/run/<daemon>.pid if that process runs and its command line names DIR, else None."""
    path = folder / "run" / f"{daemon}.pid"
    try:
        pid = int(path.read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, ValueError, IndexError):
        return None
    return pid if daemon in cmdline and str(folder) in cmdline else None


def cancel_jobs(folder: Path) -> None:
    """Cancel every job of this cluster and wait (up to 30 s) until none runs, so no job step outlives slurmd."""
    env = {**os.environ, "SLURM_CONF": str(folder / "slurm.conf")}
    if not pid_of(folder, "slurmctld"):
        return
    subprocess.run(["scancel", "--full", "--user", "root"], env=env, capture_output=True, timeout=60)

    def idle() -> bool:
        done = subprocess.run(["squeue", "-h", "-t", "PD,R,CG,S", "-o", "%i"], env=env, capture_output=True,
                              text=True, timeout=30)
        return done.returncode != 0 or not done.stdout.strip()

    try:
        wait_for(idle, 30, "job cancellation")
    except ClusterError as error:
        print(error, file=sys.stderr)


def stop(folder: Path) -> list[str]:
    """Cancel the cluster's jobs, stop the daemons named by DIR's pid files; return the daemons stopped."""
    folder = folder.resolve()
    cancel_jobs(folder)
    stopped = []
    for daemon in DAEMONS:
        pid = pid_of(folder, daemon)
        if pid is None:
            continue
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while pid_of(folder, daemon) == pid and time.monotonic() < deadline:
            time.sleep(0.2)
        if pid_of(folder, daemon) == pid:
            os.kill(pid, signal.SIGKILL)
        stopped.append(daemon)
    return stopped


def main(argv: list[str]) -> int:
    """`start DIR [CPUS]` or `stop DIR`; errors as one line on stderr."""
    if len(argv) not in (2, 3) or argv[0] not in ("start", "stop"):
        print("usage: cluster.py start DIR [CPUS] | cluster.py stop DIR", file=sys.stderr)
        return 2
    folder = Path(argv[1])
    if argv[0] == "stop":
        print("stopped:", " ".join(stop(folder)) or "nothing")
        return 0
    reason = missing_prerequisites()
    if reason:
        print(reason, file=sys.stderr)
        return UNAVAILABLE
    try:
        conf = start(folder, int(argv[2]) if len(argv) == 3 else None)
    except ClusterError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"export SLURM_CONF={conf} PATH={conf.parent / 'bin'}:$PATH")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
