"""One language per chat, and a glossary in that language unless the chat chose otherwise.

A group speaks the language chosen there with /lang; until someone chooses, the language of the
first person the bot met there, for every reply (the private ones too), so that nobody sees
English and Chinese alternate. A private chat speaks its user's language (their /lang choice
before their app's). Rounds and practice ask terms of the chat's language; `/settings lang
mixed` (or en, zh) is a choice that sticks.
"""

from __future__ import annotations

import itertools
import json
import random

import pytest
from sqlalchemy import text

from bot.core.boards import BoardService
from bot.core.dispatcher import Dispatcher
from bot.core.events import ChatRef, Command, OptionAnswer, Sender
from bot.core.replies import AnswerFeedback, AskQuestion, RoundOver
from bot.core.services import QuizService, RoundRequest
from bot.core.settings import ChatSettings

GROUP = ChatRef("test", "g-lang", "group", "学习小组")
ADMIN_ZH = Sender("200", "王芳", "zh-hans", is_admin=True)
ALICE = Sender("1", "Alice", "en")
BOB = Sender("2", "Bob", "en-GB", is_admin=True)
LI = Sender("3", "李雷", "zh")

_ids = itertools.count(1)


class Chats:
    def __init__(self, uow_factory, glossary, clock) -> None:
        self.uow = uow_factory
        self.clock = clock
        self.quiz = QuizService(uow_factory, glossary, rng=random.Random(3))
        self.dispatcher = Dispatcher(self.quiz, BoardService(uow_factory))

    async def command(self, sender, name, *args, chat=GROUP):
        event = Command(chat, sender, f"l{next(_ids)}", self.clock(), name=name, args=args)
        return await self.dispatcher.dispatch(event)

    async def pick(self, sender, ask: AskQuestion, option: int, chat=GROUP):
        event = OptionAnswer(
            chat,
            sender,
            f"l{next(_ids)}",
            self.clock(),
            option=option,
            question_ref=ask.question_ref,
        )
        return await self.dispatcher.dispatch(event)

    async def round_langs(self, sender, chat=GROUP) -> set[str]:
        """The glossary languages of a full round started by `sender` (then stopped)."""
        replies = await self.command(sender, "quiz", "start", "8", chat=chat)
        asks = [r for r in replies if isinstance(r, AskQuestion)]
        assert asks, replies
        async with self.uow() as uow:
            rows = await uow.session.execute(
                text(
                    "SELECT q.question FROM round_questions q WHERE q.round_id = "
                    "(SELECT max(round_id) FROM round_questions)"
                )
            )
            questions = [q if isinstance(q, dict) else json.loads(q) for (q,) in rows]
        await self.command(sender, "quiz", "stop", chat=chat)
        return {q["lang"] for q in questions}

    async def stored_settings(self, chat=GROUP) -> ChatSettings:
        async with self.uow() as uow:
            row = await uow.chats.get_or_create(chat, self.clock())
            return ChatSettings.from_json(row.settings)


@pytest.fixture
def chats(uow_factory, mini_glossary, clock) -> Chats:
    return Chats(uow_factory, mini_glossary, clock)


def texts(replies) -> str:
    return "\n".join(r.text for r in replies if r.text)


async def test_a_new_group_speaks_the_language_of_whoever_started_it(chats):
    # A Chinese user starts the group's first round: the group is Chinese from then on,
    # for everyone, whatever language each one's app speaks.
    started = await chats.command(LI, "quiz", "start", "2")
    assert "新一轮开始" in texts(started)
    ask = next(r for r in started if isinstance(r, AskQuestion))
    assert ask.lang == "zh" and ask.header.startswith("第 1/2 题")

    wrong = (ask.question.correct_option + 1) % len(ask.question.options)
    verdict = next(r for r in await chats.pick(ALICE, ask, wrong) if isinstance(r, AnswerFeedback))
    assert verdict.private_to == ALICE.platform_user_id  # meant for Alice alone, in Chinese
    assert "不对" in verdict.text

    assert "我用中英文机器学习术语来考考你" in texts(await chats.command(ALICE, "help"))
    assert texts(await chats.command(ALICE, "settings")).startswith("测验设置")
    assert "我不认识命令" in texts(await chats.command(ALICE, "frobnicate"))
    assert "用法" in texts(await chats.command(ALICE, "leaderboard", "nonsense"))
    assert "界面语言：中文" in texts(await chats.command(BOB, "lang"))
    assert "本轮测验已中止" in texts(await chats.command(LI, "quiz", "stop"))


async def test_lang_changes_the_group_for_everyone(chats):
    await chats.command(ALICE, "help")  # Alice meets the bot first: an English group
    assert "I quiz you" in texts(await chats.command(LI, "help"))
    assert texts(await chats.command(ADMIN_ZH, "lang", "zh")) == "从现在起我在这里说中文。"
    assert "我用中英文" in texts(await chats.command(ALICE, "help"))
    assert "我用中英文" in texts(await chats.command(LI, "help"))


async def test_the_glossary_follows_the_chat_language_until_the_chat_chooses(chats):
    english = ChatRef("test", "g-en", "group", "ML club")
    assert await chats.round_langs(ALICE, chat=english) == {"en"}
    async with chats.uow() as uow:  # followed, not chosen: nothing saved as a setting
        assert (await uow.chats.get_or_create(english, chats.clock())).settings in ({}, None)
    assert await chats.round_langs(LI) == {"zh"}  # GROUP: Li came first

    # /lang moves the glossary along while the chat has not chosen one...
    await chats.command(ADMIN_ZH, "lang", "en")
    assert await chats.round_langs(LI) == {"en"}
    # ... mixed (or en, zh) is a choice that sticks.
    assert "中英混合" not in texts(await chats.command(BOB, "settings", "lang", "mixed"))
    assert "English and Chinese" in texts(await chats.command(BOB, "settings"))
    assert await chats.round_langs(LI) == {"en", "zh"}
    await chats.command(BOB, "lang", "zh")
    assert "术语语言：中英混合" in texts(await chats.command(BOB, "settings"))
    assert (await chats.stored_settings()).lang_chosen
    assert await chats.round_langs(LI) == {"en", "zh"}


async def test_a_private_chat_follows_its_user_and_their_lang_choice(chats):
    private = ChatRef("test", "p-200", "private", "")
    me = Sender("p-200", "Wang", "en-US")  # the app speaks English
    assert "I quiz you" in texts(await chats.command(me, "help", chat=private))
    assert await chats.round_langs(me, chat=private) == {"en"}
    await chats.command(me, "lang", "zh", chat=private)
    # Help (and everything else) honours the stored choice, not the app's language.
    assert "我用中英文" in texts(await chats.command(me, "help", chat=private))
    assert "我用中英文" in texts(await chats.command(me, "start", chat=private))
    assert await chats.round_langs(me, chat=private) == {"zh"}


async def test_the_terminal_glossary_follows_the_interface_language(chats):
    # The terminal is a private chat whose user speaks the interface language (--ui, $LANG);
    # `quizbot play` without --lang leaves the glossary language to the chat.
    terminal = ChatRef("console", "local", "private", "terminal")
    for ui in ("zh", "en"):
        me = Sender("local", "you", ui)
        replies = await chats.quiz.start_round(
            terminal, me, chats.clock(), RoundRequest(questions=6, untimed=True)
        )
        asked = [r for r in replies if isinstance(r, AskQuestion)]
        assert asked and asked[0].question.lang == ui and asked[0].lang == ui
        over = await chats.quiz.stop_round(terminal, me, chats.clock(), is_admin=True)
        assert any(isinstance(r, RoundOver) for r in over)
    # --lang mixed is still a choice for one round.
    replies = await chats.quiz.start_round(
        terminal, me, chats.clock(), RoundRequest(questions=8, lang="mixed", untimed=True)
    )
    assert any(isinstance(r, AskQuestion) for r in replies)


def test_stored_settings_from_before_keep_an_explicit_language():
    # "mixed" was the default before the glossary followed the chat: not a choice then.
    assert not ChatSettings.from_json({"lang": "mixed", "seconds": 30}).lang_chosen
    assert ChatSettings.from_json({"lang": "zh"}).lang_chosen
    assert ChatSettings.following({"lang": "mixed", "seconds": 30}, "zh")["lang"] == "zh"
    assert ChatSettings.following({"lang": "en"}, "zh") is None  # chosen: kept
    chosen = ChatSettings().with_value("lang", "mixed").to_json()
    assert ChatSettings.following(chosen, "zh") is None
    followed = ChatSettings.following({}, "zh")
    assert followed["lang"] == "zh" and followed["lang_chosen"] is False
    assert ChatSettings.following(followed, "zh") is None
