"""Command line used by the workflow (``workflow/Snakefile``; ``make report`` runs it):

- ``python -m rnalib notebook NB --name NAME --out DIR [--params F ...] [--set KEY=VALUE ...]``: one page.
- ``python -m rnalib render EXECUTED.ipynb PAGE.html``: a page's HTML.
- ``python -m rnalib index --out DIR RECORD ...``: the site's index and manifest from the pages' records.
- ``python -m rnalib warm-cache {interactions,localization,pairs} --params F ... -o DONE.json``: embed a study's
  sequences once, before any training job reads them (``pairs``: study A's pair features, ``interactions.pairing``).
- ``python -m rnalib embed IN.fasta -o OUT.parquet``: embeddings of new RNAs (one row per record; the output's
  suffix names its format: .parquet, .csv, .tsv, .csv.gz, .tsv.gz).
- ``python -m rnalib predict-pairs PAIRS.csv --model RUN -o SCORES.csv``: candidate pairs scored by a saved
  study-A network, ranked, with its threshold.
- ``python -m rnalib localize IN.fasta --model RUN -o OUT.csv``: per-class probabilities and calls for new
  mRNAs with a saved study-B run.
- ``python -m rnalib check-site REPORT_DIR``: every page of a rendered report opened in headless Chromium and
  checked (loads, links, images, no error output, no horizontal overflow at 1280 px); screenshots beside it.
- ``python -m rnalib tiny-weights DIR``: random-init RNA-FM and RiNALMo checkpoints in their upstream formats
  (the rehearsal profile).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml


def _assignment(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, yaml.safe_load(value)


def _notebook(args) -> int:
    from rnalib.report.pages import run_notebook

    record = run_notebook(args.notebook, args.name, args.out, args.params, dict(args.set), args.kernel,
                          args.threads, render=not args.no_html)
    print(f"ok  {record.wall_s:.1f} s  {record.name}  [{record.embedder}"
          f"{' FALLBACK' if record.fallback else ''}]")
    return 0


def _index(args) -> int:
    from rnalib.report.pages import read_records, write_index

    path = write_index(read_records(args.records), args.out, args.title, {"title": args.title})
    print(f"index: {path}")
    return 0


def _warm_cache(args) -> int:
    from rnalib import interactions, localization
    from rnalib.report.pages import merged_parameters
    from rnalib.report.results import REPO_ROOT, write_json

    notebook = {"interactions": "02_interactions_train.ipynb", "pairs": "02_interactions_train.ipynb",
                "localization": "06_localization_locas.ipynb"}
    values = merged_parameters(REPO_ROOT / "notebooks" / notebook[args.study], args.params, dict(args.set))
    started = time.time()
    warm = {"interactions": interactions.warm_cache, "pairs": interactions.warm_pair_features,
            "localization": localization.warm_cache}[args.study]
    summary = warm(values, shard=args.shard, shards=args.shards)
    write_json(Path(args.output), {**summary, "study": args.study, "shard": args.shard, "shards": args.shards,
                                   "wall_s": round(time.time() - started, 1)})
    if args.study == "pairs":
        print(f"pairs: {summary['pairs']} pairs' features found in the cache or computed ({summary['computed']} "
              f"computed, {summary['feature_version']}) in {time.time() - started:.0f} s")
    else:
        print(f"{args.study}: {summary['sequences']} sequences embedded or found in the cache "
              f"[{summary['embedder']}] in {time.time() - started:.0f} s")
    return 0


def _cache(args):
    from rnalib.embedding.cache import EmbeddingCache

    return EmbeddingCache(args.cache) if args.cache else None


def _embed(args) -> int:
    from .newdata import embed_fasta

    frame = embed_fasta(args.fasta, args.output, args.embedder, args.weights, args.kmer_k_max, _cache(args),
                        ambiguous_to_n=args.ambiguous_to_n)
    print(f"{len(frame)} records -> {args.output} [{frame['embedder'].iloc[0]}]")
    return 0


def _predict_pairs(args) -> int:
    from .newdata import predict_pairs

    scores = predict_pairs(args.pairs, args.model, args.output, args.fasta, args.embedder, args.weights,
                           args.kmer_k_max, _cache(args), ambiguous_to_n=args.ambiguous_to_n, threads=args.threads,
                           pair_network=args.pair_network)
    print(f"{len(scores)} pairs scored, {int(scores['interacts'].sum())} at or above the model's threshold "
          f"{scores['threshold'].iloc[0]:.3f} -> {args.output} (sources: {args.output}.about.txt)")
    return 0


def _localize(args) -> int:
    from .newdata import localize

    out = localize(args.fasta, args.model, args.output, args.weights, _cache(args),
                   ambiguous_to_n=args.ambiguous_to_n)
    print(f"{len(out)} mRNAs localized -> {args.output} (sources: {args.output}.about.txt)")
    return 0


def _check_site(args) -> int:
    from rnalib.report.sitecheck import check_site

    started = time.time()
    result = check_site(args.report, screenshots=not args.no_screenshots, width=args.width)
    for line in result.problems:
        print(line, file=sys.stderr)
    external = {u for p in result.pages for u in p.external_links}
    blocked = {u for p in result.pages for u in p.blocked_requests}
    print(f"{len(result.pages)} pages checked at {args.width} px in {time.time() - started:.0f} s: "
          f"{len(result.problems)} problem(s); {len(external)} external link(s) listed, {len(blocked)} external "
          f"request(s) blocked" + ("" if args.no_screenshots else f"; screenshots in {result.root / 'screenshots'}"))
    return 1 if result.problems else 0


def _tiny_weights(args) -> int:
    from rnalib.embedding.embed import random_rinalmo_checkpoint, random_rnafm_checkpoint

    out = Path(args.folder)
    print(random_rnafm_checkpoint(out / "RNA-FM_tiny.pth", seed=1, layers=2, embed_dim=32, ffn_embed_dim=64,
                                  attention_heads=4))
    print(random_rinalmo_checkpoint(out / "rinalmo_tiny", seed=0))
    return 0


def main(argv: list[str] | None = None) -> int:
    from rnalib.data import DataError
    from rnalib.embedding.embed import KMER_K
    from rnalib.report.pages import ReportError, render_html
    from rnalib.report.sitecheck import SiteCheckError

    parser = argparse.ArgumentParser(prog="python -m rnalib")
    sub = parser.add_subparsers(dest="command", required=True)
    nb = sub.add_parser("notebook", help="execute one notebook with papermill and render its HTML page")
    nb.add_argument("notebook")
    nb.add_argument("--name", required=True, help="page name (notebooks/NAME.ipynb, NAME.html, runs/NAME.json)")
    nb.add_argument("--out", required=True, help="the profile's report folder")
    nb.add_argument("--params", nargs="*", default=[], help="parameter files, merged left to right")
    nb.add_argument("--set", nargs="*", default=[], type=_assignment, help="KEY=VALUE (YAML) overrides")
    nb.add_argument("--kernel", default="rnalib", help="Jupyter kernel name (default: %(default)s)")
    nb.add_argument("--threads", type=int, default=1, help="torch / BLAS threads of the kernel")
    nb.add_argument("--no-html", action="store_true", help="leave rendering to `render`")
    nb.set_defaults(func=_notebook)
    ren = sub.add_parser("render", help="render an executed notebook as a standalone HTML page")
    ren.add_argument("executed")
    ren.add_argument("html")
    ren.set_defaults(func=lambda a: render_html(Path(a.executed), Path(a.html)) or 0)
    idx = sub.add_parser("index", help="write index.html and manifest.json from page records")
    idx.add_argument("--out", required=True)
    idx.add_argument("--title", default="rnalib report")
    idx.add_argument("records", nargs="+")
    idx.set_defaults(func=_index)
    warm = sub.add_parser("warm-cache", help="embed a study's sequences (or study A's pair features) into the cache")
    warm.add_argument("study", choices=["interactions", "localization", "pairs"])
    warm.add_argument("--params", nargs="*", default=[])
    warm.add_argument("--set", nargs="*", default=[], type=_assignment)
    warm.add_argument("--shard", type=int, default=0)
    warm.add_argument("--shards", type=int, default=1)
    warm.add_argument("-o", "--output", required=True, help="a JSON summary written when done")
    warm.set_defaults(func=_warm_cache)
    ambiguous = dict(action="store_true", help="write IUPAC ambiguity letters (R Y K M S W B D H V) as N, counted "
                     "per record in the output (default: refuse them)")
    emb = sub.add_parser("embed", help="embed the records of a FASTA file (one row per record; the output's "
                         "suffix names its format: .parquet, .csv, .tsv, .csv.gz, .tsv.gz)")
    emb.add_argument("fasta")
    emb.add_argument("-o", "--output", required=True)
    emb.add_argument("--embedder", default="kmer", choices=["kmer", "rnafm", "rinalmo", "auto"])
    emb.add_argument("--weights", default=None, help="RNA-FM checkpoint or RiNALMo folder (else the environment)")
    emb.add_argument("--kmer-k-max", type=int, default=KMER_K[1], help="k = 1..K for --embedder kmer "
                     "(default: %(default)s)")
    emb.add_argument("--ambiguous-to-n", **ambiguous)
    emb.add_argument("--cache", default=None, help="embedding cache folder (default: RNALIB_CACHE_DIR)")
    emb.set_defaults(func=_embed)
    pp = sub.add_parser("predict-pairs", help="score candidate pairs with a saved study-A network")
    pp.add_argument("pairs", help="CSV: RNA_sequence_x, RNA_sequence_y (the seed's schema), or x, y with --fasta")
    pp.add_argument("--model", required=True, help="a study-A run folder (results/interactions/<run>)")
    pp.add_argument("-o", "--output", required=True)
    pp.add_argument("--fasta", default=None, help="FASTA whose record ids the x, y columns name")
    pp.add_argument("--embedder", default=None, help="refuse unless the model was trained on this embedder")
    pp.add_argument("--weights", default=None)
    pp.add_argument("--kmer-k-max", type=int, default=None)
    pp.add_argument("--cache", default=None)
    pp.add_argument("--ambiguous-to-n", **ambiguous)
    pp.add_argument("--threads", type=int, default=1, help="MMseqs2 threads for the family search (default 1)")
    pp.add_argument("--pair-network", action="store_true", help="score with the run's network on embeddings and "
                    "pair features (model_pair.pt, saved by runs with pair_network)")
    pp.set_defaults(func=_predict_pairs)
    loc = sub.add_parser("localize", help="per-class localization of new mRNAs with a saved study-B run")
    loc.add_argument("fasta")
    loc.add_argument("--model", required=True, help="a study-B run folder (results/localization/<variant>)")
    loc.add_argument("-o", "--output", required=True)
    loc.add_argument("--weights", default=None)
    loc.add_argument("--cache", default=None)
    loc.add_argument("--ambiguous-to-n", **ambiguous)
    loc.set_defaults(func=_localize)
    site = sub.add_parser("check-site", help="open every page of a report in headless Chromium and check it")
    site.add_argument("report", help="a rendered report folder, e.g. reports/report")
    site.add_argument("--width", type=int, default=1280, help="window width in px (default 1280)")
    site.add_argument("--no-screenshots", action="store_true", help="do not write <report>/screenshots/")
    site.set_defaults(func=_check_site)
    tiny = sub.add_parser("tiny-weights", help="write random-init RNA-FM and RiNALMo checkpoints")
    tiny.add_argument("folder")
    tiny.set_defaults(func=_tiny_weights)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ReportError, DataError, SiteCheckError, ValueError, FileNotFoundError) as exc:
        print(f"rnalib {args.command}: {exc}", file=sys.stderr)
        return 1
