"""Hostile input: random Unicode, control characters, right-to-left marks, 100 KB messages,
forged references. No unhandled exception, a clear reply where one is due, replies within
platform limits, and nothing written that should not be."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.boards import BoardService
from bot.core.dispatcher import Dispatcher
from bot.core.events import ChatRef, Command, OptionAnswer, Sender, TextAnswer
from bot.core.hub import Hub
from bot.core.replies import AskQuestion, Notice
from bot.core.services import QuizService
from bot.i18n import t
from tests.conftest import count_rows

GROUP = ChatRef("test", "g-hostile", "group", "Hostile")
DM = ChatRef("test", "dm-hostile", "private")
EVIL = Sender("666", "\u202eevil\u0000name" + "x" * 300, "ar")
APOLOGY = t("en", "error.internal")
DISCORD_LIMIT = 2000  # the stricter of the two platforms' text limits

nasty_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.sampled_from(
        [
            "",
            " ",
            "\u200f\u202e",
            "\x00\x07\x1b[2J",
            "😀" * 50,
            "٠١٢",
            "1" * 40,
            "rq:1",
            "rq:9999999999999999",
            "pr:2147483648",
            "-1",
            "A) ",
            "/quiz",
            "x" * 100_000,
            "答案是" * 2000,
        ]
    ),
)
_ids = itertools.count()


@pytest.fixture
def dispatcher(uow_factory, mini_glossary):
    quiz = QuizService(uow_factory, mini_glossary, rng=random.Random(3))
    return Dispatcher(quiz, BoardService(uow_factory))


def check(replies):
    for reply in replies:
        assert reply.text != APOLOGY, "an unexpected error reached the user"
        assert 0 < len(reply.text) <= DISCORD_LIMIT


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=nasty_text, args=st.lists(nasty_text, max_size=12), private=st.booleans())
async def test_any_command_gets_a_sane_reply(dispatcher, clock, name, args, private):
    chat = DM if private else GROUP
    event = Command(chat, EVIL, f"c{next(_ids)}", clock(), name=name, args=tuple(args))
    check(await dispatcher.dispatch(event))


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    text=nasty_text,
    ref=st.one_of(st.none(), nasty_text),
    option=st.integers(),
    private=st.booleans(),
)
async def test_answers_with_garbage_never_crash(dispatcher, clock, text, ref, option, private):
    chat = DM if private else GROUP
    for event in (
        TextAnswer(chat, EVIL, f"t{next(_ids)}", clock(), text=text, question_ref=ref),
        OptionAnswer(chat, EVIL, f"o{next(_ids)}", clock(), option=option, question_ref=ref),
    ):
        check(await dispatcher.dispatch(event))


@pytest.mark.parametrize(
    "ref", ["rq:2147483648", "rq:9999999999999999", "rq:-1", "rq:１２", "pr:99999999999"]
)
async def test_a_forged_number_too_big_for_an_id_is_an_unknown_question(
    uow_factory, mini_glossary, clock, ref
):
    """Ids are 32-bit on PostgreSQL: a bigger number must not reach the database (where it
    would fail the query and the user would get the apology)."""
    from bot.core.features import register

    quiz = QuizService(uow_factory, mini_glossary, rng=random.Random(3))
    dispatcher = Dispatcher(quiz, BoardService(uow_factory))
    register(dispatcher, uow_factory, mini_glossary, clock)
    replies = await dispatcher.dispatch(
        OptionAnswer(DM, EVIL, f"big{next(_ids)}", clock(), option=0, question_ref=ref)
    )
    check(replies)
    assert [r.text for r in replies] == [t("ar", "answer.unknown_question")]
    assert await count_rows(uow_factory, "answers") == 0


async def test_garbage_during_a_round_writes_nothing(dispatcher, clock, uow_factory):
    await dispatcher.dispatch(
        Command(
            GROUP,
            Sender("1", "Admin", is_admin=True),
            "s",
            clock(),
            name="settings",
            args=("types", "fill"),
        )
    )
    replies = await dispatcher.dispatch(Command(GROUP, EVIL, "q", clock(), name="quiz"))
    ask = next(r for r in replies if isinstance(r, AskQuestion))
    ref = f"rq:{ask.round_question_id}"
    for i, text in enumerate(["", "   ", "\x00\x01", "😀😀😀", "\u200f\u200e", "x" * 100_000]):
        replies = await dispatcher.dispatch(
            TextAnswer(GROUP, EVIL, f"g{i}", clock(), text=text, question_ref=ref)
        )
        check(replies)
        assert [r.kind for r in replies if isinstance(r, Notice)] == ["usage"]
    assert await count_rows(uow_factory, "answers") == 0


async def test_a_flooding_user_is_slowed_down_without_affecting_others(dispatcher, clock):
    hub = Hub(dispatcher, dispatcher.quiz, clock)
    flooder, calm = Sender("9", "Flood"), Sender("10", "Calm")
    replies = []
    for i in range(40):
        replies.append(await hub.handle(Command(GROUP, flooder, f"f{i}", clock(), name="help")))
    refused = [r for batch in replies for r in batch if getattr(r, "kind", "") == "refused"]
    answered = [batch for batch in replies if batch and batch[0].kind == "info"]
    assert len(refused) == 1 and "slow down" in refused[0].text
    assert len(answered) < 15
    assert sum(1 for batch in replies if batch == []) > 20  # silently dropped after the warning
    calm_reply = await hub.handle(Command(GROUP, calm, "c1", clock(), name="help"))
    assert calm_reply and calm_reply[0].kind == "info"
