"""The outputs of a validation against coders: tidy tables, figures and a Markdown report.

:func:`write_validation` writes, into one folder,

============================== ===============================================
``agreement.csv``              every statistic, tidy (:func:`analysis.agreement.agreement_table`)
``codings.csv``                each code beside the model's label and score
``confusion_matrix.*``         coders' labels against the model's (PNG, SVG, PDF)
``agreement_by_<column>.*``    accuracy, macro-F1 and alpha per group with CIs,
                               one figure per grouping column (``agreement_by_lang``...)
``report.md``                  :func:`validation_markdown`, linking the PNG figures
============================== ===============================================
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .agreement import CODER_VS_CODER, MODEL_VS_CODERS, Validation
from .io import atomic_write_table, atomic_write_text
from .schema import STANCE_LABELS

__all__ = ["validation_figures", "validation_markdown", "write_validation"]

#: How measures are named in the report and the figures.
METRIC_NAMES = {
    "accuracy": "accuracy",
    "macro_f1": "macro-F1",
    "alpha": "Krippendorff's α",
    "percent_agreement": "percent agreement",
}
#: Krippendorff's (2004) customary minimum alpha for tentative and for firm conclusions.
ALPHA_TENTATIVE, ALPHA_RELIABLE = 0.667, 0.8
_COLUMN_TITLES = {"lang": "language", "actor": "actor", "coder": "coder", "doc_id": "document"}
#: The overall group's name in figures.
ALL_PAIRS = "all pairs"


def validation_figures(validation: Validation) -> dict:
    """The figures of a validation, by file name: ``confusion_matrix`` and ``agreement_by_<column>``.

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        The confusion matrix of all codings (rows: the coders' labels), and for
        each grouping column the model-vs-coders measures per group with their
        confidence intervals (all pairs first).
    """
    from .validation_plots import agreement_plot, confusion_matrix_plot

    codings = validation.codings
    ax = confusion_matrix_plot(
        codings, y_true="coder_label", y_pred="model_label", labels=list(STANCE_LABELS),
        title=f"Coders vs model (n = {len(codings)} codes)",
        cbar_kws={"label": "share of the coders' label (row)", "shrink": 0.8},
    )
    ax.set_ylabel("coders' label")
    ax.set_xlabel("model's label")
    figures = {"confusion_matrix": ax.get_figure()}
    table = validation.agreement
    model = table[table["comparison"] == MODEL_VS_CODERS].assign(
        metric=lambda t: t["metric"].map(METRIC_NAMES),
        group=lambda t: t["group"].where(t["group_by"] != "all", ALL_PAIRS),
    )
    for column in validation.by:
        part = model[model["group_by"].isin(["all", column])]
        groups = [ALL_PAIRS, *sorted(part.loc[part["group_by"] == column, "group"].unique(), key=str)]
        ax = agreement_plot(
            part, order=groups, hue_order=[METRIC_NAMES[m] for m in ("accuracy", "macro_f1", "alpha")],
            ci_label=f"{_level(validation)} bootstrap CI",
            title=f"Agreement with the coders by {_COLUMN_TITLES.get(column, column)}",
        )
        ax.set_xlabel(ax.get_xlabel() + "\nn = coded paragraph × actor pairs")
        figures[f"agreement_by_{column}"] = ax.get_figure()
    return figures


def write_validation(
    validation: Validation,
    out_dir: str | os.PathLike[str],
    *,
    formats=("png", "svg", "pdf"),
    dpi: int = 300,
) -> list[Path]:
    """Write a validation's tables, figures and Markdown report into ``out_dir``.

    Parameters
    ----------
    validation : analysis.agreement.Validation
        From :func:`analysis.agreement.validate_against_coders`.
    out_dir : path
        Folder, created if missing; files of an earlier run are replaced.
    formats : sequence of {"png", "svg", "pdf"}
        Figure formats (the report links the PNG files when written).
    dpi : int, default 300
        PNG resolution.

    Returns
    -------
    list of pathlib.Path
        The files written (see the module docstring), each written atomically.
    """
    import matplotlib.pyplot as plt

    from .io import check_output_dir
    from .plot_style import check_formats, save_figure

    formats = check_formats(formats, "write_validation")
    check_output_dir(out_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in (("agreement.csv", validation.agreement), ("codings.csv", validation.codings)):
        atomic_write_table(table, out / name)
        written.append(out / name)
    figures = validation_figures(validation)
    for name, fig in figures.items():
        written += save_figure(fig, name, formats=formats, dpi=dpi, directory=out)
        plt.close(fig)
    linked = list(figures) if "png" in formats else []
    atomic_write_text(validation_markdown(validation, figures=linked), out / "report.md")
    written.append(out / "report.md")
    return written


# --------------------------------------------------------------------------- the report
def validation_markdown(validation: Validation, *, figures=()) -> str:
    """A short Markdown report of a validation, for readers who did not run it.

    Parameters
    ----------
    validation : analysis.agreement.Validation
    figures : sequence of str
        Names of the figures saved as ``<name>.png`` beside the report
        (:func:`validation_figures`); each is shown after its table.

    Returns
    -------
    str
        Sections: what was compared, the result in short (with Krippendorff's
        rule of thumb and the agreement between coders), one table per
        grouping column, where the model and the coders disagree, how to read
        the numbers, and the files.
    """
    table, codings, sheets = validation.agreement, validation.codings, validation.sheets
    overall = _row_map(table, MODEL_VS_CODERS, "all", "all")
    accuracy, f1, alpha = overall["accuracy"], overall["macro_f1"], overall["alpha"]
    coders = sorted(codings["coder"].unique(), key=str)
    level = _level(validation)
    skipped = int(sheets["n_blank"].sum())
    lines = [
        "# Does the model agree with your coders?", "",
        f"**Model:** `{validation.model or 'not recorded in the scores'}`  ",
        f"**Compared:** {_count(len(codings), 'code')} of {_count(accuracy['n_items'], 'paragraph × actor pair')} "
        f"by {_count(len(coders), 'coder')} ({', '.join(map(str, coders))}), "
        f"from {_count(len(sheets), 'sheet')}.  ",
        "**Skipped:** " + (
            f"{_count(skipped, 'row')} with a blank stance ("
            + ", ".join(f"{r.sheet}: {r.n_blank}" for r in sheets.itertuples() if r.n_blank) + ")."
            if skipped else "none (every row was coded)."
        ),
        "", "## In short", "",
        f"The model gives the coders' label (against / neutral / favor) in **{_pct(accuracy['estimate'])}** of "
        f"the codes ({level} confidence interval {_pct(accuracy['ci_low'])} to {_pct(accuracy['ci_high'])}). "
        f"Macro-F1 is **{_num(f1['estimate'])}** ({_num(f1['ci_low'])} to {_num(f1['ci_high'])}) and "
        f"Krippendorff's α **{_num(alpha['estimate'])}** ({_num(alpha['ci_low'])} to {_num(alpha['ci_high'])}).",
        "", _verdict(alpha), "", _coder_summary(table, level), "",
    ]
    for column in validation.by:
        lines += _group_section(table, column, level)
        lines += _image(f"agreement_by_{column}", f"Agreement by {_COLUMN_TITLES.get(column, column)}", figures)
    lines += _disagreements(codings)
    lines += _image("confusion_matrix", "Confusion matrix: coders' labels against the model's", figures)
    lines += _reading_guide(validation, level)
    return "\n".join(lines).rstrip() + "\n"


def _level(validation: Validation) -> str:
    """The confidence level as text, e.g. "95 %"."""
    return f"{validation.confidence_level:.0%}".replace("%", " %")


def _image(name: str, alt: str, figures) -> list[str]:
    """A Markdown image of ``<name>.png`` when that figure was written."""
    return [f"![{alt}]({name}.png)", ""] if name in figures else []


def _count(n: int, noun: str) -> str:
    """"1 coder" / "3 coders"."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _row_map(table: pd.DataFrame, comparison: str, group_by: str, group: str) -> dict:
    """``{metric: row as dict}`` of one comparison and group."""
    part = table[(table["comparison"] == comparison) & (table["group_by"] == group_by) & (table["group"] == group)]
    return {r["metric"]: r for r in part.to_dict("records")}


def _num(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.2f}".replace("-", "−")


def _pct(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.0%}".replace("%", " %")


def _ci(row: dict) -> str:
    """"0.62 [0.41, 0.80]" ("n/a" when undefined)."""
    if not np.isfinite(row["estimate"]):
        return "n/a"
    return f"{_num(row['estimate'])} [{_num(row['ci_low'])}, {_num(row['ci_high'])}]"


def _verdict(alpha: dict) -> str:
    """Krippendorff's rule of thumb applied to the overall alpha, with its interval."""
    estimate, low = alpha["estimate"], alpha["ci_low"]
    if not np.isfinite(estimate):
        return ("Krippendorff's α is undefined here: every code and every model label is the same, so "
                "agreement cannot be told from chance. Code a more varied sample.")
    text = (f"By the usual rule of thumb (Krippendorff 2004: α ≥ {ALPHA_RELIABLE} to rely on coded data, "
            f"α ≥ {ALPHA_TENTATIVE} for tentative conclusions only), ")
    if estimate >= ALPHA_RELIABLE:
        text += "the model's labels can stand in for the coders' on this material"
    elif estimate >= ALPHA_TENTATIVE:
        text += "the model's labels support tentative conclusions only"
    else:
        text += "the model's labels are **not reliable enough** to replace the coders on this material"
    if np.isfinite(low) and low < ALPHA_TENTATIVE <= estimate:
        text += (f"; the lower end of the interval ({_num(low)}) is below {ALPHA_TENTATIVE}, so more coded "
                 "pairs are needed to be sure")
    return text + "."


def _coder_summary(table: pd.DataFrame, level: str) -> str:
    between = _row_map(table, CODER_VS_CODER, "all", "all")
    if not between:
        return ("**Agreement between coders is unknown:** no pair was coded by two coders. It is the ceiling "
                "the model can be expected to reach; to measure it, have two coders code the same pairs "
                "(50 or more), each writing their name in the `coder` column.")
    alpha, agree = between["alpha"], between["percent_agreement"]
    return (f"**Between coders** ({_count(alpha['n_items'], 'pair')} coded by two coders or more; "
            f"{_count(alpha['n_coders'], 'coder')}): α = {_num(alpha['estimate'])} ({level} confidence interval "
            f"{_num(alpha['ci_low'])} to {_num(alpha['ci_high'])}); two coders give the same label "
            f"{_pct(agree['estimate'])} of the time. This is the ceiling for the model: it can hardly agree with "
            "the coders more than they agree with each other.")


def _group_section(table: pd.DataFrame, column: str, level: str) -> list[str]:
    """A Markdown table of the measures per group of ``column``, with intervals."""
    model = table[(table["comparison"] == MODEL_VS_CODERS) & (table["group_by"] == column)]
    coders = table[(table["comparison"] == CODER_VS_CODER) & (table["group_by"] == column)]
    title = _COLUMN_TITLES.get(column, column)
    header = [title, "pairs", "codes", "accuracy", "macro-F1", "Krippendorff's α"]
    if not coders.empty:
        header.append("α between coders (pairs)")
    rows = []
    for group in sorted(model["group"].unique(), key=str):
        metrics = _row_map(table, MODEL_VS_CODERS, column, group)
        cells = [f"`{group}`", str(metrics["accuracy"]["n_items"]), str(metrics["accuracy"]["n_codings"]),
                 _ci(metrics["accuracy"]), _ci(metrics["macro_f1"]), _ci(metrics["alpha"])]
        if not coders.empty:
            between = _row_map(table, CODER_VS_CODER, column, group)
            cells.append(f"{_ci(between['alpha'])} ({between['alpha']['n_items']})" if between else "–")
        rows.append(cells)
    lines = [f"## By {title}", "",
             f"Each cell: estimate [{level} confidence interval]. Where the intervals of two groups overlap "
             "widely, their difference may well be chance.",
             "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return lines + [""]


def _disagreements(codings: pd.DataFrame) -> list[str]:
    """The confusion matrix as a table, and the most frequent disagreement in words."""
    counts = pd.crosstab(pd.Categorical(codings["coder_label"], categories=STANCE_LABELS),
                         pd.Categorical(codings["model_label"], categories=STANCE_LABELS), dropna=False)
    lines = ["## Where the model and the coders disagree", "",
             "Rows: the coders' label; columns: the model's label; the diagonal is agreement.", "",
             "| coders \\ model | " + " | ".join(STANCE_LABELS) + " |", "|---|" + "---:|" * len(STANCE_LABELS)]
    for label in STANCE_LABELS:
        lines.append(f"| **{label}** | " + " | ".join(str(int(counts.loc[label, m])) for m in STANCE_LABELS) + " |")
    off = counts.to_numpy().copy()
    np.fill_diagonal(off, 0)
    lines.append("")
    if off.sum():
        i, j = np.unravel_index(off.argmax(), off.shape)
        lines.append(f"The most frequent disagreement: the coders said **{STANCE_LABELS[i]}**, the model "
                     f"**{STANCE_LABELS[j]}** ({int(off[i, j])} of {int(off.sum())} disagreements). "
                     "`codings.csv` lists every code beside the model's label and score: read the "
                     "disagreements before trusting or dismissing the model.")
    else:
        lines.append("The model and the coders never disagree on these codes.")
    return lines + [""]


def _reading_guide(validation: Validation, level: str) -> list[str]:
    return [
        "## How to read these numbers", "",
        "- **Accuracy** (percent agreement): the share of codes where the model's label equals the coder's. "
        "It looks good whenever most pairs are neutral, even for a model that always says neutral.",
        "- **Macro-F1**: the F1 score of each label (the coders' labels taken as truth), averaged over the "
        "labels, so that the rarer *favor* and *against* weigh as much as *neutral*. 1 is perfect.",
        f"- **Krippendorff's α** ({validation.level} level): agreement corrected for chance, with the model "
        "counted as one more coder. 1 is perfect, 0 is what chance alone would give, below 0 is systematic "
        "disagreement.",
        f"- **Confidence intervals** are {level} percentile bootstrap intervals ({validation.n_resamples:,} "
        "resamples of the coded pairs, each pair with all its codes). Small groups give wide intervals: with "
        "20 pairs, one pair moves accuracy by 5 points. Paragraphs of one article are not independent, so "
        "the intervals are, if anything, too narrow.",
        "- A pair coded by several coders counts once per coder in the model's measures.",
        "",
        "## Files", "",
        "- `agreement.csv`: every number of this report, one row per comparison, group and measure.",
        "- `codings.csv`: each code with the model's label (and score), its sheet and row.",
        "- `confusion_matrix.*`, `agreement_by_*.*`: the figures (PNG, SVG, PDF).",
    ]
