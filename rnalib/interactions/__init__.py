"""Study A: RNA–RNA interactions (Debbia 2025; notebooks 01–04).

- ``study``: the study end to end (features, datasets, one run of the network and the baselines, saved runs,
  tables over split seeds); its functions are exposed here, so a notebook reads ``interactions.run_interactions``.
- ``sampling``: split protocols C1–C4, negatives, augmentation.
- ``families``: miRNA seed families, MMseqs2 clusters of long RNAs, residual similarity (also used by study B's
  fold homology).
- ``graph``: the interaction graph and its statistics.
- ``pairing``: pair features that read the interaction (TargetScan seed sites, ViennaRNA duplex energies), cached
  per pair.
- ``published``: what the paper's own code did (its printed counts), and the leakage its row split implies.
- ``trust``: what a new pair's score is worth — its protocol case, that protocol's measured figures, and a
  calibrator fitted on the validation pairs.
"""
from .study import (BASELINES, InteractionRun, PAIR_FEATURE_STEPS, PAIR_MODEL_FILE, PAIR_MODELS, RECENT_EPOCHS,
                    PairEmbeddings,
                    aim_sentences, augmentation_differences, boosting_scores, both_seen_scores, config_table,
                    family_degree_scores, fit_seconds_table, interval_overlaps, latent, length_only_scores,
                    load_model, load_results, make_dataset, metrics_frame, model_differences, model_label,
                    over_splits, pair_feature_effects, pair_features, paired_differences, pairing_table,
                    probabilities, protocol_sentences, rebuild_dataset, recent_gain, residual_similarity, rna_families,
                    run_interactions, run_intervals, save_run, separable_pairs, site_enrichment, split_counts,
                    table2_intervals, table2_sentences, table2_stopping, training_caveats, training_status,
                    variant_name, warm_cache, warm_pair_features, weighting_differences)
from .trust import (FAMILIES_UNKNOWN, calibrate, calibrate_saved_run, fit_calibrator, load_calibrator, pair_cases,
                    protocol_figures, reliability, reliability_on_test)

__all__ = ["BASELINES", "InteractionRun", "PAIR_FEATURE_STEPS", "PAIR_MODEL_FILE", "PAIR_MODELS", "RECENT_EPOCHS",
           "PairEmbeddings",
           "aim_sentences", "augmentation_differences", "boosting_scores", "both_seen_scores", "config_table",
           "family_degree_scores", "fit_seconds_table", "interval_overlaps", "latent", "length_only_scores",
           "load_model", "load_results", "make_dataset", "metrics_frame", "model_differences", "model_label",
           "over_splits", "pair_feature_effects", "pair_features", "paired_differences", "pairing_table",
           "probabilities", "protocol_sentences", "rebuild_dataset", "recent_gain", "residual_similarity", "rna_families",
           "run_interactions", "run_intervals", "save_run", "separable_pairs", "site_enrichment", "split_counts",
           "table2_intervals", "table2_sentences", "table2_stopping",
           "training_caveats", "training_status", "variant_name", "warm_cache", "warm_pair_features",
           "weighting_differences", "FAMILIES_UNKNOWN", "calibrate", "calibrate_saved_run", "fit_calibrator",
           "load_calibrator", "pair_cases", "protocol_figures", "reliability", "reliability_on_test"]
