"""'Report this question' on Telegram, end to end: the real PTB Application and App against the
fake Bot API server. A ⚑ button sits under each result (on the message that carries it, or on
a private quiz poll itself); pressing it unfolds the reasons in that message's keyboard, a
toast asks and confirms, and the group gets no message at all."""

from __future__ import annotations

import asyncio
import html

from bot.core.events import ChatRef
from tests.telegram_world import World

REASONS = ["The answer key is wrong", "My answer should count", "The question is unclear"]
ASK = "What is wrong with this question?"
THANKS = "⚑ Thanks, reported: My answer should count. A curator will look at it."


def keyboard(message: dict) -> list[list[tuple[str, str]]]:
    """(text, callback data) of each button, row by row, as users see the message now."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [[(b["text"], b["callback_data"]) for b in row] for row in rows]


def now(server, chat_id: int, message: dict) -> dict:
    """The message as it is now (its buttons edited since it was sent)."""
    [found] = [m for m in server.messages_in(chat_id) if m["message_id"] == message["message_id"]]
    return found


async def toast(server, since: int) -> dict:
    [answer] = await server.wait_for("answerCallbackQuery", since=since)
    assert not answer.params.get("show_alert"), "a toast, not a pop-up to dismiss"
    return answer.params


async def settle(server) -> None:
    """Until the bot has nothing left to do for the updates it was given."""
    await asyncio.sleep(0.3)


async def _group_round_with_a_refused_answer(server, world: World, clock):
    group = server.group_chat(-100, "Quiz Group")
    ada = server.user(10, "Ada", language_code="en")
    alice = server.user(1, "Alice", language_code="en")
    server.set_member_status(group.id, ada.id, "creator")
    for command in ("/settings types typed", "/settings seconds 5"):
        mark = server.mark()
        server.send_text(ada, command, chat=group)
        await server.wait_for("sendMessage", chat_id=group.id, since=mark)
    mark = server.mark()
    server.send_text(ada, "/quiz start 1", chat=group)
    question, is_poll = await world.question(group.id, mark)
    assert not is_poll
    ask = await world.open_question(ChatRef("telegram", str(group.id), "group"), alice)
    server.reply_text(alice, "cost func", to_message_id=question.result["message_id"], chat=group)
    await world.wait_answers(1)
    mark = server.mark()
    clock.advance(6)
    await world.app.hub.resume()  # time is up: the result, then the podium
    result, podium = await server.wait_for("sendMessage", count=2, chat_id=group.id, since=mark)
    assert "The answer: " in html.unescape(result.params["text"])
    assert "The round is over!" in html.unescape(podium.params["text"])
    return group, ada, alice, ask, result.result


async def test_a_group_member_reports_a_refused_answer_once_without_a_word_in_the_group(
    server, make_world, clock
):
    world = await make_world(fake_clock=True)
    group, _ada, alice, ask, result = await _group_round_with_a_refused_answer(server, world, clock)
    report = f"rep:rq:{ask.round_question_id}"
    assert keyboard(result) == [[("⚑ Report question", report)]]
    assert keyboard(server.messages_in(group.id)[-1]) == []  # the podium has none

    # ⚑: a toast asks why; the reasons unfold under the button, in the same message.
    mark = server.mark()
    server.click(alice, result, data=report)
    assert (await toast(server, mark))["text"] == ASK
    await server.wait_for("editMessageReplyMarkup", since=mark)
    message = now(server, group.id, result)
    assert keyboard(message) == [
        [("⚑ Report question", report)],
        [(REASONS[0], f"{report}:wrong_key")],
        [(REASONS[1], f"{report}:should_count")],
        [(REASONS[2], f"{report}:unclear")],
    ]
    assert all(len(data.encode()) <= 64 for row in keyboard(message) for _, data in row)

    # A reason: stored with the answer the bot refused, confirmed in a toast, folded away.
    mark = server.mark()
    server.click(alice, message, text=REASONS[1])
    assert (await toast(server, mark))["text"] == THANKS
    await server.wait_for("editMessageReplyMarkup", since=mark)
    await world.until_rows(
        "SELECT r.entry_id, r.question_ref, r.answer, r.reason, r.status, c.platform_chat_id "
        "FROM question_reports r JOIN chats c ON c.id = r.chat_id",
        [(ask.question.entry_id, f"rq:{ask.round_question_id}", "cost func", "should_count",
          "open", str(group.id))],
    )  # fmt: skip
    message = now(server, group.id, result)
    assert keyboard(message) == [[("⚑ Report question", report)]]

    # Pressed again (⚑, then the same reason): told so, stored once.
    mark = server.mark()
    server.click(alice, message, data=report)
    await toast(server, mark)
    await server.wait_for("editMessageReplyMarkup", since=mark)
    message = now(server, group.id, result)
    mark = server.mark()
    server.click(alice, message, text=REASONS[1])
    assert (await toast(server, mark))["text"] == (
        "You already reported this question: My answer should count."
    )
    await server.wait_for("editMessageReplyMarkup", since=mark)
    server.assert_no_errors()

    # Telegram redelivers the press after a crash: still one report (the old query can no
    # longer be answered, and the buttons are folded already: both refused, both shrugged off).
    server.redeliver()
    await settle(server)
    assert await world.rows("SELECT count(*) FROM question_reports") == [(1,)]
    assert {c.method for c in server.errors} <= {"answerCallbackQuery", "editMessageReplyMarkup"}
    server.errors.clear()

    # Nobody else was told anything: the group has the same messages as before the first press.
    texts = [html.unescape(t) for t in server.texts_in(group.id)]
    assert not [t for t in texts if "reported" in t or ASK in t]
    assert len(texts) == 2 + 1 + 2 + 1  # settings x2, intro, question + result, podium


async def test_the_reasons_fold_away_unchosen_and_others_can_report_too(server, make_world, clock):
    world = await make_world(fake_clock=True, reasons_shown_for=0.3)
    group, ada, _alice, ask, result = await _group_round_with_a_refused_answer(server, world, clock)
    report = f"rep:rq:{ask.round_question_id}"
    mark = server.mark()
    server.click(ada, result, data=report)
    await server.wait_for("editMessageReplyMarkup", count=2, since=mark)  # unfolded, folded
    message = now(server, group.id, result)
    assert keyboard(message) == [[("⚑ Report question", report)]]
    assert await world.rows("SELECT count(*) FROM question_reports") == [(0,)]

    # While Ada's reasons show, Bob picks one: the report is Bob's (who did not answer).
    world.adapter.reasons_shown_for = 60  # (not folded away before Bob's press, however slow)
    bob = server.user(2, "Bob", language_code="zh")
    mark = server.mark()
    server.click(ada, message, data=report)
    await server.wait_for("editMessageReplyMarkup", since=mark)
    message = now(server, group.id, result)
    mark = server.mark()
    server.click(bob, message, text=REASONS[2])
    assert (await toast(server, mark))["text"] == "⚑ 谢谢，已提交报错：题目表述不清。维护者会审核。"
    await world.until_rows(
        "SELECT u.display_name, r.reason, r.answer FROM question_reports r "
        "JOIN users u ON u.id = r.user_id",
        [("Bob", "unclear", None)],
    )
    server.assert_no_errors()


async def test_private_results_carry_the_button_on_the_message_or_poll_that_shows_them(
    server, make_world
):
    world = await make_world()
    alice = server.user(1, "Alice", language_code="en")
    chat = ChatRef("telegram", "1", "private")
    mark = server.mark()
    server.send_text(alice, "/settings types typed")
    await server.wait_for("sendMessage", chat_id=alice.id, since=mark)
    mark = server.mark()
    server.send_text(alice, "/quiz start 2")
    await world.question(alice.id, mark)
    first = await world.open_question(chat, alice)

    # Three refused tries end a typed question: its result rides on the next question's
    # message, whose button names the question that was answered.
    for attempt in ("cost func", "loss fn", "the loss"):
        mark = server.mark()
        server.send_text(alice, attempt)
        [reply] = await server.wait_for("sendMessage", chat_id=alice.id, since=mark)
    assert "Question 2/2" in html.unescape(reply.params["text"])
    report = f"rep:rq:{first.round_question_id}"
    assert keyboard(reply.result) == [[("⚑ Report the previous question", report)]]

    second = await world.open_question(chat, alice)
    mark = server.mark()
    server.send_text(alice, second.question.answer)
    [over] = await server.wait_for("sendMessage", chat_id=alice.id, since=mark)
    assert "The round is over!" in html.unescape(over.params["text"])
    assert keyboard(over.result) == [[("⚑ Report question", f"rep:rq:{second.round_question_id}")]]

    mark = server.mark()
    server.click(alice, reply.result, data=report)
    assert (await toast(server, mark))["text"] == ASK
    await server.wait_for("editMessageReplyMarkup", since=mark)
    message = now(server, alice.id, reply.result)
    mark = server.mark()
    server.click(alice, message, text=REASONS[1])
    assert (await toast(server, mark))["text"] == THANKS
    await world.until_rows(
        "SELECT question_ref, answer, reason FROM question_reports",
        [(f"rq:{first.round_question_id}", "the loss", "should_count")],
    )

    server.assert_no_errors()


async def test_a_private_quiz_poll_carries_its_own_button(server, make_world):
    """A private quiz poll shows its own result once voted on (and the verdict rides on the
    next poll): the button is sent with the poll."""
    world = await make_world()
    alice = server.user(1, "Alice", language_code="en")
    chat = ChatRef("telegram", "1", "private")
    mark = server.mark()
    server.send_text(alice, "/settings types mc")
    await server.wait_for("sendMessage", chat_id=alice.id, since=mark)
    mark = server.mark()
    server.send_text(alice, "/quiz start 1")
    poll, is_poll = await world.question(alice.id, mark)
    assert is_poll
    ask = await world.open_question(chat, alice)
    poll_report = f"rep:rq:{ask.round_question_id}"
    assert keyboard(poll.result) == [[("⚑ Report question", poll_report)]]
    mark = server.mark()
    server.answer_poll(alice, poll.result, [ask.question.correct_option])
    await server.wait_for("sendMessage", chat_id=alice.id, since=mark)  # verdict and the end
    mark = server.mark()
    server.click(alice, poll.result, data=poll_report)
    await server.wait_for("editMessageReplyMarkup", since=mark)
    message = now(server, alice.id, poll.result)
    mark = server.mark()
    server.click(alice, message, text=REASONS[0])
    await toast(server, mark)
    await world.until_rows(
        "SELECT question_ref, reason FROM question_reports",
        [(f"rq:{ask.round_question_id}", "wrong_key")],
    )
    server.assert_no_errors()


async def test_a_practice_verdict_can_be_reported(server, make_world):
    world = await make_world()
    bob = server.user(5, "Bob", language_code="en")
    mark = server.mark()
    server.send_text(bob, "/practice")
    poll, is_poll = None, False
    for _ in range(50):
        polls = server.calls_to("sendPoll", chat_id=bob.id, since=mark)
        if polls:
            poll, is_poll = polls[0], True
            break
        await asyncio.sleep(0.02)
    assert is_poll, "a new term starts with multiple choice"
    [(item_id,)] = await world.rows("SELECT id FROM practice_items")
    assert keyboard(poll.result) == [[("⚑ Report question", f"rep:pr:{item_id}")]]
    correct = server.poll(poll.result["poll"]["id"]).correct_option_ids[0]
    wrong = (correct + 1) % len(poll.params["options"])
    mark = server.mark()
    server.answer_poll(bob, poll.result["poll"]["id"], [wrong])
    [verdict] = await server.wait_for("sendMessage", chat_id=bob.id, since=mark)
    assert "next review" in html.unescape(verdict.params["text"])
    assert keyboard(verdict.result) == [[("⚑ Report question", f"rep:pr:{item_id}")]]
    mark = server.mark()
    server.click(bob, verdict.result, data=f"rep:pr:{item_id}")
    await server.wait_for("editMessageReplyMarkup", since=mark)
    message = now(server, bob.id, verdict.result)
    mark = server.mark()
    server.click(bob, message, text=REASONS[1])
    assert (await toast(server, mark))["text"] == THANKS
    option = poll.params["options"][wrong]
    option = option["text"] if isinstance(option, dict) else option
    await world.until_rows(
        "SELECT question_ref, answer FROM question_reports", [(f"pr:{item_id}", option)]
    )
    server.send_text(bob, "/practice stop")
    await settle(server)
    server.assert_no_errors()
