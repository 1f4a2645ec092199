"""Discord replies in the language chosen with /lang, not the client's (simcord's is en-US)."""

from __future__ import annotations

from tests.test_discord import quiz_app, shards, simcord_bot  # noqa: F401 (fixtures)


async def test_help_in_a_dm_honours_the_stored_lang_choice(simcord_env, quiz_app):  # noqa: F811
    lone = simcord_env.create_user("lone")
    before = await lone.slash("help")
    assert before.response.content.startswith("I quiz you")  # the client speaks English

    chosen = await lone.slash("lang", language="zh")
    assert chosen.response.content == "从现在起我在这里说中文。"
    after = await lone.slash("help")
    assert after.response.content.startswith("我用中英文机器学习术语来考考你")
    assert "/practice — 练习" in after.response.content
    shown = await lone.slash("lang")
    assert shown.response.content.startswith("界面语言：中文。")
    assert not simcord_env.errors


async def test_a_new_channel_speaks_its_first_users_language(simcord_env, quiz_app):  # noqa: F811
    guild = simcord_env.create_guild("学习小组")
    channel = guild.create_text_channel("quiz")
    first_user = simcord_env.create_user("first")
    first = guild.add_member(first_user)
    other = guild.add_member(simcord_env.create_user("other"))
    # simcord's clients all speak en-US: the first user's /lang choice in their DM stands for
    # a Chinese app here, and is their language wherever the channel has none.
    await first_user.slash("lang", language="zh")
    started = await first.slash(channel, "help")
    assert started.response.content.startswith("我用中英文")
    later = await other.slash(channel, "help")
    assert later.response.content.startswith("我用中英文")
    assert not simcord_env.errors
