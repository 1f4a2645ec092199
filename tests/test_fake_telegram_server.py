"""The fake Bot API server drives a real python-telegram-bot Application end to end.

These tests are the harness's own proof: if PTB can parse what the fake sends and the fake
understands what PTB posts, the adapter tests built on it test something real.
"""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from telegram import (
    BotCommand,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode, PollType
from telegram.error import BadRequest, EndPointNotFound, Forbidden, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PollAnswerHandler,
    PollHandler,
    filters,
)

from tests.fakes import FakeTelegramServer, run_application

TOKEN = "123:TEST"


@pytest.fixture
async def server():
    async with FakeTelegramServer(bot_token=TOKEN) as srv:
        yield srv


def build_app(server: FakeTelegramServer, *, rate_limiter: AIORateLimiter | None = None):
    builder = (
        ApplicationBuilder().token(TOKEN).base_url(server.api_url).base_file_url(server.file_url)
    )
    if rate_limiter:
        builder = builder.rate_limiter(rate_limiter)
    return builder.build()


@pytest.fixture
def app(server: FakeTelegramServer) -> Application:
    return build_app(server)


async def test_start_command_gets_a_reply(server, app):
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        name = update.effective_user.first_name
        await update.message.reply_text(f"Hi {name} ({update.effective_user.language_code})")

    app.add_handler(CommandHandler("start", start))
    alice = server.user(1, "Alice", language_code="en")

    async with run_application(app, server=server):
        server.send_text(alice, "/start")
        [call] = await server.wait_for("sendMessage", chat_id=alice.id)

    assert call.params["text"] == "Hi Alice (en)"
    assert server.texts_in(alice.id) == ["Hi Alice (en)"]
    assert [c.method for c in server.calls][:2] == ["getMe", "deleteWebhook"]
    server.assert_no_errors()


async def test_quiz_poll_and_poll_answer(server, app):
    answers = []

    async def quiz(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await context.bot.send_poll(
            update.effective_chat.id,
            "Which one is a regulariser? / 哪个是正则化方法？",
            ["dropout", "softmax", "ReLU"],
            type=PollType.QUIZ,
            is_anonymous=False,
            correct_option_ids=[0],
            explanation="Dropout zeroes random units.",
            open_period=30,
        )

    async def on_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        answer = update.poll_answer
        answers.append((answer.user.id, answer.option_ids, answer.option_persistent_ids))
        await context.bot.send_message(-100, f"{answer.user.first_name} picked {answer.option_ids}")

    app.add_handler(CommandHandler("quiz", quiz))
    app.add_handler(PollAnswerHandler(on_answer))
    alice = server.user(1, "Alice")
    group = server.group_chat(-100, "Quiz Group")

    async with run_application(app, server=server):
        server.send_text(alice, "/quiz", chat=group)
        [sent] = await server.wait_for("sendPoll", chat_id=group.id)
        poll_message = sent.result
        assert poll_message["poll"]["type"] == "quiz"
        assert poll_message["poll"]["open_period"] == 30

        server.answer_poll(alice, poll_message, [0])
        await server.wait_for("sendMessage", chat_id=group.id)

    assert answers == [(1, (0,), ("o0",))]
    assert server.texts_in(group.id)[-1] == "Alice picked (0,)"
    state = server.poll(poll_message)
    assert state.votes == {1: [0]} and not state.is_anonymous
    with pytest.raises(ValueError, match="revoting"):  # quizzes take one answer per user
        server.answer_poll(alice, poll_message, [1])
    server.assert_no_errors()


async def test_closing_a_poll_sends_a_poll_update_and_refuses_late_votes(server, app):
    closed = asyncio.Event()

    async def on_poll(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.poll.is_closed:
            closed.set()

    app.add_handler(PollHandler(on_poll))
    alice = server.user(1, "Alice")

    async with run_application(app, server=server):
        message = await app.bot.send_poll(alice.id, "2+2?", ["3", "4"], open_period=5)
        server.close_poll(message.poll.id)  # as if the 5 s had passed, without waiting
        await asyncio.wait_for(closed.wait(), 2)

    with pytest.raises(ValueError, match="closed"):
        server.answer_poll(alice, message.poll.id, [1])


async def test_reply_to_the_bot_in_a_group(server, app):
    """Privacy mode: a group message reaches the bot only as a command or a reply to it."""
    seen = []

    async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_chat.send_message(
            "Type the term for 丢弃法", reply_markup=ForceReply()
        )

    async def on_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        seen.append((message.text, message.reply_to_message.message_id))
        await message.reply_text("Correct!", reply_parameters=ReplyParameters(message.message_id))

    app.add_handler(CommandHandler("ask", ask))
    app.add_handler(MessageHandler(filters.REPLY & filters.TEXT, on_reply))
    alice = server.user(1, "Alice")
    group = server.group_chat(-100, "Quiz Group")

    async with run_application(app, server=server):
        server.send_text(alice, "/ask@quiz_test_bot", chat=group)
        [question] = await server.wait_for("sendMessage", chat_id=group.id)
        bot_message_id = question.result["message_id"]

        server.send_text(alice, "dropout", chat=group)  # not a reply: the bot never sees it
        answer = server.reply_text(alice, "dropout", to_message_id=bot_message_id, chat=group)
        [verdict] = await server.wait_for("sendMessage", chat_id=group.id, text="Correct!")

    assert seen == [("dropout", bot_message_id)]
    assert verdict.params["reply_parameters"]["message_id"] == answer["message_id"]
    assert verdict.result["reply_to_message"]["text"] == "dropout"
    assert len(server.messages_in(group.id, from_bot=False)) == 3  # the bot saw two of them


async def test_callback_query_is_answered_and_message_edited(server, app):
    async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        keyboard = [[InlineKeyboardButton("EN", callback_data="lang:en"),
                     InlineKeyboardButton("中文", callback_data="lang:zh")]]  # fmt: skip
        await update.message.reply_text("Language?", reply_markup=InlineKeyboardMarkup(keyboard))

    async def on_click(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer(f"chose {query.data}")
        await query.edit_message_text(f"Language: {query.data.split(':')[1]}")

    app.add_handler(CommandHandler("lang", menu))
    app.add_handler(CallbackQueryHandler(on_click, pattern=r"^lang:"))
    bob = server.user(2, "Bob")

    async with run_application(app, server=server):
        server.send_text(bob, "/lang")
        [menu_call] = await server.wait_for("sendMessage", chat_id=bob.id)
        query = server.click(bob, menu_call.result, text="中文")
        await server.wait_for("editMessageText", chat_id=bob.id)

    assert server.callback_answers[query["id"]]["text"] == "chose lang:zh"
    [message] = server.messages_in(bob.id)
    assert message["text"] == "Language: zh"
    assert "reply_markup" not in message  # editing the text without markup drops the keyboard
    server.assert_no_errors()


async def test_photo_upload_is_multipart_and_downloadable(server, app):
    image = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8000  # ~2 MB: over aiohttp's 1 MiB default
    alice = server.user(1, "Alice")

    async with run_application(app, server=server):
        sent = await app.bot.send_photo(alice.id, image, caption="Your progress / 你的进度")
        downloaded = await (await app.bot.get_file(sent.photo[-1].file_id)).download_as_bytearray()

    [call] = server.calls_to("sendPhoto")
    assert call.files["photo"].size == len(image)
    assert call.params["caption"] == "Your progress / 你的进度"
    assert server.texts_in(alice.id) == ["Your progress / 你的进度"]
    assert bytes(downloaded) == image


async def test_429_is_retried_by_the_aio_rate_limiter(server):
    app = build_app(server, rate_limiter=AIORateLimiter(max_retries=3))
    app.add_handler(CommandHandler("start", lambda u, c: u.message.reply_text("welcome")))
    alice = server.user(1, "Alice")
    server.fail_next("sendMessage", retry_after=0.2)

    async with run_application(app, server=server):
        started = time.monotonic()
        server.send_text(alice, "/start")
        await server.wait_for("sendMessage", chat_id=alice.id)
        elapsed = time.monotonic() - started

    statuses = [c.status for c in server.calls if c.method == "sendMessage"]
    assert statuses == [429, 200]
    assert elapsed >= 0.2  # PTB waited retry_after (+0.1 s) before trying again
    assert server.texts_in(alice.id) == ["welcome"]
    server.assert_no_errors()  # injected failures are not the bot's fault


async def test_429_without_rate_limiter_reaches_the_handler(server, app):
    alice = server.user(1, "Alice")
    server.fail_next("sendMessage", retry_after=3)

    async with run_application(app, server=server):
        with pytest.raises(RetryAfter):
            await app.bot.send_message(alice.id, "hi")
    assert server.texts_in(alice.id) == []


async def test_get_chat_member_administrator_vs_member(server, app):
    async def whoami(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        member = await context.bot.get_chat_member(
            update.effective_chat.id, update.effective_user.id
        )
        await update.message.reply_text(f"{update.effective_user.first_name}: {member.status}")

    app.add_handler(CommandHandler("whoami", whoami))
    alice, bob = server.user(1, "Alice"), server.user(2, "Bob")
    group = server.group_chat(-100, "Quiz Group")
    server.set_member_status(group.id, alice.id, "administrator")

    async with run_application(app, server=server):
        server.send_text(alice, "/whoami", chat=group)
        server.send_text(bob, "/whoami", chat=group)
        await server.wait_for("sendMessage", chat_id=group.id, count=2)
        admins = await app.bot.get_chat_administrators(group.id)

    assert sorted(server.texts_in(group.id)) == ["Alice: administrator", "Bob: member"]
    assert [a.user.id for a in admins] == [alice.id]


async def test_set_my_commands_per_language(server, app):
    async with run_application(app, server=server):
        await app.bot.set_my_commands([BotCommand("quiz", "Start a quiz")])
        await app.bot.set_my_commands([BotCommand("quiz", "开始测验")], language_code="zh")
        zh = await app.bot.get_my_commands(language_code="zh")

    assert [(c.command, c.description) for c in zh] == [("quiz", "开始测验")]
    assert server.commands() == [{"command": "quiz", "description": "Start a quiz"}]
    [_, zh_call] = server.calls_to("setMyCommands")
    assert zh_call.params["language_code"] == "zh"


async def test_limits_are_enforced_and_recorded(server, app):
    alice = server.user(1, "Alice")
    async with run_application(app, server=server):
        with pytest.raises(BadRequest, match=r"(?i)too long"):
            await app.bot.send_message(alice.id, "x" * 4097)
        with pytest.raises(BadRequest, match=r"(?i)options"):
            await app.bot.send_poll(alice.id, "?", [str(i) for i in range(11)])
        with pytest.raises(BadRequest, match=r"(?i)open_period"):
            await app.bot.send_poll(alice.id, "?", ["a", "b"], open_period=601)
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            button = InlineKeyboardButton("x", callback_data="é" * 33)  # 66 bytes
            await app.bot.send_message(
                alice.id, "hi", reply_markup=InlineKeyboardMarkup([[button]])
            )
        with pytest.raises(BadRequest, match=r"(?i)reserved"):
            await app.bot.send_message(alice.id, "Score: 3.5", parse_mode=ParseMode.MARKDOWN_V2)
        with pytest.raises(BadRequest, match=r"(?i)Unsupported start tag"):
            await app.bot.send_message(alice.id, "List<T>", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await app.bot.send_message(999, "hi")
        with pytest.raises(EndPointNotFound):
            await app.bot.do_api_request("frobnicate")
        # and what is allowed goes through, stripped of markup
        await app.bot.send_message(alice.id, "<b>Score</b> 3 &lt; 4", parse_mode=ParseMode.HTML)
        await app.bot.send_message(alice.id, r"*Score* 3\.5", parse_mode=ParseMode.MARKDOWN_V2)

    assert [c.method for c in server.errors] == ["sendMessage", "sendPoll", "sendPoll"] + [
        "sendMessage"
    ] * 4 + ["frobnicate"]
    assert server.texts_in(alice.id) == ["Score 3 < 4", "Score 3.5"]


async def test_blocked_user_gets_403(server, app):
    alice = server.user(1, "Alice")
    server.set_blocked(alice.id)
    async with run_application(app, server=server):
        with pytest.raises(Forbidden, match="blocked"):
            await app.bot.send_message(alice.id, "hi")


async def test_message_not_modified(server, app):
    alice = server.user(1, "Alice")
    async with run_application(app, server=server):
        message = await app.bot.send_message(alice.id, "same")
        with pytest.raises(BadRequest, match="not modified"):
            await message.edit_text("same")


async def test_redelivered_update_reaches_the_handler_twice(server, app):
    seen = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.update_id)
        await update.message.reply_text("ok")

    app.add_handler(MessageHandler(filters.TEXT, record))
    alice = server.user(1, "Alice")

    async with run_application(app, server=server):
        server.send_text(alice, "dropout")
        await server.wait_for("sendMessage")
        server.send_text(alice, "softmax")
        await server.wait_for("sendMessage", count=2)
        first = server.updates[0]["update_id"]
        server.redeliver(first)  # e.g. the bot crashed before confirming it
        await server.wait_for("sendMessage", count=3)
        server.send_text(alice, "relu")  # the queue carries on normally afterwards
        await server.wait_for("sendMessage", count=4)

    assert seen == [first, first + 1, first, first + 2]


async def test_handler_errors_fail_the_test(server, app):
    async def broken(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        raise RuntimeError("boom")

    app.add_handler(CommandHandler("start", broken))
    alice = server.user(1, "Alice")
    started = time.monotonic()
    with pytest.raises(AssertionError, match="a handler failed") as failure:
        async with run_application(app, server=server):
            server.send_text(alice, "/start")
            await server.wait_for("sendMessage")  # fails at once, not after 5 s
    assert time.monotonic() - started < 1
    assert isinstance(failure.value.__cause__, RuntimeError)

    # Without `server`, the error still fails the test when the block exits.
    other = build_app(server)
    other.add_handler(CommandHandler("start", broken))
    with pytest.raises(AssertionError, match="boom"):
        async with run_application(other) as errors:
            server.send_text(alice, "/start")
            while not errors:  # noqa: ASYNC110 (PTB gives no event to wait on)
                await asyncio.sleep(0.01)


async def test_slow_answer_times_out_in_ptb_but_still_takes_effect(server):
    app = ApplicationBuilder().token(TOKEN).base_url(server.api_url).read_timeout(0.2).build()
    alice = server.user(1, "Alice")
    server.fail_next("sendMessage", delay=0.5)
    async with run_application(app, server=server):
        with pytest.raises(Exception, match="Timed out"):
            await app.bot.send_message(alice.id, "late")
        await server.wait_for("sendMessage", timeout=1)
    assert server.texts_in(alice.id) == ["late"]  # a blind retry would have sent it twice


async def test_assert_no_call(server, app):
    alice = server.user(1, "Alice")
    async with run_application(app, server=server):
        await server.assert_no_call("sendMessage", within=0.05)
        sending = asyncio.create_task(app.bot.send_message(alice.id, "hi"))
        with pytest.raises(AssertionError, match="unexpected"):
            await server.assert_no_call("sendMessage", within=0.5)
        await sending


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_delivery(server):
    app = ApplicationBuilder().token(TOKEN).base_url(server.api_url).build()
    app.add_handler(CommandHandler("start", lambda u, c: u.message.reply_text("via webhook")))
    alice = server.user(1, "Alice")
    port = free_port()

    await app.initialize()
    await app.start()
    await app.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="hook",
        webhook_url=f"http://127.0.0.1:{port}/hook",
        secret_token="s3cret",
    )
    try:
        server.send_text(alice, "/start")
        await server.wait_for("sendMessage", chat_id=alice.id)
        with pytest.raises(Exception, match="webhook is active"):
            await app.bot.get_updates()
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()

    [(update_id, status)] = server.webhook_deliveries
    assert status == 200 and update_id == server.updates[0]["update_id"]


async def test_shutdown_is_fast(server, app):
    started = time.monotonic()
    async with run_application(app, server=server):
        await asyncio.sleep(0.05)  # let a long poll be in flight
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 0.5
    assert stopping - started < 1.0


async def test_updates_wait_while_the_bot_is_down(server):
    """Nothing is lost across a restart: unconfirmed updates go to the next Application."""
    alice = server.user(1, "Alice")
    seen = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.message.text)
        await update.message.reply_text("got it")

    for run in range(2):
        app = build_app(server)
        app.add_handler(MessageHandler(filters.TEXT, record))
        server.send_text(alice, f"sent while down {run}")
        async with run_application(app, server=server):
            await server.wait_for("sendMessage", count=run + 1)
    assert seen == ["sent while down 0", "sent while down 1"]


async def test_allowed_updates_are_honoured(server, app):
    """A bot that narrows allowed_updates stops getting poll answers, as on Telegram."""
    alice = server.user(1, "Alice")
    seen = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.poll_answer or update.message.text)
        await context.bot.send_message(alice.id, "seen")

    app.add_handler(PollAnswerHandler(record))
    app.add_handler(MessageHandler(filters.TEXT, record))
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=["message"])
    try:
        await server.wait_polling()  # allowed_updates apply from the first getUpdates on
        message = await app.bot.send_poll(alice.id, "?", ["a", "b"], is_anonymous=False)
        server.answer_poll(alice, message.poll.id, [0])
        server.send_text(alice, "after the vote")
        await server.wait_for("sendMessage", text="seen")
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert seen == ["after the vote"]
