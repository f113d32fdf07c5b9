"""Figures of a classifier's validation: confusion matrix, reliability diagram, agreement with CIs.

Same calling style and theme as :mod:`analysis.plots`: a tidy table as
``data=``, keyword-only options, an optional ``ax=``, the Axes returned,
no ``plt.show()``. Their colours deliberately differ from the red/blue
stance scale (a purple sequential scale; categorical colours per curve).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from analysis.errors import InputError
from analysis.plot_style import category_levels, category_styles, new_axes, require_table, theme

__all__ = ["agreement_plot", "confusion_matrix_plot", "reliability_diagram"]


def confusion_matrix_plot(
    data: pd.DataFrame | None = None,
    *,
    y_true: str = "gold", y_pred: str = "pred", labels: Sequence | None = None,
    display_labels: Sequence[str] | None = None, normalize: str | None = "true", title: str | None = None,
    ax=None, **kwargs,
) -> Axes:
    """Confusion matrix of gold against predicted classes, as an annotated heatmap.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per judged item with a gold column and a predicted column.
    y_true, y_pred : str
        Gold and predicted class columns (names or codes).
    labels : sequence, optional
        Class values in display order (default: sorted values of both columns).
    display_labels : sequence of str, optional
        Names shown for ``labels`` (e.g. ``["negative", "neutral",
        "positive"]`` for codes 0/1/2).
    normalize : {"true", None}, default "true"
        ``"true"``: colour = share of the gold row (recall of each class on
        the diagonal), so rare classes are as readable as frequent ones;
        ``None``: colour = count. Every cell shows the count and, with
        ``"true"``, the row share.
    title : str, optional
        Default: "Confusion matrix (n = <number of items>)".
    ax : matplotlib.axes.Axes, optional
    **kwargs
        Passed to :func:`seaborn.heatmap`, overriding its settings (e.g. ``cmap``).

    Returns
    -------
    matplotlib.axes.Axes
        Rows = gold class, columns = predicted class; the diagonal (agreement)
        is outlined. The colour scale is a single-hue purple, deliberately not
        the red/blue stance scale.
    """
    import seaborn as sns

    if normalize not in ("true", None):
        raise InputError(f"confusion_matrix_plot: normalize must be 'true' or None, got {normalize!r}")
    data = require_table(data, [y_true, y_pred], "confusion_matrix_plot")
    sub = data[[y_true, y_pred]].dropna()
    if labels is None:
        labels = sorted(set(sub[y_true]) | set(sub[y_pred]), key=str)
    labels = list(labels)
    names = [str(x) for x in (display_labels if display_labels is not None else labels)]
    if len(names) != len(labels):
        raise InputError("confusion_matrix_plot: display_labels must have one name per label")
    index = {lab: i for i, lab in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(sub[y_true], sub[y_pred]):
        if t in index and p in index:
            counts[index[t], index[p]] += 1
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape, dtype=float), where=totals > 0)
    shown = share if normalize == "true" else counts.astype(float)
    annot = np.empty(counts.shape, dtype=object)
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            annot[i, j] = f"{counts[i, j]}\n{share[i, j]:.0%}" if normalize == "true" else f"{counts[i, j]}"
    with theme():
        ax = new_axes(ax, (1.9 + 1.25 * len(labels), 1.5 + 1.05 * len(labels)))
        ax.grid(False)
        heat_kw = dict(
            cmap="Purples", vmin=0.0, vmax=1.0 if normalize == "true" else max(1, counts.max()),
            annot=annot, fmt="", linewidths=1.0, linecolor="white", square=True,
            annot_kws={"fontsize": 10},
            cbar_kws={"label": "share of the gold class" if normalize == "true" else "count",
                      "shrink": 0.8},
        )
        heat_kw.update(kwargs)
        sns.heatmap(pd.DataFrame(shown, index=names, columns=names), ax=ax, **heat_kw)
        for i in range(len(labels)):
            ax.add_patch(Rectangle((i, i), 1, 1, fill=False, edgecolor="#333333", linewidth=1.6, zorder=3,
                                   clip_on=False))
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.tick_params(axis="both", length=0)
        ax.set_yticks(np.arange(len(names)) + 0.5, names, rotation=0)
        ax.set_xticks(np.arange(len(names)) + 0.5, names, rotation=0)
        ax.set_title(title or f"Confusion matrix (n = {int(counts.sum())})")
    return ax


def reliability_diagram(
    data: pd.DataFrame | None = None,
    *,
    y_true: str = "label",
    proba: Sequence[str] = ("p_negative", "p_neutral", "p_positive"),
    classes: Sequence[str] = ("negative", "neutral", "positive"),
    hue: str | None = None, hue_order: Sequence | None = None, n_bins: int = 10, title: str | None = None,
    ax=None, **kwargs,
) -> Axes:
    """Reliability (calibration) diagram: does a 70 % confident prediction hold 70 % of the time?

    Predictions are binned by their confidence (largest class probability);
    for each bin the share of correct predictions is plotted against the
    mean confidence (see :func:`analysis.evaluation.calibration_table`).
    Points on the diagonal are well calibrated; below it the model is
    over-confident, above it under-confident.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per prediction: the gold column ``y_true`` (class index or
        name) and the probability columns ``proba`` (in ``classes`` order).
    y_true : str, default "label"
    proba : sequence of str
        Probability columns, one per class.
    classes : sequence of str
        Class names, in the order of ``proba``.
    hue : str, optional
        Column splitting the predictions into separate curves (e.g. the
        data set); each curve's legend entry gives its ECE and n.
    hue_order : sequence, optional
    n_bins : int, default 10
        Equal-width confidence bins on [0, 1].
    title : str, optional
        Default: "Reliability diagram: confidence vs accuracy".
    ax : matplotlib.axes.Axes, optional
        Axes for the curve. Without it a new figure is made with a second,
        smaller panel below showing how many predictions fall in each bin.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.plot` for each curve.

    Returns
    -------
    matplotlib.axes.Axes
        The reliability panel: one line per hue level (label starts with the
        level, or "predictions") whose points are (mean confidence, accuracy)
        of the non-empty bins; marker area grows with the bin's count.
        ``ax.ece`` maps each level to its expected calibration error.
    """
    from analysis.evaluation import calibration_table, expected_calibration_error

    data = require_table(data, [y_true, *proba] + ([hue] if hue else []), "reliability_diagram")
    levels = category_levels(data, hue, hue_order) if hue else [None]
    styles = category_styles(levels)
    lo = np.floor(n_bins / len(classes)) / n_bins if len(classes) else 0.0
    with theme():
        hist_ax = None
        if ax is None:
            fig, (ax, hist_ax) = plt.subplots(
                2, 1, figsize=(6.4, 6.2), sharex=True, layout="constrained",
                gridspec_kw={"height_ratios": [3.2, 1.0]},
            )
        ax.plot([0, 1], [0, 1], linestyle="--", color="#777777", linewidth=1.0, zorder=1,
                label="perfect calibration")
        ece: dict = {}
        width = 1.0 / n_bins / (len(levels) + 0.5)
        for k, lev in enumerate(levels):
            sub = data if lev is None else data[data[hue] == lev]
            y = sub[y_true].tolist()
            p = sub[list(proba)].to_numpy(dtype=float)
            table = calibration_table(y, p, n_bins=n_bins, classes=classes)
            e = expected_calibration_error(y, p, n_bins=n_bins, classes=classes)
            ece[lev] = e
            used = table[table["n"] > 0]
            color, marker = styles[lev]
            name = "predictions" if lev is None else str(lev)
            kw = dict(color=color, marker=marker, linewidth=1.8, zorder=3,
                      label=f"{name} (ECE {e:.3f}, n={len(sub)})", markeredgecolor="white")
            kw.update(kwargs)
            ax.plot(used["confidence"], used["accuracy"], markersize=0, **kw)
            sizes = 25 + 175 * used["n"] / max(1, used["n"].max())
            ax.scatter(used["confidence"], used["accuracy"], s=sizes, color=color, marker=marker,
                       edgecolors="white", linewidths=0.6, zorder=4)
            if hist_ax is not None:
                share = table["n"] / max(1, table["n"].sum())
                centres = (table["lower"] + table["upper"]) / 2 + (k - (len(levels) - 1) / 2) * width
                hist_ax.bar(centres, share, width=width, color=color, alpha=0.85, zorder=2)
        ax.set_xlim(lo - 0.02, 1.0)
        ax.set_ylim(-0.02, 1.02)
        ax.set_aspect("auto")
        ax.set_ylabel("accuracy (share of predictions that are right)")
        ax.set_title(title or "Reliability diagram: confidence vs accuracy")
        ax.legend(loc="upper left", title="below the diagonal = over-confident")
        if hist_ax is not None:
            hist_ax.set_ylabel("share of\npredictions")
            hist_ax.set_xlabel("confidence (probability of the predicted class), binned")
            hist_ax.grid(axis="x", visible=False)
            hist_ax.set_ylim(0, None)
        else:
            ax.set_xlabel("confidence (probability of the predicted class)")
        ax.ece = ece
    return ax


def agreement_plot(
    data: pd.DataFrame | None = None,
    *,
    x: str = "estimate", y: str = "group", hue: str | None = "metric",
    ci: tuple[str, str] = ("ci_low", "ci_high"), n: str | None = "n_items",
    order: Sequence | None = None, hue_order: Sequence | None = None,
    reference: Sequence[float] = (0.667, 0.8), ci_label: str = "95 % bootstrap CI", title: str | None = None,
    ax=None, **kwargs,
) -> Axes:
    """Agreement measures per group (e.g. per language) as points with confidence-interval whiskers.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per group and measure, e.g. the model-vs-coders rows of
        :func:`analysis.agreement.agreement_table` for one grouping column:
        ``group``, ``metric``, ``estimate``, ``ci_low``, ``ci_high``, ``n_items``.
    x : str
        Estimate column (agreement, 1 = perfect).
    y : str
        Group column, one row of the plot per group.
    hue : str, optional
        Measure column: one colour and marker per measure, side by side in a row.
    ci : (str, str)
        Columns of the lower / upper interval bound (rows with a NaN bound get no whisker).
    n : str, optional
        Column printed under each group's name as ``n = ...`` (first row of the group).
    order, hue_order : sequence, optional
        Group order (first at the top) and measure order (default: sorted).
    reference : sequence of float, default (0.667, 0.8)
        Dotted vertical lines: Krippendorff's customary minimum alpha for
        tentative and for firm conclusions. ``()`` for none.
    ci_label : str
        Legend entry of the whiskers.
    title : str, optional
        Default: "Agreement by group".
    ax : matplotlib.axes.Axes, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.scatter` (point style).

    Returns
    -------
    matplotlib.axes.Axes
        Whiskers are drawn with :meth:`~matplotlib.axes.Axes.hlines` (gid
        ``"ci"``), one collection per measure; the x axis runs from
        ``min(0, lowest bound)`` to 1.
    """
    from matplotlib.lines import Line2D

    data = require_table(data, [x, y, *ci, *([hue] if hue else []), *([n] if n else [])], "agreement_plot")
    groups = category_levels(data, y, order)
    metrics = category_levels(data, hue, hue_order) if hue else [None]
    styles = category_styles(metrics)
    step = 0.62 / max(1, len(metrics))
    offsets = (np.arange(len(metrics)) - (len(metrics) - 1) / 2) * step
    with theme():
        ax = new_axes(ax, (8.2, 1.5 + 0.22 * len(groups) * max(2, len(metrics))))
        handles = []
        for k, metric in enumerate(metrics):
            sub = data if metric is None else data[data[hue] == metric]
            points = []
            for i, group in enumerate(groups):
                rows = sub[sub[y] == group]
                if len(rows) > 1:
                    raise InputError(f"agreement_plot: several rows for {y}={group!r}"
                                     + (f" and {hue}={metric!r}" if hue else "; pass hue= for the measure column"))
                if len(rows):
                    r = rows.iloc[0]
                    points.append((i + offsets[k], float(r[x]), float(r[ci[0]]), float(r[ci[1]])))
            pos, est, low, high = np.array(points, dtype=float).reshape(-1, 4).T
            color, marker = styles[metric]
            whisker = np.isfinite(low) & np.isfinite(high)
            ax.hlines(pos[whisker], low[whisker], high[whisker], color=color, linewidth=1.6, zorder=2, gid="ci")
            point_kw = dict(color=color, marker=marker, s=46, edgecolors="white", linewidths=0.7, zorder=3)
            point_kw.update(kwargs)
            ax.scatter(est, pos, **point_kw)
            handles.append(Line2D([], [], color=color, marker=marker, linewidth=1.6, markeredgecolor="white",
                                  label=str(metric) if metric is not None else x))
        handles.append(Line2D([], [], color="#555555", linewidth=1.6, label=f"whiskers: {ci_label}"))
        for value in reference:
            ax.axvline(value, color="#777777", linestyle=":", linewidth=1.1, zorder=1)
        if len(reference):
            shown = " / ".join(f"{v:g}" for v in reference)
            handles.append(Line2D([], [], color="#777777", linestyle=":", linewidth=1.1,
                                  label=f"α thresholds {shown}\n(Krippendorff: tentative / reliable)"))
        lowest = np.nanmin(data[[x, *ci]].to_numpy(dtype=float), initial=0.0)
        if lowest < 0:
            ax.axvline(0, color="#333333", linewidth=0.8, zorder=1)
        ax.set_xlim(min(0.0, lowest) - 0.04, 1.04)
        labels = []
        for group in groups:
            first = data[data[y] == group]
            size = first[n].iloc[0] if n and len(first) else None
            labels.append(f"{group}\nn = {int(size)}" if size is not None and pd.notna(size) else str(group))
        ax.set_yticks(np.arange(len(groups)), labels)
        ax.set_ylim(len(groups) - 0.5, -0.5)
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel("agreement with the coders (1 = perfect; α: 0 = chance level)")
        ax.set_ylabel("")
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        ax.set_title(title or "Agreement by group")
    return ax
