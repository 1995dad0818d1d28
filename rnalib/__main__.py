"""Command line: ``python -m rnalib report [--only PATTERN]`` (what ``make report`` runs)."""
from __future__ import annotations

import argparse
import sys

from .report import ReportError, run_report
from .results import REPO_ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnalib")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="run the notebook plan with papermill and render reports/index.html")
    rep.add_argument("--plan", default=str(REPO_ROOT / "params" / "plan.yaml"), help="plan YAML (default: %(default)s)")
    rep.add_argument("--kernel", default="rnalib", help="Jupyter kernel name (default: %(default)s)")
    rep.add_argument("--out", default=str(REPO_ROOT / "reports"), help="output folder (default: %(default)s)")
    rep.add_argument("--only", default=None, help="run only notebooks whose name matches this glob/substring")
    args = parser.parse_args(argv)
    try:
        records = run_report(args.plan, args.kernel, args.out, args.only)
    except (ReportError, ValueError) as exc:
        print(f"rnalib report: {exc}", file=sys.stderr)
        return 1
    for r in records:
        print(f"{r.status:>6}  {r.wall_s:7.1f} s  {r.name}  [{r.embedder}{' FALLBACK' if r.fallback else ''}]")
    print(f"index: {args.out}/index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
