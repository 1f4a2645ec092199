"""PNG pictures: sane sizes, readable on a phone, and never an empty box for a glyph."""

from __future__ import annotations

import io
import warnings
from datetime import date, timedelta

import pytest
from PIL import Image as PILImage

from bot.core import charts
from bot.core.charts import DayStat, TopicStat
from bot.core.replies import Standing

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    with PILImage.open(io.BytesIO(png)) as image:
        image.verify()
        return image.size


def rows(names):
    return [
        Standing(rank=i, name=name, points=5000 - 300 * i, correct=20 - i, answered=25)
        for i, name in enumerate(names, start=1)
    ]


TEN = ["Ada", "张伟", "Bob 🚀", "$\\frac{x", "A" * 60, "Eve", "Fay", "Gus", "Hal", "Ivy"]


def test_leaderboard_card_sizes_and_strange_names():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph or a mathtext error would warn/raise
        full = charts.leaderboard_card("🏆 Chat leaderboard · all time", rows(TEN))
        with_caller = charts.leaderboard_card(
            "Global", rows(TEN), caller=Standing(42, "Me", 10, 1, 3, is_caller=True)
        )
        empty = charts.leaderboard_card("Global", [])
    width, height = size(full)
    assert width == 1000 and 600 <= height <= 1000
    assert size(with_caller)[1] > height  # the caller's own row below the ten
    assert size(empty)[0] == 1000 and size(empty)[1] < height
    assert len(full) < 300_000


def test_progress_and_mastery_charts():
    start = date(2026, 10, 27)
    days = [DayStat(start + timedelta(days=i), i % 7, (i % 7) // 2) for i in range(30)]
    topics = [TopicStat(f"topic-{i}", 10 + i, i, 2) for i in range(14)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        progress = charts.progress_chart(days, lang="zh")
        mastery = charts.mastery_chart(topics)
        card = charts.stats_card(days, topics, lang="en")
        quiet = charts.progress_chart([DayStat(start, 0, 0)] * 30)  # no answers at all
    assert size(progress) == (1000, 600)
    assert size(mastery)[0] == 1000 and size(mastery)[1] >= 400
    assert size(card)[0] == 1000 and 900 <= size(card)[1] <= 1300
    assert size(quiet) == (1000, 600)


def test_text_without_a_font_for_it_is_left_out_not_boxed(monkeypatch):
    assert charts.drawable("Bob 🚀") == "Bob"
    if not charts.has_cjk_font():
        assert charts.drawable("张伟") == ""
        assert charts.label_lang("zh") == "en"  # chart words fall back to English
    else:
        assert charts.drawable("张伟") == "张伟"
        assert charts.label_lang("zh") == "zh"
    # With a CJK font (simulated coverage), Chinese is kept and the labels stay Chinese.
    families, covered = charts._fonts()
    monkeypatch.setattr(
        charts, "_fonts", lambda: (families, covered | {ord(c) for c in "张伟最近天各主题掌握情况"})
    )
    assert charts.drawable("张伟 🚀") == "张伟"
    assert charts.label_lang("zh") == "zh"


@pytest.mark.parametrize(
    "text,width,expected",
    [("abc", 5, "abc"), ("abcdefgh", 5, "abcde…"), ("机器学习术语", 6, "机器学…")],
)
def test_shorten_counts_wide_characters_twice(text, width, expected):
    assert charts._shorten(text, width) == expected
