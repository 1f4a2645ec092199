"""Issue #9 on Telegram: faults (429 with retry_after, timeouts) and hostile input (fuzzed
commands, callback data and updates; replies to hostile input within Telegram's limits).

The end-to-end tests run the real python-telegram-bot Application inside the TelegramAdapter,
with a real App and database, against the fake Bot API server, and assert on what users see
(the requests the server took), on what the database holds, and that the bot broke no rule.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import logging
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from telegram import Update

from bot.adapters.telegram import TelegramAdapter
from bot.adapters.telegram import text as tg
from bot.adapters.telegram.network import QuizRateLimiter
from bot.adapters.telegram.outbound import Context
from bot.app import App
from bot.config import Secret, Settings
from bot.content.model import Entry, Glossary, Question, QuestionType
from bot.content.questions import CLUE_LIMIT, QuestionGenerator
from bot.core import charts
from bot.core.events import ChatRef, Command, OptionAnswer, TextAnswer
from bot.core.replies import (
    AnswerFeedback,
    AskQuestion,
    Confirm,
    Image,
    Leaderboard,
    Notice,
    QuestionResult,
    RoundOver,
    Standing,
)
from bot.i18n import t
from tests.fakes import FakeTelegramServer
from tests.fakes.telegram_server import plain_text, utf16_len
from tests.telegram_world import TOKEN, all_records

APOLOGY = t("en", "error.internal")


def _unlimited() -> QuizRateLimiter:
    """The rate limiter without Telegram's 20 messages a minute in a group, which would hold
    a test that posts a hundred messages up for minutes (429s are still retried)."""
    return QuizRateLimiter(overall_max_rate=10_000, group_max_rate=10_000)


def sent_to(server: FakeTelegramServer, method: str, chat_id: int, since: int = 0):
    """Every request of `method` into the chat after `since`, failed ones too."""
    return server.calls_to(method, ok=None, since=since, chat_id=chat_id)


# ---------------------------------------------------------------------- faults: 429


async def test_a_429_is_resent_no_sooner_than_retry_after_and_posted_once(server, make_world):
    """Telegram answers the round's first poll with 429 and retry_after=1: the bot's rate
    limiter waits at least that long before it sends the poll again, the player gets the poll
    once, and the database names that one poll as the question's, so the vote on it counts."""
    world = await make_world()
    alice = server.user(1, "Alice", language_code="en")
    chat = ChatRef("telegram", "1", "private")

    retry_after = 1
    server.fail_next("sendPoll", retry_after=retry_after)
    mark = server.mark()
    server.send_text(alice, "/quiz start 1")
    await server.wait_for("sendPoll", chat_id=alice.id, since=mark, timeout=10)
    refused, posted = sent_to(server, "sendPoll", alice.id, since=mark)
    assert (refused.status, posted.status) == (429, 200)
    assert posted.at - refused.at >= retry_after, "resent before retry_after was up"
    assert posted.params == refused.params  # the same poll, sent again

    # The player sees the poll once, under the round's intro.
    polls = [m for m in server.messages_in(alice.id) if "poll" in m]
    assert [p["poll"]["id"] for p in polls] == [posted.result["poll"]["id"]]
    poll_ref = f"tg:poll:{posted.result['poll']['id']}"
    await world.until_rows("SELECT platform_ref FROM round_questions", [(poll_ref,)])

    ask = await world.open_question(chat, alice)
    mark = server.mark()
    server.answer_poll(alice, posted.result, [ask.question.correct_option])
    [over] = await server.wait_for("sendMessage", chat_id=alice.id, since=mark)
    assert "You got 1 of 1 right" in html.unescape(over.params["text"])
    assert await world.rows("SELECT correct, option_index FROM answers") == [
        (1, ask.question.correct_option)
    ]
    server.assert_no_errors()


# ---------------------------------------------------------------------- faults: timeouts


@pytest.mark.round_left_running("stops at the vote it checks, mid-round")
async def test_a_poll_whose_send_timed_out_is_posted_once_and_its_vote_counts(server, make_world):
    """The Bot API takes 0.6 s to answer sendPoll, the bot gives up after 0.3 s. Telegram posted
    the poll all the same: the bot must not post it again (a duplicate), and the player's vote
    on it must still be scored and the round go on (nothing lost)."""
    world = await make_world(read_timeout=0.3)
    alice = server.user(1, "Alice", language_code="en")
    chat = ChatRef("telegram", "1", "private")

    server.fail_next("sendPoll", delay=0.6)
    mark = server.mark()
    server.send_text(alice, "/quiz start 2")
    late = await _slow_call(server, "sendPoll", alice.id, mark)
    await server.assert_no_call("sendPoll", within=0.6, chat_id=alice.id)
    polls = [m["poll"]["id"] for m in server.messages_in(alice.id) if "poll" in m]
    assert polls == [late.result["poll"]["id"]], "posted twice"

    ask = await world.open_question(chat, alice)
    mark = server.mark()
    server.answer_poll(alice, late.result, [ask.question.correct_option])
    # The vote is scored and the round goes on: the verdict, then the second question.
    await world.until_rows("SELECT correct FROM answers", [(1,)])
    await _next_question(server, alice.id, mark)
    second = await world.open_question(chat, alice)
    assert second.position == 2
    server.assert_no_errors()


async def _group_of_polls(server: FakeTelegramServer, chat_id: int, title: str, admin):
    """A group whose rounds are two polls; `admin` may start them."""
    group = server.group_chat(chat_id, title)
    server.set_member_status(group.id, admin.id, "creator")
    for command in ("/settings questions 2", "/settings types mc"):
        mark = server.mark()
        server.send_text(admin, command, chat=group)
        await server.wait_for("sendMessage", chat_id=group.id, since=mark)
    return group, ChatRef("telegram", str(group.id), "group")


async def _answers_by_position(world) -> list[tuple]:
    return await world.rows(
        "SELECT q.position, u.platform_user_id, a.correct FROM answers a"
        " JOIN round_questions q ON q.id = a.round_question_id"
        " JOIN users u ON u.id = a.user_id ORDER BY q.position, u.platform_user_id"
    )


@pytest.mark.round_left_running("stops at the result it checks, mid-round")
async def test_votes_on_a_group_poll_whose_send_timed_out_count(server, make_world, clock):
    """A poll_answer names no chat: when the one group poll whose sendPoll timed out is the
    only poll the bot cannot place, the votes on it are its, scored and named in its result."""
    world = await make_world(fake_clock=True, read_timeout=0.3)
    ada, alice = server.user(10, "Ada", language_code="en"), server.user(1, "Alice")
    group, chat = await _group_of_polls(server, -100, "Quiz Group", ada)
    server.fail_next("sendPoll", delay=0.6, chat_id=group.id)
    mark = server.mark()
    server.send_text(ada, "/quiz", chat=group)
    late = await _slow_call(server, "sendPoll", group.id, mark)
    await server.assert_no_call("sendPoll", within=0.6, chat_id=group.id)
    assert [m["poll"]["id"] for m in server.messages_in(group.id) if "poll" in m] == [
        late.result["poll"]["id"]
    ], "posted twice"

    ask = await world.open_question(chat, ada)
    right = ask.question.correct_option
    server.answer_poll(alice, late.result, [right])
    server.answer_poll(ada, late.result, [(right + 1) % len(ask.question.options)])
    await world.until_rows("SELECT count(*) FROM answers", [(2,)])
    assert await _answers_by_position(world) == [(1, "1", 1), (1, "10", 0)]
    mark = server.mark()
    clock.advance(ask.seconds + 1)
    await world.app.hub.resume()  # time is up: the result names the one who was right
    [result, *_] = await server.wait_for("sendMessage", chat_id=group.id, since=mark)
    assert "Right: Alice" in html.unescape(result.params["text"])
    server.assert_no_errors()


async def test_an_adopted_poll_closed_early_is_left_to_its_own_timer(server, make_world, clock):
    """Question 2's sendPoll timed out and its votes were adopted; once every regular player
    has voted the question closes early. The bot never learnt that poll's message id, so it
    does not try to stop it (a stopPoll Telegram would reject): the result and the podium
    follow all the same."""
    world = await make_world(fake_clock=True, read_timeout=0.3)
    ada, alice = server.user(10, "Ada", language_code="en"), server.user(1, "Alice")
    group, chat = await _group_of_polls(server, -100, "Quiz Group", ada)
    mark = server.mark()
    server.send_text(ada, "/quiz", chat=group)
    [first] = await server.wait_for("sendPoll", chat_id=group.id, since=mark)
    ask = await world.open_question(chat, ada)
    for user in (ada, alice):  # both become regular players
        server.answer_poll(user, first.result, [ask.question.correct_option])
    await world.until_rows("SELECT count(*) FROM answers", [(2,)])

    server.fail_next("sendPoll", delay=0.6, chat_id=group.id)
    mark = server.mark()
    clock.advance(ask.seconds + 1)
    await world.app.hub.resume()  # question 1's time is up; question 2's post times out
    late = await _slow_call(server, "sendPoll", group.id, mark)
    second = await world.open_question(chat, ada)
    assert second.position == 2

    mark = server.mark()
    for user in (ada, alice):
        server.answer_poll(user, late.result, [second.question.correct_option])
    await world.until_rows("SELECT status FROM rounds", [("finished",)])
    sent = await server.wait_for("sendMessage", chat_id=group.id, since=mark, count=2)
    texts = [html.unescape(m.params["text"]) for m in sent]
    assert any("Right: Ada" in t or "Right: Alice" in t for t in texts), texts
    await server.assert_no_call("stopPoll", within=0.3, chat_id=group.id)
    assert await _answers_by_position(world) == [
        (1, "1", 1),
        (1, "10", 1),
        (2, "1", 1),
        (2, "10", 1),
    ]
    server.assert_no_errors()


async def test_stopping_a_round_closes_its_open_poll(server, make_world):
    """/quiz stop with a question's poll open: the poll is stopped with the round (nobody
    votes on a question that no longer counts), and the round's end is posted."""
    world = await make_world()
    ada = server.user(10, "Ada", language_code="en")
    group, chat = await _group_of_polls(server, -100, "Quiz Group", ada)
    mark = server.mark()
    server.send_text(ada, "/quiz", chat=group)
    [poll] = await server.wait_for("sendPoll", chat_id=group.id, since=mark)
    await world.open_question(chat, ada)

    mark = server.mark()
    server.send_text(ada, "/quiz stop", chat=group)
    [stop] = await server.wait_for("stopPoll", chat_id=group.id, since=mark)
    assert stop.params["message_id"] == poll.result["message_id"]
    sent = await server.wait_for("sendMessage", chat_id=group.id, since=mark)
    assert any("stopped" in html.unescape(m.params["text"]).lower() for m in sent)
    assert await world.rows("SELECT status FROM rounds") == [("stopped",)]
    server.assert_no_errors()


@pytest.mark.round_left_running("stops once the votes are placed, mid-round")
async def test_a_vote_on_a_poll_from_before_a_restart_is_not_taken_for_a_timed_out_one(
    server, make_world, clock
):
    """Group A's poll was posted before a restart (the database knows it, the process does
    not); group B's sendPoll timed out, and so did the voter's own private poll. A vote on A's
    poll is A's, not one of those; with two group polls unplaced, a vote on neither known poll
    is not guessed at."""
    world = await make_world(fake_clock=True, read_timeout=0.3)
    ada, alice = server.user(10, "Ada", language_code="en"), server.user(1, "Alice")
    group_a, chat_a = await _group_of_polls(server, -100, "Group A", ada)
    group_b, chat_b = await _group_of_polls(server, -200, "Group B", ada)
    group_c, _ = await _group_of_polls(server, -300, "Group C", ada)
    mark = server.mark()
    server.send_text(ada, "/quiz", chat=group_a)
    [poll_a] = await server.wait_for("sendPoll", chat_id=group_a.id, since=mark)
    ask_a = await world.open_question(chat_a, ada)
    world.adapter.outbox.polls.clear()  # as after a restart

    server.fail_next("sendPoll", delay=0.6, chat_id=group_b.id)
    mark = server.mark()
    server.send_text(ada, "/quiz", chat=group_b)
    late_b = await _slow_call(server, "sendPoll", group_b.id, mark)
    ask_b = await world.open_question(chat_b, ada)
    assert ask_b.round_question_id != ask_a.round_question_id
    # Alice's private round's poll timed out too: her vote on A's poll is not that one's either.
    mark = server.mark()
    server.send_text(alice, "/settings types mc")
    await server.wait_for("sendMessage", chat_id=alice.id, since=mark)
    server.fail_next("sendPoll", delay=0.6, chat_id=alice.id)
    mark = server.mark()
    server.send_text(alice, "/quiz start 2")
    await _slow_call(server, "sendPoll", alice.id, mark)

    server.answer_poll(alice, poll_a.result, [ask_a.question.correct_option])
    await world.until_rows(
        "SELECT a.round_question_id FROM answers a", [(ask_a.round_question_id,)]
    )

    # A second group poll unplaced: a vote on either is ambiguous, and is not guessed at.
    server.fail_next("sendPoll", delay=0.6, chat_id=group_c.id)
    mark = server.mark()
    server.send_text(ada, "/quiz", chat=group_c)
    await _slow_call(server, "sendPoll", group_c.id, mark)
    server.answer_poll(ada, late_b.result, [ask_b.question.correct_option])
    await asyncio.sleep(0.3)
    assert await world.rows("SELECT count(*) FROM answers") == [(1,)]
    server.assert_no_errors()


async def _slow_call(server: FakeTelegramServer, method: str, chat_id: int, since: int):
    """The request of `method` that the server answered only after the bot stopped waiting
    (a fail_next delay of 0.6 s against a read timeout of 0.3 s)."""
    deadline = asyncio.get_running_loop().time() + 5
    while asyncio.get_running_loop().time() < deadline:
        for call in server.calls_to(method, since=since, chat_id=chat_id):
            if call.answered_at - call.at >= 0.5:
                return call
        await asyncio.sleep(0.02)
    raise AssertionError(f"no slow {method}: {server.calls[since:]}")


async def _next_question(server: FakeTelegramServer, chat_id: int, since: int, wait=5.0):
    """The next question posted in the chat after `since` (a poll, or a typed question)."""
    deadline = asyncio.get_running_loop().time() + wait
    while asyncio.get_running_loop().time() < deadline:
        for call in server.calls_to("sendPoll", since=since, chat_id=chat_id):
            return call
        for call in server.calls_to("sendMessage", since=since, chat_id=chat_id):
            if "Question " in call.params["text"]:
                return call
        await asyncio.sleep(0.02)
    raise AssertionError(f"no question posted: {server.calls[since:]}")


async def test_typed_questions_whose_send_timed_out_take_replies_in_a_group(
    server, make_world, clock
):
    """In a group, answers to a typed question are replies to its message. Both questions'
    sendMessage time out (the first posted for /quiz, the second by the round's timer), yet
    Telegram posts them: neither is posted twice, replies to them are scored, and the results
    name the players."""
    world = await make_world(fake_clock=True, read_timeout=0.3)
    group = server.group_chat(-100, "Quiz Group")
    ada, alice = server.user(10, "Ada", language_code="en"), server.user(1, "Alice")
    server.set_member_status(group.id, ada.id, "creator")
    chat = ChatRef("telegram", str(group.id), "group")
    for command in ("/settings questions 2", "/settings types typed"):
        mark = server.mark()
        server.send_text(ada, command, chat=group)
        await server.wait_for("sendMessage", chat_id=group.id, since=mark)
    server.fail_next(
        "sendMessage", delay=0.6, chat_id=group.id, where=lambda p: "Question" in p["text"], times=2
    )

    mark = server.mark()
    server.send_text(ada, "/quiz", chat=group)
    for position, player in ((1, alice), (2, ada)):
        late = await _slow_call(server, "sendMessage", group.id, mark)
        assert f"Question {position}/2" in late.params["text"]
        await server.assert_no_call("sendMessage", within=0.6, chat_id=group.id)
        texts = server.texts_in(group.id)
        assert sum(f"Question {position}/2" in t for t in texts) == 1, f"posted twice: {texts}"

        ask = await world.open_question(chat, player)
        clock.advance(2)
        mid = late.result["message_id"]
        server.reply_text(player, ask.question.answer, to_message_id=mid, chat=group)
        await world.until_rows(
            "SELECT count(*) FROM answers a JOIN round_questions q ON q.id = a.round_question_id"
            f" WHERE a.correct AND q.position = {position}",
            [(1,)],
        )
        mark = server.mark()
        clock.advance(30)
        await world.app.hub.resume()  # time is up: the result, then what comes next
        [result, *_] = await server.wait_for("sendMessage", chat_id=group.id, since=mark)
        assert f"Right: {player.first_name}" in html.unescape(result.params["text"])
        mark = result.index + 1
    server.assert_no_errors()


# ---------------------------------------------------------------------- hostile input: parsers

BOT = "quiz_test_bot"
RTL = ("\u200f", "\u202e", "\u202b", "\u2066")
HUGE = 100_000

unicode_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=80)
hostile_text = st.one_of(
    st.text(max_size=200),
    unicode_text,
    st.sampled_from(
        [
            "",
            " ",
            "\n\t",
            "\x00\x07\x1b[2J\x7f",
            "\u200f\u202e",
            "\u202equiz/",
            "😀" * 40,
            "𝕏𝕐𝕫 𠀀𠀁",
            "<b>&amp;</b> & <i>",
            "x" * HUGE,
            "答案是" * (HUGE // 3),
        ]
    ),
)
suffixes = st.one_of(
    st.sampled_from(["", "@", f"@{BOT}", f"@{BOT.upper()}", "@other_bot", f"@{BOT}\u200f"]),
    st.builds(lambda s: "@" + s, unicode_text),
    st.just("@" + "b" * 300),
)
command_names = st.one_of(
    st.sampled_from(["quiz", "QUIZ", "start", "help", "leaderboard", "settings", "lang", ""]),
    unicode_text,
    st.sampled_from([*RTL, "q" * HUGE]),
)
hostile_commands = st.builds(
    lambda pre, name, suffix, sep, args: f"{pre}/{name}{suffix}{sep}{args}",
    st.sampled_from(["", "", "", "", "", "", " ", "\u200f", "\ufeff"]),  # mostly commands
    command_names,
    suffixes,
    st.sampled_from([" ", "  ", "\t", "\n", "\u3000", ""]),
    hostile_text,
)
# Telegram's callback data is 1-64 bytes; a forged query may carry anything.
callback_data = st.one_of(
    st.text(max_size=80),
    st.builds(lambda s: "cmd:" + s, hostile_text),
    st.builds(lambda a, b: f"img:{a}:{b}", unicode_text, unicode_text),
    st.builds(lambda a: f"rep:{a}", unicode_text),
    st.builds(
        lambda kind, n, reason: f"rep:{kind}:{n}" + (f":{reason}" if reason else ""),
        st.sampled_from(["rq", "pr", "RQ", "tg"]),
        st.integers(-5, 10**12),
        st.one_of(
            st.none(), st.sampled_from(["wrong_key", "should_count", "x", "1"]), unicode_text
        ),
    ),
    st.binary(max_size=90).map(lambda b: b.decode("utf-8", "replace")),
    st.sampled_from(
        [
            "cmd:",
            "cmd: ",
            "cmd:reset confirm",
            "cmd:RESET Confirm",
            "cmd:" + "重" * 20,
            "cmd:" + "x" * 200,
            "img:",
            "img::",
            "img:chat:",
            "img:global:week",
            "img:chat:week:extra",
            "rep:",
            "rep:rq:",
            "rep:rq:1",
            "rep:pr:2:unclear",
            "rep:rq:1:should_count:extra",
            "rep:rq:99999999999",
            ":",
            "\u202ecmd:quiz",
        ]
    ),
)


def _well_formed_command(parsed) -> None:
    name, args = parsed
    assert name and name == name.lower(), parsed
    assert "@" not in name and name == "".join(name.split()), parsed
    assert isinstance(args, tuple) and all(a and a == "".join(a.split()) for a in args), parsed


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(hostile_commands, hostile_text), username=st.sampled_from([BOT, None]))
def test_the_command_parser_takes_any_text(text, username):
    parsed = tg.parse_command(text, username)
    words = text.split()
    if parsed is None:
        return
    _well_formed_command(parsed)
    # Only a slash command, and only one addressed to this bot (or to no bot in particular).
    assert words[0].startswith("/")
    target = words[0].partition("@")[2]
    assert not target or username is None or target.lower() == username.lower()
    assert parsed == (words[0][1:].partition("@")[0].lower(), tuple(words[1:]))


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40),
    suffix=st.sampled_from(["", f"@{BOT}", f"@{BOT.title()}"]),
    args=st.lists(st.text(alphabet=st.characters(codec="utf-8"), min_size=1), max_size=5),
)
def test_a_command_to_this_bot_keeps_its_name_and_words(name, suffix, args):
    name, args = "".join(name.split()).replace("@", ""), ["".join(a.split()) for a in args]
    assume(name and all(args))
    parsed = tg.parse_command(" ".join([f"/{name}{suffix}", *args]), BOT)
    assert parsed == (name.lower(), tuple(args))
    assert tg.parse_command(f"/{name}@other_bot", BOT) is None


@settings(max_examples=400, deadline=None)
@given(data=callback_data)
def test_the_callback_parser_takes_any_data(data):
    parsed = tg.parse_callback(data)
    if parsed is None:
        return
    kind, words = parsed
    assert kind in ("cmd", "img", "rep") and data.startswith(f"{kind}:")
    if kind == "cmd":
        assert words and all(w and w == "".join(w.split()) for w in words)
    elif kind == "rep":  # a question reference, and perhaps a reason: ASCII words only
        assert 1 <= len(words) <= 2 and data == "rep:" + ":".join(words)
        assert words[0].split(":")[0] in ("rq", "pr") and all(w.isascii() for w in words)
    else:
        assert len(words) == 2 and all(words)


@settings(max_examples=200, deadline=None)
@given(words=st.lists(unicode_text.map(lambda w: "".join(w.split())), min_size=1, max_size=6))
def test_callback_data_is_at_most_64_bytes_and_reads_back(words):
    assume(all(words))
    data = tg.command_data(tuple(words))
    if data is None:  # too long for a button: the reply says which command to send instead
        assert len(("cmd:" + " ".join(words)).encode()) > tg.CALLBACK_DATA_MAX
        return
    assert len(data.encode()) <= tg.CALLBACK_DATA_MAX
    assert tg.parse_callback(data) == ("cmd", tuple(words))


# ---------------------------------------------------------------------- hostile input: updates


class RecordingHub:
    """The real hub, noting every event the adapter hands it."""

    def __init__(self, hub) -> None:
        self._hub = hub
        self.events: list = []

    def __getattr__(self, name: str):
        return getattr(self._hub, name)

    async def handle(self, event):
        self.events.append(event)
        return await self._hub.handle(event)


class Fuzz:
    """The adapter with the real App behind it, fed Updates straight into the Application
    (Update.de_json of what the fake server made, then process_update: PTB's filters and the
    adapter's handlers), its replies going to the fake server."""

    def __init__(self, server, app, hub, adapter, errors) -> None:
        self.server, self.app, self.hub, self.adapter = server, app, hub, adapter
        self.errors = errors
        self.ids = itertools.count(1_000_000)
        # Several people, so that the flood guard (per person) does not answer for the core.
        langs = ("en", "zh", None, "ar")
        self.users = [server.user(i, f"User {i}", language_code=langs[i % 4]) for i in range(1, 9)]
        self.group = server.group_chat(-100, "Hostile <Group>")
        for admin in self.users[:4]:
            server.set_member_status(self.group.id, admin.id, "creator")
        self.bot_messages: dict[int, dict] = {}  # chat id -> a message of the bot's there

    async def bot_message(self, chat_id: int, text: str = "Question?") -> dict:
        """A message the bot posts (through the Bot API), as the fake server stored it."""
        await self.adapter.application.bot.send_message(chat_id, text)
        return self.server.calls_to("sendMessage", chat_id=chat_id)[-1].result

    async def deliver(self, body: dict) -> tuple[int, list]:
        """Hand one update to the Application: its id, and the events the adapter made of it.
        Whatever it was, no handler failed, no reply broke a rule of Telegram's, and none was
        the apology for an internal error."""
        before, mark, update_id = len(self.hub.events), self.server.mark(), next(self.ids)
        update = Update.de_json({"update_id": update_id, **body}, self.adapter.application.bot)
        await self.adapter.application.process_update(update)
        assert not self.errors, self.errors
        self.server.assert_no_errors()
        for call in self.server.calls[mark:]:
            assert APOLOGY not in (call.params.get("text") or ""), call
            check_sent(call)
        return update_id, self.hub.events[before:]


@pytest.fixture
async def fuzz(server, database_url, mini_glossary, caplog, monkeypatch):
    # Drawing a chart takes a second; what is fuzzed here is the text around it.
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    for name in ("leaderboard_card", "progress_chart", "mastery_chart", "stats_card"):
        monkeypatch.setattr(charts, name, lambda *a, **kw: png)
    settings_ = Settings(
        database_url=database_url, telegram_token=Secret(TOKEN), telegram_base_url=server.api_url
    )
    app = await App.create(settings_, migrate=False, glossary=mini_glossary)
    app.quiz.generator = QuestionGenerator(mini_glossary, seed=5)
    hub = RecordingHub(app.hub)
    adapter = TelegramAdapter(settings_, hub, poll_timeout=1, rate_limiter=_unlimited())
    app.hub.add_adapter(adapter)
    errors: list[BaseException] = []

    async def record(update, context):
        errors.append(context.error)

    adapter.application.add_error_handler(record)
    await adapter.application.initialize()
    caplog.set_level(logging.INFO)
    try:
        world = Fuzz(server, app, hub, adapter, errors)
        world.bot_messages = {
            chat.id: await world.bot_message(chat.id)
            for chat in (*(world.server.chats[u.id] for u in world.users), world.group)
        }
        yield world
    finally:
        await app.close()  # its timers first: they post through the adapter
        await adapter.application.shutdown()
    bad = [r.getMessage() for r in all_records(caplog) if r.levelno >= logging.ERROR]
    assert not bad, bad


def _check_chat_and_sender(event, chat: dict, user: dict) -> None:
    assert event.chat.platform == "telegram"
    assert event.chat.platform_chat_id == str(chat["id"])
    assert event.chat.kind == ("private" if chat["type"] == "private" else "group")
    assert event.sender.platform_user_id == str(user["id"])
    assert event.sender.display_name  # a name to show, whatever the user called themselves


names = st.one_of(
    st.sampled_from(["<b>Bob</b> & <i>", "\u202eevil", "😀" * 32, "𝕏" * 64, " ", "&amp;"]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=64),
)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    text=st.one_of(hostile_commands, hostile_commands, hostile_text),
    in_group=st.booleans(),
    reply_to_bot=st.booleans(),
    first_name=names,
    who=st.integers(0, 7),
)
async def test_any_message_becomes_a_well_formed_event_or_none(
    fuzz, text, in_group, reply_to_bot, first_name, who
):
    server, user = fuzz.server, fuzz.users[who]
    chat = fuzz.group if in_group else server.chats[user.id]
    if reply_to_bot:
        original = fuzz.bot_messages[chat.id]
        message = server.reply_text(user, text, to_message_id=original["message_id"], chat=chat)
    else:
        message = server.send_text(user, text, chat=chat)
    message["from"]["first_name"] = first_name
    _, events = await fuzz.deliver({"message": message})

    if text.startswith("/") and len(text) > 1:  # Telegram marks it a bot command
        target = text.split()[0].partition("@")[2]
        if tg.parse_command(text, BOT) is None or target.lower() not in ("", BOT):
            assert events == []  # not a command for this bot: not a word from it
            return
        [event] = events
        assert isinstance(event, Command)
        assert (event.name, event.args) == tg.parse_command(text, BOT)
        _well_formed_command((event.name, event.args))
    elif not text or (in_group and not reply_to_bot):
        assert events == []  # nothing to read, or group chatter that is no answer
        return
    else:
        [event] = events
        assert isinstance(event, TextAnswer) and event.text == text
        if in_group:  # a reply names the question it answers
            original = fuzz.bot_messages[chat.id]["message_id"]
            assert event.question_ref == f"tg:msg:{chat.id}:{original}"
        else:
            assert event.question_ref is None  # the chat's open question
    # Named by the message itself, not the update: update ids may start again (issue 19).
    assert event.event_id == f"msg:{message['chat']['id']}:{message['message_id']}"
    _check_chat_and_sender(event, message["chat"], message["from"])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=callback_data, in_group=st.booleans(), who=st.integers(0, 7))
async def test_any_callback_data_is_answered_and_is_a_well_formed_command_or_none(
    fuzz, data, in_group, who
):
    server, user = fuzz.server, fuzz.users[who]  # the first four are the group's admins
    chat_id = fuzz.group.id if in_group else user.id
    posted = await fuzz.bot_message(chat_id, "Buttons")
    query = server.forge_click(user, posted, data)
    _, events = await fuzz.deliver({"callback_query": query})
    assert query["id"] in server.callback_answers  # the spinner stopped, whatever the data

    parsed = tg.parse_callback(data)
    if parsed is None:
        assert events == []
        return
    [event] = events
    assert isinstance(event, Command) and event.event_id == f"cb:{query['id']}"
    kind, words = parsed
    if kind == "cmd":
        assert (event.name, event.args) == (words[0].lower(), words[1:])
        assert event.name == event.name.lower()
    elif kind == "rep":
        assert (event.name, event.args) == ("report", words)
    else:
        assert (event.name, event.args) == ("leaderboard", (*words, "image"))
    _check_chat_and_sender(event, posted["chat"], query["from"])


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    poll_id=st.one_of(unicode_text, st.sampled_from(["", "5000000001", "x" * 300])),
    options=st.lists(st.integers(-(2**63), 2**63), max_size=3),
)
async def test_any_poll_answer_is_a_well_formed_vote_or_none(fuzz, poll_id, options):
    user = fuzz.users[1].to_dict()
    answer = {
        "poll_id": poll_id,
        "user": user,
        "option_ids": options,
        "option_persistent_ids": [f"o{i}" for i in options],
    }
    _, events = await fuzz.deliver({"poll_answer": answer})
    if not options:
        assert events == []  # a retracted vote
        return
    [event] = events
    assert isinstance(event, OptionAnswer) and event.option == options[0]
    assert event.question_ref == f"tg:poll:{poll_id}"  # not ours: the core looks it up
    assert event.event_id == f"poll:{poll_id}:{user['id']}"
    assert event.sender.platform_user_id == str(user["id"])


# ---------------------------------------------------------------------- hostile input: output


def _hostile_glossary() -> Glossary:
    """Terms, definitions and gists full of markup characters, emoji and astral-plane letters
    (two UTF-16 units each), long enough that only the adapter's cuts keep polls valid: the
    generator cuts to 300/100/200 *characters*, Telegram counts UTF-16 units."""
    words = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")
    entries = []
    for i, word in enumerate(words):
        definition = (
            f"A <b>bold</b> & risky notion 😀 number {i} that \u202egoes\u202c on and on "
            + " ".join(f"𝕐{word}{j}&<{j}>" for j in range(150))  # distinct: no rivals
            + "."
        )
        # A clue at the generator's limit, counted in characters: in UTF-16 units it is over.
        clue = f"A <b>bold</b> & risky notion 😀 number {i} that \u202egoes\u202c on " + " ".join(
            f"𝕐𝕐{word[:2]}{j}&<{j}>" for j in range(30)
        )
        entries.append(
            Entry(
                id=word,
                term=f"{word.title()} <{word}> & {'𝕏' * (80 + i)}",
                lang="en",
                definition=definition,
                gist=(f"Gist {i} of <{word}> & 😀𝕏𝕐 " + "🙂" * 60)[:100],
                tags=("hostile",),
                source="test",
                kind="method",
                clue=clue[: CLUE_LIMIT["en"]].rstrip(" &<"),
            )
        )
    return Glossary(tuple(entries))


_TAG = re.compile(r"<(/?)([^<>]*)>")


def check_sent(call) -> str:
    """What the user sees of one request, after checking it against Telegram's rules: HTML
    that parses, with no markup but the bot's own bold (so every <, > and & of user text was
    escaped), and every length within limits, counted in UTF-16 units after parsing."""
    p = call.params
    if call.method == "sendMessage":
        assert p.get("parse_mode") == "HTML", call
        tags = {name for _, name in _TAG.findall(p["text"])}
        assert tags <= {"b"}, f"markup that is not the bot's: {tags}"
        seen = plain_text(p["text"], "HTML")  # raises on unbalanced or unknown tags
        assert seen.strip() and utf16_len(seen) <= tg.MESSAGE_MAX, utf16_len(seen)
        return seen
    if call.method == "sendPoll":
        question, options = p["question"], [o["text"] for o in p["options"]]
        assert 1 <= utf16_len(question) <= tg.POLL_QUESTION_MAX, utf16_len(question)
        assert 2 <= len(options) <= 10
        assert all(1 <= utf16_len(o) <= tg.POLL_OPTION_MAX for o in options), options
        explanation = p.get("explanation") or ""
        assert utf16_len(explanation) <= tg.EXPLANATION_MAX and explanation.count("\n") <= 2
        return "\n".join([question, *options, explanation])
    if call.method == "sendPhoto":
        assert utf16_len(p.get("caption") or "") <= tg.CAPTION_MAX
        return p.get("caption") or ""
    if call.method == "answerCallbackQuery":
        assert utf16_len(p.get("text") or "") <= 200
    return ""


def _seen_as(text: str) -> str:
    """What a reader sees: the word joiner that defuses a mention is invisible."""
    return text.replace(tg.WORD_JOINER, "")


def test_mentions_in_texts_are_defused_within_the_limit():
    text = "🥇 @alice_w — 1000 pts\n2. bob@example.org\n@ alone, @_x"
    sent = tg.html_text(text)
    assert "@alice_w" not in sent and "@_x" not in sent and "bob@example" not in sent
    assert _seen_as(sent) == text
    crowd = tg.html_text("@ab " * 2_000)  # a joiner each: still within 4,096 units
    assert tg.utf16_len(crowd) <= tg.MESSAGE_MAX and "@ab" not in crowd


@given(st.text(max_size=300))
def test_no_text_keeps_a_mention_and_every_text_reads_the_same(text):
    sent = html.unescape(tg.html_text(text))
    assert re.search(r"@\w", sent) is None
    assert _seen_as(sent) == _seen_as(text)


def seen_in(server: FakeTelegramServer, chat_id: int, since: int = 0) -> list[str]:
    """Everything the bot posted into the chat, as the user sees it, each request checked
    (a poll it stopped is not a post)."""
    return [
        check_sent(c)
        for c in server.calls[since:]
        if _same_chat(c, chat_id) and c.method != "stopPoll"
    ]


def _same_chat(call, chat_id: int) -> bool:
    return str(call.params.get("chat_id")) == str(chat_id)


async def test_a_private_round_of_hostile_content_and_a_100_kb_answer_fits_telegram(
    server, make_world
):
    """A hostile name, hostile glossary content and a 100 KB answer full of markup: every
    message, poll, option and explanation the player gets is valid HTML within Telegram's
    limits, the name reads back exactly as typed, and the huge answer is not stored."""
    world = await make_world(glossary=_hostile_glossary(), seed=0)
    name = "<b>Tom</b> & 😀𝕏 \u202eevil"
    tom = server.user(7, name, language_code="en")
    chat = ChatRef("telegram", str(tom.id), "private")
    huge = "<i>&amp;</i> 𝕏" * (HUGE // 13)

    mark = server.mark()
    server.send_text(tom, "/quiz start 3")
    kinds = []
    for _ in range(3):
        question = await _next_question(server, tom.id, mark)
        ask = await world.open_question(chat, tom)
        mark = server.mark()
        if question.method == "sendPoll":
            kinds.append("poll")
            server.answer_poll(tom, question.result, [ask.question.correct_option])
        else:
            kinds.append("typed")
            server.send_text(tom, huge)
            [too_long] = await server.wait_for("sendMessage", chat_id=tom.id, since=mark)
            assert "far too long" in check_sent(too_long)
            mark = server.mark()
            server.send_text(tom, ask.question.answer)
        await world.until_rows("SELECT count(*) FROM answers", [(len(kinds),)])
    assert sorted(set(kinds)) == ["poll", "typed"], kinds
    await server.wait_for("sendMessage", chat_id=tom.id, since=mark)  # the end of the round

    mark = server.mark()
    server.send_text(tom, "/leaderboard")
    [board] = await server.wait_for("sendMessage", chat_id=tom.id, since=mark)
    assert name in check_sent(board)  # escaped on the way, read back as typed
    seen = seen_in(server, tom.id)
    assert any("You got 3 of 3 right" in s for s in seen)
    assert await world.rows("SELECT display_name FROM users") == [(name,)]
    stored = await world.rows("SELECT given, correct FROM answers ORDER BY id")
    assert len(stored) == 3 and all(correct for _, correct in stored)
    assert all(len(given) < 1000 for given, _ in stored), "the 100 KB answer was stored"
    server.assert_no_errors()


HOSTILE_NAMES = (
    "<script>alert(1)</script>",
    "&lt;Amp&gt; & Co @amp_admin",  # Telegram would make "@amp_admin" a mention, a ping
    "😀" * 32,  # 64 UTF-16 units
    "𝕏" * 64,  # 128 UTF-16 units in 64 characters
    "\u202eRTL\u200f <b>",
)


async def test_a_group_round_of_hostile_names_and_content_fits_telegram(server, make_world, clock):
    """Players named with markup, emoji, astral letters and RTL marks play a group round of
    hostile content: every result, the podium and the leaderboard are valid HTML within the
    limits, and show each name exactly as its player wrote it."""
    world = await make_world(glossary=_hostile_glossary(), seed=0, fake_clock=True)
    group = server.group_chat(-100, "<Group> & 😀")
    ada = server.user(10, "Ada", language_code="en")
    server.set_member_status(group.id, ada.id, "creator")
    players = [server.user(20 + i, name) for i, name in enumerate(HOSTILE_NAMES)]
    chat = ChatRef("telegram", str(group.id), "group")
    for command in ("/settings questions 2", "/settings seconds 5", "/quiz"):
        mark = server.mark()
        server.send_text(ada, command, chat=group)
        await server.wait_for("sendMessage", chat_id=group.id, since=mark)

    stored, kinds = 0, set()
    for _ in (1, 2):
        question = await _next_question(server, group.id, mark)
        kinds.add(question.method)
        ask = await world.open_question(chat, players[0])
        mark = server.mark()
        # The first three right, the others wrong; the last first, for a poll closes once
        # every regular player voted (the 100 KB answer made no regular of its author).
        for i, player in reversed(list(enumerate(players))):
            clock.advance(0.5)
            if question.method == "sendPoll":
                right = ask.question.correct_option
                choice = right if i < 3 else (right + 1) % len(ask.question.options)
                server.answer_poll(player, question.result, [choice])
            else:
                answer = (ask.question.answer,) * 3 + ("<b>no</b> & 😀", "<i>&" * 30_000)
                mid = question.result["message_id"]
                server.reply_text(player, answer[i], to_message_id=mid, chat=group)
        stored += len(players) if question.method == "sendPoll" else len(players) - 1
        await world.until_rows("SELECT count(*) FROM answers", [(stored,)])  # not 100 KB
        if question.method == "sendMessage":
            clock.advance(10)
            await world.app.hub.resume()  # time is up
        [result, *_] = await server.wait_for("sendMessage", chat_id=group.id, since=mark)
        mark = result.index + 1
    await server.wait_for("sendMessage", chat_id=group.id, since=mark)  # the podium
    mark = server.mark()
    server.send_text(ada, "/leaderboard", chat=group)
    await server.wait_for("sendMessage", chat_id=group.id, since=mark)

    assert kinds == {"sendPoll", "sendMessage"}, kinds
    seen = seen_in(server, group.id)
    podium, board = seen[-2], seen[-1]
    assert "Podium" in podium
    for name in HOSTILE_NAMES[:3]:  # the winners, on the podium and the board as typed
        assert name in _seen_as(podium) and name in _seen_as(board), name
    assert not any("@amp_admin" in text for text in seen), "a mention: it pings"
    names = await world.rows("SELECT display_name FROM users WHERE platform_user_id != '10'")
    assert sorted(n for (n,) in names) == sorted(HOSTILE_NAMES)
    server.assert_no_errors()


@pytest.mark.round_left_running("hostile /quiz commands start rounds it does not play")
async def test_replies_to_hostile_commands_fit_telegram_and_change_nothing(server, make_world):
    """Commands of 100 KB, arguments of markup and astral letters: each gets one reply, valid
    HTML within the limits that shows what it quotes as typed, and no setting is changed."""
    world = await make_world()
    group = server.group_chat(-100, "Group")
    commands = [
        "/" + "q" * HUGE,
        "/<b>quiz</b>",
        "/settings <i>seconds</i> 5",
        "/settings seconds " + "9" * 5000,
        "/settings mode <b>&amp;" * (HUGE // 16),
        "/lang <script>",
        "/leaderboard \u202e<b>global</b> 😀𝕏",
        "/quiz start " + "𝕏" * 5000,
        "/hint " + "&" * HUGE,
    ]
    for i, command in enumerate(commands):  # one admin each: the flood guard is per person
        admin = server.user(10 + i, "Ada", language_code="en")
        server.set_member_status(group.id, admin.id, "creator")
        for chat in (server.chats[admin.id], group):
            mark = server.mark()
            server.send_text(admin, command, chat=chat)
            [reply] = await server.wait_for("sendMessage", chat_id=chat.id, since=mark)
            seen = check_sent(reply)
            if command.startswith("/<b>"):
                assert "<b>quiz</b>" in seen  # the unknown command, quoted as typed
    settings = await world.rows("SELECT settings FROM chats")
    assert all(s in (None, "{}", {}) for (s,) in settings), settings
    server.assert_no_errors()


BIG_TEXTS = (
    "<b>&amp;</b> " * (HUGE // 12),  # markup characters, one line
    "𝕏😀" * (HUGE // 4),  # astral letters: twice as long in UTF-16 as in characters
    "\n".join(f"row {i} <{i}> & \u202e😀" for i in range(HUGE // 20)),  # a long table
    "\u200f\u202e" + "ا" * HUGE,  # right to left
    "x" * 4095 + "𝕏",  # one unit over the limit
)


def _huge_question(text: str, *, mc: bool) -> Question:
    options = tuple(f"{i} {text}" for i in range(4)) if mc else ()
    return Question(
        QuestionType.DEFINITION_TO_TERM if mc else QuestionType.FILL_IN,
        "en",
        text,
        options[0] if mc else text,
        (text,),
        "huge",
        text + "\n" + text,
        options=options,
        correct_option=0 if mc else None,
    )


async def test_any_reply_of_100_kb_is_posted_within_telegram_limits(server, make_world):
    """The core keeps its texts short; should one ever echo 100 KB (a hostile answer, a long
    name), every kind of reply still goes out valid and within Telegram's limits, alone or
    with the verdict and the result on top in a private chat, and starts as it should."""
    world = await make_world(rate_limiter=_unlimited())  # 20 a minute in a group
    outbox = world.adapter.outbox
    server.user(1, "Alice")
    group = server.group_chat(-100, "Group")
    for chat in (ChatRef("telegram", "1", "private"), ChatRef("telegram", str(group.id), "group")):
        for big in BIG_TEXTS:
            board = (Standing(1, big, 10, 1, 1),)
            replies = [
                Notice(chat, big),
                QuestionResult(chat, big, round_question_id=1, top=board),
                RoundOver(chat, big, table=board),
                Leaderboard(chat, big, rows=board),
                Confirm(chat, big, yes_command=("reset", big), yes_label=big, no_label=big),
                Image(chat, big, png=b"\x89PNG\r\n\x1a\n" + bytes(16)),
            ]
            for reply in replies:
                mark = server.mark()
                await outbox.render(reply, Context())
                [seen] = seen_in(server, int(chat.platform_chat_id), since=mark)
                assert seen.startswith(big[:20]), (type(reply).__name__, seen[:60])
            for mc in (True, False):
                ask = AskQuestion(
                    chat, big, round_question_id=2, question=_huge_question(big, mc=mc),
                    position=3, total=10, seconds=20, header="Question 3/10",
                )  # fmt: skip
                verdict = AnswerFeedback(chat, big, verdict=big[:300])
                result = QuestionResult(chat, big, round_question_id=1)
                mark = server.mark()
                for post in outbox.plan([verdict, result, ask], Context(answer=True)):
                    await outbox.render(post.reply, Context(), leads=post.leads)
                seen = seen_in(server, int(chat.platform_chat_id), since=mark)
                assert seen and all(s.strip() for s in seen)
    server.assert_no_errors()
