"""A flood of answers through the hub (issue #9): one user answering faster than anyone reads
is slowed down and told so once; the others in the same chat are judged and scored as usual;
the flooder's answers that got through count once, those refused count nowhere; once the
guard's bucket has leaked, the flooder gets through again.

The guard (bot.core.flood) is a leaky bucket on the event loop's clock, which the hub's clock
does not drive: the test waits the real time one answer's worth of the bucket takes to leak
(DEFAULT_PERIOD / DEFAULT_RATE, 0.625 s) instead of the whole period.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from bot.core.answers import dedup_key
from bot.core.boards import BoardService
from bot.core.dispatcher import Dispatcher
from bot.core.events import ChatRef, Command, OptionAnswer, Sender, TextAnswer
from bot.core.hub import Hub
from bot.core.replies import AnswerFeedback, AskQuestion, Notice
from bot.core.services import QuizService
from bot.i18n import t
from tests.test_faults_more import check_totals, question_states, round_of

GROUP = ChatRef("test", "g-flood", "group", "Flood")
ADMIN = Sender("1", "Admin", "en", is_admin=True)
FLOODER = Sender("9", "Flood", "en")
BOB = Sender("10", "Bob", "en")
CAROL = Sender("11", "Carol", "en")
SLOW_DOWN = t("en", "flood.slow_down")
ALREADY = {t("en", "answer.already_answered"), t("en", "answer.already_right")}
BURST = 20


@pytest.fixture
async def hub(uow_factory, mini_glossary, clock):
    quiz = QuizService(uow_factory, mini_glossary, rng=random.Random(11))
    hub = Hub(Dispatcher(quiz, BoardService(uow_factory)), quiz, clock)
    try:
        yield hub
    finally:
        await hub.close()


def is_slow_down(replies) -> bool:
    return [(type(r), r.text, r.kind, r.private_to) for r in replies] == [
        (Notice, SLOW_DOWN, "refused", FLOODER.platform_user_id)
    ]


def feedback(replies) -> AnswerFeedback | None:
    found = [r for r in replies if isinstance(r, AnswerFeedback)]
    assert len(found) <= 1
    return found[0] if found else None


@pytest.mark.parametrize("kind", ["fill", "mc"])
async def test_a_flood_of_answers_is_slowed_down_and_counted_once(hub, uow_factory, clock, kind):
    await hub.handle(Command(GROUP, ADMIN, "s", clock(), name="settings", args=("types", kind)))
    replies = await hub.handle(
        Command(GROUP, ADMIN, "q", clock(), name="quiz", args=("start", "3"))
    )
    ask = next(r for r in replies if isinstance(r, AskQuestion))
    question, ref = ask.question, f"rq:{ask.round_question_id}"
    round_id = (await round_of(uow_factory, ask.round_question_id))[0]
    wrong_option = (question.correct_option or 0) + 1 if kind == "mc" else None

    def answer(sender, event_id, right):
        clock.advance(0.1)
        if kind == "mc":
            option = question.correct_option if right else wrong_option % len(question.options)
            return OptionAnswer(GROUP, sender, event_id, clock(), option=option, question_ref=ref)
        said = question.answer if right else f"xylophone {event_id}"
        return TextAnswer(GROUP, sender, event_id, clock(), text=said, question_ref=ref)

    # The flooder's first answer is right on a poll (one answer counts), wrong when typed (each
    # try counts until the right one); Bob and Carol answer in the middle of the flood.
    flood = [answer(FLOODER, f"f{i}", kind == "mc" and i == 0) for i in range(BURST)]
    others = {
        "b": answer(BOB, "b", True),
        "c1": answer(CAROL, "c1", False),
        "c2": answer(CAROL, "c2", True),
    }
    events = [*flood[:10], others["b"], *flood[10:15], others["c1"], *flood[15:], others["c2"]]
    got = dict(
        zip(
            (e.event_id for e in events),
            await asyncio.gather(*(hub.handle(e) for e in events)),
            strict=True,
        )
    )

    rate = hub.flood.rate
    admitted = [got[e.event_id] for e in flood[:rate]]
    if kind == "fill":
        assert all(feedback(r) and not feedback(r).correct and len(r) == 1 for r in admitted)
    else:
        assert feedback(admitted[0]).correct
        assert all([r.text for r in replies] in ([x] for x in ALREADY) for replies in admitted[1:])
    assert is_slow_down(got[f"f{rate}"])  # told once
    assert all(got[e.event_id] == [] for e in flood[rate + 1 :])  # then not answered at all
    # The others went through as if nobody flooded.
    assert feedback(got["b"]).correct and feedback(got["b"]).points > 0
    assert not feedback(got["c1"]).correct
    if kind == "fill":
        assert feedback(got["c2"]).correct and feedback(got["c2"]).points > 0
    else:
        assert [r.text for r in got["c2"]] == [t("en", "answer.already_answered")]

    # Still too fast a moment later: refused without a word.
    late = answer(FLOODER, "f-still", True)
    assert await hub.handle(late) == []
    # Once one answer's worth has leaked from the bucket, the flooder gets through again.
    await asyncio.sleep(hub.flood.period / rate + 0.15)
    again = answer(FLOODER, "f-again", True)
    got["f-again"] = await hub.handle(again)
    if kind == "fill":
        assert feedback(got["f-again"]).correct and feedback(got["f-again"]).points > 0
    else:  # through the guard, but a poll takes one answer per player
        assert [r.text for r in got["f-again"]] == [t("en", "answer.already_answered")]
    # ... and a new burst is told to slow down again, once.
    more = [await hub.handle(answer(FLOODER, f"g{i}", False)) for i in range(4)]
    warned = [i for i, r in enumerate(more) if is_slow_down(r)]
    assert len(warned) == 1 and all(r == [] for r in more[warned[0] + 1 :])
    assert all([r.text for r in replies] in ([x] for x in ALREADY) for replies in more[: warned[0]])

    # Stored: exactly the answers that were told what they earned, once each.
    told = {
        dedup_key(e): feedback(got[e.event_id])
        for e in [*flood, again, *others.values()]
        if feedback(got.get(e.event_id, []))
    }
    answers = await check_totals(uow_factory)
    assert {a[0]: (a[5], bool(a[6])) for a in answers} == {
        key: (f.points, f.correct) for key, f in told.items()
    }
    flooder_rows = [a for a in answers if a[0] in {dedup_key(e) for e in [*flood, again]}]
    assert len(flooder_rows) == (rate + 1 if kind == "fill" else 1)
    assert await question_states(uow_factory, round_id) == ["open", "pending", "pending"]
