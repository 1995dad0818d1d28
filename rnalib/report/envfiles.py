"""The pinned environment: ``requirements.lock`` (pip) and ``environment.yml`` (conda) must name the same
versions. ``python -m rnalib.report.envfiles freeze LOCK YML`` rewrites both from the running environment."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)$")
_HEADER = ("# Exact versions that `make` installs into .venv (Python 3.11). environment.yml pins the same versions;\n"
           "# tests/test_environment.py fails when the two disagree. Regenerate both with `make lock`.\n")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pins(lines: list[str], source: str) -> dict[str, str]:
    """``name==version`` lines → {canonical name: version}; anything else but comments is an error."""
    pins: dict[str, str] = {}
    for lineno, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        match = _PIN.match(line)
        if not match:
            raise ValueError(f"{source}:{lineno}: not an exact pin 'name==version': {line!r}")
        pins[_canonical(match.group(1))] = match.group(2)
    return pins


def lock_pins(path: Path) -> dict[str, str]:
    """Pins of a requirements lock file."""
    return parse_pins(Path(path).read_text().splitlines(), str(path))


def environment_pins(path: Path) -> tuple[str, dict[str, str]]:
    """(python version spec, pip pins) of a conda ``environment.yml``."""
    spec = yaml.safe_load(Path(path).read_text())
    python = next((d for d in spec["dependencies"] if isinstance(d, str) and d.startswith("python")), "")
    pip = next((d["pip"] for d in spec["dependencies"] if isinstance(d, dict) and "pip" in d), [])
    return python, parse_pins([line for line in pip if not line.startswith("-")], str(path))  # skip "-e ."


def write_environment_yml(pins: dict[str, str], path: Path, python: str = "3.11") -> None:
    """A conda environment with the same Python and every package pinned through pip."""
    lines = ["# conda env create -f environment.yml  (same versions as requirements.lock; see `make lock`)",
             "name: rnalib", "channels:", "  - conda-forge", "dependencies:", f"  - python={python}",
             "  - pip", "  - pip:"]
    lines += [f"      - {name}=={version}" for name, version in sorted(pins.items())]
    lines.append("      - -e .")
    Path(path).write_text("\n".join(lines) + "\n")


def freeze(lock: Path, env_yml: Path) -> None:
    """Pin the running environment into both files."""
    out = subprocess.run([sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    pins = {}
    for line in out:
        match = _PIN.match(line.strip())
        if match and _canonical(match.group(1)) not in {"pip", "wheel", "rnalib"}:
            pins[_canonical(match.group(1))] = match.group(2).split("+", 1)[0]
    Path(lock).write_text(_HEADER + "".join(f"{n}=={v}\n" for n, v in sorted(pins.items())))
    write_environment_yml(pins, env_yml)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "freeze":
        sys.exit("usage: python -m rnalib.report.envfiles freeze requirements.lock environment.yml")
    freeze(Path(sys.argv[2]), Path(sys.argv[3]))
