"""Post-hoc correction of the stance head on the dev sets: a temperature and class offsets.

The head's logits ``z`` become ``z / T + b`` (``b`` = offsets of the negative and
positive logits, the neutral one fixed at 0), folded into the head's last layer so the
artefact keeps its format (:func:`fold_into_head`). ``T`` minimises the weighted mean
log-loss over the dev sets; ``b`` maximises their weighted mean macro-F1 (a prior
correction: it moves targets between neutral and the polar classes). The weights are
those of the epoch selection.

Each is kept only where it helps out of sample (:func:`calibrate`): every dev set is cut
in two halves by sentence, each half is scored with the correction fitted on the other
halves, and the cross-fitted figures (weighted mean expected calibration error for
``T``, weighted mean macro-F1 for ``b``) are compared with the uncorrected ones.
"""

from __future__ import annotations

import numpy as np

from ..evaluation import expected_calibration_error

#: Offsets tried for the negative and the positive logit.
OFFSET_GRID = np.round(np.arange(-1.5, 1.501, 0.1), 2)
#: Cross-fitted gain in weighted mean macro-F1 needed to keep the offsets.
MIN_GAIN = 0.005


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _macro_f1(labels: np.ndarray, pred: np.ndarray) -> float:
    """Mean F1 of classes 0, 1, 2 (an absent class with no prediction scores 0)."""
    scores = []
    for c in range(3):
        tp = np.sum((pred == c) & (labels == c))
        denominator = np.sum(pred == c) + np.sum(labels == c)
        scores.append(2 * tp / denominator if denominator else 0.0)
    return float(np.mean(scores))


def _corrected(log_proba: np.ndarray, temperature: float, offsets) -> np.ndarray:
    return log_proba / temperature + np.asarray(offsets, dtype=float)


def weighted_macro_f1(sets: dict, weights: dict, temperature: float = 1.0, offsets=(0.0, 0.0, 0.0)) -> float:
    """Weighted mean macro-F1 of ``sets`` (name -> ``(log_proba, labels)``) once corrected."""
    return _weighted({
        name: _macro_f1(labels, _corrected(log_proba, temperature, offsets).argmax(1))
        for name, (log_proba, labels) in sets.items()
    }, weights)


def _log_loss(log_proba: np.ndarray, labels: np.ndarray) -> float:
    return float(-_log_softmax(log_proba)[np.arange(len(labels)), labels].mean())


def _weighted(values: dict, weights: dict) -> float:
    return float(sum(weights[name] * v for name, v in values.items()) / sum(weights[name] for name in values))


def fit_temperature(sets: dict, weights: dict) -> float:
    """The temperature (0.05 to 20) that minimises the weighted mean log-loss of
    ``log_proba / T`` over ``sets`` (name -> ``(log_proba, labels)``)."""
    from scipy.optimize import minimize_scalar

    def loss(log_t):
        return _weighted({name: _log_loss(lp / np.exp(log_t), y) for name, (lp, y) in sets.items()}, weights)

    return float(np.exp(minimize_scalar(loss, bounds=(np.log(0.05), np.log(20)), method="bounded").x))


def fit_offsets(sets: dict, weights: dict, temperature: float) -> np.ndarray:
    """Offsets ``(b_negative, 0, b_positive)`` from :data:`OFFSET_GRID` that maximise
    :func:`weighted_macro_f1`; the smallest ones among equal scores."""
    best, best_key = np.zeros(3), None
    for neg in OFFSET_GRID:
        for pos in OFFSET_GRID:
            offsets = np.array([neg, 0.0, pos])
            key = (round(weighted_macro_f1(sets, weights, temperature, offsets), 10), -abs(neg) - abs(pos))
            if best_key is None or key > best_key:
                best, best_key = offsets, key
    return best


def _fit(sets: dict, weights: dict) -> tuple[float, np.ndarray]:
    temperature = fit_temperature(sets, weights)
    return temperature, fit_offsets(sets, weights, temperature)


def calibrate(outputs: dict, weights: dict, seed: int) -> dict:
    """Fit the correction on the dev sets and decide, by cross-fitting, what to keep.

    Parameters
    ----------
    outputs : dict
        Dev set name -> ``(proba, labels, sentence)``: the head's probabilities (n, 3),
        the gold classes and the sentence each target belongs to.
    weights : dict
        Dev set name -> weight (:func:`~analysis.training.data.selection_weights`).
    seed : int
        Seed of the halves.

    Returns
    -------
    dict
        ``temperature`` and ``offsets`` to fold into the head (1 and zeros where not
        kept), ``kept`` (``temperature``: the cross-fitted weighted mean expected
        calibration error is lower; ``offsets``, fitted at the kept temperature: the
        cross-fitted weighted mean macro-F1 gains at least :data:`MIN_GAIN`),
        ``fitted_offsets`` (the offsets the dev sets call for, kept or not) and the
        figures behind the choice (``cross_fit``: per set and weighted, uncorrected and
        cross-fitted).
    """
    rng = np.random.default_rng(seed)
    sets = {name: (np.log(np.clip(proba, 1e-12, 1.0)), np.asarray(labels, dtype=int))
            for name, (proba, labels, _) in outputs.items()}
    halves = {}
    for name, (_, _, sentence) in outputs.items():
        ids = np.unique(sentence)
        halves[name] = np.isin(sentence, ids[rng.permutation(len(ids))[: len(ids) // 2]])
    # twice: per set, (rows to fit on, rows to score)
    folds = [{name: (half != side, half == side) for name, half in halves.items()} for side in (True, False)]

    def cross_fitted(fit):
        """Each half of every set corrected by ``fit(sets of the other halves) -> (T, b)``."""
        out = {name: np.zeros_like(lp) for name, (lp, _) in sets.items()}
        for fold in folds:
            temperature, offsets = fit({name: (lp[fold[name][0]], y[fold[name][0]]) for name, (lp, y) in sets.items()})
            for name, (lp, _) in sets.items():
                out[name][fold[name][1]] = _corrected(lp[fold[name][1]], temperature, offsets)
        return out

    by_temperature = cross_fitted(lambda part: (fit_temperature(part, weights), np.zeros(3)))
    per_set = {
        name: {"ece": expected_calibration_error(y, np.exp(_log_softmax(lp))),
               "ece_cross_fitted": expected_calibration_error(y, np.exp(_log_softmax(by_temperature[name]))),
               "log_loss": _log_loss(lp, y), "log_loss_cross_fitted": _log_loss(by_temperature[name], y)}
        for name, (lp, y) in sets.items()
    }
    summary = {f"weighted_{key}": _weighted({name: v[key] for name, v in per_set.items()}, weights)
               for key in ("ece", "ece_cross_fitted", "log_loss", "log_loss_cross_fitted")}
    keep_temperature = summary["weighted_ece_cross_fitted"] < summary["weighted_ece"]

    def fit_both(part):
        temperature = fit_temperature(part, weights) if keep_temperature else 1.0
        return temperature, fit_offsets(part, weights, temperature)

    by_both = cross_fitted(fit_both)
    for name, (lp, y) in sets.items():
        per_set[name] |= {"macro_f1": _macro_f1(y, lp.argmax(1)), "macro_f1_cross_fitted": _macro_f1(y, by_both[name].argmax(1))}
    summary |= {
        "weighted_macro_f1": weighted_macro_f1(sets, weights),
        "weighted_macro_f1_cross_fitted": weighted_macro_f1({name: (by_both[name], y) for name, (_, y) in sets.items()}, weights),
    }
    keep_offsets = summary["weighted_macro_f1_cross_fitted"] - summary["weighted_macro_f1"] >= MIN_GAIN
    temperature, offsets = fit_both(sets)
    return {
        "temperature": round(temperature, 4),
        "offsets": [round(float(b), 2) for b in offsets] if keep_offsets else [0.0, 0.0, 0.0],
        "kept": {"temperature": bool(keep_temperature), "offsets": bool(keep_offsets)},
        "fitted_offsets": [round(float(b), 2) for b in offsets],
        "cross_fit": {
            **{key: round(v, 4) for key, v in summary.items()},
            "by_set": {name: {key: round(v, 4) for key, v in figures.items()} for name, figures in per_set.items()},
        },
    }


def fold_into_head(head, temperature: float, offsets) -> None:
    """Make the stance head output ``z / temperature + offsets`` (its last layer rescaled in place)."""
    import torch

    last = head.mlp[-1]
    with torch.no_grad():
        last.weight.div_(temperature)
        last.bias.div_(temperature).add_(torch.tensor(offsets, dtype=last.bias.dtype))
