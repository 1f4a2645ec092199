"""Numbers a user reads: `stats`, the leaderboards and the charts' data count questions, not
tries; `/quiz start N` names its range; every number is written one way; `/leaderboard image`
sends the picture alone; `content import` reports only the lines it really skipped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import bot.storage.practice_models  # noqa: F401  (until bot.storage.models imports it)
from bot.content.importer import parse_document, summary
from bot.core import render
from bot.core.charts import DayStat
from bot.core.events import ChatRef
from bot.core.features import register
from bot.core.replies import (
    AnswerFeedback,
    AskQuestion,
    Image,
    Leaderboard,
    Notice,
    QuestionResult,
    RoundOver,
    Standing,
)
from bot.core.stats import StatsService
from tests.test_rounds import ADMIN, ALICE, BOB, CAROL, GROUP, Harness, first

SEEDS = Path(__file__).parent / "data" / "seeds"
ME = ChatRef("test", "dm-counts", "private")


@pytest.fixture
def h(uow_factory, mini_glossary, clock):
    harness = Harness(uow_factory, mini_glossary, clock)
    harness.features = register(harness.dispatcher, uow_factory, mini_glossary, clock)
    return harness


async def one_question_round(h, types: str, answers: tuple = (None,)):
    """A one-question round in ALICE's private chat: the typed `answers` (None: the right
    one), or the right option of a multiple-choice question."""
    await h.command(ALICE, "settings", "types", types, chat=ME)
    ask = first(await h.command(ALICE, "quiz", "start", "1", chat=ME), AskQuestion)
    if ask.question.options:
        return await h.pick(ALICE, ask, ask.question.correct_option, chat=ME)
    replies = []
    for text in answers:
        h.clock.advance(1)
        replies = await h.type(ALICE, ask.question.answer if text is None else text, chat=ME)
    return replies


async def test_stats_and_boards_count_questions_not_tries(h, uow_factory, mini_glossary):
    # A typed question missed in three tries; a multiple-choice question right; a typed
    # question right at the second try: 3 questions, 2 right, 6 tries.
    missed = await one_question_round(h, "fill", ("nope", "still no", "no idea"))
    assert first(missed, RoundOver)
    await one_question_round(h, "mc")
    second_try = await one_question_round(h, "fill", ("nope", None))
    assert first(second_try, AnswerFeedback).correct

    async with uow_factory() as uow:
        user = await uow.users.get_or_create("test", ALICE, h.clock())
        await uow.commit()
    f = await StatsService(uow_factory, mini_glossary).figures(user.id, h.clock())
    assert (f.answered, f.correct) == (3, 2)
    assert f.tries == 6
    assert round(f.accuracy * 100) == 67
    assert (f.current_streak, f.best_streak) == (2, 2)  # right, right: the miss came first
    assert f.days[-1] == DayStat(h.clock().date(), 3, 2)  # the chart's data agree
    [weak] = f.weakest
    assert (weak.wrong, weak.answered) == (1, 1)

    [text, _chart] = await h.command(ALICE, "stats", chat=ME)
    assert text.text.splitlines()[1] == "Questions answered: 3 (6 tries) · accuracy 67%"
    assert text.text.splitlines()[2] == "Right answers in a row: 2 now, best 2"

    for scope in ("chat", "global"):
        board = first(await h.command(ALICE, "leaderboard", scope, chat=ME), Leaderboard)
        [row] = board.rows
        assert (row.correct, row.answered) == (2, 3)
        assert board.text.splitlines()[1].endswith("2 right (67%) ◀")


async def test_a_group_typed_question_counts_once_per_player_on_the_board(h):
    await h.command(ADMIN, "settings", "types", "fill")
    await h.command(ADMIN, "settings", "mode", "classic")
    ask = first(await h.command(ADMIN, "quiz", "start", "1"), AskQuestion)
    for text in ("nope", "still no"):
        h.clock.advance(1)
        await h.type(BOB, text)
    h.clock.advance(1)
    closing = await h.type(ALICE, ask.question.answer)
    first(closing, QuestionResult)
    board = first(await h.command(ADMIN, "leaderboard"), Leaderboard)
    rows = {r.name: (r.correct, r.answered) for r in board.rows}
    assert rows == {"Alice": (1, 1), "Bob": (0, 1)}  # Bob's two tries: one question


@pytest.mark.parametrize("number", ["99", "0", "51", "five", "-3", "3 4"])
async def test_quiz_start_out_of_range_names_the_range_and_starts_nothing(h, number):
    replies = await h.command(ALICE, "quiz", "start", *number.split())
    [notice] = replies
    assert isinstance(notice, Notice) and notice.kind == "usage"
    assert "1 to 50" in notice.text and "No round was started" in notice.text
    assert notice.private_to == ALICE.platform_user_id
    assert first(await h.command(ALICE, "quiz", "start", "3"), AskQuestion).total == 3


async def test_quiz_start_out_of_range_in_chinese(h):
    [notice] = await h.command(CAROL, "quiz", "start", "99")
    assert "1 到 50" in notice.text


async def test_points_are_written_one_way_on_every_board(h, uow_factory):
    async with uow_factory() as uow:
        chat = await uow.chats.get_or_create(GROUP, h.clock())
        user = await uow.users.get_or_create("test", ALICE, h.clock())
        await uow.scores.add_many([(user.id, chat.id, 46656, True, h.clock())])
        await uow.commit()
    board = first(await h.command(ALICE, "leaderboard"), Leaderboard)
    assert "46,656 pts" in board.text and "46656" not in board.text
    [mine] = board.rows
    # Chinese groups digits by three with a comma too (CLDR's zh pattern #,##0).
    assert "46,656 分" in render.standing_line("zh", mine)
    row = Standing(1, "Ann", 1234567, 1500, 2000)
    assert "1,234,567 pts, 1,500 right" in render.standing_line("en", row)
    assert render.number("zh", 46656) == render.number("en", 46656) == "46,656"
    over = render.round_over_text("en", "done", [row], solo=True)
    assert over.splitlines()[1] == "You got 1,500 of 2,000 right, 1,234,567 points."


async def test_leaderboard_image_is_the_picture_alone(h, uow_factory):
    async with uow_factory() as uow:
        chat = await uow.chats.get_or_create(GROUP, h.clock())
        user = await uow.users.get_or_create("test", ALICE, h.clock())
        await uow.scores.add_many([(user.id, chat.id, 900, True, h.clock())])
        await uow.commit()
    replies = await h.command(ALICE, "leaderboard", "week", "image")
    [image] = replies
    assert isinstance(image, Image) and image.png.startswith(b"\x89PNG")
    assert image.text.startswith("🏆 Chat leaderboard · this week")
    # Without a picture to send (no drawing registered), the text board answers instead.
    h.dispatcher.extra.pop("_board_image")
    [board] = await h.command(ALICE, "leaderboard", "image")
    assert isinstance(board, Leaderboard) and board.rows


async def test_telegram_leaderboard_image_sends_only_the_photo(server, make_world):
    world = await make_world()
    tom = server.user(5, "Tom")
    server.send_text(tom, "/quiz start 1")
    poll, _ = await world.question(tom.id, 0)
    ask = await world.open_question(ChatRef("telegram", str(tom.id), "private"), tom)
    mark = server.mark()
    server.answer_poll(tom, poll.result, [ask.question.correct_option])
    await server.wait_for("sendMessage", chat_id=tom.id, since=mark)

    mark = server.mark()
    server.send_text(tom, "/leaderboard image")
    [photo] = await server.wait_for("sendPhoto", chat_id=tom.id, since=mark)
    assert photo.params["caption"].startswith("🏆 Chat leaderboard")
    assert server.calls_to("sendMessage", since=mark) == []  # no text board, no button

    mark = server.mark()
    server.send_text(tom, "/leaderboard")
    [board] = await server.wait_for("sendMessage", chat_id=tom.id, since=mark)
    assert "reply_markup" in board.params  # the text board still offers the picture
    server.assert_no_errors()


# ------------------------------------------------------------------ content import


def skipped_lines(text: str) -> set[int]:
    """The line numbers a "skipped line 3" / "skipped lines 66, 68, 73-75" line names."""
    where = re.match(r"skipped lines? ([\d, \-]+):", text).group(1)
    found: set[int] = set()
    for part in where.split(", "):
        low, _, high = part.partition("-")
        found |= set(range(int(low), int(high or low) + 1))
    return found


@pytest.mark.parametrize("seed", sorted(p.name for p in SEEDS.glob("*.txt")))
def test_import_never_reports_a_kept_line_as_skipped(seed):
    result = parse_document((SEEDS / seed).read_text(encoding="utf-8"), seed)
    lines = [line.strip() for line in summary(result)]
    kept = {int(m.group(1)) for line in lines if (m := re.match(r"kept line (\d+):", line))}
    for line in lines:
        if line.startswith("skipped"):
            assert not skipped_lines(line) & kept, line


def test_a_heading_whose_bullets_define_terms_names_only_its_own_lines():
    seed = "004_b707847ecc6351ff.txt"
    result = parse_document((SEEDS / seed).read_text(encoding="utf-8"), seed)
    lines = [line.strip() for line in summary(result)]
    heading = next(line for line in lines if "its bullets define the terms" in line)
    assert heading.startswith("skipped lines 66, 68, 73: heading “训练/验证损失” and the text")
    at = lines.index(heading)
    assert lines[at + 1 : at + 3] == ["kept line 70: 训练损失", "kept line 71: 验证损失"]
