"""Chinese charts with a CJK font installed: every text drawn with it, no glyph missing (matplotlib
warns for each one, and the warnings are errors here), the regular Simplified Chinese face
whatever the font cache lists first, and topics by their Chinese names. Without a CJK font the
tests that need one are skipped (Debian: `apt-get install fonts-noto-cjk`); the fallback to
English labels is tested with the font hidden."""

from __future__ import annotations

import io
import os
import re
import subprocess
import warnings
from datetime import date, timedelta
from pathlib import Path

import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text
from PIL import Image as PILImage

from bot.core import charts
from bot.core.charts import DayStat, TopicStat
from bot.core.replies import Standing

DAYS = [DayStat(date(2026, 10, 27) + timedelta(days=i), i % 7, (i % 7) // 2) for i in range(30)]
TOPICS = [
    TopicStat(tag, 10 + i, i, 2)
    for i, tag in enumerate(("training", "transfer-learning", "nlp", "rl", "vision"))
]
HAN = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(autouse=True)
def fonts_found_afresh():
    """Each test finds the fonts itself (the choice is cached per process), and leaves no
    choice made under its patches behind."""
    charts._fonts.cache_clear()
    yield
    charts._fonts.cache_clear()
    font_manager.fontManager._findfont_cached.cache_clear()


def fontconfig_cjk_files() -> list[str]:
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10
        ).stdout
    except OSError:
        return []
    return sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})


@pytest.fixture
def cjk_face():
    """The face the charts use for Chinese (skipped when no CJK font is installed)."""
    if not fontconfig_cjk_files() and not os.environ.get(charts.FONT_ENV):
        pytest.skip(
            "no CJK font installed (Debian: apt-get install fonts-noto-cjk; or set "
            f"{charts.FONT_ENV} to a font file with Chinese glyphs)"
        )
    families, _ = charts._fonts()
    assert len(families) == 2, "a CJK font is installed, but the charts do not use it"
    found = font_manager.findfont(font_manager.FontProperties(family=families[1]))
    face = font_manager.ttfFontProperty(FT2Font(found, face_index=found.face_index))
    assert face.name == families[1] and face.weight == 400 and face.style == "normal"
    return face


def noto_cjk_files() -> tuple[str, str]:
    """NotoSansCJK-Regular.ttc and NotoSansCJK-Bold.ttc, as fontconfig knows them."""
    files = {Path(f).name: f for f in fontconfig_cjk_files()}
    if "NotoSansCJK-Regular.ttc" not in files or "NotoSansCJK-Bold.ttc" not in files:
        pytest.skip("Noto Sans CJK is not installed (Debian: apt-get install fonts-noto-cjk)")
    return files["NotoSansCJK-Regular.ttc"], files["NotoSansCJK-Bold.ttc"]


def drawn(fig) -> bytes:
    """The PNG, any missing glyph (or other matplotlib warning) raised as an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = charts._png(fig)
    with PILImage.open(io.BytesIO(png)) as image:
        image.verify()
    return png


def chinese_texts(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and HAN.search(t.get_text())]


def test_the_chinese_stats_chart_draws_every_text_with_the_cjk_font(cjk_face):
    fig = charts.stats_figure(DAYS, TOPICS, lang="zh")
    drawn(fig)
    top, bottom, accuracy_axis = fig.axes  # progress, mastery, the accuracy twin of progress
    assert top.get_ylabel() == "答题数" and accuracy_axis.get_ylabel() == "正确率 %"
    topics = [label.get_text() for label in bottom.get_yticklabels()]
    assert set(topics) == {"训练", "迁移学习", "自然语言处理", "强化学习", "计算机视觉"}
    texts = chinese_texts(fig)
    assert {"答题数", "正确率 %", "最近 30 天", "各主题掌握情况", "迁移学习"} <= {
        t.get_text() for t in texts
    }
    for text in texts:
        assert cjk_face.name in text.get_fontfamily(), text.get_text()
    # The family name means the chosen file and face to matplotlib.
    found = font_manager.findfont(font_manager.FontProperties(family=cjk_face.name))
    assert (os.path.realpath(found), found.face_index) == (
        os.path.realpath(cjk_face.fname),
        cjk_face.index,
    )


def test_every_chinese_picture_has_all_its_glyphs(cjk_face):
    charts.stats_card(DAYS, TOPICS, lang="zh")  # through the public path too
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        charts.progress_chart(DAYS, lang="zh")
        charts.mastery_chart(TOPICS, lang="zh")
        charts.leaderboard_card(
            "🏆 本群排行榜 · 总榜",
            [Standing(i, n, 900 - i, 9, 10) for i, n in enumerate(["张伟", "Ann", "李雷"], 1)],
            caller=Standing(42, "王芳", 10, 1, 3, is_caller=True),
            lang="zh",
        )
        charts.leaderboard_card("🏆 全站排行榜", [], lang="zh")


def test_the_regular_simplified_chinese_face_whatever_the_cache_lists(monkeypatch):
    regular, bold = noto_cjk_files()
    # A font cache built before the font was installed knows none of it, and fontconfig
    # lists the bold file first.
    manager = font_manager.fontManager
    monkeypatch.setattr(manager, "ttflist", [f for f in manager.ttflist if "CJK" not in f.name])
    monkeypatch.setattr(charts, "_fc_list_cjk", lambda: [bold, regular])
    families, _ = charts._fonts()
    assert families == ("DejaVu Sans", "Noto Sans CJK SC")
    found = manager.findfont(font_manager.FontProperties(family="Noto Sans CJK SC"))
    assert (os.path.realpath(found), found.face_index) == (os.path.realpath(regular), 2)
    face = charts.cjk_face()
    assert (face.fname, face.index, face.name, face.weight, face.style) == (
        regular,
        2,
        "Noto Sans CJK SC",
        400,
        "normal",
    )

    # A cache that lists the bold faces first does not change the choice either.
    charts._fonts.cache_clear()
    bold_faces = charts._faces(bold)
    monkeypatch.setattr(manager, "ttflist", bold_faces + list(manager.ttflist))
    families, _ = charts._fonts()
    found = manager.findfont(font_manager.FontProperties(family=families[1]))
    assert (os.path.realpath(found), found.face_index) == (os.path.realpath(regular), face.index)
    drawn(charts.stats_figure(DAYS, TOPICS, lang="zh"))


def test_a_configured_font_collection_gives_its_simplified_chinese_face(monkeypatch):
    regular, _bold = noto_cjk_files()
    monkeypatch.setenv(charts.FONT_ENV, regular)
    face = charts.cjk_face()
    assert (face.fname, face.name) == (regular, "Noto Sans CJK SC")
    assert charts._fonts()[0][1] == "Noto Sans CJK SC"


def test_without_a_cjk_font_chinese_charts_fall_back_to_english(monkeypatch, tmp_path):
    manager = font_manager.fontManager
    monkeypatch.setattr(
        manager, "ttflist", [f for f in manager.ttflist if f.name not in charts.CJK_FAMILIES]
    )
    monkeypatch.setattr(charts, "_fc_list_cjk", lambda: [])
    monkeypatch.delenv(charts.FONT_ENV, raising=False)
    assert charts._fonts()[0] == ("DejaVu Sans",) and not charts.has_cjk_font()
    assert charts.label_lang("zh") == "en"
    fig = charts.stats_figure(DAYS, TOPICS, lang="zh")
    drawn(fig)
    assert not chinese_texts(fig)
    assert fig.axes[0].get_ylabel() == "Answers"
    topics = {label.get_text() for label in fig.axes[1].get_yticklabels()}
    assert topics == {"training", "transfer learning", "NLP", "reinforcement learning", "vision"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        charts.leaderboard_card("🏆 本群排行榜", [Standing(1, "张伟", 900, 9, 10)], lang="zh")

    # A configured file that is not there is said so, and changes nothing.
    charts._fonts.cache_clear()
    monkeypatch.setenv(charts.FONT_ENV, str(tmp_path / "missing.ttc"))
    assert charts.cjk_face() is None and not charts.has_cjk_font()
