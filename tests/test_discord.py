"""The Discord adapter, run offline with simcord: a real discord.py bot, a fake Discord.

The hub is a real App on a SQLite file with the small test glossary; its clock is
`discord.utils.utcnow`, which simcord turns into virtual time, so `advance_time` closes questions.
Questions alternate multiple choice / typed (see `alternate_types`) so that a round shows both.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

import discord
import pytest
import simcord

from bot.adapters.discord import DiscordAdapter, create_bot
from bot.app import App
from bot.config import Secret, Settings
from bot.content.model import Question, QuestionType
from bot.core.events import ChatRef
from bot.core.replies import Image
from tests.conftest import assert_every_round_reached_its_podium, rounds_without_podium

MC_TYPES = tuple(q for q in QuestionType if q.is_multiple_choice)
TYPED_TYPES = tuple(q for q in QuestionType if not q.is_multiple_choice)
LABELS = "ABCDEFGHIJ"
SECONDS = 20  # the default question time; above simcord's settle_timeout, so timers park


def alternate_types(app: App) -> list[Question]:
    """Make rounds ask multiple choice, typed, multiple choice...; returns the questions asked."""
    asked: list[Question] = []
    generate = app.quiz.generator.generate

    def generate_alternating(count: int, **kwargs) -> list[Question]:
        kwargs.pop("types", None)
        mc = generate(count, types=MC_TYPES, **kwargs)
        typed = generate(count, types=TYPED_TYPES, **kwargs)
        questions = [(mc if i % 2 == 0 else typed)[i] for i in range(count)]
        asked.extend(questions)
        return questions

    app.quiz.generator.generate = generate_alternating  # type: ignore[method-assign]
    return asked


@pytest.fixture
async def quiz_app(tmp_path, sqlite_template, mini_glossary, request):
    path = tmp_path / "x.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())  # already migrated
    settings = Settings(database_url=f"sqlite+aiosqlite:///{path}", discord_token=Secret("x"))
    app = await App.create(
        settings, glossary=mini_glossary, clock=discord.utils.utcnow, migrate=False
    )
    app.asked = alternate_types(app)  # type: ignore[attr-defined]
    try:
        yield app
        assert_every_round_reached_its_podium(request, await rounds_without_podium(app.uow))
    finally:
        await app.close()  # simcord never calls bot.close()


@pytest.fixture
def shards() -> str:
    return ""


@pytest.fixture
def simcord_bot(quiz_app, shards):
    return create_bot(replace(quiz_app.settings, discord_shards=shards), quiz_app.hub)


@dataclass
class World:
    env: simcord.Env
    app: App
    guild: object
    channel: object
    admin: object
    alice: object
    bob: object
    carol: object
    dave: object

    @property
    def adapter(self) -> DiscordAdapter:
        return self.env.bot.adapter


@pytest.fixture
def world(simcord_env, quiz_app) -> World:
    guild = simcord_env.create_guild("ML Club")
    channel = guild.create_text_channel("quiz")
    mods = guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
    admin = guild.add_member(simcord_env.create_user("admin"), roles=[mods])
    members = [
        guild.add_member(simcord_env.create_user(n)) for n in ("alice", "bob", "carol", "dave")
    ]
    return World(simcord_env, quiz_app, guild, channel, admin, *members)


# ------------------------------------------------------------------ reading the channel


def questions_in(channel) -> list[discord.Message]:
    return [m for m in channel.history() if m.embeds and m.embeds[0].title.startswith("Question")]


def buttons(message: discord.Message) -> dict[str, tuple[bool, discord.ButtonStyle]]:
    """label -> (disabled, style), as a member sees the message."""
    return {c.label: (c.disabled, c.style) for row in message.components for c in row.children}


def embed_titles(channel) -> list[str]:
    return [m.embeds[0].title for m in channel.history() if m.embeds]


def right_label(question: Question) -> str:
    return LABELS[question.correct_option]


def wrong_label(question: Question) -> str:
    return LABELS[(question.correct_option + 1) % len(question.options)]


# ------------------------------------------------------------------ rounds


async def test_channel_round_with_buttons_and_modal_ends_with_a_podium(world):
    env, channel = world.env, world.channel
    start = await world.alice.slash(channel, "quiz start", questions=2)
    assert not start.ephemeral
    assert start.response.content.startswith("A new round: 2 questions, 20 s each")

    [message] = questions_in(channel)
    q1 = world.app.asked[0]
    embed = message.embeds[0]
    assert embed.title == "Question 1/2"
    assert q1.prompt in embed.description
    assert all(f"**{LABELS[i]}**  {opt}" in embed.description for i, opt in enumerate(q1.options))
    assert {label: state[0] for label, state in buttons(message).items()} == {
        LABELS[i]: False for i in range(len(q1.options))
    }

    alice = await world.alice.click(message, label=right_label(q1))
    await env.advance_time(2)
    bob = await world.bob.click(message, label=wrong_label(q1))
    await env.advance_time(2)
    carol = await world.carol.click(message, label=right_label(q1))
    assert alice.ephemeral
    assert alice.response.content == f"You chose {right_label(q1)}.\n✅ Right! +1000 points"
    assert bob.response.content == f"You chose {wrong_label(q1)}.\n❌ Not quite."
    assert carol.response.content == f"You chose {right_label(q1)}.\n✅ Right! +900 points"
    # Verdicts are ephemeral: nobody else sees them.
    assert "❌ Not quite." not in [m.content for m in channel.history(viewer=world.alice)]

    await env.advance_time(SECONDS - 5)
    assert not buttons(questions_in(channel)[0])[right_label(q1)][0]  # still open at 19 s
    await env.advance_time(1)

    closed = questions_in(channel)[0]
    states = buttons(closed)
    assert all(disabled for disabled, _ in states.values())
    assert states[right_label(q1)][1] is discord.ButtonStyle.success
    assert closed.embeds[0].footer.text == f"The answer: {right_label(q1)}) {q1.answer}"
    result = next(m for m in channel.history() if m.embeds and m.embeds[0].title.startswith("The"))
    assert "Right: alice, carol" in result.embeds[0].description
    with pytest.raises(simcord.SetupError, match="disabled"):
        await world.dave.click(closed, label=right_label(q1))

    # Question 2 is typed: an Answer button opens a modal.
    second = questions_in(channel)[1]
    q2 = world.app.asked[1]
    assert second.embeds[0].title == "Question 2/2"
    assert list(buttons(second)) == ["Answer"]
    await env.advance_time(4)
    shown = await world.dave.click(second, label="Answer")
    assert shown.modal is not None and shown.modal["title"] == "Your answer"
    typed = await world.dave.submit_modal(shown, {"answer": q2.answer})
    assert typed.ephemeral
    assert typed.response.content.startswith("✅ Right! +900 points")

    await env.advance_time(SECONDS)
    assert all(disabled for disabled, _ in buttons(questions_in(channel)[1]).values())
    podium = channel.last_message.embeds[0]
    assert podium.title == "🏁 The round is over!"
    lines = podium.description.splitlines()
    assert lines[0] == "Podium:"
    assert lines[1].startswith("🥇 alice — 1,000 pts")
    assert lines[2].startswith("🥈 carol — 900 pts") or lines[2].startswith("🥈 dave — 900 pts")
    assert {lines[2].split()[1], lines[3].split()[1]} == {"carol", "dave"}
    assert lines[4] == "Full table:" and lines[5].startswith("4. bob — 0 pts")


async def test_second_click_is_refused_and_buttons_survive_a_restart(world):
    await world.bob.slash(world.channel, "quiz start", questions=1)
    [message] = questions_in(world.channel)
    q1 = world.app.asked[0]
    await world.alice.click(message, label=wrong_label(q1))
    again = await world.alice.click(message, label=right_label(q1))
    assert again.ephemeral
    assert again.response.content == "You already answered this question; one answer per question."

    # A restart loses the adapter's memory; the buttons carry everything they need.
    world.adapter._questions.clear()
    world.adapter._open.clear()
    carol = await world.carol.click(message, label=right_label(q1))
    assert carol.response.content.startswith(f"You chose {right_label(q1)}.\n✅ Right!")
    await world.env.advance_time(SECONDS)
    # The result is still posted, and the question message, found again through the
    # reference stored in the database, has its buttons disabled.
    assert "Right: carol" in channel_result(world.channel).embeds[0].description
    assert all(disabled for disabled, _ in buttons(questions_in(world.channel)[0]).values())
    assert world.channel.last_message.embeds[0].title == "🏁 The round is over!"


def channel_result(channel) -> discord.Message:
    return next(
        m for m in channel.history() if m.embeds and m.embeds[0].title.startswith("The answer")
    )


async def test_stop_needs_the_starter_or_an_admin_and_disables_the_question(world):
    await world.bob.slash(world.channel, "quiz start", questions=3)
    refused = await world.alice.slash(world.channel, "quiz stop")
    assert refused.ephemeral
    assert refused.response.content == "Sorry, only admins of this chat can do that."

    stopped = await world.bob.slash(world.channel, "quiz stop")
    assert not stopped.ephemeral
    assert stopped.response.embeds[0].title == "⏹ The round was stopped."
    assert all(disabled for disabled, _ in buttons(questions_in(world.channel)[0]).values())
    await world.env.advance_time(60)  # the cancelled question timer posts nothing more
    assert len(questions_in(world.channel)) == 1


# ------------------------------------------------------------------ settings and admins


@pytest.mark.round_left_running("starts a round only to see settings refused while it runs")
async def test_settings_change_is_for_admins_only(world):
    refused = await world.alice.slash(world.channel, "settings", seconds=30)
    assert refused.ephemeral
    assert refused.response.content == "Sorry, only admins of this chat can do that."

    shown = await world.alice.slash(world.channel, "settings")
    assert shown.ephemeral and "20 s each" in shown.response.content

    changed = await world.admin.slash(world.channel, "settings", seconds=30, types="mc")
    assert not changed.ephemeral
    assert changed.response.content.startswith("Saved.")
    assert "30 s each; question types: multiple choice" in changed.response.content
    assert not changed.followups, "one confirmation for both settings"

    start = await world.alice.slash(world.channel, "quiz start", questions=1)
    assert "30 s" in start.response.content


async def test_manage_channels_on_the_channel_is_enough_to_be_admin(simcord_env):
    guild = simcord_env.create_guild()
    helper = guild.add_member(simcord_env.create_user("helper"))
    channel = guild.create_text_channel(
        "quiz", overwrites={helper: discord.PermissionOverwrite(manage_channels=True)}
    )
    changed = await helper.slash(channel, "settings", questions=5)
    assert changed.response.content.startswith("Saved.")


async def test_declared_ranges_and_choices_are_validated_by_discord(world):
    with pytest.raises(simcord.OptionError):
        await world.admin.slash(world.channel, "settings", seconds=4)
    with pytest.raises(simcord.OptionError):
        await world.admin.slash(world.channel, "settings", questions=51)
    with pytest.raises(simcord.OptionError):
        await world.admin.slash(world.channel, "settings", mode="fastest")
    with pytest.raises(simcord.OptionError):
        await world.alice.slash(world.channel, "leaderboard", period="yesterday")
    visible = set(world.alice.available_commands(world.channel))
    assert {"quiz start", "quiz stop", "settings", "leaderboard", "hint", "help"} <= visible


async def test_reset_asks_for_confirmation_with_buttons(world):
    ask = await world.admin.slash(world.channel, "reset")
    assert ask.ephemeral and ask.response.content.startswith("Reset this chat's leaderboard?")
    done = await world.admin.click(ask.response, label="Yes, reset")
    assert done.response.components == []  # the buttons are gone
    assert done.followups[-1].content == "The leaderboard of this chat has been reset."

    refused = await world.alice.slash(world.channel, "reset")
    assert refused.ephemeral and refused.response.content.startswith("Sorry, only admins")


async def test_every_command_answers_in_a_server_and_in_a_dm(world):
    names = ["hint", "stats", "help", "lang", "settings", "leaderboard", "practice", "review"]
    for name in names:
        result = await world.alice.slash(world.channel, name)
        assert result.acknowledged and (result.response.content or result.response.embeds), name
    lone = world.env.create_user("lone")
    for name in names:
        result = await lone.slash(name)
        assert result.acknowledged and not result.ephemeral, name
    hint = await world.carol.slash(world.channel, "hint")
    assert hint.response.content == "There is no open question to give a hint for."
    lang = await world.admin.slash(world.channel, "lang", language="zh")
    assert (lang.response.content, lang.ephemeral) == ("从现在起我在这里说中文。", False)
    assert not world.env.errors


# ------------------------------------------------------------------ leaderboards


async def play_one_question(world, right: list, wrong: list) -> None:
    await world.admin.slash(world.channel, "quiz start", questions=1)
    message = questions_in(world.channel)[-1]
    question = world.app.asked[-1]
    for member in right:
        await member.click(message, label=right_label(question))
    for member in wrong:
        await member.click(message, label=wrong_label(question))
    await world.env.advance_time(SECONDS)
    assert world.channel.last_message.embeds[0].title == "🏁 The round is over!"


async def test_leaderboard_after_two_rounds(world):
    await play_one_question(world, right=[world.alice], wrong=[world.bob])
    await play_one_question(world, right=[world.bob, world.alice], wrong=[])

    board = await world.carol.slash(world.channel, "leaderboard")
    assert not board.ephemeral
    embed = board.response.embeds[0]
    assert embed.title.startswith("🏆 Chat leaderboard · all time")
    rows = embed.description.splitlines()
    assert rows[0].startswith("🥇 alice — 2,000 pts, 2 right")
    assert rows[1].startswith("🥈 bob — 1,000 pts, 1 right")

    weekly = await world.carol.slash(world.channel, "leaderboard", scope="global", period="week")
    assert weekly.response.embeds[0].title.startswith("🏆 Global leaderboard · this week")
    assert "alice" in weekly.response.embeds[0].description

    pictured = await world.carol.slash(world.channel, "leaderboard", image=True)
    # The picture alone (captioned with the board's title), not the text board beside it.
    [image] = [m for m in (pictured.response, *pictured.followups) if m is not None]
    assert not image.embeds and image.content.startswith("🏆 Chat leaderboard · all time")
    [png] = image.attachments
    assert png.filename.endswith(".png")
    assert (await png.read()).startswith(b"\x89PNG")


async def test_images_from_the_hub_are_attached_files(world):
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
    chat = ChatRef("discord", str(world.channel.id), "group")
    await world.adapter.send(Image(chat, "Chat leaderboard", png=png, filename="board.png"))
    message = world.channel.last_message
    assert message.content == "Chat leaderboard"
    [attachment] = message.attachments
    assert attachment.filename == "board.png"
    assert await attachment.read() == png


# ------------------------------------------------------------------ DMs


async def test_dm_is_a_private_study_chat(simcord_env, quiz_app):
    # A solo round in a DM: untimed, every verdict shown, the podium is a personal score.
    lone = simcord_env.create_user("lone")
    assert {"quiz start", "practice", "stats", "help"} <= set(lone.available_commands())
    start = await lone.slash("quiz start", questions=2)
    assert start.response.content.startswith("A round of 2 questions at your own pace")
    dm = lone.dm_channel
    first = questions_in(dm)[-1]
    q1 = quiz_app.asked[0]
    clicked = await lone.click(first, label=right_label(q1))
    assert not clicked.ephemeral  # a DM is private anyway; the verdict stays in the chat
    assert clicked.response.content.startswith(f"You chose {right_label(q1)}.\n✅ Right! +500")
    assert all(disabled for disabled, _ in buttons(questions_in(dm)[0]).values())

    second = questions_in(dm)[-1]
    q2 = quiz_app.asked[1]
    assert second.embeds[0].title == "Question 2/2" and second.embeds[0].footer.text
    shown = await lone.click(second, label="Answer")
    await lone.submit_modal(shown, {"answer": q2.answer})
    over = dm.last_message.embeds[0]
    assert over.title == "🏁 The round is over!"
    assert over.description == "You got 2 of 2 right, 1,100 points."  # 500 + 500 + streak 100


def custom_ids(message: discord.Message) -> list[str]:
    return [c.custom_id for row in message.components for c in row.children]


async def answer_practice_question(lone, message: discord.Message):
    if "Answer" in buttons(message):
        shown = await lone.click(message, label="Answer")
        return await lone.submit_modal(shown, {"answer": "no idea"})
    return await lone.click(message, label="A")


async def test_dm_practice_session(simcord_env, quiz_app):
    if "practice" not in quiz_app.dispatcher.extra:
        pytest.skip("practice is not registered in the dispatcher")
    lone = simcord_env.create_user("lone")
    started = await lone.slash("practice")
    assert not started.ephemeral
    assert started.response.content.startswith("📚 Practice")
    dm = lone.dm_channel
    first = dm.last_message
    assert first.embeds[0].title.startswith("Practice · 1")
    assert all(cid.startswith("pr:") for cid in custom_ids(first))

    answered = await answer_practice_question(lone, first)
    assert answered.acknowledged and answered.response.content  # the verdict
    second = dm.last_message
    assert second.id != first.id and second.embeds[0].title.startswith("Practice · 2")
    # The answered question is retired: its buttons are disabled.
    old = next(m for m in dm.history() if m.id == first.id)
    assert all(disabled for disabled, _ in buttons(old).values())

    again = await answer_practice_question(lone, second)
    assert again.acknowledged
    stopped = await lone.slash("practice", action="stop")
    assert stopped.acknowledged and stopped.response.content


# ------------------------------------------------------------------ errors


@pytest.mark.round_left_running("checks the apology of one failing interaction")
async def test_a_failing_command_gets_an_ephemeral_apology(world):
    world.env.inject_error("POST", "/channels/*/messages", status=500)
    result = await world.alice.slash(world.channel, "quiz start", questions=1)
    assert result.response.content.startswith("A new round")  # said before the failure
    [apology] = result.followups
    assert apology.ephemeral
    assert apology.content == "Sorry, something went wrong. Please try again in a moment."
    [error] = world.env.errors  # handled by the tree's on_error, recorded by simcord
    assert isinstance(error, discord.app_commands.CommandInvokeError)
    assert isinstance(error.original, discord.HTTPException) and error.original.status == 500


@pytest.mark.round_left_running("checks the apology of one failing interaction")
async def test_a_failing_button_gets_an_ephemeral_apology(world, monkeypatch):
    await world.alice.slash(world.channel, "quiz start", questions=1)
    [message] = questions_in(world.channel)

    async def broken(event):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(world.app.hub, "handle", broken)
    result = await world.bob.click(message, label="A")
    assert result.ephemeral
    assert result.response.content == "Sorry, something went wrong. Please try again in a moment."


@pytest.mark.simcord(settle_timeout=1)
async def test_a_slow_command_is_deferred_within_discords_three_seconds(world, monkeypatch):
    handle = world.app.hub.handle

    async def slow(event):
        await asyncio.sleep(2.5)  # virtual time: parked until advance_time
        return await handle(event)

    monkeypatch.setattr(world.app.hub, "handle", slow)
    result = await world.alice.slash(world.channel, "help")
    assert not result.acknowledged
    await world.env.advance_time(2.1)
    assert result.acknowledged  # deferred ("thinking...") before Discord gives up
    await world.env.advance_time(1)
    assert result.ephemeral
    assert result.response.content.startswith("I quiz you on machine-learning terms")


# ------------------------------------------------------------------ wiring


async def test_without_a_hub_the_bot_builds_and_closes_its_own_app(
    tmp_path, sqlite_template, mini_glossary, monkeypatch
):
    path = tmp_path / "own.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    monkeypatch.setattr("bot.app.load_glossary", lambda paths=None: mini_glossary)
    settings = Settings(database_url=f"sqlite+aiosqlite:///{path}", discord_token=Secret("x"))
    bot = create_bot(settings)
    async with simcord.run(bot) as env:
        app = bot.adapter.app
        assert app is not None and app.hub.adapters["discord"] is bot.adapter
        lone = env.create_user("lone")
        started = await lone.slash("quiz start", questions=1)
        assert started.response.content.startswith("A round of one question")
        await bot.adapter.closed()  # what bot.close() runs; simcord never calls it
        assert bot.adapter.app is None


# ------------------------------------------------------------------ translations, shards


async def test_descriptions_are_translated_to_chinese(simcord_env):
    commands = {c.name: c for c in await simcord_env.bot.tree.fetch_commands()}
    quiz = commands["quiz"]
    assert quiz.description == "Quiz rounds in this channel"
    assert quiz.description_localizations[discord.Locale.chinese] == "在本频道进行测验"
    start = next(o for o in quiz.options if o.name == "start")
    assert start.description_localizations[discord.Locale.chinese] == "在这里开始一轮测验"
    settings = commands["settings"]
    seconds = next(o for o in settings.options if o.name == "seconds")
    assert (seconds.min_value, seconds.max_value) == (5, 600)


@pytest.mark.parametrize("shards", ["2"])
async def test_sharded_bot_runs_a_round(simcord_env, quiz_app):
    bot = simcord_env.bot
    assert isinstance(bot, discord.AutoShardedClient) and bot.shard_count == 2
    guild = simcord_env.create_guild("Shard one", shard_id=1)
    channel = guild.create_text_channel("quiz")
    erin = guild.add_member(simcord_env.create_user("erin"))
    assert bot.get_guild(guild.id).shard_id == 1
    await erin.slash(channel, "quiz start", questions=1)
    question = quiz_app.asked[0]
    await erin.click(questions_in(channel)[0], label=right_label(question))
    await simcord_env.advance_time(SECONDS)
    assert "Podium:" in channel.last_message.embeds[0].description


# ------------------------------------------------------------------ reporting a question


async def _rows(app: App, sql: str) -> list[tuple]:
    from sqlalchemy import text

    async with app.uow() as uow:
        return [tuple(r) for r in (await uow.session.execute(text(sql))).all()]


REPORT = "⚑ Report question"
REASON_LABELS = ["The answer key is wrong", "My answer should count", "The question is unclear"]
THANKS = "⚑ Thanks, reported: My answer should count. A curator will look at it."


async def test_a_refused_typed_answer_is_reported_under_its_result(world):
    env, channel = world.env, world.channel
    await world.alice.slash(channel, "quiz start", questions=2)
    q1 = world.app.asked[0]
    await world.bob.click(questions_in(channel)[0], label=right_label(q1))
    await env.advance_time(SECONDS)
    shown = await world.alice.click(questions_in(channel)[1], label="Answer")
    refused = await world.alice.submit_modal(shown, {"answer": "cost func"})
    assert refused.response.content.startswith("❌ Not quite.")
    await env.advance_time(SECONDS)
    assert channel.last_message.embeds[0].title == "🏁 The round is over!"
    [(rq1,), (rq2,)] = await _rows(world.app, "SELECT id FROM round_questions ORDER BY position")

    # Each result carries its own ⚑ button; the questions and the podium carry none.
    results = {tuple(custom_ids(m)): m for m in channel.history() if m.embeds}
    assert (f"report:rq:{rq1}",) in results
    result = results[(f"report:rq:{rq2}",)]
    assert result.embeds[0].title.startswith("The answer")
    assert buttons(result) == {REPORT: (False, discord.ButtonStyle.secondary)}
    assert custom_ids(channel.last_message) == []

    # ⚑ opens an ephemeral choice of reasons; a reason turns it into the confirmation.
    choice = await world.alice.click(result, label=REPORT)
    assert choice.ephemeral
    assert choice.response.content == "What is wrong with this question?"
    assert list(buttons(choice.response.message)) == REASON_LABELS
    assert custom_ids(choice.response.message) == [
        f"report:rq:{rq2}:wrong_key", f"report:rq:{rq2}:should_count", f"report:rq:{rq2}:unclear"
    ]  # fmt: skip
    chosen = await world.alice.click(choice.response, label="My answer should count")
    assert chosen.response.content == THANKS and chosen.response.components == []
    assert chosen.response.ephemeral
    assert await _rows(
        world.app, "SELECT question_ref, answer, reason, status FROM question_reports"
    ) == [(f"rq:{rq2}", "cost func", "should_count", "open")]

    # Pressed again: told so, stored once. Bob, who never answered, reports for himself.
    again = await world.alice.click(result, label=REPORT)
    twice = await world.alice.click(again.response, label="My answer should count")
    assert twice.response.content == "You already reported this question: My answer should count."
    bob = await world.bob.click(result, label=REPORT)
    await world.bob.click(bob.response, label="The question is unclear")
    assert await _rows(
        world.app,
        "SELECT u.display_name, r.reason, r.answer FROM question_reports r "
        "JOIN users u ON u.id = r.user_id ORDER BY r.id",
    ) == [("alice", "should_count", "cost func"), ("bob", "unclear", None)]
    # Nothing of it reached the channel.
    assert not [m for m in channel.history(viewer=world.carol) if "reported" in (m.content or "")]
    assert not env.errors


async def test_a_practice_verdict_in_a_dm_is_reportable(simcord_env, quiz_app):
    lone = simcord_env.create_user("lone")
    await lone.slash("practice")
    dm = lone.dm_channel
    question = dm.last_message
    [(item_id,)] = await _rows(quiz_app, "SELECT id FROM practice_items")
    verdict = await answer_practice_question(lone, question)
    [message] = [m for m in dm.history() if custom_ids(m) == [f"report:pr:{item_id}"]]
    assert buttons(message) == {REPORT: (False, discord.ButtonStyle.secondary)}
    choice = await lone.click(message, label=REPORT)
    assert choice.ephemeral  # a passing question, even in a DM
    chosen = await lone.click(choice.response, label="The answer key is wrong")
    assert chosen.response.content.startswith("⚑ Thanks, reported: The answer key is wrong.")
    assert await _rows(quiz_app, "SELECT question_ref, reason FROM question_reports") == [
        (f"pr:{item_id}", "wrong_key")
    ]
    assert verdict.acknowledged and not simcord_env.errors
    await lone.slash("practice", action="stop")


async def test_a_forged_report_button_is_refused_privately(world):
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="x", custom_id="report:rq:424242"))
    view.add_item(discord.ui.Button(label="y", custom_id="report:rq:424242:unclear"))
    await world.env.bot.get_channel(world.channel.id).send("forged", view=view)
    for label in ("x", "y"):
        result = await world.alice.click(world.channel.last_message, label=label)
        assert result.ephemeral
        assert result.response.content == "That question cannot be reported here."
    assert await _rows(world.app, "SELECT count(*) FROM question_reports") == [(0,)]
