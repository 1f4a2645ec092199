"""The Telegram adapter end to end: the real python-telegram-bot Application, driven by the
TelegramAdapter and a real App (database, services), talking HTTP to the fake Bot API server.

Tests play the users through the fake server and assert on what users see (texts, polls,
their options and explanations), on what the database stored, and that the bot never broke a
Telegram rule (`server.assert_no_errors()`).
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from bot.adapters.telegram import TelegramAdapter
from bot.adapters.telegram import text as tg
from bot.app import App
from bot.config import Secret, Settings
from bot.content.model import Question, QuestionType
from bot.core.events import ChatRef
from bot.core.replies import AnswerFeedback, AskQuestion, QuestionResult
from tests.fakes import FakeTelegramServer
from tests.telegram_world import TOKEN, World

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------- private chats


async def test_private_solo_round_with_polls_and_typed_answers(server, make_world):
    """One message per answer in a private round: the verdict, the question's result and the
    next typed question (or the end of the round) come together; after a vote, the poll has
    shown the answer, and the verdict rides on top of the next poll."""
    world = await make_world()
    alice = server.user(1, "Alice", last_name="Liddell", language_code="en", username="alice")
    chat = ChatRef("telegram", "1", "private")

    server.send_text(alice, "/start")
    [call] = await server.wait_for("sendMessage", chat_id=alice.id)
    assert "/quiz" in call.params["text"] and "/leaderboard" in call.params["text"]

    mark = server.mark()
    server.send_text(alice, "/Quiz@Quiz_Test_Bot START 4")  # any case, with @botname
    [intro] = await server.wait_for("sendMessage", chat_id=alice.id, since=mark)
    assert "A round of 4 questions at your own pace" in intro.params["text"]

    seen = {"poll": 0, "typed": 0}
    earned = None  # (how the last question was answered, its verdict, its answer)
    for position in range(1, 5):
        call, is_poll = await world.question(alice.id, mark)
        before = [c for c in server.calls[mark : call.index] if c.method == "sendMessage" and c.ok]
        ask = await world.open_question(chat, alice)
        header = f"Question {position}/4"
        if is_poll:
            seen["poll"] += 1
            params = call.params
            if earned and earned[0] == "poll":  # the vote's verdict on top; nothing else
                assert re.fullmatch(earned[1], params["question"].split("\n")[0])
                assert params["question"].split("\n", 1)[1] == f"{header}\n{ask.question.prompt}"
                assert before == []
            else:
                assert params["question"] == f"{header}\n{ask.question.prompt}"
                if earned:  # a typed answer: its verdict and result came in a message
                    [result] = before
                    assert re.search(earned[1], result.params["text"])
                    assert earned[2] in result.params["text"]
            assert [o["text"] for o in params["options"]] == list(ask.question.options)
            assert params["type"] == "quiz" and params["is_anonymous"] is False
            assert params["correct_option_ids"] == [ask.question.correct_option]
            assert params["explanation"] == ask.question.explanation
            assert "open_period" not in params  # a private round goes at the player's pace
            # Alice gets the first poll wrong and the others right.
            choice = ask.question.correct_option
            if seen["poll"] == 1:
                choice = (choice + 1) % len(ask.question.options)
            mark = server.mark()
            server.answer_poll(alice, call.result, [choice])
            verdict = "❌ Not quite." if seen["poll"] == 1 else r"✅ Right! \+\d+ points"
            earned = ("poll", verdict, html.escape(ask.question.answer, quote=False))
        else:
            seen["typed"] += 1
            text = html.unescape(call.params["text"])
            body = f"<b>{header}</b>\n{ask.question.prompt}"
            assert body in text and text.endswith("Type your answer.")
            assert before == [], "the verdict and the result ride on the question"
            if earned:  # verdict, then the result, then the question, in one message
                verdict = re.search(earned[1], text)
                assert verdict and verdict.start() < text.index(html.unescape(earned[2]))
                assert text.index(html.unescape(earned[2])) < text.index(body)
            else:
                assert text.startswith(body)
            mark = server.mark()
            server.send_text(alice, "definitely not it")  # a wrong try first
            [wrong] = await server.wait_for("sendMessage", chat_id=alice.id, since=mark)
            assert "Not quite" in wrong.params["text"] and "Try again" in wrong.params["text"]
            mark = server.mark()
            server.send_text(alice, ask.question.answer.upper())
            earned = (
                "typed",
                r"✅ Right! \+\d+ points",
                html.escape(ask.question.answer, quote=False),
            )

    # The last verdict, its result and the end of the round: one message.
    [over] = await server.wait_for("sendMessage", chat_id=alice.id, since=mark)
    text = over.params["text"]
    verdict = re.search(earned[1], text)
    assert verdict and verdict.start() < text.index(earned[2])
    assert text.index(earned[2]) < text.index("The round is over!")
    assert "You got 3 of 4 right" in text
    assert seen["poll"] and seen["typed"], seen  # the seed gives both kinds

    # What the database kept: every try, scored once each, under Alice's display name.
    answers = await world.rows("SELECT correct, points FROM answers ORDER BY id")
    assert sum(1 for correct, _ in answers if correct) == 3
    assert len(answers) == 4 + seen["typed"]
    assert await world.rows("SELECT display_name FROM users") == [("Alice Liddell",)]
    server.assert_no_errors()


async def _private_poll_round(server, world, user, questions: int):
    """A private round of multiple-choice questions (quiz polls) started; its first poll."""
    mark = server.mark()
    server.send_text(user, "/settings types mc")
    await server.wait_for("sendMessage", chat_id=user.id, since=mark)
    mark = server.mark()
    server.send_text(user, f"/quiz start {questions}")
    poll, is_poll = await world.question(user.id, mark)
    assert is_poll
    return poll


async def test_a_private_round_of_polls_puts_each_verdict_on_the_next_poll(server, make_world):
    world = await make_world()
    alice = server.user(1, "Alice", language_code="en")
    chat = ChatRef("telegram", "1", "private")
    poll = await _private_poll_round(server, world, alice, 3)

    for position, right in ((2, True), (3, False)):
        ask = await world.open_question(chat, alice)
        choice = ask.question.correct_option
        if not right:
            choice = (choice + 1) % len(ask.question.options)
        mark = server.mark()
        server.answer_poll(alice, poll.result, [choice])
        [poll] = await server.wait_for("sendPoll", chat_id=alice.id, since=mark)
        verdict, header, _ = poll.params["question"].split("\n", 2)
        assert header == f"Question {position}/3"
        if right:
            assert re.fullmatch(r"✅ Right! \+\d+ points", verdict)
        else:
            assert verdict == "❌ Not quite."
        # The poll showed the right option and the explanation: no message besides.
        assert server.calls_to("sendMessage", chat_id=alice.id, since=mark) == []

    ask = await world.open_question(chat, alice)
    mark = server.mark()
    server.answer_poll(alice, poll.result, [ask.question.correct_option])
    [over] = await server.wait_for("sendMessage", chat_id=alice.id, since=mark)
    text = html.unescape(over.params["text"])
    assert text.startswith("You chose ") and "✅ Right! +" in text
    assert text.index(ask.question.answer) < text.index("The round is over!")
    assert "You got 2 of 3 right" in text
    assert len(await world.rows("SELECT id FROM answers")) == 3


async def test_what_does_not_fit_together_goes_first_on_its_own(server, make_world):
    world = await make_world()
    server.user(1, "Alice", language_code="en")
    chat = ChatRef("telegram", "1", "private")
    outbox = world.adapter.outbox

    def question(mc: bool, prompt: str) -> Question:
        kind = QuestionType.DEFINITION_TO_TERM if mc else QuestionType.FILL_IN
        options = ("bias", "loss", "dropout") if mc else ()
        return Question(
            kind, "en", prompt, "bias", ("bias",), "bias", "Bias: a constant term.",
            options=options, correct_option=0 if mc else None,
        )  # fmt: skip

    verdict = AnswerFeedback(
        chat, "You chose A.\n✅ Right! +500 points", correct=True, verdict="✅ Right! +500 points"
    )
    # A prompt that fills the poll: the verdict comes as a message, the poll keeps its words.
    long_prompt = "Which term? " + "w" * (tg.POLL_QUESTION_MAX - 30)
    poll_ask = AskQuestion(
        chat, "Question 2/3", round_question_id=2, question=question(True, long_prompt),
        position=2, total=3, header="Question 2/3", question_ref="rq:2",
    )  # fmt: skip
    mark = server.mark()
    await outbox.render(poll_ask, leads=(verdict,))
    message, poll = server.calls[mark:]
    assert message.method == "sendMessage" and message.params["text"] == verdict.text
    assert poll.method == "sendPoll" and poll.params["question"].endswith(long_prompt)

    # A result as long as a message: it goes alone, the typed question after it.
    long_result = QuestionResult(chat, "The answer: bias\n" + "x" * (tg.MESSAGE_MAX - 40))
    typed_ask = AskQuestion(
        chat, "Question 3/3\nFill in.", round_question_id=3, question=question(False, "Fill in."),
        position=3, total=3, header="Question 3/3", question_ref="rq:3",
    )  # fmt: skip
    mark = server.mark()
    await outbox.render(typed_ask, leads=(verdict, long_result))
    *before, question_call = server.calls[mark:]
    assert question_call.params["text"] == "<b>Question 3/3</b>\nFill in."
    earlier = "\n".join(c.params["text"] for c in before)
    assert earlier.index("You chose A.") < earlier.index("The answer: bias")
    assert earlier.count("x") == tg.MESSAGE_MAX - 40, "nothing was cut"
    server.assert_no_errors()


# ---------------------------------------------------------------------- groups


async def test_group_round_with_polls_replies_and_a_podium(server, make_world, clock):
    world = await make_world(fake_clock=True, seed=4)
    group = server.group_chat(-100, "Quiz Group")
    ada = server.user(10, "Ada", language_code="en")
    players = [server.user(1, "Alice"), server.user(2, "Bob"), server.user(3, "Carol")]
    alice, bob, carol = players
    server.set_member_status(group.id, ada.id, "creator")
    chat = ChatRef("telegram", str(group.id), "group")

    for command in ("/settings seconds 5", "/settings questions 3"):
        mark = server.mark()
        server.send_text(ada, command, chat=group)
        [saved] = await server.wait_for("sendMessage", chat_id=group.id, since=mark)
        assert saved.params["text"].startswith("Saved.")

    mark = server.mark()
    server.send_text(ada, "/quiz", chat=group)
    [intro] = await server.wait_for("sendMessage", chat_id=group.id, since=mark)
    assert "3 questions, 5 s each" in intro.params["text"]

    kinds = []
    for position in range(1, 4):
        call, is_poll = await world.question(group.id, mark)
        mark = server.mark()
        ask = await world.open_question(chat, alice)
        question = ask.question
        kinds.append("poll" if is_poll else "typed")
        if is_poll:
            assert call.params["question"] == f"Question {position}/3\n{question.prompt}"
            assert call.params["open_period"] == 5 and call.params["is_anonymous"] is False
            assert call.params["explanation"] == question.explanation
            right = question.correct_option
            wrong = (right + 1) % len(question.options)
            # Alice and Bob right, Carol wrong; a retracted vote changes nothing.
            for user, option in ((alice, right), (bob, right), (carol, wrong)):
                clock.advance(1)
                server.answer_poll(user, call.result, [option])
            server.push_update({"poll_answer": {
                "poll_id": call.result["poll"]["id"], "user": bob.to_dict(),
                "option_ids": [], "option_persistent_ids": [],
            }})  # fmt: skip
        else:
            text = html.unescape(call.params["text"])
            assert f"Question {position}/3" in text and question.prompt in text
            assert text.endswith("Reply to this message with your answer.")
            mid = call.result["message_id"]
            # Alice right, Bob wrong, Carol right (later); chatter that is no reply is ignored.
            for user, answer in (
                (alice, question.answer),
                (bob, "no idea"),
                (carol, question.answer),
            ):
                clock.advance(1)
                if user is carol:  # as after a restart: the core finds it by message id
                    world.adapter.outbox.typed.clear()
                server.reply_text(user, answer, to_message_id=mid, chat=group)
            server.send_text(bob, "so hard", chat=group)
        await world.wait_answers(3 * position)
        if is_poll and position > 1:
            pass  # every regular player answered: the core closes the question at once
        else:
            await server.assert_no_call("sendMessage", within=0.2, chat_id=group.id)
            clock.advance(5)
            await world.app.hub.resume()  # time is up: the hub closes the question
        result = (await server.wait_for("sendMessage", chat_id=group.id, since=mark))[0]
        result_text = html.unescape(result.params["text"])
        assert "The answer: " in result_text and question.answer in result_text
        winners = "Alice, Bob" if is_poll else "Alice, Carol"
        assert f"Right: {winners}" in result_text
        if is_poll:
            # Closed early: the poll is stopped, and that is no extra message.
            stopped = server.calls_to("stopPoll", since=mark)
            assert [c.params["message_id"] for c in stopped] == [call.result["message_id"]]
            assert server.poll(call.result).is_closed
        mark = result.index + 1

    assert "poll" in kinds and "typed" in kinds, kinds
    await server.wait_for("sendMessage", chat_id=group.id, since=mark)
    podium = html.unescape(server.texts_in(group.id)[-1])
    assert podium.startswith("🏁 The round is over!\nPodium:\n🥇 Alice — "), podium
    assert "🥈" in podium and "🥉" in podium
    # At most two messages per question: no per-answer verdicts in the group.
    texts = server.texts_in(group.id)
    assert not [t for t in texts if "Right! +" in t or "Not quite" in t or "Too late" in t]
    assert len(texts) == 2 + 1 + 2 * 3 + 1  # settings x2, intro, question + result, podium

    # The database: one answer per player and question, scores for the group's board.
    answers = await world.rows(
        "SELECT u.display_name, count(*), sum(CASE WHEN a.correct THEN 1 ELSE 0 END) "
        "FROM answers a "
        "JOIN users u ON u.id = a.user_id GROUP BY u.display_name ORDER BY u.display_name"
    )
    polls, typed = kinds.count("poll"), kinds.count("typed")
    assert answers == [("Alice", 3, 3), ("Bob", 3, polls), ("Carol", 3, typed)]
    [(status, reason)] = await world.rows("SELECT status, end_reason FROM rounds")
    assert (status, reason) == ("finished", "done")
    server.assert_no_errors()


async def test_only_admins_change_group_settings_or_reset_the_board(server, make_world):
    world = await make_world()
    group = server.group_chat(-200, "Study Group", type="group")
    ada, bob = server.user(10, "Ada"), server.user(2, "Bob")
    server.set_member_status(group.id, ada.id, "administrator")

    mark = server.mark()
    asked = server.send_text(bob, "/settings SECONDS 30", chat=group)
    [refusal] = await server.wait_for("sendMessage", chat_id=group.id, since=mark)
    assert refusal.params["text"] == "Sorry, only admins of this chat can do that."
    assert refusal.params["reply_parameters"]["message_id"] == asked["message_id"]

    mark = server.mark()
    server.send_text(ada, "/settings@quiz_test_bot seconds 30", chat=group)
    [saved] = await server.wait_for("sendMessage", chat_id=group.id, since=mark)
    assert saved.params["text"].startswith("Saved.") and "30 s each" in saved.params["text"]
    [(settings,)] = await world.rows("SELECT settings FROM chats")
    settings = json.loads(settings) if isinstance(settings, str) else settings
    assert settings["seconds"] == 30

    # The member status is cached: Bob's second try asks Telegram nothing new.
    mark = server.mark()
    server.send_text(bob, "/settings seconds 10", chat=group)
    await server.wait_for("sendMessage", chat_id=group.id, since=mark, text=refusal.params["text"])
    assert len(server.calls_to("getChatMember", user_id=bob.id)) == 1

    # A yes/no question as buttons; a non-admin's click is refused and leaves the buttons.
    mark = server.mark()
    server.send_text(ada, "/reset", chat=group)
    [confirm] = await server.wait_for("sendMessage", chat_id=group.id, since=mark)
    buttons = confirm.params["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == ["cmd:reset confirm", "cmd:reset cancel"]
    mark = server.mark()
    query = server.click(bob, confirm.result, text="Yes, reset")
    # Refused in a pop-up only Bob sees; the group gets no message about it.
    [popup] = await server.wait_for("answerCallbackQuery", since=mark)
    assert popup.params["text"] == refusal.params["text"] and popup.params["show_alert"] is True
    assert query["id"] in server.callback_answers
    await server.assert_no_call("sendMessage", chat_id=group.id)
    mark = server.mark()
    server.click(ada, confirm.result, text="Yes, reset")
    [done] = await server.wait_for("sendMessage", chat_id=group.id, since=mark)
    assert done.params["text"] == "The leaderboard of this chat has been reset."
    [edited] = server.calls_to("editMessageReplyMarkup", since=mark)
    assert not edited.params.get("reply_markup")
    with pytest.raises(Exception, match=r"(?i)button"):
        server.click(ada, confirm.result, text="Yes, reset")  # answered once: the buttons went
    server.assert_no_errors()


# ---------------------------------------------------------------------- limits and failures


@pytest.mark.round_left_running("checks the retried sends of a round's first messages only")
async def test_a_429_is_retried_and_a_502_too_without_losing_the_message(
    server, make_world, monkeypatch
):
    from bot.adapters.telegram import network

    monkeypatch.setattr(network, "FIRST_BACKOFF", 0.05)
    await make_world()
    alice = server.user(1, "Alice", language_code="en")

    server.fail_next("sendMessage", retry_after=0.2)
    mark = server.mark()
    server.send_text(alice, "/help")
    [help_] = await server.wait_for("sendMessage", chat_id=alice.id, since=mark)
    [refused] = server.calls_to("sendMessage", ok=False, since=mark)
    assert refused.status == 429 and refused.index < help_.index
    assert "/quiz" in help_.params["text"]

    server.fail_next("sendPoll", 502, times=2)  # the seed's first question is a poll
    mark = server.mark()
    server.send_text(alice, "/quiz")
    [poll] = await server.wait_for("sendPoll", chat_id=alice.id, since=mark)
    assert len(server.calls_to("sendPoll", ok=False, since=mark)) == 2
    # Delivered exactly once each, in order.
    texts = server.texts_in(alice.id)
    assert len(texts) == 3 and texts[2] == poll.params["question"]
    server.assert_no_errors()


async def test_a_redelivered_update_is_scored_once(server, make_world):
    world = await make_world(seed=0)  # a typed question, then a poll
    alice = server.user(1, "Alice", language_code="en")
    chat = ChatRef("telegram", "1", "private")

    mark = server.mark()
    server.send_text(alice, "/quiz start 2")
    _, is_poll = await world.question(alice.id, mark)
    assert not is_poll
    ask = await world.open_question(chat, alice)
    mark = server.mark()
    server.send_text(alice, ask.question.answer)
    poll, is_poll = await world.question(alice.id, mark)
    assert is_poll

    server.redeliver()  # the same answer, same update_id
    await server.assert_no_call("sendMessage", within=0.3, chat_id=alice.id)

    ask = await world.open_question(chat, alice)
    mark = server.mark()
    server.answer_poll(alice, poll.result, [ask.question.correct_option])
    await server.wait_for("sendMessage", chat_id=alice.id, since=mark)  # verdict, result, end
    [vote] = [u for u in server.updates if "poll_answer" in u]
    server.redeliver(vote["update_id"])
    await server.assert_no_call("sendMessage", within=0.3, chat_id=alice.id)

    answers = await world.rows("SELECT correct, dedup_key FROM answers ORDER BY id")
    assert [correct for correct, _ in answers] == [1, 1]
    assert answers[1][1] == f"telegram:poll:{poll.result['poll']['id']}:1"
    [(points,)] = await world.rows("SELECT points FROM round_players")
    assert points > 0 and "right" in server.texts_in(alice.id)[-1]
    server.assert_no_errors()


async def test_the_command_menu_is_registered_in_english_and_chinese(server, make_world):
    await make_world()
    english = {c["command"]: c["description"] for c in server.commands()}
    chinese = {c["command"]: c["description"] for c in server.commands(language_code="zh")}
    assert list(english) == list(chinese)
    assert {"quiz", "stop", "hint", "leaderboard", "stats", "settings", "lang"} <= set(english)
    assert {"practice", "review", "help"} <= set(english)
    assert english["quiz"].startswith("Start a quiz round")
    assert chinese["quiz"].startswith("开始一轮测验")
    server.assert_no_errors()


# ---------------------------------------------------------------------- the real process


async def test_quizbot_run_plays_a_private_round_and_stops_on_sigterm(server, tmp_path):
    """`python -m bot.cli run` as its own process, with the shipped glossary."""
    db_path = tmp_path / "bot.sqlite3"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("QUIZBOT_", "TELEGRAM_", "DISCORD_"))
    }
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        QUIZBOT_TELEGRAM_BASE_URL=server.api_url,
        QUIZBOT_DATABASE_URL=f"sqlite:///{db_path}",
        QUIZBOT_DATA_DIR=str(tmp_path),
        PYTHONPATH=str(REPO),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run",
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        await server.wait_polling(timeout=20)
        alice = server.user(7, "Alice", language_code="en")
        mark = server.mark()
        server.send_text(alice, "/quiz start 2")
        for _ in range(2):
            call, is_poll = await _next_question(server, alice.id, mark)
            mark = call.index + 1
            if is_poll:
                correct = server.poll(call.result).correct_option_ids
                server.answer_poll(alice, call.result, correct)
            else:
                server.send_text(alice, _open_answer(db_path))
        await server.wait_for("sendMessage", chat_id=alice.id, since=mark)  # verdict, result, end
        assert "You got 2 of 2 right" in html.unescape(server.texts_in(alice.id)[-1])
    finally:
        stopped_at = asyncio.get_running_loop().time()
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        output = await asyncio.wait_for(process.stdout.read(), timeout=10)
        code = await asyncio.wait_for(process.wait(), timeout=10)
    log = output.decode()
    assert code == 0, log
    assert asyncio.get_running_loop().time() - stopped_at < 3, "slow to stop"
    assert TOKEN not in log and "TEST" not in log  # the token never reaches a log line
    assert "running on telegram" in log
    server.assert_no_errors()


async def _next_question(server: FakeTelegramServer, chat_id: int, since: int):
    world = World(server, None, None)  # type: ignore[arg-type]
    return await world.question(chat_id, since, wait=10)


def _open_answer(db_path: Path) -> str:
    """The answer of the open question, read from the bot's database."""
    import sqlite3

    with sqlite3.connect(db_path) as db:
        [(question,)] = db.execute(
            "SELECT question FROM round_questions WHERE status = 'open'"
        ).fetchall()
    return json.loads(question)["answer"]


# ---------------------------------------------------------------------- rendering details


async def test_names_with_markup_are_escaped_and_pictures_sent_as_photos(server, make_world):
    world = await make_world()
    tom = server.user(4, "Tom <T>", last_name="& Jerry", language_code="zh")
    chat = ChatRef("telegram", str(tom.id), "private")
    mark = server.mark()
    server.send_text(tom, "/quiz start 1")
    poll, _ = await world.question(tom.id, mark)
    ask = await world.open_question(chat, tom)
    assert poll.params["question"].startswith("第")  # Tom's Telegram speaks Chinese
    mark = server.mark()
    server.answer_poll(tom, poll.result, [ask.question.correct_option])
    await server.wait_for("sendMessage", chat_id=tom.id, since=mark)  # verdict, result, end
    mark = server.mark()
    server.send_text(tom, "/leaderboard")
    [board] = await server.wait_for("sendMessage", chat_id=tom.id, since=mark)
    assert "Tom &lt;T&gt; &amp; Jerry" in board.params["text"]
    assert "Tom <T> & Jerry" in server.texts_in(tom.id)[-1]  # as the user sees it

    from bot.core.replies import Image

    png = b"\x89PNG\r\n\x1a\n" + bytes(2000)
    await world.adapter.send(Image(chat, "Chart <1>", png=png, filename="board.png"))
    [photo] = await server.wait_for("sendPhoto", chat_id=tom.id)
    assert photo.params["caption"] == "Chart <1>"
    assert photo.files["photo"].data == png
    server.assert_no_errors()


async def test_webhook_mode_receives_updates(server, database_url, mini_glossary):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(
        database_url=database_url,
        telegram_token=Secret(TOKEN),
        telegram_base_url=server.api_url,
        telegram_webhook_url=f"http://127.0.0.1:{port}/telegram-hook",
        telegram_webhook_listen="127.0.0.1",
        telegram_webhook_port=port,
        telegram_webhook_secret=Secret("s3cret"),
    )
    app = await App.create(settings, migrate=False, glossary=mini_glossary)
    adapter = TelegramAdapter(settings, app.hub)
    app.hub.add_adapter(adapter)
    await adapter.start()
    try:
        [hook] = server.calls_to("setWebhook")
        assert hook.params["url"].endswith("/telegram-hook")
        assert hook.params["secret_token"] == "s3cret"
        alice = server.user(1, "Alice")
        server.send_text(alice, "/help")
        [reply] = await server.wait_for("sendMessage", chat_id=alice.id)
        assert "/quiz" in reply.params["text"]
    finally:
        await adapter.stop()
        await app.close()
    server.assert_no_errors()


# ---------------------------------------------------------------------- pure helpers


def test_poll_texts_fit_telegram_limits():
    from bot.adapters.telegram import text as tg

    assert tg.poll_question("Question 3/10", "What is it?", 3, 10) == "Question 3/10\nWhat is it?"
    long_prompt = "x" * 290  # the full header no longer fits, the short one does
    assert tg.poll_question("Question 3/10", long_prompt, 3, 10) == "3/10\n" + long_prompt
    emoji_prompt = "😀" * 200  # 400 UTF-16 units: cut, with an ellipsis
    fitted = tg.poll_question("Question 1/2", emoji_prompt, 1, 2)
    assert fitted.startswith("1/2\n😀") and fitted.endswith("…")
    assert tg.utf16_len(fitted) <= 300
    explained = tg.poll_explanation("a\nb\nc\nd " + "y" * 300)
    assert explained.count("\n") == 2 and tg.utf16_len(explained) <= 200
    assert tg.poll_explanation("  ") is None
    assert tg.html_text("List<T> & more\nrest", bold_first_line=True) == (
        "<b>List&lt;T&gt; &amp; more</b>\nrest"
    )
    table = "\n".join(f"row {i}" for i in range(2000))
    clipped = tg.clip_lines(table, 4096)
    assert tg.utf16_len(clipped) <= 4096 and clipped.endswith("\n…")


def test_commands_and_callback_data():
    from bot.adapters.telegram import text as tg

    assert tg.parse_command("/QUIZ@Quiz_Test_Bot Start 5", "quiz_test_bot") == (
        "quiz",
        ("Start", "5"),
    )
    assert tg.parse_command("/quiz@other_bot", "quiz_test_bot") is None
    assert tg.parse_command("/", "quiz_test_bot") is None
    assert tg.command_data(("reset", "confirm")) == "cmd:reset confirm"
    assert tg.command_data(("重置",) * 30) is None  # over 64 bytes
    assert tg.parse_callback("cmd:reset confirm") == ("cmd", ("reset", "confirm"))
    assert tg.parse_callback("img:chat:week") == ("img", ("chat", "week"))
    assert tg.parse_callback("junk") is None
    assert tg.display_name("Ada", "Lovelace", "ada") == "Ada Lovelace"
    assert tg.display_name("", None, "ada") == "@ada"


async def test_network_errors_are_retried_but_not_a_send_that_may_have_arrived(monkeypatch):
    from telegram.error import NetworkError, TimedOut

    from bot.adapters.telegram import network
    from bot.adapters.telegram.transport import NotSent

    monkeypatch.setattr(network, "FIRST_BACKOFF", 0.01)
    tries = []

    def failing(*errors):
        async def method():
            tries.append(1)
            if len(tries) <= len(errors):
                raise errors[len(tries) - 1]
            return "sent"

        return method

    def timed_out(cause):
        err = TimedOut()
        err.__cause__ = cause
        return err

    assert await network.call(failing(NetworkError("Bad Gateway"), NetworkError("x"))) == "sent"
    assert len(tries) == 3
    tries.clear()
    assert await network.call(failing(timed_out(NotSent("no connection")))) == "sent"
    tries.clear()
    with pytest.raises(TimedOut):  # a read timeout: Telegram may have posted it already
        await network.call(failing(timed_out(TimeoutError("read"))))
    assert len(tries) == 1
    tries.clear()
    with pytest.raises(NetworkError):
        await network.call(failing(*[NetworkError("down")] * 9))
    assert len(tries) == network.NETWORK_TRIES


async def test_a_user_who_blocked_the_bot_does_not_break_it(server, make_world):
    await make_world()
    alice, bob = server.user(1, "Alice"), server.user(2, "Bob")
    server.set_blocked(alice.id)
    mark = server.mark()
    server.send_text(alice, "/help")
    [blocked] = await server.wait_for("sendMessage", chat_id=alice.id, since=mark, ok=False)
    assert blocked.status == 403
    server.send_text(bob, "/help")  # the next update is served as usual
    await server.wait_for("sendMessage", chat_id=bob.id, since=mark)
    assert [e.status for e in server.errors] == [403]


# ---------------------------------------------------------------------- practice


async def test_private_practice_with_polls_and_typed_answers(server, make_world):
    """A spaced-repetition session: poll votes and typed messages both reach the practice
    question (not a quiz round), and each verdict says when the term comes back."""
    world = await make_world()
    bob = server.user(5, "Bob", language_code="en")
    mark = server.mark()
    server.send_text(bob, "/practice")
    [intro] = await server.wait_for("sendMessage", chat_id=bob.id, since=mark)
    assert "Practice" in html.unescape(intro.params["text"])
    for _ in range(3):
        call, is_poll = await _practice_question(server, bob.id, mark)
        mark = call.index + 1
        if is_poll:
            server.answer_poll(
                bob,
                call.result["poll"]["id"],
                server.poll(call.result["poll"]["id"]).correct_option_ids,
            )
        else:
            [(answer,)] = await world.rows(
                "SELECT question FROM practice_items WHERE answered_at IS NULL"
            )
            server.send_text(bob, json.loads(answer)["answer"])
        [verdict] = await server.wait_for("sendMessage", chat_id=bob.id, since=mark)
        assert "next review in" in html.unescape(verdict.params["text"]).lower()
    server.send_text(bob, "/practice stop")
    await server.wait_for("sendMessage", chat_id=bob.id, since=server.mark())
    rows = await world.rows(
        "SELECT count(*), sum(CASE WHEN correct THEN 1 ELSE 0 END) FROM answers"
    )
    assert rows == [(3, 3)]
    assert await world.rows("SELECT count(*) FROM rounds") == [(0,)]
    server.assert_no_errors()


async def _practice_question(server: FakeTelegramServer, chat_id: int, since: int):
    deadline = asyncio.get_running_loop().time() + 10
    while asyncio.get_running_loop().time() < deadline:
        for call in server.calls[since:]:
            if not call.ok or str(call.params.get("chat_id")) != str(chat_id):
                continue
            if call.method == "sendPoll":
                return call, True
            if call.method == "sendMessage" and "Practice ·" in html.unescape(call.params["text"]):
                return call, False
        await asyncio.sleep(0.02)
    raise AssertionError(f"no practice question: {server.calls[since:]}")


@pytest.mark.round_left_running("stops at the vote it checks, mid-round")
async def test_a_vote_on_a_poll_this_process_did_not_post_still_counts(server, make_world):
    """After a restart the adapter no longer knows its polls: the core finds the question
    through the poll's id, and the vote is scored once."""
    world = await make_world()
    alice = server.user(1, "Alice", language_code="en")
    chat = ChatRef("telegram", "1", "private")
    poll = await _private_poll_round(server, world, alice, 2)
    ask = await world.open_question(chat, alice)

    world.adapter.outbox.polls.clear()  # what a restarted process knows of its polls
    mark = server.mark()
    server.answer_poll(alice, poll.result, [ask.question.correct_option])
    [following] = await server.wait_for("sendPoll", chat_id=alice.id, since=mark)
    assert following.params["question"].startswith("✅ Right! +")  # the verdict on top
    assert await world.rows("SELECT correct FROM answers") == [(1,)]
