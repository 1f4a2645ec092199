"""Telegram when things are not as they should be (issue 19): a chat that refuses polls, update
ids that start again, a Bot API that fails a call the bot can do without, getUpdates failing
for a while. The real python-telegram-bot Application against the fake Bot API server."""

from __future__ import annotations

import asyncio
import html
import itertools
import logging

import pytest

from bot.adapters.telegram import text as tg
from bot.core.events import ChatRef
from tests.fakes import FakeTelegramServer

# What Telegram answers a bot that may not send polls to a group.
POLLS_REFUSED = "Bad Request: not enough rights to send polls to the chat"
LETTERS = "ABCDEFGHIJ"


async def _group(server: FakeTelegramServer, admin, *settings: str):
    group = server.group_chat(-100, "Quiz Group")
    server.set_member_status(group.id, admin.id, "creator")
    for setting in settings:
        mark = server.mark()
        server.send_text(admin, f"/settings {setting}", chat=group)
        await server.wait_for("sendMessage", chat_id=group.id, since=mark)
    return group, ChatRef("telegram", str(group.id), "group")


def _buttons(call) -> list[dict]:
    markup = call.params.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


# ---------------------------------------------------------------------- polls refused


async def test_a_group_that_refuses_polls_gets_its_questions_with_option_buttons(
    server, make_world, clock
):
    world = await make_world(fake_clock=True)
    ada, bob = server.user(10, "Ada", language_code="en"), server.user(2, "Bob")
    group, chat = await _group(server, ada, "questions 2", "types mc")
    server.fail_next("sendPoll", 400, description=POLLS_REFUSED, chat_id=group.id)

    mark = server.mark()
    server.send_text(ada, "/quiz", chat=group)
    first, is_poll = await world.question(group.id, mark)
    assert not is_poll
    ask = await world.open_question(chat, ada)
    question = ask.question
    text = html.unescape(first.params["text"])
    # Said once, above the question; the options listed; a button per option letter.
    assert text.startswith(tg.POLLS_REFUSED["en"])
    assert f"Question 1/2\n{question.prompt}" in text
    for i, option in enumerate(question.options):
        assert f"{LETTERS[i]}) {option}" in text
    assert [b["text"] for b in _buttons(first)] == list(LETTERS[: len(question.options)])

    # Bob presses the right letter: scored, and told in a toast only he sees.
    mark = server.mark()
    right = LETTERS[question.correct_option]
    server.click(bob, first.result, text=right)
    [toast] = await server.wait_for("answerCallbackQuery", since=mark)
    assert "Right" in toast.params["text"]
    # Ada replies with a wrong letter: an answer too.
    wrong = LETTERS[(question.correct_option + 1) % len(question.options)]
    server.reply_text(ada, wrong.lower(), to_message_id=first.result["message_id"], chat=group)
    await world.until_rows("SELECT correct FROM answers ORDER BY id", [(1,), (0,)])
    assert server.calls_to("sendMessage", chat_id=group.id, since=mark) == []  # no chatter

    # Time is up: the result names Bob, the buttons go, and the next question comes with
    # buttons at once (no second poll refused), without saying why again.
    mark = server.mark()
    clock.advance(ask.seconds + 1)
    await world.app.hub.resume()
    second, is_poll = await world.question(group.id, mark)
    assert not is_poll and "Question 2/2" in second.params["text"]
    assert tg.POLLS_REFUSED["en"] not in html.unescape(second.params["text"])
    assert server.calls_to("sendPoll", ok=None, since=mark) == []
    results = [c for c in server.calls_to("sendMessage", chat_id=group.id, since=mark)]
    assert any("Right: Bob" in html.unescape(c.params["text"]) for c in results)
    taken = server.calls_to("editMessageReplyMarkup", since=mark)
    assert [c.params["message_id"] for c in taken] == [first.result["message_id"]]

    ask = await world.open_question(chat, ada)
    mark = server.mark()
    server.click(ada, second.result, text=LETTERS[ask.question.correct_option])
    await world.until_rows("SELECT count(*) FROM answers", [(3,)])
    clock.advance(ask.seconds + 1)
    await world.app.hub.resume()
    await world.until_rows("SELECT status FROM rounds", [("finished",)])
    server.assert_no_errors()


@pytest.mark.round_left_running("stops once the question is asked again")
async def test_a_question_nobody_saw_gets_no_result_but_is_asked_again(server, make_world, clock):
    """Even the message with buttons cannot be posted: the group never gets the result of a
    question nobody saw; at its deadline it is asked again."""
    world = await make_world(fake_clock=True)
    ada = server.user(10, "Ada", language_code="en")
    group, chat = await _group(server, ada, "questions 2", "types mc")
    server.fail_next("sendPoll", 400, description=POLLS_REFUSED, chat_id=group.id)
    server.fail_next(
        "sendMessage", 403, description="Forbidden: not enough rights to send text messages",
        chat_id=group.id, where=lambda p: "Question 1/2" in p["text"],
    )  # fmt: skip

    mark = server.mark()
    server.send_text(ada, "/quiz", chat=group)
    await server.wait_for("sendMessage", ok=False, chat_id=group.id, since=mark)
    ask = await world.open_question(chat, ada)
    mark = server.mark()
    clock.advance(ask.seconds + 3)
    await world.app.hub.sweep()  # as the round's timer would at the deadline
    again, is_poll = await world.question(group.id, mark)
    assert not is_poll and "Question 1/2" in again.params["text"]
    assert html.unescape(again.params["text"]).startswith(tg.POLLS_REFUSED["en"])  # told now
    before = server.calls_to("sendMessage", chat_id=group.id, since=mark)
    assert [c.index for c in before] == [again.index], "a result of a question nobody saw"
    server.assert_no_errors()


async def test_a_private_round_whose_polls_are_refused_goes_on_with_buttons(server, make_world):
    world = await make_world()
    alice = server.user(1, "Alice", language_code="en")
    chat = ChatRef("telegram", str(alice.id), "private")
    mark = server.mark()
    server.send_text(alice, "/settings types mc")
    await server.wait_for("sendMessage", chat_id=alice.id, since=mark)
    server.fail_next("sendPoll", 400, description="Bad Request: polls are not allowed here")

    mark = server.mark()
    server.send_text(alice, "/quiz start 2")
    for position in (1, 2):
        asked, is_poll = await world.question(alice.id, mark)
        assert not is_poll and f"Question {position}/2" in asked.params["text"]
        ask = await world.open_question(chat, alice)
        mark = server.mark()
        server.click(alice, asked.result, text=LETTERS[ask.question.correct_option])
        await world.until_rows("SELECT count(*) FROM answers WHERE correct", [(position,)])
    [over] = await server.wait_for("sendMessage", chat_id=alice.id, since=mark)
    assert "You got 2 of 2 right" in html.unescape(over.params["text"])
    assert len(server.calls_to("sendPoll", ok=None)) == 1  # refused once, then not tried again
    server.assert_no_errors()


# ---------------------------------------------------------------------- redeliveries


@pytest.mark.round_left_running("checks the answers of its first question, then leaves")
async def test_answers_count_after_the_update_ids_start_again(server, make_world):
    """Telegram's update ids start again from another number after a week without updates (and
    a local Bot API server counts its own): a new answer whose update id an old answer had is
    a new answer, not a redelivery."""
    first = await make_world()
    alice = server.user(1, "Alice", language_code="en")
    for command in ("/settings types typed", "/quiz start 2"):
        mark = server.mark()
        server.send_text(alice, command)
        await server.wait_for("sendMessage", chat_id=alice.id, since=mark)
    mark = server.mark()
    server.send_text(alice, "not the answer")  # update 3
    await server.wait_for("sendMessage", chat_id=alice.id, since=mark)
    await first.until_rows("SELECT count(*) FROM answers", [(1,)])

    # The bot restarts, and the update ids start again from 1.
    await first.adapter.stop()
    server._update_ids = itertools.count(1)
    second = await make_world()
    for i, guess in enumerate(("still not", "nor this", "nope"), start=2):  # updates 1, 2, 3
        mark = server.mark()
        server.send_text(alice, guess)
        [reply] = await server.wait_for("sendMessage", chat_id=alice.id, since=mark)
        assert "Not quite" in reply.params["text"]
        await second.until_rows("SELECT count(*) FROM answers", [(i,)])
    assert [u["update_id"] for u in server.updates[-3:]] == [1, 2, 3]
    keys = [key for (key,) in await second.rows("SELECT dedup_key FROM answers ORDER BY id")]
    assert all(key.startswith("telegram:msg:1:") for key in keys) and len(set(keys)) == 4
    await second.adapter.stop()


@pytest.mark.round_left_running("checks redeliveries, then leaves")
async def test_a_redelivered_answer_is_dropped_once_and_logged(server, make_world, caplog):
    world = await make_world()
    alice = server.user(1, "Alice", language_code="en")
    for command in ("/settings types typed", "/quiz start 2"):
        mark = server.mark()
        server.send_text(alice, command)
        await server.wait_for("sendMessage", chat_id=alice.id, since=mark)
    mark = server.mark()
    message = server.send_text(alice, "not the answer")
    await server.wait_for("sendMessage", chat_id=alice.id, since=mark)
    await world.until_rows("SELECT count(*) FROM answers", [(1,)])

    caplog.clear()
    server.redeliver()  # the same update again, as after a crash
    await server.assert_no_call("sendMessage", within=0.5, chat_id=alice.id)
    assert await world.rows("SELECT count(*) FROM answers") == [(1,)]
    key = f"telegram:msg:{alice.id}:{message['message_id']}"
    dropped = [r for r in caplog.records if "dropped as a duplicate" in r.getMessage()]
    assert [(r.levelno, key in r.getMessage()) for r in dropped] == [(logging.INFO, True)]


# ---------------------------------------------------------------------- calls tried once


async def test_a_failing_command_menu_does_not_hold_up_the_start(server, make_world, caplog):
    server.fail_next("setMyCommands", 500, times=10)
    started = asyncio.get_running_loop().time()
    await make_world()
    assert asyncio.get_running_loop().time() - started < 3
    assert len(server.calls_to("setMyCommands", ok=None)) == 1  # tried once, not retried
    said = [r for r in caplog.records if "command menu" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.WARNING and not said[0].exc_info


async def test_a_failing_admin_check_costs_one_try(server, make_world, caplog):
    await make_world()
    ada, bob = server.user(10, "Ada", language_code="en"), server.user(2, "Bob")
    group, _ = await _group(server, ada)
    server.fail_next("getChatMember", 500, times=10)
    mark = server.mark()
    started = asyncio.get_running_loop().time()
    server.send_text(bob, "/settings seconds 30", chat=group)
    [refusal] = await server.wait_for("sendMessage", chat_id=group.id, since=mark)
    assert asyncio.get_running_loop().time() - started < 1.5
    assert "only admins" in refusal.params["text"]
    assert len(server.calls_to("getChatMember", ok=None, since=mark)) == 1
    said = [r for r in caplog.records if "is an admin" in r.getMessage()]
    assert len(said) == 1 and not said[0].exc_info


async def test_get_updates_failing_for_a_while_is_one_warning_a_try(server, make_world, caplog):
    """The Bot API goes away while the bot runs: each failed try is one warning line, no
    traceback, and the bot answers again once it is back."""
    await make_world()
    caplog.clear()
    server.fail_next("getUpdates", 502, times=2)
    alice = server.user(1, "Alice", language_code="en")
    mark = server.mark()
    server.send_text(alice, "/help")
    await server.wait_for("sendMessage", chat_id=alice.id, since=mark, timeout=10)
    tries = [r for r in caplog.records if "cannot get updates" in r.getMessage()]
    assert len(tries) == 2 and all(r.levelno == logging.WARNING for r in tries)
    assert not [r for r in caplog.records if r.exc_info], "a traceback in the log"
