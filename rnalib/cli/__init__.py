"""The command line (``python -m rnalib``, ``.venv/bin/rnalib``): ``main`` parses the subcommands the workflow
and users call; ``newdata`` embeds and scores users' own RNAs with saved runs."""
