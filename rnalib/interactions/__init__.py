"""Study A: RNA–RNA interactions (Debbia 2025; notebooks 01–04).

- ``study``: the study end to end (features, datasets, one run of the network and the baselines, saved runs,
  tables over split seeds); its functions are exposed here, so a notebook reads ``interactions.run_interactions``.
- ``sampling``: split protocols C1–C4, negatives, augmentation.
- ``families``: miRNA seed families, MMseqs2 clusters of long RNAs, residual similarity (also used by study B's
  fold homology).
- ``graph``: the interaction graph and its statistics.
- ``published``: what the paper's own code did (its printed counts), and the leakage its row split implies.
- ``trust``: what a new pair's score is worth — its protocol case, that protocol's measured figures, and a
  calibrator fitted on the validation pairs.
"""
from .study import (BASELINES, InteractionRun, both_seen_scores, config_table, family_degree_scores, latent,
                    load_model, load_results, make_dataset, metrics_frame, model_differences, model_label,
                    over_splits, pair_features, paired_differences, probabilities, protocol_sentences,
                    rebuild_dataset, residual_similarity, rna_families, run_intervals, run_interactions,
                    separable_pairs, save_run, split_counts, training_status, variant_name, warm_cache,
                    weighting_differences)
from .trust import (FAMILIES_UNKNOWN, calibrate, calibrate_saved_run, fit_calibrator, load_calibrator, pair_cases,
                    protocol_figures, reliability, reliability_on_test)

__all__ = ["BASELINES", "InteractionRun", "both_seen_scores", "config_table", "family_degree_scores", "latent",
           "load_model", "load_results", "make_dataset", "metrics_frame", "model_differences", "model_label",
           "over_splits", "pair_features", "paired_differences", "probabilities", "protocol_sentences",
           "rebuild_dataset", "residual_similarity", "rna_families", "run_intervals", "run_interactions",
           "separable_pairs", "save_run", "split_counts", "training_status", "variant_name", "warm_cache",
           "weighting_differences", "FAMILIES_UNKNOWN", "calibrate", "calibrate_saved_run", "fit_calibrator",
           "load_calibrator", "pair_cases", "protocol_figures", "reliability", "reliability_on_test"]
