"""PNG pictures for chats that can show images: the leaderboard card and the progress charts.

Drawn with matplotlib's object API on the Agg canvas (no display, no pyplot state, safe in a
worker thread), 1000 px wide with large type so that they read on a phone.

Chinese needs a CJK font, which many servers lack. The charts use one when it is installed
(the file named by QUIZBOT_CJK_FONT, else the fonts matplotlib's cache and `fc-list :lang=zh`
know): one file and one face of it, chosen explicitly (`cjk_face`), the regular Simplified
Chinese face whatever order the font cache lists them in. Every text of a picture (titles, axis
titles, ticks, legends) is drawn with DejaVu Sans and that face behind it. Without a CJK font the
charts never draw empty boxes: the labels fall back to English and the characters no font can
draw are left out of names (a name with nothing left becomes "#<rank>").
"""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from bot.core.replies import Standing
from bot.i18n import name_of, t

log = logging.getLogger(__name__)

FONT_ENV = "QUIZBOT_CJK_FONT"
BASE_FAMILY = "DejaVu Sans"  # ships with matplotlib, so it is always there
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Sarasa Gothic SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "Noto Sans CJK JP",
    "Arial Unicode MS",
)
WIDTH_IN = 10.0
DPI = 100

# Colours: a light card with strong contrast; podium medals; right/wrong in green/red.
BG = "#ffffff"
INK = "#1f2328"
MUTED = "#656d76"
GRID = "#d0d7de"
GOLD, SILVER, BRONZE = "#f2c94c", "#c0c6cf", "#d39b6a"
PODIUM = (GOLD, SILVER, BRONZE)
PODIUM_TINT = ("#fdf3d2", "#eef0f3", "#f7e6d8")
CALLER = "#0969da"
RIGHT = "#2da44e"
WRONG = "#f28b82"
ACCURACY = "#0969da"
MASTERED = "#1a7f37"
LEARNING = "#9be9a8"
NOT_STARTED = "#eaeef2"


@dataclass(frozen=True, slots=True)
class DayStat:
    day: date
    answered: int
    correct: int


@dataclass(frozen=True, slots=True)
class TopicStat:
    topic: str
    total: int
    mastered: int
    learning: int


# ------------------------------------------------------------------------- fonts


def _fc_list_cjk() -> list[str]:
    """The font files fontconfig says cover Chinese, if fontconfig is there."""
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})


def _faces(path: str) -> list:
    """Every face of a font file (a .ttc collection holds several: Noto Sans CJK's first one is
    Japanese) as matplotlib's font list describes it: file, face index, family, weight."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    first = FT2Font(path)
    fonts = [first] + [FT2Font(path, face_index=i) for i in range(1, first.num_faces)]
    return [font_manager.ttfFontProperty(font) for font in fonts]


def _weight(face) -> int:
    from matplotlib.font_manager import weight_dict

    weight = face.weight
    return weight if isinstance(weight, int) else weight_dict.get(str(weight), 400)


def _preference(face) -> tuple:
    """Upright faces of regular weight first, then by family (CJK_FAMILIES, Simplified Chinese
    first, then any other family that covers Chinese); file and index settle the rest."""
    weight = _weight(face)
    family = CJK_FAMILIES.index(face.name) if face.name in CJK_FAMILIES else len(CJK_FAMILIES)
    regular = 350 <= weight <= 500
    return (face.style != "normal", not regular, family, abs(weight - 400), face.fname, face.index)


def _draws_chinese(face) -> bool:
    from matplotlib.ft2font import FT2Font

    return FT2Font(face.fname, face_index=face.index).get_char_index(ord("中")) != 0


def cjk_face():
    """The font face the charts draw Chinese with (a matplotlib FontEntry: file, face index,
    family), or None. From QUIZBOT_CJK_FONT's file when it is set, else from every file that
    matplotlib's font cache or fontconfig knows for Chinese: the regular Simplified Chinese face,
    whatever the cache holds (a cache older than the font's installation may know only
    NotoSansCJK-Bold.ttc, and a collection's first face is its Japanese one)."""
    from matplotlib import font_manager

    configured = os.environ.get(FONT_ENV) or None
    if configured:
        paths = [configured]
    else:
        cached = {f.fname for f in font_manager.fontManager.ttflist if f.name in CJK_FAMILIES}
        paths = sorted(cached | set(_fc_list_cjk()))
    faces = []
    for path in paths:
        if not Path(path).is_file():
            if configured:
                log.warning("%s: no such font file %s", FONT_ENV, path)
            continue
        try:
            faces += _faces(path)
        except Exception:  # an unreadable font must not cost the picture
            log.warning("cannot use the font %s", path, exc_info=True)
    for face in sorted(faces, key=_preference):
        try:
            if _draws_chinese(face):
                return face
        except Exception:
            log.warning("cannot read the glyphs of %s", face.fname, exc_info=True)
    return None


def _use(face) -> None:
    """Make `face.name` mean this file and face to matplotlib, ahead of anything else its font
    cache lists under that name."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    manager.addfont(face.fname)  # its other faces too; this also clears findfont's cache
    manager.ttflist.insert(0, face)  # first among entries of its name and weight


@cache
def _fonts() -> tuple[tuple[str, ...], frozenset[int]]:
    """The font families to draw with (fallback order) and every code point they cover."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    families = [BASE_FAMILY]
    fonts = [(font_manager.findfont(font_manager.FontProperties(family=BASE_FAMILY)), 0)]
    face = cjk_face()
    if face is not None:
        try:
            _use(face)
            families.append(face.name)
            fonts.append((face.fname, face.index))
            log.info("charts draw Chinese with %s (%s, face %d)", face.name, face.fname, face.index)
        except Exception:
            log.warning("cannot use the CJK font %s", face.fname, exc_info=True)
    covered: set[int] = set()
    for path, index in fonts:
        try:
            covered |= set(FT2Font(path, face_index=index).get_charmap())
        except Exception:
            log.warning("cannot read the glyphs of %s", path, exc_info=True)
    if len(families) == 1:
        log.info("no CJK font found: charts use English labels (set %s to a font file)", FONT_ENV)
    return tuple(families), frozenset(covered)


def has_cjk_font() -> bool:
    return ord("中") in _fonts()[1]


def _is_emoji(ch: str) -> bool:
    code = ord(ch)
    return code >= 0x1F000 or 0x2600 <= code <= 0x27BF or code in (0xFE0F, 0x200D)


def drawable(text: str) -> str:
    """`text` without the characters no available font can draw (emoji, Chinese without a CJK
    font), so the picture never shows empty boxes."""
    covered = _fonts()[1]
    kept = "".join(ch for ch in text if ch.isspace() or ord(ch) in covered)
    return re.sub(r"\s+", " ", kept).strip()


def can_draw(text: str) -> bool:
    """Whether every character but emoji can be drawn (emoji are dropped silently)."""
    covered = _fonts()[1]
    return all(ch.isspace() or _is_emoji(ch) or ord(ch) in covered for ch in text)


def label_lang(lang: str) -> str:
    """The language for a chart's own words: the chat's, or English when it cannot be drawn."""
    if lang == "en" or can_draw(t(lang, "chart.days_title") + t(lang, "chart.mastery_title")):
        return lang
    return "en"


def _shorten(text: str, width: int) -> str:
    """Cut to `width` columns, counting wide (CJK) characters as two."""
    out, used = [], 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + w > width:
            return "".join(out).rstrip() + "…"
        out.append(ch)
        used += w
    return "".join(out)


# ------------------------------------------------------------------------- figures


def _figure(height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, facecolor=BG)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    _in_chart_fonts(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor=fig.get_facecolor())
    return buffer.getvalue()


def _in_chart_fonts(fig) -> None:
    """Every text of the figure in the chart fonts: titles, axis titles, legends and tick
    labels, those made when the figure is drawn included."""
    from matplotlib.text import Text

    families = list(_fonts()[0])
    for ax in fig.axes:
        ax.tick_params(labelfontfamily=families)
    for text in fig.findobj(Text):
        text.set_fontfamily(families)


def topic_name(lang: str, topic: str) -> str:
    """A glossary topic (a tag: transfer-learning) by its name in `lang` (迁移学习)."""
    return name_of(lang, "topic", topic)


def _text(ax, x, y, s, **kw):
    kw.setdefault("color", INK)
    return ax.text(x, y, s, family=list(_fonts()[0]), parse_math=False, **kw)


# ------------------------------------------------------------------------- leaderboard


def leaderboard_card(
    title: str,
    rows: Sequence[Standing],
    *,
    caller: Standing | None = None,
    lang: str = "en",
) -> bytes:
    """The top ten as a card: medals and tinted rows for the podium, the caller outlined (and
    added below the ten when ranked further down)."""
    from matplotlib.patches import Circle, FancyBboxPatch

    lang = label_lang(lang)
    shown = list(rows[:10])
    extra = caller if caller is not None and all(not r.is_caller for r in shown) else None
    row_h, head_h, foot_h = 0.62, 1.45, 0.35
    gap = 0.5 * row_h  # room for the dots between the ten and the caller
    lines = (len(shown) + (1 if extra else 0)) if shown else 1.5
    height = head_h + lines * row_h + (gap if extra else 0) + foot_h
    fig = _figure(height)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, WIDTH_IN)
    ax.set_ylim(height, 0)  # y grows downwards, like the card is read
    ax.axis("off")

    _text(
        ax,
        0.45,
        0.62,
        _shorten(drawable(title), 44) or "Leaderboard",
        fontsize=26,
        fontweight="bold",
        va="center",
    )
    header_y = 1.2
    for x, key in (
        (7.1, "chart.board.points"),
        (8.35, "chart.board.right"),
        (9.6, "chart.board.accuracy"),
    ):
        _text(ax, x, header_y, t(lang, key), fontsize=14, color=MUTED, ha="right", va="center")
    ax.plot([0.35, WIDTH_IN - 0.35], [head_h - 0.1] * 2, color=GRID, lw=1.5)

    if not shown:
        _text(
            ax,
            WIDTH_IN / 2,
            head_h + 0.6,
            t(lang, "chart.board.empty"),
            fontsize=20,
            color=MUTED,
            ha="center",
            va="center",
        )
        return _png(fig)

    def draw_row(row: Standing, y: float) -> None:
        podium = row.rank <= 3
        if podium or row.is_caller:
            ax.add_patch(
                FancyBboxPatch(
                    (0.3, y - row_h / 2 + 0.05),
                    WIDTH_IN - 0.6,
                    row_h - 0.1,
                    boxstyle="round,pad=0,rounding_size=0.12",
                    facecolor=PODIUM_TINT[row.rank - 1] if podium else "#ddf4ff",
                    edgecolor=CALLER if row.is_caller else "none",
                    linewidth=2.5,
                )
            )
        if podium:
            ax.add_patch(Circle((0.75, y), 0.23, facecolor=PODIUM[row.rank - 1], edgecolor="none"))
        _text(
            ax,
            0.75,
            y,
            str(row.rank),
            fontsize=17 if row.rank < 100 else 12,
            fontweight="bold",
            ha="center",
            va="center",
        )
        name = _shorten(drawable(row.name), 26) or f"#{row.rank}"
        _text(
            ax, 1.25, y, name, fontsize=20, va="center", fontweight="bold" if podium else "normal"
        )
        _text(
            ax, 7.1, y, f"{row.points:,}", fontsize=20, fontweight="bold", ha="right", va="center"
        )
        _text(
            ax,
            8.35,
            y,
            f"{row.correct}/{row.answered}",
            fontsize=17,
            ha="right",
            va="center",
            color=MUTED,
        )
        _text(
            ax,
            9.6,
            y,
            f"{round(row.accuracy * 100)}%",
            fontsize=17,
            ha="right",
            va="center",
            color=MUTED,
        )

    y = head_h + row_h / 2
    for row in shown:
        draw_row(row, y)
        y += row_h
    if extra is not None:
        dots_y = y - row_h / 2 + gap / 2
        _text(ax, WIDTH_IN / 2, dots_y, "⋯", fontsize=20, color=MUTED, ha="center", va="center")
        draw_row(extra, y + gap)
    return _png(fig)


# ------------------------------------------------------------------------- progress


def _draw_progress(ax, days: Sequence[DayStat], lang: str) -> None:
    xs = list(range(len(days)))
    right = [d.correct for d in days]
    wrong = [d.answered - d.correct for d in days]
    ax.bar(xs, right, color=RIGHT, width=0.8, label=t(lang, "chart.right"))
    ax.bar(xs, wrong, bottom=right, color=WRONG, width=0.8, label=t(lang, "chart.wrong"))
    ax.set_ylabel(t(lang, "chart.answers"), fontsize=15, color=INK, family=list(_fonts()[0]))
    top = max((d.answered for d in days), default=0)
    ax.set_ylim(0, max(5, top * 1.15))
    ax.grid(axis="y", color=GRID, lw=0.8)
    ax.set_axisbelow(True)
    ticks = [i for i in xs if (len(xs) - 1 - i) % 5 == 0]
    ax.set_xticks(ticks, [days[i].day.strftime("%m-%d") for i in ticks])
    ax.set_xlim(-0.7, len(xs) - 0.3)
    ax.tick_params(labelsize=13, colors=INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    acc = ax.twinx()
    pct = [100 * d.correct / d.answered if d.answered else float("nan") for d in days]
    acc.plot(xs, pct, color=ACCURACY, lw=2.5, marker="o", ms=6, label=t(lang, "chart.accuracy"))
    acc.set_ylim(0, 105)
    acc.set_ylabel(
        t(lang, "chart.accuracy") + " %", fontsize=15, color=ACCURACY, family=list(_fonts()[0])
    )
    acc.tick_params(labelsize=13, colors=ACCURACY)
    acc.spines["top"].set_visible(False)

    handles = ax.get_legend_handles_labels()[0] + acc.get_legend_handles_labels()[0]
    ax.legend(
        handles=handles,
        loc="upper left",
        frameon=False,
        ncols=3,
        prop={"family": list(_fonts()[0]), "size": 13},
    )
    ax.set_title(
        t(lang, "chart.days_title"),
        fontsize=20,
        color=INK,
        loc="left",
        pad=12,
        family=list(_fonts()[0]),
    )


def _draw_mastery(ax, topics: Sequence[TopicStat], lang: str) -> None:
    shown = sorted(topics, key=lambda s: (-s.total, s.topic))[:10]
    ax.set_title(
        t(lang, "chart.mastery_title"),
        fontsize=20,
        color=INK,
        loc="left",
        pad=12,
        family=list(_fonts()[0]),
    )
    if not shown:
        ax.axis("off")
        return
    ys = list(range(len(shown)))[::-1]
    mastered = [100 * s.mastered / s.total if s.total else 0 for s in shown]
    learning = [100 * s.learning / s.total if s.total else 0 for s in shown]
    rest = [100 - m - lr for m, lr in zip(mastered, learning, strict=True)]
    ax.barh(ys, mastered, color=MASTERED, height=0.7, label=t(lang, "chart.mastered"))
    ax.barh(
        ys, learning, left=mastered, color=LEARNING, height=0.7, label=t(lang, "chart.learning")
    )
    lefts = [m + lr for m, lr in zip(mastered, learning, strict=True)]
    ax.barh(ys, rest, left=lefts, color=NOT_STARTED, height=0.7, label=t(lang, "chart.not_started"))
    ax.set_yticks(ys, [_shorten(drawable(topic_name(lang, s.topic)), 22) or "?" for s in shown])
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 25, 50, 75, 100], ["0", "25", "50", "75", "100%"])
    ax.tick_params(labelsize=14, colors=INK)
    for y, s in zip(ys, shown, strict=True):
        _text(ax, 99, y, f"{s.mastered}/{s.total}", fontsize=13, ha="right", va="center", color=INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncols=3,
        frameon=False,
        prop={"family": list(_fonts()[0]), "size": 13},
    )


def progress_chart(days: Sequence[DayStat], *, lang: str = "en") -> bytes:
    """Answers per day (right and wrong) and the day's accuracy, for the days given (30)."""
    lang = label_lang(lang)
    fig = _figure(6.0)
    fig.set_layout_engine("constrained")
    _draw_progress(fig.add_subplot(), days, lang)
    return _png(fig)


def mastery_chart(topics: Sequence[TopicStat], *, lang: str = "en") -> bytes:
    """Per topic: the share of its terms mastered, being learnt and not started."""
    lang = label_lang(lang)
    fig = _figure(max(4.0, 1.8 + 0.55 * min(len(topics), 10)))
    fig.set_layout_engine("constrained")
    _draw_mastery(fig.add_subplot(), topics, lang)
    return _png(fig)


def stats_figure(days: Sequence[DayStat], topics: Sequence[TopicStat], *, lang: str = "en"):
    """The figure of `stats_card`, not yet drawn."""
    lang = label_lang(lang)
    mastery_h = max(3.5, 1.6 + 0.55 * min(len(topics), 10))
    fig = _figure(5.5 + mastery_h)
    fig.set_layout_engine("constrained", h_pad=0.3)
    top, bottom = fig.subplots(2, 1, height_ratios=[5.5, mastery_h])
    _draw_progress(top, days, lang)
    _draw_mastery(bottom, topics, lang)
    return fig


def stats_card(days: Sequence[DayStat], topics: Sequence[TopicStat], *, lang: str = "en") -> bytes:
    """Both charts in one picture (one message instead of two)."""
    return _png(stats_figure(days, topics, lang=lang))
