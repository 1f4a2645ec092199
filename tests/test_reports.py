"""Question reports through the platform-neutral core, on a real database (SQLite, and PostgreSQL
when configured): the choice of reasons, one report per user, question and reason, what is
refused, the hold-back of an entry reported by several users (rounds and practice), and the
curator's `quizbot content reports` command."""

from __future__ import annotations

import asyncio
import itertools
import json
import random

import fsrs
import pytest
from sqlalchemy import text

from bot.cli import main as quizbot
from bot.core.boards import BoardService
from bot.core.dispatcher import Dispatcher
from bot.core.events import ChatRef, Command, OptionAnswer, Sender, TextAnswer
from bot.core.features import register
from bot.core.practice import PracticeService
from bot.core.replies import (
    AnswerFeedback,
    AskQuestion,
    QuestionResult,
    ReportChoice,
    RoundOver,
)
from bot.core.reports import HOLD_BACK_REPORTERS, REASONS, held_back
from bot.core.services import QuizService
from bot.storage import db
from bot.storage.uow import unit_of_work_factory

GROUP = ChatRef("test", "g1", "group", "Quiz Club")
OTHER_GROUP = ChatRef("test", "g2", "group", "Other Club")
DM = ChatRef("test", "dm-1", "private", "")
ADMIN = Sender("100", "Ada", "en", is_admin=True)
ALICE = Sender("1", "Alice", "en")
BOB = Sender("2", "Bob", "en")
CAROL = Sender("3", "Carol", "zh")
DAVE = Sender("4", "Dave", "en")

_ids = itertools.count(1)


class Harness:
    """The core as bot.app wires it: quiz, practice and reports registered on the dispatcher."""

    def __init__(self, uow_factory, glossary, clock, seed: int = 7) -> None:
        self.uow = uow_factory
        self.clock = clock
        self.quiz = QuizService(uow_factory, glossary, rng=random.Random(seed))
        self.dispatcher = Dispatcher(self.quiz, BoardService(uow_factory))
        practice = PracticeService(
            uow_factory,
            glossary,
            scheduler=fsrs.Scheduler(enable_fuzzing=False),
            rng=random.Random(seed),
            new_per_day=50,
        )
        register(self.dispatcher, uow_factory, glossary, clock, practice=practice)

    async def command(self, sender, name, *args, chat=GROUP):
        event = Command(chat, sender, f"e{next(_ids)}", self.clock(), name=name, args=args)
        return await self.dispatcher.dispatch(event)

    async def report(self, sender, *args, chat=GROUP):
        return await self.command(sender, "report", *args, chat=chat)

    async def type(self, sender, words, *, chat=GROUP, ref=None):
        event = TextAnswer(
            chat, sender, f"e{next(_ids)}", self.clock(), text=words, question_ref=ref
        )
        return await self.dispatcher.dispatch(event)

    async def pick(self, sender, ask: AskQuestion, option: int, *, chat=GROUP):
        event = OptionAnswer(
            chat, sender, f"e{next(_ids)}", self.clock(), option=option,
            question_ref=ask.question_ref,
        )  # fmt: skip
        return await self.dispatcher.dispatch(event)

    async def one_question_round(self, chat=GROUP, types="typed") -> AskQuestion:
        """A round of one question (of these types) started; its question."""
        await self.command(ADMIN, "settings", "types", types, chat=chat)
        return first(await self.command(ADMIN, "quiz", "start", "1", chat=chat), AskQuestion)

    async def close(self, ask: AskQuestion) -> list:
        self.clock.advance(ask.seconds + 1)
        async with self.uow() as uow:
            rq = await uow.rounds.question(ask.round_question_id)
            round_id = rq.round_id
        return await self.quiz.tick(round_id, self.clock())

    async def rows(self, sql: str) -> list:
        async with self.uow() as uow:
            return [tuple(r) for r in (await uow.session.execute(text(sql))).all()]


def first(replies, kind):
    found = [r for r in replies if isinstance(r, kind)]
    assert found, f"no {kind.__name__} in {replies!r}"
    return found[0]


@pytest.fixture
def h(uow_factory, mini_glossary, clock) -> Harness:
    return Harness(uow_factory, mini_glossary, clock)


# ------------------------------------------------------------------ reporting


async def test_a_refused_typed_answer_is_reported_once_per_user_question_and_reason(h):
    ask = await h.one_question_round()
    assert not ask.question.options
    await h.type(ALICE, "cost func", ref=ask.question_ref)  # refused
    closed = await h.close(ask)
    result = first(closed, QuestionResult)
    assert result.report_ref == f"rq:{ask.round_question_id}"
    assert isinstance(closed[-1], RoundOver)  # the round is done: reports come after it too

    choice = first(await h.report(ALICE, result.report_ref), ReportChoice)
    assert choice.private_to == ALICE.platform_user_id
    assert choice.question_ref == result.report_ref
    assert [code for code, _ in choice.reasons] == list(REASONS)
    assert [label for _, label in choice.reasons] == [
        "The answer key is wrong",
        "My answer should count",
        "The question is unclear",
    ]
    assert choice.text.splitlines()[1:] == [
        "1) The answer key is wrong",
        "2) My answer should count",
        "3) The question is unclear",
    ]
    assert await h.rows("SELECT count(*) FROM question_reports") == [(0,)]

    [thanks] = await h.report(ALICE, result.report_ref, "should_count")
    assert (thanks.kind, thanks.private_to) == ("ok", "1")
    assert thanks.text == "⚑ Thanks, reported: My answer should count. A curator will look at it."
    # Pressed again, by its code or its number, or redelivered: still one report.
    for again in ("should_count", "2"):
        [notice] = await h.report(ALICE, result.report_ref, again)
        assert notice.kind == "info" and notice.text.startswith("You already reported")
    [(entry_id, ref, question, answer, reason, status)] = await h.rows(
        "SELECT entry_id, question_ref, question, answer, reason, status FROM question_reports"
    )
    question = json.loads(question) if isinstance(question, str) else question
    assert (entry_id, ref, answer, reason, status) == (
        ask.question.entry_id, result.report_ref, "cost func", "should_count", "open",
    )  # fmt: skip
    assert question == ask.question.to_json()  # what was asked, whatever the glossary says now

    # Another reason is another report; someone who did not answer reports with no answer.
    [ok] = await h.report(ALICE, result.report_ref, "wrong_key")
    [ok2] = await h.report(CAROL, result.report_ref, "3")
    assert ok.kind == ok2.kind == "ok"
    assert ok2.text == "⚑ 谢谢，已提交报错：题目表述不清。维护者会审核。"  # Carol's language
    assert await h.rows(
        "SELECT u.display_name, r.reason, r.answer FROM question_reports r "
        "JOIN users u ON u.id = r.user_id ORDER BY r.id"
    ) == [
        ("Alice", "should_count", "cost func"),
        ("Alice", "wrong_key", "cost func"),
        ("Carol", "unclear", None),
    ]


async def test_what_cannot_be_reported_is_refused_and_stores_nothing(h):
    ask = await h.one_question_round()
    ref = f"rq:{ask.round_question_id}"
    usage = "To report a question, press ⚑ Report under its result."
    unknown = "That question cannot be reported here."
    assert [r.text for r in await h.report(ALICE)] == [usage]
    assert [r.text for r in await h.report(ALICE, ref, "because")] == [usage]
    for forged in ("rq:99999999", "rq:99999999999", "rq:-1", "pr:77", "tg:poll:5", "x"):
        assert [r.text for r in await h.report(ALICE, forged)] == [unknown], forged
    # A question of another chat, and a question not asked yet.
    assert [r.text for r in await h.report(ALICE, ref, chat=OTHER_GROUP)] == [unknown]
    await h.close(ask)
    await h.command(ADMIN, "settings", "types", "mc")
    later = first(await h.command(ADMIN, "quiz", "start", "3"), AskQuestion)
    pending = f"rq:{later.round_question_id + 2}"
    assert [r.text for r in await h.report(ALICE, pending, "unclear")] == [unknown]
    await h.command(ADMIN, "quiz", "stop")
    # A practice question is its learner's own.
    ask = first(await h.command(ALICE, "practice", chat=DM), AskQuestion)
    assert ask.question_ref.startswith("pr:")
    assert [r.text for r in await h.report(BOB, ask.question_ref, "1", chat=DM)] == [unknown]
    assert await h.rows("SELECT count(*) FROM question_reports") == [(0,)]


async def test_a_practice_verdict_is_reportable_with_the_answer_given(h):
    ask = first(await h.command(ALICE, "practice", chat=DM), AskQuestion)
    assert ask.question.options  # a new term starts with multiple choice
    wrong = (ask.question.correct_option + 1) % len(ask.question.options)
    h.clock.advance(3)
    verdict = first(await h.pick(ALICE, ask, wrong, chat=DM), AnswerFeedback)
    assert verdict.report_ref == ask.question_ref and verdict.lang == "en"
    [thanks] = await h.report(ALICE, verdict.report_ref, "should_count", chat=DM)
    assert thanks.kind == "ok"
    assert await h.rows("SELECT question_ref, answer FROM question_reports") == [
        (ask.question_ref, ask.question.options[wrong])
    ]


# ------------------------------------------------------------------ hold-back


async def _reports_on(h: Harness, entry_ids: list[str], by: list[Sender]) -> None:
    """Each of `by` reports a question about each entry (stored directly: the service's path
    is tested above)."""
    async with h.uow() as uow:
        chat = await uow.chats.get_or_create(GROUP, h.clock())
        for sender in by:
            user = await uow.users.get_or_create("test", sender, h.clock())
            for entry_id in entry_ids:
                await uow.reports.add(
                    user_id=user.id, chat_id=chat.id, entry_id=entry_id,
                    question_ref=f"rq:{next(_ids)}", question={"entry_id": entry_id},
                    answer=None, reason="unclear", created_at=h.clock(),
                )  # fmt: skip
        await uow.commit()


async def _entries_of_a_full_round(h: Harness, chat: ChatRef) -> set[str]:
    """The entries of a round asking for every entry there is (then stopped)."""
    await h.command(ADMIN, "settings", "types", "mixed", chat=chat)
    await h.command(ADMIN, "settings", "lang", "mixed", chat=chat)  # both glossaries
    first(await h.command(ADMIN, "quiz", "start", "50", chat=chat), AskQuestion)
    await h.command(ADMIN, "quiz", "stop", chat=chat)
    rows = await h.rows(
        "SELECT q.entry_id FROM round_questions q JOIN rounds r ON r.id = q.round_id "
        "WHERE r.id = (SELECT max(id) FROM rounds)"
    )
    return {entry_id for (entry_id,) in rows}


async def test_an_entry_reported_by_three_users_is_held_back_until_reviewed(h, mini_glossary):
    assert HOLD_BACK_REPORTERS == 3
    # The real path first: three users report the question a round asked about "x".
    ask = await h.one_question_round(types="mc")
    held_entry = ask.question.entry_id
    closed = await h.close(ask)
    ref = first(closed, QuestionResult).report_ref
    await h.report(ALICE, ref, "wrong_key")
    await h.report(ALICE, ref, "unclear")  # one user twice is still one user
    await h.report(BOB, ref, "unclear")
    everything = {e.id for e in mini_glossary.entries}
    async with h.uow() as uow:
        assert await held_back(uow) == set()  # two users: not yet
    # Another entry reported by two users is not held back either.
    other = next(e for e in sorted(everything) if e != held_entry)
    await _reports_on(h, [other], [ALICE, BOB])

    await h.report(CAROL, ref, "should_count")
    async with h.uow() as uow:
        assert await held_back(uow) == {held_entry}
    drawn = await _entries_of_a_full_round(h, OTHER_GROUP)
    assert held_entry not in drawn and other in drawn
    assert len(drawn) >= len(everything) - 2  # the rest is drawn as before

    # Practice never asks it either, new term or due card.
    asked = []
    reply = await h.command(DAVE, "practice", chat=DM)
    for _ in range(3 * len(everything)):
        ask = next((r for r in reply if isinstance(r, AskQuestion)), None)
        if ask is None:
            break
        asked.append(ask.question.entry_id)
        h.clock.advance(2)
        if ask.question.options:
            reply = await h.pick(DAVE, ask, ask.question.correct_option, chat=DM)
        else:
            reply = await h.type(DAVE, ask.question.answer, chat=DM)
    assert asked and held_entry not in asked

    # A curator reviews one of the three users' reports: two users left, it comes back.
    async with h.uow() as uow:
        [bob_report] = [
            r for r, name, *_ in await uow.reports.listed(entry_id=held_entry) if name == "Bob"
        ]
        assert await uow.reports.review([bob_report.id], "rejected", h.clock()) == 1
        assert await uow.reports.review([bob_report.id], "accepted", h.clock()) == 0
        await uow.commit()
    async with h.uow() as uow:
        assert await held_back(uow) == set()
    assert held_entry in await _entries_of_a_full_round(h, OTHER_GROUP)


# ------------------------------------------------------------------ the curator's command

GLOSSARY = """\
entries:
  - id: "loss-function"
    term: "Loss function"
    aliases: ["cost function"]
    lang: "en"
    definition: "A function that measures how far the predictions are from the true values."
    gist: "Measures how far predictions are from the truth"
    tags: ["training"]
    source: "test"
  - id: "dropout"
    term: "Dropout"
    lang: "en"
    definition: "A regularization technique that randomly deactivates neurons during training."
    gist: "Randomly switches off neurons while training"
    tags: ["regularization"]
    source: "test"
"""

TYPED = {
    "type": "fill", "lang": "en", "prompt": "A ___ measures how far the predictions are.",
    "options": [], "answer": "Loss function", "correct_option": None,
    "accepted": ["Loss function", "cost function"], "entry_id": "loss-function",
    "explanation": "Loss function: it measures the error.",
}  # fmt: skip
CHOICE = {
    "type": "def_term", "lang": "en", "prompt": "Randomly switches off neurons while training?",
    "options": ["Batch normalization", "Dropout", "Epoch", "Tensor"], "answer": "Dropout",
    "correct_option": 1, "accepted": ["Dropout"], "entry_id": "dropout",
    "explanation": "Dropout switches neurons off.",
}  # fmt: skip


async def _seed_reports(url: str, clock) -> None:
    engine = db.create_engine(url)
    try:
        uow_factory = unit_of_work_factory(db.session_factory(engine))
        async with uow_factory() as uow:
            chat = await uow.chats.get_or_create(GROUP, clock())
            users = [await uow.users.get_or_create("telegram", s, clock()) for s in (ALICE, BOB)]
            alice, bob = users
            for user, ref, question, answer, reason in (
                (alice, "rq:1", TYPED, "cost func", "should_count"),  # 1
                (bob, "rq:1", TYPED, "loss fn", "should_count"),  # 2
                (bob, "rq:1", TYPED, "loss fn", "wrong_key"),  # 3
                (alice, "rq:2", CHOICE, "Batch normalization", "should_count"),  # 4
                (bob, "rq:2", CHOICE, None, "unclear"),  # 5
            ):
                await uow.reports.add(
                    user_id=user.id, chat_id=chat.id, entry_id=question["entry_id"],
                    question_ref=ref, question=question, answer=answer, reason=reason,
                    created_at=clock(),
                )  # fmt: skip
            await uow.commit()
    finally:
        await engine.dispose()


def _cli(monkeypatch, capsys, *args: str) -> tuple[int, list[str], str]:
    code = quizbot(["content", "reports", *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_the_curator_lists_accepts_and_rejects_reports(
    database_url, clock, tmp_path, monkeypatch, capsys
):
    content = tmp_path / "glossary.yaml"
    content.write_text(GLOSSARY, encoding="utf-8")
    monkeypatch.setenv("QUIZBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("QUIZBOT_CONTENT_DIR", str(content))
    monkeypatch.chdir(tmp_path)
    asyncio.run(_seed_reports(database_url, clock))

    code, lines, _ = _cli(monkeypatch, capsys)
    assert code == 0
    assert lines == [
        'glossary.yaml:10: dropout "Dropout": 2 report(s) from 2 user(s): my answer should '
        'count 1 ("Batch normalization"); unclear 1',
        '  #4 my answer should count answered "Batch normalization" · def_term: "Randomly '
        'switches off neurons while training?" → "B) Dropout" · Alice (telegram), '
        "2026-11-25 12:00 UTC",
        '  #5 unclear · def_term: "Randomly switches off neurons while training?" → '
        '"B) Dropout" · Bob (telegram), 2026-11-25 12:00 UTC',
        'glossary.yaml:2: loss-function "Loss function": 3 report(s) from 2 user(s): wrong '
        'answer key 1; my answer should count 2 ("cost func", "loss fn")',
        '  #1 my answer should count answered "cost func" · fill: "A ___ measures how far the '
        'predictions are." → "Loss function" · Alice (telegram), 2026-11-25 12:00 UTC',
        '  #2 my answer should count answered "loss fn" · fill: "A ___ measures how far the '
        'predictions are." → "Loss function" · Bob (telegram), 2026-11-25 12:00 UTC',
        '  #3 wrong answer key answered "loss fn" · fill: "A ___ measures how far the '
        'predictions are." → "Loss function" · Bob (telegram), 2026-11-25 12:00 UTC',
    ]

    # Accepting "should count" reports of a typed question proposes their answers as aliases.
    code, lines, _ = _cli(monkeypatch, capsys, "accept", "1", "2")
    assert code == 0
    assert lines == [
        '#1 accepted: loss-function, my answer should count, answered "cost func"',
        '#2 accepted: loss-function, my answer should count, answered "loss fn"',
        'glossary.yaml:2: loss-function: alias proposal: aliases: ["cost function", '
        '"cost func", "loss fn"]',
    ]
    assert content.read_text(encoding="utf-8") == GLOSSARY  # never edited here

    # By entry; a second option defended in multiple choice is no alias.
    code, lines, _ = _cli(monkeypatch, capsys, "accept", "--entry", "dropout")
    assert code == 0
    assert lines[:2] == [
        '#4 accepted: dropout, my answer should count, answered "Batch normalization"',
        "#5 accepted: dropout, unclear",
    ]
    assert lines[2].startswith('glossary.yaml:10: dropout: multiple choice, option(s) "Batch')
    assert "no alias to add" in lines[2]
    assert lines[3].startswith("glossary.yaml:10: dropout: make the question clear") and (
        lines[3].endswith("(#5)")
    )

    code, lines, _ = _cli(monkeypatch, capsys, "reject", "3", "1", "#42")
    assert code == 1
    assert lines == [
        "#1: already accepted; unchanged",
        '#3 rejected: loss-function, wrong answer key, answered "loss fn"',
    ]
    assert _cli(monkeypatch, capsys)[1] == ["no open reports"]
    code, lines, _ = _cli(monkeypatch, capsys, "--status", "all", "--entry", "loss-function")
    assert [line.split()[1] for line in lines[1:]] == ["[accepted]", "[accepted]", "[rejected]"]
    code, lines, _ = _cli(monkeypatch, capsys, "aliases")
    assert lines[0] == (
        'glossary.yaml:2: loss-function: alias proposal: aliases: ["cost function", '
        '"cost func", "loss fn"]'
    )
    assert _cli(monkeypatch, capsys, "accept")[0] == 2  # nothing named
