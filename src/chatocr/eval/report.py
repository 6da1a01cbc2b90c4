"""What a run folder shows people: metrics.json, scores.json, report.md, charts, a summary table."""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from chatocr.eval.diagnosis import CAUSES
from chatocr.eval.runner import METRICS, SCORES, Scored

log = logging.getLogger(__name__)

CHARTS = "charts"
FIELD_CHART = "field_f1.png"
CALIBRATION_CHART = "calibration.png"
LATENCY_CHART = "latency.png"
MAX_CHART_FIELDS = 30  # open-set data (FUNSD) has hundreds of keys: chart the most frequent
MAX_TABLE_FIELDS = 60

OVERALL_COLUMNS: list[tuple[str, str]] = [
    ("precision", "P"),
    ("recall", "R"),
    ("f1", "F1"),
    ("f1_strict", "F1 strict"),
    ("anls", "ANLS"),
    ("null_accuracy", "null acc."),
    ("grounding_rate", "grounded"),
    ("ece", "ECE"),
    ("seconds_per_doc", "s/doc"),
    ("peak_rss_mb", "peak RSS MB"),
]


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:.{digits}f}"
    return str(value)


def _fmt_metric(key: str, value: Any) -> str:
    if key == "peak_rss_mb":
        return fmt(value, 0)
    if key == "seconds_per_doc":
        return fmt(value, 2)
    return fmt(value)


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def fields_by_support(metrics: dict[str, Any], limit: int) -> list[str]:
    fields = metrics["fields"]
    ordered = sorted(fields, key=lambda n: (-(fields[n]["support"] + fields[n]["absent"]), n))
    return ordered[:limit]


def summary_table(metrics: dict[str, Any], title: str = "chatocr eval") -> Table:
    """The overall row and the most frequent fields, for the terminal."""
    table = Table(title=title)
    table.add_column("field", overflow="ellipsis", no_wrap=True, min_width=10, max_width=24)
    for _, header in OVERALL_COLUMNS[:8]:
        table.add_column(header, justify="right", no_wrap=True, min_width=5)
    table.add_column("n", justify="right", no_wrap=True)
    keys = [key for key, _ in OVERALL_COLUMNS[:8]]
    for name in fields_by_support(metrics, 20):
        row = metrics["fields"][name]
        # calibration is only measured overall (too few answers per field)
        cells = ["" if k == "ece" else fmt(row.get(k)) for k in keys]
        table.add_row(name, *cells, str(row["support"] + row["absent"]))
    overall = metrics["overall"]
    table.add_row(
        "[bold]overall[/bold]",
        *[f"[bold]{fmt(overall.get(k))}[/bold]" for k in keys],
        str(overall["labelled_fields"] + overall["absent_fields"]),
        end_section=True,
    )
    table.caption = (
        f"{overall['documents']} documents, {overall['errors']} failed; "
        f"{fmt(overall['seconds_per_doc'], 2)} s/doc; peak RSS {fmt(overall['peak_rss_mb'], 0)} MB"
    )
    return table


# --- charts ------------------------------------------------------------------------------------


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    # CJK field names (中文模板) need a CJK font; matplotlib falls back glyph by glyph along this list.
    plt.rcParams["font.sans-serif"] = [
        "Noto Sans CJK SC",
        "WenQuanYi Zen Hei",
        "WenQuanYi Micro Hei",
        "AR PL UMing CN",
        "DejaVu Sans",
    ]
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def write_charts(run_dir: Path, scored: Scored, title: str) -> list[str]:
    """The three PNG charts; returns their paths relative to ``run_dir`` (none without matplotlib)."""
    try:
        plt = _pyplot()
    except ImportError:
        log.warning("matplotlib is not installed (pip install 'chatocr[eval]'): no charts")
        return []
    import warnings

    charts_dir = run_dir / CHARTS
    charts_dir.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    metrics = scored.metrics
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing-glyph warnings for fonts lower in the fallback list

        names = [n for n in fields_by_support(metrics, MAX_CHART_FIELDS) if metrics["fields"][n]["support"]]
        fig, ax = plt.subplots(figsize=(7, 0.35 * max(len(names), 3) + 1.2))
        f1 = [metrics["fields"][n]["f1"] or 0.0 for n in names]
        strict = [metrics["fields"][n]["f1_strict"] or 0.0 for n in names]
        ys = list(range(len(names)))
        ax.barh([y + 0.2 for y in ys], f1, height=0.4, label="F1 (tolerant)", color="#3b7dd8")
        ax.barh([y - 0.2 for y in ys], strict, height=0.4, label="F1 (strict)", color="#a9c4eb")
        ax.set_yticks(ys, names)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("F1")
        more = len(metrics["fields"]) - len(names)
        ax.set_title(f"{title}: F1 per field" + (f" ({len(names)} most frequent)" if more > 0 else ""), pad=20)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, fontsize=8, frameon=False)
        fig.tight_layout()
        fig.savefig(charts_dir / FIELD_CHART, dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(f"{CHARTS}/{FIELD_CHART}")

        fig, ax = plt.subplots(figsize=(5, 5))
        bins = metrics["calibration"]
        filled = [b for b in bins if b["count"]]
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
        ax.bar(
            [(b["lower"] + b["upper"]) / 2 for b in filled],
            [b["accuracy"] for b in filled],
            width=0.09,
            color="#3b7dd8",
            alpha=0.8,
            label="accuracy",
        )
        ax.plot(
            [b["confidence"] for b in filled],
            [b["accuracy"] for b in filled],
            "o",
            color="#d8553b",
            label="mean confidence",
        )
        for b in filled:
            ax.annotate(
                str(b["count"]), ((b["lower"] + b["upper"]) / 2, b["accuracy"]), ha="center", va="bottom", fontsize=7
            )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("confidence")
        ax.set_ylabel("share correct (tolerant)")
        ax.set_title(f"{title}: calibration (ECE {fmt(metrics['overall']['ece'])})")
        ax.legend(loc="upper left", fontsize=8)
        fig.tight_layout()
        fig.savefig(charts_dir / CALIBRATION_CHART, dpi=110)
        plt.close(fig)
        written.append(f"{CHARTS}/{CALIBRATION_CHART}")

        fig, ax = plt.subplots(figsize=(6, 3.5))
        if scored.latencies:
            ax.hist(scored.latencies, bins=min(20, max(5, len(scored.latencies) // 2)), color="#3b7dd8")
            ax.axvline(metrics["overall"]["seconds_per_doc"], color="#d8553b", linestyle="--", label="mean")
            ax.legend(fontsize=8)
        ax.set_xlabel("seconds per document")
        ax.set_ylabel("documents")
        ax.set_title(f"{title}: latency")
        fig.tight_layout()
        fig.savefig(charts_dir / LATENCY_CHART, dpi=110)
        plt.close(fig)
        written.append(f"{CHARTS}/{LATENCY_CHART}")
    return written


# --- report.md ---------------------------------------------------------------------------------


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_report(metrics: dict[str, Any], info: dict[str, Any], charts: list[str], title: str) -> str:
    overall = metrics["overall"]
    lines = [
        f"# Evaluation: {title}",
        "",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Command: `{info.get('command', '')}`",
        f"- Dataset: `{info.get('dataset', '')}` ({overall['documents']} documents scored"
        + (f" of {info['dataset_size']}" if info.get("dataset_size") else "")
        + f", {overall['errors']} failed)",
        f"- Field spec: {info.get('spec_text', '')}",
        f"- Backend: {info.get('backend_text', '')}",
        "",
        "## Overall",
        "",
        "| " + " | ".join(header for _, header in OVERALL_COLUMNS) + " |",
        "|" + "---|" * len(OVERALL_COLUMNS),
        "| " + " | ".join(_fmt_metric(key, overall.get(key)) for key, _ in OVERALL_COLUMNS) + " |",
        "",
        f"TP {overall['tp']}, FP {overall['fp']}, FN {overall['fn']} over {overall['labelled_fields']} labelled "
        f"and {overall['absent_fields']} absent fields; grounding checked on {overall['grounding_checked']} answers; "
        f"latency median {fmt(overall['seconds_median'], 2)} s, p90 {fmt(overall['seconds_p90'], 2)} s.",
        "",
        "Counting: a non-null answer that matches the label is a TP; a non-null wrong answer is an FP "
        "(and an FN when the field is labelled); a non-null answer to an absent field is an FP; a null answer "
        "to a labelled field is an FN. Tolerant match: equal after normalisation, same date or amount, or "
        "edit similarity >= 0.9; strict: identical after trimming.",
        "",
    ]
    names = fields_by_support(metrics, MAX_TABLE_FIELDS)
    lines += [
        "## Per field"
        + (f" ({len(names)} most frequent of {len(metrics['fields'])})" if len(metrics["fields"]) > len(names) else ""),
        "",
        "| field | labelled | absent | P | R | F1 | F1 strict | ANLS | null acc. | grounded |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        row = metrics["fields"][name]
        lines.append(
            f"| {_cell(name)} | {row['support']} | {row['absent']} | "
            + " | ".join(
                fmt(row.get(k))
                for k in ("precision", "recall", "f1", "f1_strict", "anls", "null_accuracy", "grounding_rate")
            )
            + " |"
        )
    breakdown = metrics.get("error_breakdown")
    if breakdown:
        total = breakdown["overall"]
        lines += [
            "",
            "## Where the errors are",
            "",
            "OCR miss: the value is not in the OCR text; proposal miss: it is, but no proposal holds it; "
            "choice miss: a proposal held it and another answer (or null) was chosen; false answer: an absent "
            "field answered.",
            "",
            "| field | OCR miss | proposal miss | choice miss | false answer |",
            "|---|---|---|---|---|",
            "| **all** | " + " | ".join(str(total.get(c, 0)) for c in CAUSES) + " |",
        ]
        for name in names:
            tally = breakdown["fields"].get(name, {})
            lines.append(f"| {_cell(name)} | " + " | ".join(str(tally.get(c, 0)) for c in CAUSES) + " |")
    lines += [
        "",
        "## Confidence calibration",
        "",
        "| confidence bin | answers | mean confidence | share correct |",
        "|---|---|---|---|",
    ]
    for b in metrics["calibration"]:
        if b["count"]:
            lines.append(
                f"| {b['lower']:.1f}-{b['upper']:.1f} | {b['count']} | {fmt(b['confidence'])} | {fmt(b['accuracy'])} |"
            )
    if charts:
        lines += ["", "## Charts", ""] + [f"![{Path(c).stem}]({c})" for c in charts]
    return "\n".join(lines) + "\n"


def write_outputs(run_dir: Path, scored: Scored, info: dict[str, Any], title: str) -> list[str]:
    """metrics.json, scores.json, charts and report.md; returns the chart paths (relative)."""
    write_json(run_dir / METRICS, scored.metrics)
    write_json(run_dir / SCORES, scored.scores)
    charts = write_charts(run_dir, scored, title) if scored.metrics["overall"]["documents"] else []
    (run_dir / "report.md").write_text(render_report(scored.metrics, info, charts, title), encoding="utf-8")
    return charts
