"""Issue #9 on Discord: never an unanswered interaction, and hostile input.

Run offline with simcord, as tests/test_discord.py is (its fixtures and helpers are reused):
errors in the modal path and after a deferral, forged and stale custom ids on buttons and
modals, interactions that expire before the bot answers, fuzzed custom ids and slash options,
and the limits of what hostile names and answers make the bot render.

What the user sees is read from what simcord recorded (interaction responses, followups,
channel messages, the REST requests the bot made); what is stored, from the app's database.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import discord
import pytest
import simcord
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.adapters.discord import adapter as adapter_module
from bot.adapters.discord import create_bot
from bot.adapters.discord.commands import PERIODS, PRACTICE_ACTIONS, SCOPES
from bot.adapters.discord.components import (
    ANSWER_FIELD,
    ANSWER_ID,
    COMMAND_ID,
    MODAL_ID,
    OPTION_ID,
    AnswerButton,
    CommandButton,
    OptionButton,
    is_our_button,
    modal_ref,
    typed_answer,
)
from bot.adapters.discord.render import finished_view
from bot.core.events import ChatRef, Command, Event, OptionAnswer, TextAnswer
from bot.core.flood import FloodGuard
from bot.core.replies import Notice, RoundOver
from bot.core.settings import LANG_CHOICES, MODE_CHOICES, TYPE_GROUPS
from bot.i18n import INTERFACE_LANGS, t
from tests import test_discord
from tests.conftest import count_rows
from tests.test_discord import SECONDS, World, questions_in, right_label

# The fixtures of tests/test_discord.py: a real App on SQLite, the bot, a guild with members.
# Each test here sends one forged, stale or failing interaction into a round and checks what it
# changes; none plays its round to the end.
pytestmark = pytest.mark.round_left_running("hostile interactions into a round, not a whole round")

quiz_app = test_discord.quiz_app
shards = test_discord.shards
simcord_bot = test_discord.simcord_bot
world = test_discord.world

APOLOGY = t("en", "discord.error")
APOLOGIES = {t(lang, key) for lang in ("en", "zh") for key in ("discord.error", "error.internal")}
UNKNOWN = t("en", "answer.unknown_question")
LATE = t("en", "answer.late")
STRICT_REF = re.compile(r"(?:rq|pr):[0-9]{1,19}")  # ASCII digits only
WORD = re.compile(r"[a-z0-9]+")
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))

# Random Unicode, control characters, RTL marks, look-alike digits and near misses of our ids.
SPECIALS = [
    "",
    " ",
    "\u200f",
    "\u202erq:1:0",
    "rq:1:0\u200f",
    "\x00",
    "\x1b[2J",
    "rq:\u0661:0",  # Arabic-Indic one
    "rq:\uff11:0",  # fullwidth one
    "RQ:1:0",
    "rq:1:0\n",
    "rq:01:0",
    "rq:1:00",
    "rq:1:10",
    "rq:-1:0",
    "rq:12345678901234567890:0",
    "rq:9999999999999999999:0",
    "rq:1:answer ",
    "rq:1:modal:",
    "rq:1:modal:zzzzzzzzzzzz",
    "cmd:",
    "cmd:   ",
    "cmd:HELP",
    "cmd:" + "a" * 91,
    "@everyone",
    "😀" * 100,
    "x" * 100,
]
near_misses = st.builds(
    lambda head, digits, tail: head + digits + tail,
    st.sampled_from(["rq:", "pr:", "rq:-", "Rq:", "cmd:", "rq::", ""]),
    st.text("0123456789\u0661\uff11 ", max_size=22),
    st.sampled_from(["", ":0", ":9", ":10", ":answer", ":modal:" + "ab" * 6, ":0:0", "\u202e"]),
)
hostile_text = st.one_of(
    st.text(max_size=100),
    st.text(st.characters(codec="utf-8"), max_size=100),
    st.text(st.characters(categories=["Cc", "Cf", "Zs", "Mn"]), max_size=40),
    st.sampled_from(SPECIALS),
    near_misses,
)
# Ids of the shapes the bot hands out, with any number in them (most name no question).
refs = st.builds(
    lambda kind, number: f"{kind}:{number}",
    st.sampled_from(["rq", "pr"]),
    st.integers(0, 10**19 - 1),
)
our_ids = st.one_of(
    st.builds(lambda ref, option: f"{ref}:{option}", refs, st.integers(0, 9)),
    st.builds(lambda ref: f"{ref}:answer", refs),
    st.builds(lambda words: f"cmd:{words}", st.text("abcxyz019 ", min_size=1, max_size=90)),
)
modal_ids = st.builds(
    lambda ref, nonce: f"{ref}:modal:{nonce}",
    refs,
    st.binary(min_size=6, max_size=6).map(bytes.hex),
)
# What Discord lets through: 1 to 100 characters.
custom_ids = st.one_of(hostile_text, our_ids).filter(lambda s: 1 <= len(s) <= 100)


# ------------------------------------------------------------------ helpers


async def answers(world: World) -> int:
    return await count_rows(world.app.uow, "answers")


def record_events(world: World, monkeypatch) -> list[Event]:
    """Every core event the adapter hands to the hub from now on, in order (once per test:
    the property tests call it for every example)."""
    seen: list[Event] | None = getattr(world.app.hub.handle, "seen", None)
    if seen is None:
        seen = []
        handle = world.app.hub.handle

        async def recording(event: Event):
            seen.append(event)
            return await handle(event)

        recording.seen = seen  # type: ignore[attr-defined]
        monkeypatch.setattr(world.app.hub, "handle", recording)
    seen.clear()
    return seen


def without_flood_guard(world: World, monkeypatch) -> None:
    """The property tests send one member's clicks faster than a person can (the guard's own
    refusal is tested in tests/test_hostile_input.py)."""
    monkeypatch.setattr(world.app.hub, "flood", FloodGuard(rate=1_000_000))


def well_formed(event: Event) -> bool:
    if isinstance(event, OptionAnswer):
        return bool(STRICT_REF.fullmatch(event.question_ref or "")) and 0 <= event.option <= 9
    if isinstance(event, TextAnswer):
        return bool(STRICT_REF.fullmatch(event.question_ref or "")) and isinstance(event.text, str)
    if isinstance(event, Command):
        return bool(WORD.fullmatch(event.name)) and all(WORD.fullmatch(a) for a in event.args)
    return False


async def forged_message(world: World, channel, *custom_ids: str) -> discord.Message:
    """A bot message carrying buttons with these custom ids: what a member sees on an old or
    tampered message. Labels are the button's index."""
    view = discord.ui.View(timeout=None)
    for i, custom_id in enumerate(custom_ids):
        view.add_item(discord.ui.Button(label=str(i), custom_id=custom_id))
    target = world.adapter.bot.get_partial_messageable(channel.id)
    return await target.send("buttons", view=finished_view(view))


def said(result: simcord.InteractionResult) -> list[str]:
    """Everything the user was told in this interaction, in order."""
    messages = ([result.response] if result.response else []) + result.followups
    return [m.content for m in messages]


def shown_text(result: simcord.InteractionResult) -> list[str]:
    """Per message of this interaction, its content or else its embed's title."""
    messages = ([result.response] if result.response else []) + result.followups
    return [m.content or "".join(e.title or "" for e in m.embeds) for m in messages]


def custom_id_of(message, label: str) -> str:
    return next(c.custom_id for row in message.components for c in row.children if c.label == label)


async def open_typed_question(world: World) -> tuple[discord.Message, Any]:
    """Start a round of two and get to its second question, which is typed."""
    await world.admin.slash(world.channel, "quiz start", questions=2)
    first = questions_in(world.channel)[0]
    await world.alice.click(first, label=right_label(world.app.asked[0]))
    await world.env.advance_time(SECONDS)
    return questions_in(world.channel)[1], world.app.asked[1]


MESSAGE_ROUTES = (
    re.compile(r"/channels/\d+/messages(/\d+)?"),
    re.compile(r"/webhooks/\d+/[^/]+(/messages/.+)?"),
)


def bodies(env: simcord.Env) -> list[dict]:
    """The message bodies of every REST call the bot made that shows something to a user."""
    out = []
    for request in env.http_requests:
        body = request.json
        if not isinstance(body, dict):
            continue
        if request.path.endswith("/callback"):
            if body.get("type") in (4, 7, 9):  # message, message update, modal
                out.append(body.get("data") or {})
        elif request.method in ("POST", "PATCH") and any(
            r.fullmatch(request.path) for r in MESSAGE_ROUTES
        ):
            out.append(body)
    return out


def check_limits(env: simcord.Env) -> int:
    """Discord's limits on everything the bot sent, and no pings from any of it; returns how
    many bodies were checked."""
    checked = bodies(env)
    for body in checked:
        if "title" in body and "components" in body and "content" not in body:  # a modal
            assert len(body["title"]) <= 45 and len(body["custom_id"]) <= 100
            continue
        assert len(body.get("content") or "") <= 2000
        for embed in body.get("embeds") or []:
            title = embed.get("title") or ""
            description = embed.get("description") or ""
            footer = (embed.get("footer") or {}).get("text") or ""
            assert len(title) <= 256 and len(description) <= 4096 and len(footer) <= 2048
            assert len(title) + len(description) + len(footer) <= 6000
        rows = body.get("components") or []
        assert len(rows) <= 5
        for row in rows:
            assert len(row["components"]) <= 5
            for button in row["components"]:
                assert len(button.get("label") or "") <= 80
                assert 1 <= len(button["custom_id"]) <= 100
        if body.get("content"):  # only content pings (embeds never do)
            # No @everyone, @here, role or user pings, whatever the text holds.
            assert body.get("allowed_mentions") == {"parse": []}, body
    return len(checked)


# ------------------------------------------------------------------ 1. errors in the modal path


async def test_a_failing_modal_submit_gets_an_ephemeral_apology(world, monkeypatch):
    message, question = await open_typed_question(world)
    before = await answers(world)
    handle = world.app.hub.handle

    async def broken(event):
        if isinstance(event, TextAnswer):
            raise RuntimeError("database on fire")
        return await handle(event)

    monkeypatch.setattr(world.app.hub, "handle", broken)
    shown = await world.bob.click(message, label="Answer")
    result = await world.bob.submit_modal(shown, {ANSWER_FIELD: question.answer})
    assert result.acknowledged and result.ephemeral
    assert said(result) == [APOLOGY]
    assert await answers(world) == before

    monkeypatch.setattr(world.app.hub, "handle", handle)
    again = await world.bob.submit_modal(
        await world.bob.click(message, label="Answer"), {ANSWER_FIELD: question.answer}
    )
    assert again.response.content.startswith("✅ Right!")
    assert await answers(world) == before + 1


async def test_an_error_reading_the_modal_gets_an_apology(world, monkeypatch):
    message, question = await open_typed_question(world)
    before = await answers(world)

    def unreadable(components):
        raise KeyError("components")

    monkeypatch.setattr(adapter_module, "typed_answer", unreadable)
    shown = await world.bob.click(message, label="Answer")
    result = await world.bob.submit_modal(shown, {ANSWER_FIELD: question.answer})
    assert result.acknowledged and result.ephemeral
    assert said(result) == [APOLOGY]
    assert await answers(world) == before
    assert not world.env.errors  # handled, not left to discord.py


async def test_a_modal_submitted_after_a_restart_is_still_answered(world, quiz_app):
    message, question = await open_typed_question(world)
    before = await answers(world)
    shown = await world.bob.click(message, label="Answer")
    late = await world.carol.click(message, label="Answer")
    # A deploy while the modal is open: the new process never saw it being opened.
    await world.env.restart_bot(create_bot(quiz_app.settings, quiz_app.hub))
    result = await world.bob.submit_modal(shown, {ANSWER_FIELD: question.answer})
    assert result.ephemeral and result.response.content.startswith("✅ Right!")
    assert await answers(world) == before + 1

    await world.env.advance_time(SECONDS)  # the question closes while carol still types
    too_late = await world.carol.submit_modal(late, {ANSWER_FIELD: question.answer})
    assert too_late.ephemeral and said(too_late) == [LATE]
    assert await answers(world) == before + 1


# ------------------------------------------------------------------ 2. forged and stale ids

FORGED_BUTTONS = [
    "hello",
    "x" * 100,
    "rq:99999:0",
    "pr:99999:0",
    "rq:0:3",
    "rq:9999999999:9",  # ten digits: a number, but no row has it
    "rq:1234567890123456789:0",  # nineteen: the most the template takes
    "rq:12345678901234567890:0",  # twenty: no template takes it
    "rq:1:10",
    "rq:\u0661:0",
    "\u202erq:1:0",
    "RQ:1:0",
    "cmd:",
    "cmd:   ",
    "cmd:" + "a" * 91,
    "😀" * 100,
]


async def test_forged_and_stale_buttons_are_refused_and_store_nothing(world, monkeypatch):
    await world.admin.slash(world.channel, "quiz start", questions=3)  # a round is running
    events = record_events(world, monkeypatch)
    message = await forged_message(world, world.channel, *FORGED_BUTTONS[:5])
    more = await forged_message(world, world.channel, *FORGED_BUTTONS[5:10])
    rest = await forged_message(world, world.channel, *FORGED_BUTTONS[10:15])
    last = await forged_message(world, world.channel, *FORGED_BUTTONS[15:])
    for i, custom_id in enumerate(FORGED_BUTTONS):
        on = (message, more, rest, last)[i // 5]
        result = await world.bob.click(on, label=str(i % 5))
        assert result.acknowledged, custom_id
        assert result.ephemeral and said(result) == [UNKNOWN], custom_id
    assert all(well_formed(e) for e in events)  # only real refs reached the core

    lone = world.env.create_user("lone")  # and in the private study chat
    await lone.slash("help")
    in_dm = await forged_message(world, lone.dm_channel, "junk", "rq:99999:0", "cmd:   ")
    for label in "012":
        result = await lone.click(in_dm, label=label)
        assert result.acknowledged and said(result) == [UNKNOWN]
    assert await answers(world) == 0
    assert not world.env.errors


async def test_a_button_of_another_channel_or_guild_changes_nothing(world, monkeypatch):
    await world.admin.slash(world.channel, "quiz start", questions=1)
    [question_message] = questions_in(world.channel)
    real = custom_id_of(question_message, right_label(world.app.asked[0]))
    other_channel = world.guild.create_text_channel("elsewhere")
    other_guild = world.env.create_guild("Other Club")
    stranger = other_guild.add_member(world.env.create_user("stranger"))
    there = other_guild.create_text_channel("quiz")

    copied = await forged_message(world, other_channel, real)
    result = await world.bob.click(copied, label="0")
    assert result.ephemeral and said(result) == [UNKNOWN]
    copied = await forged_message(world, there, real)
    result = await stranger.click(copied, label="0")
    assert result.ephemeral and said(result) == [UNKNOWN]
    assert await answers(world) == 0

    # The real button still works in its own channel.
    mine = await world.bob.click(question_message, label=right_label(world.app.asked[0]))
    assert "✅ Right!" in mine.response.content
    assert await answers(world) == 1


async def test_a_typed_answer_through_another_channels_modal_changes_nothing(world):
    message, question = await open_typed_question(world)
    before = await answers(world)
    ref_answer = custom_id_of(message, "Answer")
    elsewhere = world.guild.create_text_channel("elsewhere")
    copied = await forged_message(world, elsewhere, ref_answer)
    shown = await world.bob.click(copied, label="0")
    assert shown.modal is not None  # the form opens; the core judges what comes back
    result = await world.bob.submit_modal(shown, {ANSWER_FIELD: question.answer})
    assert result.ephemeral and said(result) == [UNKNOWN]
    assert await answers(world) == before


async def test_a_button_of_a_closed_question_is_too_late(world):
    await world.admin.slash(world.channel, "quiz start", questions=2)
    [first] = questions_in(world.channel)
    real = custom_id_of(first, right_label(world.app.asked[0]))
    await world.env.advance_time(SECONDS)  # closed, nobody answered; question 2 is open
    # The closing edit could have failed: the old message would still offer the button.
    stale = await forged_message(world, world.channel, real)
    result = await world.bob.click(stale, label="0")
    assert result.ephemeral and said(result) == [LATE]
    assert await answers(world) == 0


@pytest.mark.parametrize(
    "forged",
    ["junk", "x" * 100, "rq:1:modal:zzzzzzzzzzzz", "rq:99999:modal:abcdefabcdef", "rq:1:answer"],
)
async def test_forged_modal_ids_are_refused(world, forged):
    message, question = await open_typed_question(world)
    before = await answers(world)
    shown = await world.bob.click(message, label="Answer")
    # A tampered client sends back another custom_id than the one the bot gave (simcord has
    # no public way to forge one, so its record of the modal is edited).
    shown._interaction.modal["custom_id"] = forged
    result = await world.bob.submit_modal(shown, {ANSWER_FIELD: question.answer})
    assert result.acknowledged and result.ephemeral
    assert said(result) == [UNKNOWN]
    assert await answers(world) == before


# ------------------------------------------------------------------ 3. errors after a deferral


@pytest.mark.simcord(settle_timeout=1)
async def test_a_command_failing_after_its_deferral_gets_a_followup_apology(world, monkeypatch):
    async def slow_then_broken(event):
        await asyncio.sleep(2.5)  # virtual time: past DEFER_AFTER
        raise RuntimeError("database on fire")

    monkeypatch.setattr(world.app.hub, "handle", slow_then_broken)
    result = await world.alice.slash(world.channel, "help")
    await world.env.advance_time(2.1)
    assert result.acknowledged and result.deferred  # "thinking..."
    await world.env.advance_time(1)
    # The apology fills the deferral (a followup does that): no endless "thinking...".
    assert said(result) == [APOLOGY]
    assert result.ephemeral and not result.response.flags.loading
    [error] = world.env.errors  # went through the tree's on_error, which apologised
    assert isinstance(error.original, RuntimeError)


async def test_a_click_whose_reply_fails_gets_a_followup_apology(world):
    await world.admin.slash(world.channel, "quiz start", questions=1)
    [message] = questions_in(world.channel)
    # The click is deferred at once; then sending the verdict fails.
    world.env.inject_error("POST", "/webhooks/*", status=500)
    result = await world.bob.click(message, label=right_label(world.app.asked[0]))
    assert result.ephemeral and said(result) == [APOLOGY]
    assert not result.response.flags.loading
    assert await answers(world) == 1  # committed before its reply, as every answer is
    again = await world.bob.click(message, label=right_label(world.app.asked[0]))
    assert said(again) == ["You already answered this question; one answer per question."]


async def test_a_modal_whose_reply_fails_gets_a_followup_apology(world):
    message, _ = await open_typed_question(world)
    shown = await world.bob.click(message, label="Answer")
    world.env.inject_error("POST", "/webhooks/*", status=500)
    result = await world.bob.submit_modal(shown, {ANSWER_FIELD: "not the answer"})
    assert result.ephemeral and said(result) == [APOLOGY]
    assert not result.response.flags.loading


# ------------------------------------------------------------------ 4. the answer itself fails

EXPIRED = dict(status=404, code=10062, message="Unknown interaction")


async def test_an_expired_click_is_logged_and_the_next_one_works(world, caplog):
    await world.admin.slash(world.channel, "quiz start", questions=1)
    [message] = questions_in(world.channel)
    world.env.inject_error("POST", "/interactions/*/*/callback", **EXPIRED)
    with caplog.at_level(logging.WARNING, logger=adapter_module.__name__):
        lost = await world.bob.click(message, label=right_label(world.app.asked[0]))
    assert not lost.acknowledged  # Discord showed "This interaction failed"
    assert any("is gone" in r.getMessage() for r in caplog.records)
    assert await answers(world) == 0  # the user was told it failed: it does not count
    assert not world.env.errors

    retry = await world.bob.click(message, label=right_label(world.app.asked[0]))
    assert "✅ Right!" in retry.response.content
    assert await answers(world) == 1


async def test_a_failing_apology_is_logged_and_the_bot_goes_on(world, monkeypatch, caplog):
    handle = world.app.hub.handle

    async def broken(event):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(world.app.hub, "handle", broken)
    world.env.inject_error("POST", "/interactions/*/*/callback", **EXPIRED)
    with caplog.at_level(logging.WARNING, logger=adapter_module.__name__):
        result = await world.alice.slash(world.channel, "stats")
    assert not result.acknowledged
    assert any("could not apologise" in r.getMessage() for r in caplog.records)
    [error] = world.env.errors  # the command's own error, handled by the tree
    assert isinstance(error.original, RuntimeError)

    # A click whose apology (a followup after the deferral) fails too.
    monkeypatch.setattr(world.app.hub, "handle", handle)
    await world.admin.slash(world.channel, "quiz start", questions=1)
    [message] = questions_in(world.channel)
    monkeypatch.setattr(world.app.hub, "handle", broken)
    world.env.inject_error("POST", "/webhooks/*", **EXPIRED)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=adapter_module.__name__):
        clicked = await world.bob.click(message, label="A")
    assert clicked.acknowledged and clicked.response.flags.loading  # nothing more to do
    assert any("could not apologise" in r.getMessage() for r in caplog.records)
    assert len(world.env.errors) == 1  # still only the command's

    monkeypatch.setattr(world.app.hub, "handle", handle)
    fine = await world.alice.slash(world.channel, "help")
    assert fine.response.content.startswith("I quiz you on machine-learning terms")
    works = await world.carol.click(message, label=right_label(world.app.asked[0]))
    assert "✅ Right!" in works.response.content


@pytest.mark.simcord(settle_timeout=1)
async def test_a_round_started_by_an_expired_command_still_shows_its_question(
    world, monkeypatch, caplog
):
    handle = world.app.hub.handle

    async def slow(event):
        await asyncio.sleep(2.5)
        return await handle(event)

    monkeypatch.setattr(world.app.hub, "handle", slow)
    world.env.inject_error("POST", "/interactions/*/*/callback", **EXPIRED)  # the deferral
    with caplog.at_level(logging.WARNING, logger=adapter_module.__name__):
        result = await world.alice.slash(world.channel, "quiz start", questions=1)
        await world.env.advance_time(3)
    assert not result.acknowledged
    assert any("is gone" in r.getMessage() for r in caplog.records)
    # The round started in the database: its announcement and question go to the channel.
    contents = [m.content for m in world.channel.history()]
    assert any(c.startswith("A new round: one question") for c in contents)
    [message] = questions_in(world.channel)
    monkeypatch.setattr(world.app.hub, "handle", handle)
    clicked = await world.bob.click(message, label=right_label(world.app.asked[0]))
    assert "✅ Right!" in clicked.response.content
    assert not world.env.errors


# ------------------------------------------------------------------ 5. fuzzing

TEMPLATES = {OptionButton: OPTION_ID, AnswerButton: ANSWER_ID, CommandButton: COMMAND_ID}


@settings(max_examples=400, deadline=None)
@given(custom_id=hostile_text)
async def test_custom_id_parsing_yields_a_well_formed_ref_or_nothing(custom_id):
    claimed = [cls for cls, pattern in TEMPLATES.items() if pattern.fullmatch(custom_id)]
    assert len(claimed) <= 1, "two kinds of button claim one id"
    assert is_our_button(custom_id) == bool(claimed)
    ref = modal_ref(custom_id)
    assert ref is None or STRICT_REF.fullmatch(ref)
    if ref is not None:
        assert not claimed
    if not claimed:
        return
    [cls] = claimed
    item = discord.ui.Button(label="x", custom_id=custom_id)
    parsed = await cls.from_custom_id(None, item, TEMPLATES[cls].fullmatch(custom_id))
    assert len(parsed.item.custom_id) <= 100
    if isinstance(parsed, CommandButton):
        assert parsed.words and all(WORD.fullmatch(w) for w in parsed.words)
        return
    assert STRICT_REF.fullmatch(parsed.ref)
    assert parsed.item.custom_id == custom_id  # what is clicked is what was rendered
    if isinstance(parsed, OptionButton):
        assert 0 <= parsed.option <= 9


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["custom_id", "value", "components", "component", "type"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(components=json_like, text=hostile_text)
def test_typed_answer_reads_any_payload(components, text):
    assert isinstance(typed_answer(components), str)
    row = [{"type": 1, "components": [{"type": 4, "custom_id": ANSWER_FIELD, "value": text}]}]
    label = [{"type": 18, "component": {"type": 4, "custom_id": ANSWER_FIELD, "value": text}}]
    assert typed_answer([components, *row]) in (text, typed_answer(components))
    assert typed_answer(label) == text


@FUZZ
@given(custom_id=custom_ids)
async def test_any_button_id_is_answered_with_an_event_or_a_refusal(world, monkeypatch, custom_id):
    first_word = custom_id[4:].split(" ", 1)[0] if custom_id.startswith("cmd:") else ""
    assume(first_word not in {"quiz", "practice", "review", "start", "lang", "stop", "remind"})
    without_flood_guard(world, monkeypatch)
    events = record_events(world, monkeypatch)
    message = await forged_message(world, world.channel, custom_id)
    result = await world.alice.click(message, label="0")
    assert result.acknowledged
    if result.modal is not None:  # an Answer button: the form opens
        assert ANSWER_ID.fullmatch(custom_id) and not events
        return
    told = said(result)
    assert told and APOLOGY not in told
    assert all(well_formed(e) for e in events)
    if not events:
        assert told == [UNKNOWN]
    assert await answers(world) == 0  # no question is open: nothing can count
    assert not world.env.errors
    check_limits(world.env)


@FUZZ
@given(
    ours=st.booleans(),
    modal_id=modal_ids,
    other_id=custom_ids,
    text=hostile_text.filter(lambda s: 1 <= len(s) <= 200),
)
async def test_any_modal_id_is_answered_with_an_event_or_a_refusal(
    world, monkeypatch, ours, modal_id, other_id, text
):
    custom_id = modal_id if ours else other_id
    without_flood_guard(world, monkeypatch)
    events = record_events(world, monkeypatch)
    opener = await forged_message(world, world.channel, "rq:1:answer")
    shown = await world.alice.click(opener, label="0")
    shown._interaction.modal["custom_id"] = custom_id  # see test_forged_modal_ids_are_refused
    result = await world.alice.submit_modal(shown, {ANSWER_FIELD: text})
    assert result.acknowledged and result.ephemeral
    assert said(result) == [UNKNOWN]  # rq:1 does not exist; anything else is no modal of ours
    assert all(isinstance(e, TextAnswer) and e.text == text and well_formed(e) for e in events)
    assert bool(events) == bool(MODAL_ID.fullmatch(custom_id))
    assert not world.env.errors


free_text = hostile_text.filter(lambda s: len(s) <= 200)
# Each option's valid values (Discord lets those through), mixed with anything at all.
SLASH_OPTIONS = {
    ("settings", "topics"): free_text,
    ("settings", "types"): st.sampled_from(list(TYPE_GROUPS)),
    ("settings", "lang"): st.sampled_from(LANG_CHOICES),
    ("settings", "mode"): st.sampled_from(MODE_CHOICES),
    ("settings", "questions"): st.integers(-5, 60),
    ("settings", "seconds"): st.integers(-5, 700),
    ("leaderboard", "scope"): st.sampled_from(SCOPES),
    ("leaderboard", "period"): st.sampled_from(PERIODS),
    ("practice", "action"): st.sampled_from(PRACTICE_ACTIONS),
    ("lang", "language"): st.sampled_from(INTERFACE_LANGS),
    ("quiz start", "questions"): st.integers(51, 10**6) | st.integers(max_value=0),
}


@st.composite
def slash_calls(draw) -> tuple[tuple[str, str], Any]:
    # The one free-text option (topics) is drawn more often than the others.
    where = draw(st.sampled_from([*SLASH_OPTIONS, *[("settings", "topics")] * 3]))
    anything = draw(st.integers(0, 2)) == 0  # a third of the time: any text or number
    return where, draw(free_text | st.integers() if anything else SLASH_OPTIONS[where])


@FUZZ
@given(call=slash_calls())
async def test_any_slash_option_is_refused_by_discord_or_answered(world, monkeypatch, call):
    (command, option), value = call
    assume(command != "quiz start" or not isinstance(value, int) or not 1 <= value <= 50)
    without_flood_guard(world, monkeypatch)
    events = record_events(world, monkeypatch)
    try:
        result = await world.admin.slash(world.channel, command, **{option: value})
    except simcord.OptionError:
        assert not events  # Discord itself refuses it: the bot never sees it
        return
    assert result.acknowledged
    told = shown_text(result)
    assert told and all(told) and not APOLOGIES & set(told)
    assert events
    for event in events:
        assert isinstance(event, Command) and event.name == command.split()[0]
        assert all(isinstance(a, str) for a in event.args)
        if option == "topics":
            assert event.args == ("topics", value)  # passed on as typed; the core judges it
    assert not world.env.errors
    check_limits(world.env)


# ------------------------------------------------------------------ 6. limits and pings

HOSTILE_NAMES = [
    "@everyone",
    "@here",
    "`` ` ``**bold**__u__",
    "😀" * 16,
    "\u202eevil\u200f",
    "> quote # head [x](http://e.x)",
    "x" * 32,
]


async def test_hostile_names_and_answers_stay_within_limits_and_never_ping(world):
    env = world.env
    members = [
        world.guild.add_member(env.create_user(f"h{i}"), nick=n)
        for i, n in enumerate(HOSTILE_NAMES)
    ]
    mention = world.guild.add_member(env.create_user("pinger"))
    members.append(mention)
    # A topic list that echoes mentions back in plain content.
    topics = f"@everyone @here <@{world.alice.id}> <@&{world.guild.id}> " + "`" * 20 + "😀" * 40
    changed = await world.admin.slash(world.channel, "settings", topics=topics[:200])
    assert "@everyone" in changed.response.content
    assert not changed.response.message.mention_everyone
    await world.admin.slash(world.channel, "settings", topics="all")

    await world.admin.slash(world.channel, "quiz start", questions=2)
    [first] = questions_in(world.channel)
    for member in members:
        await member.click(first, label=right_label(world.app.asked[0]))
    await env.advance_time(SECONDS)
    second = questions_in(world.channel)[1]
    huge = f"@everyone <@{world.alice.id}> ```" * 40
    for member in members:
        shown = await member.click(second, label="Answer")
        result = await member.submit_modal(shown, {ANSWER_FIELD: huge[:200]})
        assert result.acknowledged and APOLOGY not in said(result)
    await env.advance_time(SECONDS)
    result = next(
        m for m in world.channel.history() if m.embeds and "Right:" in m.embeds[0].description
    )
    assert "@everyone" in result.embeds[0].description  # the names are shown as they are
    podium = world.channel.last_message.embeds[0]
    assert podium.title == "🏁 The round is over!" and "@here" in podium.description
    board = await world.alice.slash(world.channel, "leaderboard")
    shown = board.response.embeds[0].description
    # Markdown in a name is escaped: it shows as typed, not as bold, code or a masked link.
    assert discord.utils.escape_markdown("`` ` ``**bold**__u__") in shown
    assert "\\[x](http://e.x)" in shown and " [x](" not in shown
    assert "**bold**" not in podium.description and "**bold**" not in result.embeds[0].description

    assert check_limits(env) > 10
    assert not any(m.mention_everyone for m in world.channel.history())
    assert not env.errors


async def test_a_tampered_4000_character_answer_is_refused_within_limits(world):
    message, _ = await open_typed_question(world)
    before = await answers(world)
    shown = await world.bob.click(message, label="Answer")
    # The form allows 200 characters; a tampered client sends Discord's most, 4000.
    for row in shown._interaction.modal["components"]:
        for field in row.get("components") or [row.get("component")]:
            field["max_length"] = 4000
    huge = (f"@everyone <@{world.alice.id}> ``` **" * 200)[:4000]
    result = await world.bob.submit_modal(shown, {ANSWER_FIELD: huge})
    assert result.ephemeral and said(result) == [t("en", "answer.invalid.too_long")]
    assert await answers(world) == before
    assert check_limits(world.env) > 0


async def test_long_replies_are_clipped_to_discords_limits(world):
    chat = ChatRef("discord", str(world.channel.id), "group")
    await world.adapter.send(Notice(chat, "@everyone " * 500))
    await world.adapter.send(RoundOver(chat, "🏁 " + "t" * 400 + "\n" + "<@1> " * 2000))
    notice, over = list(world.channel.history())[-2:]
    assert len(notice.content) <= 2000 and not notice.mention_everyone
    assert len(over.embeds[0].title) <= 256 and len(over.embeds[0].description) <= 4096
    assert check_limits(world.env) == 2


async def test_plain_text_shows_as_written_not_as_markdown(world):
    chat = ChatRef("discord", str(world.channel.id), "group")
    await world.adapter.send(Notice(chat, "learning_rate and *Ann* ~~x~~ `y` ||z||"))
    await world.adapter.send(RoundOver(chat, "🏁 **Over**\n1. __Bo__ [win](https://e.x)"))
    notice, over = list(world.channel.history())[-2:]
    assert notice.content == "learning\\_rate and \\*Ann\\* \\~\\~x\\~\\~ \\`y\\` \\|\\|z\\|\\|"
    assert over.embeds[0].title == "🏁 \\*\\*Over\\*\\*"
    assert over.embeds[0].description == "1. \\_\\_Bo\\_\\_ \\[win](https://e.x)"
