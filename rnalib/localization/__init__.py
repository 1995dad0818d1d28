"""Study B: mRNA subcellular localization (LOCAS; notebooks 05–07).

- ``study``: the study end to end (features, DM3Loc's folds, LOCAS per fold, saved runs, tables against the
  published figures); its functions are exposed here, so a notebook reads ``localization.run_localization``.
- ``labels``: label sets, combinations and the θ clusters of label combinations.
- ``memory``: what the ML-Decoder attends over (single token, slices, windows along the mRNA).
- ``published``: LOCAS's and its peers' published tables, transcribed from the papers.
- ``compare``: counting against published figures with intervals; the label-prior and scarce-class sentences.
"""
from rnalib.data import LOC_CLASSES
from rnalib.learning.train import LocasConfig

from . import compare
from .study import (METHODS, MIN_TEST_LABELS, ONE_HOT, FoldOutput, LocalizationRun, choose_embedder, class_figures,
                    evaluate_fold, features, fold_indices, label_matrix, load_networks, load_projections,
                    load_results, mcc_comparison, mean_table, predict_new, prior_vs_published,
                    run_fold, run_inputs, run_localization, save_run, subsample, summarize, theta_table, uses_cnn,
                    warm_cache)

__all__ = ["LOC_CLASSES", "LocasConfig", "METHODS", "MIN_TEST_LABELS", "ONE_HOT", "FoldOutput", "LocalizationRun", "class_figures",
           "choose_embedder", "evaluate_fold", "features", "fold_indices", "label_matrix",
           "load_networks", "load_projections", "load_results", "mcc_comparison", "mean_table", "predict_new",
           "prior_vs_published", "run_fold", "run_inputs", "run_localization", "save_run", "subsample",
           "summarize", "theta_table", "uses_cnn", "warm_cache"]
