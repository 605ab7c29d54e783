"""Bulletins and disclosures as people read them: HTML from a Jinja2 template, PDF by WeasyPrint from the
same HTML, bar charts by matplotlib (Agg) — all in Chinese, with a CJK font embedded in charts and PDF.

The font is Noto Sans CJK (SIL OFL), shipped by the PyPI package noto-cjk-sans-otc pinned in
requirements.lock, so every machine that installs the project has it without system packages; a
system CJK font that matplotlib's font manager knows is the fallback. The collection holds 65,535
glyphs per face: WeasyPrint's own subsetting of it (fontTools keeping every glyph id) takes seconds
per PDF, so each rendering first cuts the Simplified Chinese face down to the characters the document
uses (well under a second) and hands both matplotlib and WeasyPrint that small font.
"""
from __future__ import annotations

import base64
import io
import string
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import matplotlib
from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont
from jinja2 import Environment, PackageLoader, select_autoescape

matplotlib.use("Agg")   # no display; must precede any figure (and pyplot is never imported)
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402

from zfcommon.caseview import STATUS_LABELS  # noqa: E402
from zfcommon.campaigns import STATES as CAMPAIGN_STATES  # noqa: E402
from zfcommon.events.catalogue import CHANNELS, DEDUCTIONS, ESCALATION_STEPS, MEASURES  # noqa: E402

from ..domain import appraisal, bulletin, disclosure, document, publication  # noqa: E402
from . import columns  # noqa: E402

CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "WenQuanYi Micro Hei",
                "WenQuanYi Zen Hei", "Noto Sans CJK JP")
FAMILY = "Noto Sans CJK SC"      # the family name the PDF embeds the document's font under
BROWSER_FONTS = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'
ALWAYS = string.printable + "，。：；、（）“”《》％—…·＊"
_env = Environment(loader=PackageLoader("notify", "templates"), autoescape=select_autoescape(["html"]))
_env.filters.update(rate=columns.rate_text, num=columns.points_text, cn_date=columns.cn_date)


class FontMissing(RuntimeError):
    """No font with Chinese glyphs: install the project's requirements (noto-cjk-sans-otc) or a CJK font."""


def _face(path: str) -> int:
    """Which face of a collection is the Simplified Chinese one (0 for a single font)."""
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    names = [f["name"].getDebugName(1) for f in TTCollection(path, lazy=True).fonts]
    return next((names.index(n) for n in CJK_FAMILIES if n in names), 0)


@lru_cache(maxsize=1)
def cjk_font() -> tuple[str, int]:
    """(file, face index) of the CJK font: the packaged Noto Sans CJK registered with matplotlib's font
    manager, or any CJK family the font manager already knows."""
    try:
        from importlib.resources import files
        packaged = files("noto_cjk_sans_otc") / "NotoSansCJK-Regular.ttc"
        font_manager.fontManager.addfont(str(packaged))
    except (ModuleNotFoundError, FileNotFoundError, RuntimeError):
        pass
    known = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return known[family], _face(known[family])
    raise FontMissing("no CJK font found: pip install -r requirements.lock (noto-cjk-sans-otc) or install "
                      "the Debian package fonts-noto-cjk")


def _subset_font(chars: set[str], folder: Path) -> Path:
    path, index = cjk_font()
    font = TTFont(path, fontNumber=index)
    options = subset.Options(name_IDs=["*"], notdef_outline=True, hinting=False, layout_features=["*"])
    cut = subset.Subsetter(options)
    cut.populate(text="".join(chars | set(ALWAYS)))
    cut.subset(font)
    out = folder / "cjk.otf"
    font.save(str(out))
    return out


def figure(labels: list[str], series: Mapping[str, list[float]], font: Path) -> Figure:
    """A horizontal bar chart, several series grouped per label, each bar labelled with its value. The
    value axis starts at 0 and never collapses: with every value 0 it still runs to 1."""
    prop = FontProperties(fname=str(font))
    fig = Figure(figsize=(9, 1.1 + 0.34 * len(labels) * max(1, len(series) / 1.5)), dpi=110)
    ax = fig.subplots()
    height = 0.8 / len(series)
    for i, (name, values) in enumerate(series.items()):
        bars = ax.barh([y + i * height for y in range(len(labels))], values, height, label=name)
        ax.bar_label(bars, labels=[f"{v:g}" for v in values], padding=2, fontsize=8)
    ax.set_yticks([y + height * (len(series) - 1) / 2 for y in range(len(labels))], labels, fontproperties=prop)
    ax.invert_yaxis()
    top = max((v for values in series.values() for v in values), default=0)
    ax.set_xlim(0, top * 1.12 if top > 0 else 1)
    if len(series) > 1:
        ax.legend(prop=prop, loc="lower right")
    fig.tight_layout()
    return fig


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def charts(kind: str, data: Mapping[str, Any], font: Path) -> list[dict[str, str | None]]:
    """Each chart's {title, src}: src None when there is nothing to show (no unit, or every count 0):
    the page then says 本期无数据 in the chart's place instead of drawing an empty axis."""
    units = data["units"]
    labels = [u["unit"] for u in units]
    if kind == "appraisal":
        rated = [u for u in units if u["score"] is not None]
        return _charts([u["unit"] for u in rated], [("各单位民主评议得分", {"得分": [u["score"] for u in rated]})], font)
    counts = {"受理": [u["received"] for u in units], "办结": [u["closed"] for u in units],
              "超期": [u["overdue"] for u in units]}
    wanted = [("各单位热线诉求办理情况（件）", counts)] if kind == "disclosure" else [
        ("各单位考核得分", {"得分": [u["score"] for u in units]}), ("各单位案件办理情况（件）", counts)]
    return _charts(labels, wanted, font)


def _charts(labels: list[str], wanted: list, font: Path) -> list[dict[str, str | None]]:
    return [{"title": title, "src": _png(figure(labels, series, font))
             if any(v for values in series.values() for v in values) else None} for title, series in wanted]


CHART_TEXT = "受理办结超期得分0123456789.本期无数据民主评议各单位"
PERIODS = {"bulletin": bulletin.month_period, "interim": publication.interim_period, "disclosure": disclosure.period,
           "appraisal": appraisal.period}
TEMPLATES = {"bulletin": "bulletin.html", "interim": "bulletin.html", "disclosure": "disclosure.html",
             "appraisal": "appraisal.html"}
UNIT_ROLES = {"lead_unit": "牵头单位", "subject_unit": "被反映单位"}


def _page(kind: str, record: Mapping[str, Any], charts: list[dict], font_family: str) -> str:
    table = columns.COLUMNS[kind]
    return _env.get_template(TEMPLATES[kind]).render(
        title=publication.title(kind, record["key"]), record=record, period=PERIODS[kind](record["key"]),
        charts=charts, font_family=font_family, landscape=kind not in ("disclosure", "appraisal"),
        interim=kind == "interim", numbered=kind in document.PATTERN_SETTINGS,
        term="本期" if kind == "interim" else "本月",
        columns=[c.header for c in table], unit_cells=lambda r: columns.cells(table, r),
        total_cells=lambda t: columns.total_cells(table, t), min_base=record["data"].get("min_rate_base"),
        grades=appraisal.GRADES,
        states=publication.STATES, deductions=DEDUCTIONS, measures={**MEASURES, **ESCALATION_STEPS},
        channels=CHANNELS, statuses=STATUS_LABELS, unit_roles=UNIT_ROLES, case_label=document.case_label,
        case_labels=columns.case_labels, campaign_states=CAMPAIGN_STATES)


def _rendered(kind: str, record: Mapping[str, Any], folder: Path, font_family: str) -> tuple[str, Path]:
    # Render once without charts to learn every character the document uses, cut the font to them,
    # then draw the charts and render the page for real.
    chars = set(_page(kind, record, [], font_family)) | set(CHART_TEXT)
    font = _subset_font(chars, folder)
    return _page(kind, record, charts(kind, record["data"], font), font_family), font


def html(kind: str, record: Mapping[str, Any]) -> str:
    with tempfile.TemporaryDirectory(prefix="zf-render-") as folder:
        return _rendered(kind, record, Path(folder), BROWSER_FONTS)[0]


def pdf(kind: str, record: Mapping[str, Any]) -> bytes:
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    with tempfile.TemporaryDirectory(prefix="zf-render-") as folder:
        page, font = _rendered(kind, record, Path(folder), f'"{FAMILY}"')
        fonts = FontConfiguration()
        face = CSS(string=f'@font-face {{ font-family: "{FAMILY}"; src: url("{font.as_uri()}"); }}',
                   font_config=fonts)
        return HTML(string=page).write_pdf(stylesheets=[face], font_config=fonts)
