"""Snakemake for the one-node test cluster: `python workflow/profiles/slurm-local/snakemake_local.py ARGS` runs
`snakemake ARGS` with the pause between SLURM status checks capped at STATUS_CHECK_CAP_S seconds.

Why: snakemake-executor-plugin-slurm (2.8.0) adds 10 s to the pause after every status check that finds no job
finished, up to 180 s (sized for shared clusters, where `squeue` and `sacct` calls cost the controller). A
rehearsal job lasts 10-60 s, so a finished job was seen 2-22 s late at each stage of the DAG. On a private
one-node cluster an `squeue` call costs milliseconds; the plugin offers no setting for the back-off, so this
launcher caps the value the plugin sets (`next_seconds_between_status_checks`). Everything else is the
plugin's. Your own cluster needs none of this: run `snakemake` itself (README, SLURM).
"""
from __future__ import annotations

import sys

STATUS_CHECK_CAP_S = 2


def cap_status_checks(seconds: float = STATUS_CHECK_CAP_S) -> None:
    """Cap the SLURM executor's pause between status checks at ``seconds``. Raises RuntimeError when the
    installed plugin no longer has the property this relies on (so the cap cannot silently stop working)."""
    import snakemake_executor_plugin_slurm as slurm

    prop = getattr(slurm.Executor, "next_seconds_between_status_checks", None)
    if not isinstance(prop, property) or prop.fset is None:
        raise RuntimeError("snakemake-executor-plugin-slurm: Executor.next_seconds_between_status_checks is not a "
                           "settable property any more; update workflow/profiles/slurm-local/snakemake_local.py")
    slurm.Executor.next_seconds_between_status_checks = property(
        prop.fget, lambda self, value: prop.fset(self, min(value, seconds)))


if __name__ == "__main__":
    cap_status_checks()
    from snakemake.cli import main

    sys.argv[0] = "snakemake"
    main()
