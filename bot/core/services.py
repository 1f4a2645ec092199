"""Use cases of quiz rounds: start, answer, hint, close on time, stop, resume after a restart.

Each use case is one transaction through a unit of work: load the round, ask the engine, write
the outcome, commit, and hand back the replies to send (answers that arrive together share one
transaction). Nothing is held in memory between transactions, so any process sharing the
database can take the next event.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from bot.content.model import Glossary, Question
from bot.content.questions import QuestionGenerator
from bot.core import engine, render
from bot.core.answers import (
    dedup_key,
    dropped_as_duplicate,
    from_another_chat,
    given_text,
    grade_event,
    unknown_question,
)
from bot.core.engine import Mode, Next, PlayerState, QuestionSlot, RoundState, Verdict
from bot.core.events import ChatRef, Event, OptionAnswer, Sender, TextAnswer, ref_id
from bot.core.grading import Grade, Grader
from bot.core.group_commit import GroupCommit
from bot.core.replies import (
    AnswerFeedback,
    AskQuestion,
    Notice,
    QuestionResult,
    Reply,
    RoundOver,
    Standing,
)
from bot.core.reports import held_back
from bot.core.settings import ChatSettings
from bot.i18n import interface_lang, t
from bot.storage.models import Chat, Round, RoundPlayer, RoundQuestion, User
from bot.storage.repositories import PLAYER_FIELDS, UserRow
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory

UNHEARD_KEPT = 10_000  # answers whose COMMIT's outcome the bot did not hear, kept to tell
# How long a round's undelivered end stays owed to its chat: after a restart days later, an old
# podium would only confuse.
OWED_FOR = timedelta(days=1)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RoundRequest:
    """Overrides of the chat's settings for one round (the terminal's --count/--lang/--type)."""

    questions: int | None = None
    lang: str | None = None
    types: str | None = None
    seconds: int | None = None
    untimed: bool | None = None


@dataclass(frozen=True, slots=True)
class Wakeup:
    """Call `QuizService.tick(round_id)` at `at`: a question's time runs out then."""

    round_id: int
    at: datetime


def personal_lang(chat: Chat, user: User | UserRow) -> str:
    """Language of a message meant for one user only (a verdict, a refusal): the chat's, as
    every other reply there, so that nobody sees two languages alternate in one chat."""
    return chat_lang(chat, user)


def chat_lang(chat: Chat, user: User | UserRow | None = None) -> str:
    """The one language of every reply in a chat, those meant for one user included.

    A private chat speaks its user's language: their /lang choice, else their app's. A group
    speaks the language chosen there with /lang; until someone chooses, the language of the
    first person the bot meets there, kept on the chat so that it does not change with whoever
    speaks next (written to `chat`, for the caller's transaction to save). The chat's glossary
    language follows, unless the chat chose one (ChatSettings.following): on the chat as loaded,
    for whoever reads its settings next, and never saved as if it were a choice."""
    if chat.kind == "private" and user is not None:
        lang = interface_lang(user.lang, user.platform_lang, chat.lang)
    elif chat.lang:  # chosen with /lang, or settled when the group first met the bot
        lang = interface_lang(chat.lang)
    elif user is not None:
        lang = interface_lang(user.lang, user.platform_lang)
    else:
        return interface_lang(None)
    if chat.lang != lang:
        chat.lang = lang  # a private chat's too: replies without a user (timers) follow it
    settings = ChatSettings.following(chat.settings, lang)
    if settings is not None:
        set_committed_value(chat, "settings", settings)
    return lang


# What reached a chat: ("question", round question id, handle, when posted), ("result",
# round question id, None, None) or ("end", round id, None, None).
_Mark = tuple[str, int, str | None, datetime | None]

# A round's players as rows (ticks, stops) or as the batch of answers holds them.
Players = list[RoundPlayer] | list[PlayerState]


class _NoRound(list):
    """The replies to an answer that named no question in a chat with none open: a list like
    any other, marked so that the dispatcher can offer the answer to practice instead."""


def _round_question_id(ref: str | None) -> int | None:
    """The id in a reference of the form rq:<id>, the one the core hands out."""
    return ref_id(ref, "rq:")


@dataclass(slots=True)
class Tries:
    """The answers given so far to one question, as the engine and the result need them."""

    by_user: dict[int, list[bool]] = field(default_factory=dict)  # right or not, in order
    right: list[int] = field(default_factory=list)  # who got it right, first come first

    def add(self, user_id: int, correct: bool) -> None:
        self.by_user.setdefault(user_id, []).append(correct)
        if correct and user_id not in self.right:
            self.right.append(user_id)

    @classmethod
    async def load(cls, uow: UnitOfWork, round_question_ids: list[int]) -> dict[int, Tries]:
        return cls.of(await uow.answers.tries_of(round_question_ids))

    @classmethod
    def of(cls, answers: dict[int, list[tuple[int, bool]]]) -> dict[int, Tries]:
        """From (user id, right) pairs by question, in the order they were given."""
        found = {}
        for rq_id, rows in answers.items():
            tries = found[rq_id] = cls()
            for user_id, correct in rows:
                tries.add(user_id, correct)
        return found


@dataclass(slots=True)
class _Known:
    """What a batch of answers holds about a round whose question it closes."""

    question: Question  # the one it closes, parsed
    players: list[PlayerState]
    tries: Tries
    names: dict[int, str]
    next_question: RoundQuestion | None


@dataclass(slots=True)
class _Batch:
    """What one transaction's answers have looked up, and what they still have to write."""

    users: dict[tuple[str, str], UserRow] = field(default_factory=dict)
    by_id: dict[int, tuple[RoundQuestion, Round, Chat]] = field(default_factory=dict)
    chats: dict[tuple[str, str], tuple[Chat, Round | None]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    recorded: set[str] = field(default_factory=set)  # the dedup keys this batch records
    # Round id -> user id -> the player's standing, changed in place as answers come (the
    # engine reads the same objects); `player_ids` holds the rows that exist already.
    players: dict[int, dict[int, PlayerState]] = field(default_factory=dict)
    player_ids: dict[tuple[int, int], int] = field(default_factory=dict)
    changed: set[tuple[int, int]] = field(default_factory=set)
    names: dict[int, str] = field(default_factory=dict)  # of players, by user id
    tries: dict[int, Tries] = field(default_factory=dict)
    current: dict[tuple[int, int], RoundQuestion] = field(
        default_factory=dict
    )  # by round, position
    questions: dict[int, Question] = field(default_factory=dict)
    answers: list[dict] = field(default_factory=list)
    scores: list[tuple] = field(default_factory=list)

    def add_questions(
        self, found: dict[int, tuple[RoundQuestion, Round, Chat, RoundQuestion | None]]
    ) -> None:
        """Questions looked up by id, with their rounds, chats, and the question each round
        moves on to if the batch closes its current one."""
        for rq_id, (rq, round_, chat, following) in found.items():
            self.by_id[rq_id] = (rq, round_, chat)
            if following is not None:
                self.current[(round_.id, following.position)] = following

    def question(self, rq: RoundQuestion) -> Question:
        if rq.id not in self.questions:
            self.questions[rq.id] = Question.from_json(rq.question)
        return self.questions[rq.id]

    async def players_in(self, uow: UnitOfWork, round_id: int) -> dict[int, PlayerState]:
        if round_id not in self.players:
            await self.load_players(uow, [round_id])
        return self.players[round_id]

    async def load_players(self, uow: UnitOfWork, round_ids: list[int]) -> None:
        self.add_players(round_ids, await uow.rounds.players_of(round_ids))

    def add_players(self, round_ids: list[int], rows: list) -> None:
        """The players of these rounds, all of them, as RoundRepository.players_of gives them."""
        for round_id in round_ids:
            self.players[round_id] = {}
        # Rows of id, round id, user id, the PLAYER_FIELDS, display name: a PlayerState takes
        # the user id and the PLAYER_FIELDS in that order (by position: a batch may load
        # thousands of players, and reading the fields by name cost more than the query).
        for row in rows:
            row_id, round_id, user_id, name = row[0], row[1], row[2], row[-1]
            self.players[round_id][user_id] = PlayerState(*row[2:-1])
            self.player_ids[(round_id, user_id)] = row_id
            self.names[user_id] = name

    def player_rows(self) -> tuple[list[dict], list[dict]]:
        """The changed players as rows to insert and rows to update."""
        new, changed = [], []
        for round_id, user_id in self.changed:
            player = self.players[round_id][user_id]
            row = {f: getattr(player, f) for f in PLAYER_FIELDS}
            row_id = self.player_ids.get((round_id, user_id))
            if row_id is None:
                new.append({**row, "round_id": round_id, "user_id": user_id})
            else:
                changed.append({**row, "player_id": row_id})
        return new, changed

    async def question_at(self, uow: UnitOfWork, round_: Round) -> RoundQuestion | None:
        """The round's current question (it moves on as the batch closes questions)."""
        key = (round_.id, round_.position)
        if key not in self.current:
            rq = await uow.rounds.question_at(*key)
            if rq is None:
                return None
            self.current[key] = rq
        return self.current[key]

    async def tries_at(self, uow: UnitOfWork, round_question_id: int) -> Tries:
        """Tries at a question the batch's look-up did not cover (named by a platform handle)."""
        if round_question_id not in self.tries:
            self.tries.update(await Tries.load(uow, [round_question_id]))
        return self.tries[round_question_id]


class QuizService:
    def __init__(
        self, uow: UnitOfWorkFactory, glossary: Glossary, *, rng: random.Random | None = None
    ) -> None:
        self.uow = uow
        self.glossary = glossary
        self.grader = Grader(glossary)
        self.rng = rng or random.Random()
        self.generator = QuestionGenerator(glossary, seed=self.rng.randrange(2**32))
        self._answers = GroupCommit(self._answer_batch, self._answer_alone)
        # What reached the chats (questions posted, results and ends sent): marks that come
        # together share a transaction.
        self._marks = GroupCommit(self._mark_delivered, self._mark_delivered_alone)
        # Dedup keys of answers whose COMMIT failed on the way back: stored or not, their
        # users have not been told (see _answer_batch). Oldest first; an answer redelivered
        # after UNHEARD_KEPT later failures gets silence, as any redelivery does.
        self._unheard: dict[str, None] = {}

    # ------------------------------------------------------------------ start

    async def start_round(
        self, chat_ref: ChatRef, sender: Sender, now: datetime, request: RoundRequest | None = None
    ) -> list[Reply]:
        request = request or RoundRequest()
        async with self.uow() as uow:
            chat = await uow.chats.get_or_create(chat_ref, now)
            user = await uow.users.get_or_create(chat_ref.platform, sender, now)
            lang = chat_lang(chat, user)
            running = await uow.rounds.running(chat.id)
            if running is not None:
                await uow.commit()
                return [self._busy(chat_ref, lang, running)]

            settings = ChatSettings.from_json(chat.settings)
            solo = chat.kind == "private"
            count = request.questions or settings.questions
            types = settings.question_types
            if request.types:
                types = ChatSettings(types=request.types).question_types
            recent = await uow.rounds.recent_entry_ids(chat.id)
            questions = self.generator.generate(
                count,
                lang=request.lang or settings.lang,
                types=types,
                topics=settings.topics or None,
                # Reported by several learners and not reviewed yet: not asked meanwhile.
                exclude=await held_back(uow),
                avoid=recent,
            )
            if not questions:
                await uow.commit()
                return [Notice(chat_ref, t(lang, "round.no_questions"), kind="error")]

            untimed = request.untimed if request.untimed is not None else solo
            seconds = None if untimed else (request.seconds or settings.seconds)
            round_ = Round(
                chat_id=chat.id,
                started_by=user.id,
                status="running",
                mode=settings.mode,
                solo=solo,
                seconds=seconds,
                total=len(questions),
                position=0,
                idle_questions=0,
                started_at=now,
            )
            rows = [
                RoundQuestion(
                    position=i,
                    entry_id=q.entry_id,
                    question=q.to_json(),
                    status="pending",
                    hints=0,
                )
                for i, q in enumerate(questions, start=1)
            ]
            try:
                await uow.rounds.add(round_, rows)
            except IntegrityError:
                # Another process started a round in this chat a moment ago.
                return [Notice(chat_ref, t(lang, "round.busy_race"), kind="refused")]
            ask = await self._open_next(uow, round_, chat_ref, lang, now)
            await uow.commit()
        intro_key = "round.start.solo" if solo else "round.start.group"
        if len(questions) == 1:
            intro_key += ".one"
        intro = t(
            lang,
            intro_key,
            total=len(questions),
            seconds=seconds or 0,
            mode=t(lang, f"mode.{settings.mode}"),
        )
        return [Notice(chat_ref, intro, kind="ok"), ask]

    def _busy(self, chat_ref: ChatRef, lang: str, running: Round) -> Notice:
        return Notice(
            chat_ref,
            t(lang, "round.busy", position=running.position, total=running.total),
            kind="refused",
        )

    async def _open_next(
        self,
        uow: UnitOfWork,
        round_: Round,
        chat_ref: ChatRef,
        lang: str,
        now: datetime,
        following: RoundQuestion | None = None,
    ) -> AskQuestion:
        """Open the round's next question (`following`, when the caller has it already)."""
        round_.position += 1
        rq = following
        if rq is None or rq.round_id != round_.id or rq.position != round_.position:
            rq = await uow.rounds.question_at(round_.id, round_.position)
        assert rq is not None, "a round always has its questions"
        rq.status = "open"
        rq.opened_at = now
        rq.deadline = now + timedelta(seconds=round_.seconds) if round_.seconds else None
        return self._ask(round_, rq, chat_ref, lang)

    def _ask(self, round_: Round, rq: RoundQuestion, chat_ref: ChatRef, lang: str) -> AskQuestion:
        question = Question.from_json(rq.question)
        typed_hint = ""
        if not question.is_multiple_choice:
            key = "question.typed_private" if chat_ref.is_private else "question.typed_group"
            typed_hint = t(lang, key)
        return AskQuestion(
            chat_ref,
            render.question_text(lang, question, rq.position, round_.total, typed_hint),
            round_question_id=rq.id,
            question_ref=f"rq:{rq.id}",
            question=question,
            position=rq.position,
            total=round_.total,
            seconds=round_.seconds,
            lang=lang,
            typed_hint=typed_hint,
            header=t(lang, "question.header", position=rq.position, total=round_.total),
        )

    # ------------------------------------------------------------------ answers

    async def answer(self, event: TextAnswer | OptionAnswer) -> list[Reply]:
        """Record an answer and say what it earned. Answers arriving together share one
        transaction (see bot.core.group_commit); each is judged in the order it came."""
        return await self._answers.submit(event)

    @staticmethod
    def no_round(replies: list[Reply]) -> bool:
        """Whether `answer` said that the chat has no question open (the answer named none)."""
        return isinstance(replies, _NoRound)

    async def _answer_alone(self, event: TextAnswer | OptionAnswer) -> list[Reply]:
        return (await self._answer_batch([event]))[0]

    async def _answer_batch(self, events: list[TextAnswer | OptionAnswer]) -> list[list[Reply]]:
        async with self.uow(brief=True) as uow:
            batch = await self._look_up(uow, events)
            # The batch holds what its answers change and writes it all at the end.
            with uow.session.no_autoflush:
                results = [await self._answer_in(uow, batch, event) for event in events]
                await self._write(uow, batch)
            try:
                await uow.commit()
            except Exception:
                # It may have taken effect all the same (the reply lost on the way back):
                # the retries tell these answers what they earned, once, instead of taking
                # them for redeliveries.
                self._unheard.update(dict.fromkeys(batch.recorded))
                while len(self._unheard) > UNHEARD_KEPT:
                    del self._unheard[next(iter(self._unheard))]  # the oldest
                raise
        for key in batch.recorded:  # told now
            self._unheard.pop(key, None)
        return results

    async def _look_up(self, uow: UnitOfWork, events: list[TextAnswer | OptionAnswer]) -> _Batch:
        """Everything the batch's answers need that can be fetched in bulk. The rounds they
        answer in are locked before their dedup keys are looked up, so a redelivered update
        handled by another process meanwhile is seen."""
        batch = _Batch()
        ids = sorted({_round_question_id(e.question_ref) for e in events} - {None})
        batch.add_questions(await uow.rounds.questions_in_rounds(ids))
        await self._chat_rounds(uow, batch, [e for e in events if not e.question_ref])
        open_now = [rq for rq, _, _ in batch.by_id.values() if rq.status == "open"]
        in_chats = [r.id for _, r in batch.chats.values() if r is not None]
        for rq in await uow.rounds.current_questions(in_chats):  # and the question after
            batch.current[(rq.round_id, rq.position)] = rq
            if rq.status == "open":
                open_now.append(rq)

        running = {r.id for _, r, _ in batch.by_id.values() if r.status == "running"}
        running |= set(in_chats)
        keys = [dedup_key(e) for e in events]
        senders: dict[str, list[Sender]] = {}
        for event in events:
            senders.setdefault(event.chat.platform, []).append(event.sender)
        pairs = [(e.chat.platform, e.sender.platform_user_id) for e in events]
        found = await uow.batches.look_up(
            sorted(running), keys, sorted({rq.id for rq in open_now}), pairs
        )
        batch.add_players(sorted(running), found.players)
        batch.seen = found.seen
        batch.tries.update(Tries.of(found.tries))
        for platform, people in senders.items():
            known = {uid: row for (p, uid), row in found.users.items() if p == platform}
            users = await uow.users.kept_up(platform, people, known, events[0].at)
            batch.users.update({(platform, uid): user for uid, user in users.items()})
        return batch

    async def _chat_rounds(
        self, uow: UnitOfWork, batch: _Batch, events: list[TextAnswer | OptionAnswer]
    ) -> None:
        """The chats of answers that name no question, with their running rounds (locked)."""
        refs: dict[str, dict[str, ChatRef]] = {}
        for event in events:
            refs.setdefault(event.chat.platform, {})[event.chat.platform_chat_id] = event.chat
        chats: list[Chat] = []
        for platform, by_id in refs.items():
            found = await uow.chats.get_or_create_many(platform, list(by_id.values()), events[0].at)
            chats += found.values()
        running = await uow.rounds.running_in([chat.id for chat in chats])
        for chat in chats:
            batch.chats[(chat.platform, chat.platform_chat_id)] = (chat, running.get(chat.id))

    async def _answer_in(
        self, uow: UnitOfWork, batch: _Batch, event: TextAnswer | OptionAnswer
    ) -> list[Reply]:
        now = event.at
        key = dedup_key(event)
        user = batch.users[(event.chat.platform, event.sender.platform_user_id)]
        if key in batch.seen:
            if key in self._unheard:
                del self._unheard[key]
                return await self._retold(uow, batch, event, user)
            return dropped_as_duplicate(event, key)  # counted once already
        found = await self._find_question(uow, batch, event, user)
        if isinstance(found, list):
            return found
        chat, chat_ref, round_, rq = found
        lang = chat_lang(chat, user)
        mine = personal_lang(chat, user)
        question = batch.question(rq)

        grade, option = grade_event(self.grader, event, question)
        if grade.how == "invalid":
            return [self._invalid_answer(chat_ref, mine, question, grade, event)]

        players = await batch.players_in(uow, round_.id)
        tries = await batch.tries_at(uow, rq.id)
        state = self._round_state(round_, rq, question, players, tries.by_user)
        decision = engine.judge(state, user.id, grade.correct, now)
        if decision.verdict != Verdict.SCORED:
            return self._not_scored(chat_ref, mine, decision.verdict, event)

        batch.seen.add(key)
        batch.recorded.add(key)
        first_try = user.id not in tries.by_user  # only then is it one more question answered
        tries.add(user.id, grade.correct)
        batch.answers.append(
            {
                "dedup_key": key,
                "user_id": user.id,
                "chat_id": chat.id,
                "round_question_id": rq.id,
                "entry_id": rq.entry_id,
                "question_type": question.type.value,
                "given": given_text(event, question)[:500],
                "option_index": option,
                "correct": grade.correct,
                "judged": grade.how,
                "points": decision.points,
                "response_ms": (
                    int((now - rq.opened_at).total_seconds() * 1000) if rq.opened_at else None
                ),
                "hints_used": rq.hints,
                "created_at": now,
            }
        )
        self._update_player(players, rq, user.id, grade.correct, decision, now)
        batch.changed.add((round_.id, user.id))
        batch.names[user.id] = user.display_name
        batch.scores.append((user.id, chat.id, decision.points, grade.correct, now, first_try))
        replies: list[Reply] = [
            self._feedback(
                chat_ref,
                mine,
                question,
                grade,
                option,
                decision.points,
                event,
                can_retry=not decision.closes_question,
            )
        ]
        if decision.closes_question:
            # The round is locked and `rq` was read under the lock: this transaction alone
            # closes it, and the UPDATE goes out with the batch's other writes. The batch
            # knows every try and player, and has the next question at hand.
            rq.status, rq.closed_at = "closed", now
            known = _Known(
                question,
                list(players.values()),
                tries,
                batch.names,
                batch.current.get((round_.id, round_.position + 1)),
            )
            replies += await self._close_and_advance(
                uow, chat, chat_ref, round_, rq, lang, now, known
            )
            batch.changed.update((round_.id, user_id) for user_id in players)  # all settled
            for reply in replies:
                if isinstance(reply, AskQuestion):  # just opened: nobody has answered it yet
                    batch.tries[reply.round_question_id] = Tries()
        return replies

    @staticmethod
    async def _write(uow: UnitOfWork, batch: _Batch) -> None:
        dirty = uow.session.dirty
        moved = [o for o in dirty if isinstance(o, RoundQuestion)]
        rounds = [o for o in dirty if isinstance(o, Round)]
        new_players, changed_players = batch.player_rows()
        await uow.batches.write(
            [
                uow.rounds.question_states(moved),
                uow.answers.new_answers(batch.answers),
                uow.rounds.new_players(new_players),
                uow.rounds.changed_players(changed_players),
                uow.scores.totals(batch.scores),
                uow.rounds.round_states(rounds),
            ]
        )
        await uow.flush()  # anything else (a user's new name, say)

    async def _find_question(
        self, uow: UnitOfWork, batch: _Batch, event: TextAnswer | OptionAnswer, user: UserRow
    ) -> tuple[Chat, ChatRef, Round, RoundQuestion] | list[Reply]:
        """The question an answer is for, or the replies that say why there is none."""
        ref = event.question_ref
        if ref:
            found = await self._question_for_ref(uow, batch, ref)
            if found is None:
                return [unknown_question(event)]  # forged or stale: change nothing
            rq, round_, chat = found
            if from_another_chat(chat.platform, chat.platform_chat_id, event):
                return [unknown_question(event)]
            chat_ref = self._chat_ref(chat, event.chat)
            if round_.status != "running" or rq.position != round_.position or rq.status != "open":
                return self._not_scored(chat_ref, personal_lang(chat, user), Verdict.LATE, event)
            return chat, chat_ref, round_, rq

        chat, round_ = batch.chats[(event.chat.platform, event.chat.platform_chat_id)]
        lang = chat_lang(chat, user)
        rq = None
        if round_ is not None and round_.status == "running":
            rq = await batch.question_at(uow, round_)
        if round_ is None or rq is None or rq.status != "open":
            return _NoRound(
                [
                    Notice(
                        event.chat,
                        t(lang, "answer.no_round"),
                        kind="info",
                        private_to=event.sender.platform_user_id,
                    )
                ]
            )
        return chat, event.chat, round_, rq

    async def _question_for_ref(
        self, uow: UnitOfWork, batch: _Batch, ref: str
    ) -> tuple[RoundQuestion, Round, Chat] | None:
        """The question a reference names, with its round (locked) and chat."""
        rq_id = _round_question_id(ref)
        if rq_id is not None:
            return batch.by_id.get(rq_id)  # looked up for the whole batch
        rq = await uow.rounds.question_by_ref(ref)
        if rq is None:
            return None
        batch.add_questions(await uow.rounds.questions_in_rounds([rq.id]))
        return batch.by_id.get(rq.id)

    @staticmethod
    def _chat_ref(chat: Chat, hint: ChatRef) -> ChatRef:
        return ChatRef(chat.platform, chat.platform_chat_id, chat.kind, chat.title or hint.title)

    def _invalid_answer(
        self, chat_ref: ChatRef, lang: str, question: Question, grade: Grade, event: Event
    ) -> Notice:
        if grade.reason == "pick_option" or question.is_multiple_choice:
            text = t(
                lang, "answer.pick_option", last=render.OPTION_LABELS[len(question.options) - 1]
            )
        else:
            text = t(lang, f"answer.invalid.{grade.reason or 'empty'}")
        return Notice(chat_ref, text, kind="usage", private_to=event.sender.platform_user_id)

    def _not_scored(
        self, chat_ref: ChatRef, lang: str, verdict: Verdict, event: Event
    ) -> list[Reply]:
        if verdict == Verdict.LATE:
            return [
                AnswerFeedback(
                    chat_ref,
                    t(lang, "answer.late"),
                    private_to=event.sender.platform_user_id,
                    late=True,
                )
            ]
        key = {
            Verdict.ALREADY_ANSWERED: "answer.already_answered",
            Verdict.ALREADY_RIGHT: "answer.already_right",
        }.get(verdict, "answer.no_round")
        return [
            Notice(chat_ref, t(lang, key), kind="refused", private_to=event.sender.platform_user_id)
        ]

    def _feedback(
        self,
        chat_ref: ChatRef,
        lang: str,
        question: Question,
        grade: Grade,
        option: int | None,
        points: int,
        event: Event,
        *,
        can_retry: bool = False,
    ) -> AnswerFeedback:
        lines = []
        if grade.correct:
            lines.append(t(lang, "answer.right", points=points))
            if grade.how in ("typo", "in_sentence", "alias", "normalised") and grade.matched:
                lines.append(t(lang, f"answer.judged.{grade.how}", matched=grade.matched))
        else:
            lines.append(t(lang, "answer.wrong"))
            if can_retry and not question.is_multiple_choice and chat_ref.is_private:
                lines.append(t(lang, "answer.try_again"))
        verdict = "\n".join(lines)
        if option is not None and 0 <= option < len(render.OPTION_LABELS):
            lines.insert(0, t(lang, "answer.you_chose", label=render.OPTION_LABELS[option]))
        return AnswerFeedback(
            chat_ref,
            "\n".join(lines),
            private_to=event.sender.platform_user_id,
            correct=grade.correct,
            points=points,
            verdict=verdict,
        )

    def _round_state(
        self,
        round_: Round,
        rq: RoundQuestion,
        question: Question,
        players: dict[int, PlayerState],
        tries: dict[int, list[bool]],
    ) -> RoundState:
        """The engine's view of the round."""
        return RoundState(
            id=round_.id,
            mode=Mode(round_.mode),
            solo=round_.solo,
            seconds=round_.seconds,
            total=round_.total,
            position=round_.position,
            idle_questions=round_.idle_questions,
            current=self._slot(rq, question),
            players=players,
            tries=tries,
        )

    @staticmethod
    def _update_player(
        players: dict[int, PlayerState],
        rq: RoundQuestion,
        user_id: int,
        correct: bool,
        decision: engine.Decision,
        now: datetime,
    ) -> None:
        player = players.get(user_id)
        if player is None:
            player = players[user_id] = PlayerState(user_id, first_answer_at=now)
        player.points += decision.points
        if correct:
            player.correct += 1
            player.streak = decision.streak
            player.last_correct_position = rq.position
        elif rq.question.get("options"):
            player.streak = 0
        # A wrong typed try keeps the streak until the question closes; `answered` counts
        # questions, not tries, so both are settled in _close_and_advance.

    # ------------------------------------------------------------------ closing

    async def tick(
        self, round_id: int, now: datetime, *, unseen: Container[int] = ()
    ) -> list[Reply]:
        """Close the open question of a round if its time is up, and move the round on.
        `unseen`: ids of questions whose post certainly failed (see Hub.not_posted)."""
        async with self.uow() as uow:
            round_ = await uow.rounds.get(round_id)
            if round_ is None or round_.status != "running":
                return []
            rq = await uow.rounds.question_at(round_.id, round_.position)
            if rq is None:
                return []
            chat = await uow.chats.get(round_.chat_id)
            assert chat is not None
            chat_ref = self._chat_ref(chat, ChatRef(chat.platform, chat.platform_chat_id))
            lang = chat_lang(chat)
            replies: list[Reply] = []
            if not engine.due_to_close(self._slot(rq), now):
                pass
            elif rq.id in unseen and not (await Tries.load(uow, [rq.id]))[rq.id].by_user:
                # Nobody was shown it (its post never reached the chat): no result for it.
                replies = await self._unseen(uow, chat_ref, round_, rq, lang, now)
            elif await uow.rounds.claim_close(rq, now):
                replies = await self._close_and_advance(uow, chat, chat_ref, round_, rq, lang, now)
            await uow.commit()
        return replies

    @staticmethod
    async def _unseen_since(uow: UnitOfWork, rq: RoundQuestion, since: datetime) -> bool:
        """Whether an open question, opened before `since`, never reached its chat: no post
        was noted and nobody answered it."""
        if rq.status != "open" or rq.posted_at is not None:
            return False
        if rq.opened_at is None or rq.opened_at >= since:
            return False
        return not (await Tries.load(uow, [rq.id]))[rq.id].by_user

    async def _unseen(
        self,
        uow: UnitOfWork,
        chat_ref: ChatRef,
        round_: Round,
        rq: RoundQuestion,
        lang: str,
        now: datetime,
    ) -> list[Reply]:
        """A question whose time ran out before its post reached the chat: asked again with a
        fresh clock, or the round ends as an idle one (a chat the bot cannot reach)."""
        step, round_.idle_questions = engine.after_unseen(self._state(round_))
        log.warning(
            "round %s: question %s/%s never reached the chat; %s",
            round_.id,
            rq.position,
            round_.total,
            "asking it again" if step == Next.ASK_AGAIN else "ending the round",
        )
        if step == Next.ASK_AGAIN:
            return [self._reopen(round_, rq, chat_ref, lang, now)]
        if await uow.rounds.claim_close(rq, now):
            players = await uow.rounds.players(round_.id)
            names = await uow.users.names([p.user_id for p in players])
            table = self._table(players, names)
            return [self._end(round_, chat_ref, lang, table, step.value, now)]
        return []

    def _reopen(
        self, round_: Round, rq: RoundQuestion, chat_ref: ChatRef, lang: str, now: datetime
    ) -> AskQuestion:
        """Ask an open question again, its clock starting now: nobody has been shown it."""
        rq.opened_at = now
        rq.deadline = now + timedelta(seconds=round_.seconds) if round_.seconds else None
        return self._ask(round_, rq, chat_ref, lang)

    @staticmethod
    def _state(round_: Round) -> RoundState:
        """The engine's view of a round between questions."""
        return RoundState(
            round_.id,
            Mode(round_.mode),
            round_.solo,
            round_.seconds,
            round_.total,
            round_.position,
            round_.idle_questions,
            None,
        )

    async def _close_and_advance(
        self,
        uow: UnitOfWork,
        chat: Chat,
        chat_ref: ChatRef,
        round_: Round,
        rq: RoundQuestion,
        lang: str,
        now: datetime,
        known: _Known | None = None,
    ) -> list[Reply]:
        """Post the result of a question just claimed closed, then ask the next or end.
        `known`: what the caller already holds about the round."""
        following = None
        if known is None:
            question = Question.from_json(rq.question)
            players = await uow.rounds.players(round_.id)
            tries = (await Tries.load(uow, [rq.id]))[rq.id]
            names = await uow.users.names([p.user_id for p in players])
        else:
            question, players, tries, names, following = (
                known.question,
                known.players,
                known.tries,
                known.names,
                known.next_question,
            )
        self._settle(players, tries.by_user, rq)
        table = self._table(players, names)
        rq.result_due = True  # until the platform takes it (see mark_result_posted)
        replies: list[Reply] = [
            self._result(chat_ref, lang, round_, rq, question, tries, names, table)
        ]
        step, idle = engine.after_close(self._state(round_), answered_by_anyone=bool(tries.by_user))
        round_.idle_questions = idle
        if step == Next.ASK:
            replies.append(await self._open_next(uow, round_, chat_ref, lang, now, following))
        else:
            replies.append(self._end(round_, chat_ref, lang, table, step.value, now))
        return replies

    @staticmethod
    def _result(
        chat_ref: ChatRef,
        lang: str,
        round_: Round,
        rq: RoundQuestion,
        question: Question,
        tries: Tries,
        names: dict[int, str],
        table: list[Standing],
    ) -> QuestionResult:
        winners = [names.get(u, "?") for u in tries.right]
        return QuestionResult(
            chat_ref,
            render.result_text(lang, question, winners, table[:3], round_.solo),
            round_question_id=rq.id,
            question=question,
            lang=lang,
            winners=tuple(winners),
            top=tuple(table[:3]),
            report_ref=f"rq:{rq.id}",
        )

    @staticmethod
    def _settle(
        players: Players,
        tries: dict[int, list[bool]],
        rq: RoundQuestion,
    ) -> None:
        """Count a just-closed question in every player's row: one more question answered for
        those who tried, and a broken streak for those who tried and missed or did not try."""
        for player in players:
            if player.user_id in tries:
                player.answered += 1
                if not any(tries[player.user_id]):
                    player.streak = 0
            elif player.last_correct_position < rq.position:
                player.streak = 0

    def _end(
        self,
        round_: Round,
        chat_ref: ChatRef,
        lang: str,
        table: list[Standing],
        reason: str,
        now: datetime,
    ) -> RoundOver:
        round_.status = "finished" if reason != "stopped" else "stopped"
        round_.end_reason = reason
        round_.ended_at = now
        round_.end_due = True  # until the platform takes it (see mark_end_posted)
        return self._round_over(round_, chat_ref, lang, table, reason)

    @staticmethod
    def _round_over(
        round_: Round, chat_ref: ChatRef, lang: str, table: list[Standing], reason: str
    ) -> RoundOver:
        return RoundOver(
            chat_ref,
            render.round_over_text(lang, reason, table, round_.solo),
            round_id=round_.id,
            reason=reason,
            table=tuple(table),
        )

    @staticmethod
    def _table(players: Players, names: dict[int, str]) -> list[Standing]:
        # Rows and standings alike: the ranking reads the fields they share.
        states = sorted(players, key=engine.ranking_key)
        return [
            Standing(
                rank=i,
                name=names.get(s.user_id, "?"),
                points=s.points,
                correct=s.correct,
                answered=s.answered,
            )
            for i, s in enumerate(states, start=1)
        ]

    # ------------------------------------------------------------------ lost replies
    # A COMMIT can take effect while the bot hears it fail (the connection dies on the way
    # back). The retry then finds the work done, and the replies of that work would be lost:
    # a question closed and the next opened that nobody is shown stalls a round. They are
    # rebuilt from the database, for work this process's failed try is known to have done.

    async def replay_close(self, round_id: int, tried_at: tuple[datetime, ...]) -> list[Reply]:
        """The replies of a tick that failed at one of `tried_at` but closed a question all
        the same (its close time is the tick's), as the tick would have given them."""
        async with self.uow(read_only=True) as uow:
            rq = await uow.rounds.closed_at(round_id, tried_at)
            if rq is None:
                return []
            round_ = await uow.rounds.get(round_id, lock=False)
            chat = await uow.chats.get(round_.chat_id) if round_ else None
            if round_ is None or chat is None:
                return []
            return await self._replay(uow, chat, round_, rq, chat_lang(chat))

    async def _retold(
        self, uow: UnitOfWork, batch: _Batch, event: TextAnswer | OptionAnswer, user: UserRow
    ) -> list[Reply]:
        """An answer of a failed batch that the batch stored after all: what it earned, and
        the close it brought (it was the question's last answer, at its close time)."""
        stored = await uow.answers.stored(dedup_key(event))
        if stored is None or stored.round_question_id is None:
            return []
        rq = await uow.rounds.question(stored.round_question_id)
        chat = await uow.chats.get(stored.chat_id)
        round_ = await uow.rounds.get(rq.round_id, lock=False) if rq else None
        if rq is None or chat is None or round_ is None:
            return []
        chat_ref = self._chat_ref(chat, event.chat)
        question = batch.question(rq)
        grade, option = grade_event(self.grader, event, question)
        mine = personal_lang(chat, user)
        replies: list[Reply] = [
            self._feedback(
                chat_ref,
                mine,
                question,
                grade,
                option,
                stored.points,
                event,
                can_retry=rq.status == "open",
            )
        ]
        closed_by_it = rq.status == "closed" and rq.closed_at == stored.created_at
        if closed_by_it and await uow.answers.last_id(rq.id) == stored.id:
            replies += await self._replay(uow, chat, round_, rq, chat_lang(chat, user))
        return replies

    async def _replay(
        self, uow: UnitOfWork, chat: Chat, round_: Round, rq: RoundQuestion, lang: str
    ) -> list[Reply]:
        """The result of `rq`, just closed, and the question the round moved on to or its
        end, as `_close_and_advance` gave them."""
        chat_ref = self._chat_ref(chat, ChatRef(chat.platform, chat.platform_chat_id))
        players = await uow.rounds.players(round_.id)  # settled by the close
        tries = (await Tries.load(uow, [rq.id]))[rq.id]
        names = await uow.users.names([p.user_id for p in players])
        table = self._table(players, names)
        question = Question.from_json(rq.question)
        replies: list[Reply] = [
            self._result(chat_ref, lang, round_, rq, question, tries, names, table)
        ]
        if round_.status == "running" and round_.position == rq.position + 1:
            following = await uow.rounds.question_at(round_.id, round_.position)
            if following is not None and following.status == "open":
                replies.append(self._ask(round_, following, chat_ref, lang))
        elif round_.status != "running" and round_.position == rq.position:
            replies.append(
                self._round_over(round_, chat_ref, lang, table, round_.end_reason or "done")
            )
        return replies

    # ------------------------------------------------------------------ hints, stop

    async def hint(self, chat_ref: ChatRef, sender: Sender, now: datetime) -> list[Reply]:
        async with self.uow() as uow:
            chat = await uow.chats.get_or_create(chat_ref, now)
            user = await uow.users.get_or_create(chat_ref.platform, sender, now)
            lang = chat_lang(chat, user)
            round_ = await uow.rounds.running(chat.id)
            rq = await uow.rounds.question_at(round_.id, round_.position) if round_ else None
            if round_ is None or rq is None or not engine.is_open(self._slot(rq), now):
                await uow.commit()
                return [Notice(chat_ref, t(lang, "hint.no_question"), kind="info")]
            if rq.hints >= engine.MAX_HINTS:
                await uow.commit()
                return [
                    Notice(chat_ref, t(lang, "hint.used_up", max=engine.MAX_HINTS), kind="refused")
                ]
            rq.hints += 1
            question = Question.from_json(rq.question)
            await uow.commit()
        shown = render.hint_line(lang, question, rq.hints, rq.id)
        penalty = round(engine.HINT_PENALTY * 100 * rq.hints)
        return [
            Notice(
                chat_ref,
                t(
                    lang,
                    "hint.text",
                    hint=shown,
                    number=rq.hints,
                    max=engine.MAX_HINTS,
                    penalty=penalty,
                ),
                kind="info",
            )
        ]

    @staticmethod
    def _slot(rq: RoundQuestion, question: Question | None = None) -> QuestionSlot:
        return QuestionSlot(
            rq.id,
            rq.position,
            question or Question.from_json(rq.question),
            rq.status,
            rq.opened_at,
            rq.deadline,
            rq.hints,
        )

    async def stop_round(
        self, chat_ref: ChatRef, sender: Sender, now: datetime, *, is_admin: bool
    ) -> list[Reply]:
        async with self.uow() as uow:
            chat = await uow.chats.get_or_create(chat_ref, now)
            user = await uow.users.get_or_create(chat_ref.platform, sender, now)
            lang = chat_lang(chat, user)
            round_ = await uow.rounds.running(chat.id)
            if round_ is None:
                await uow.commit()
                return [Notice(chat_ref, t(lang, "round.none"), kind="info")]
            if not (is_admin or chat.kind == "private" or round_.started_by == user.id):
                await uow.commit()
                return [
                    Notice(
                        chat_ref,
                        t(lang, "admin.only"),
                        kind="refused",
                        private_to=sender.platform_user_id,
                    )
                ]
            rq = await uow.rounds.question_at(round_.id, round_.position)
            players = await uow.rounds.players(round_.id)
            if rq is not None and await uow.rounds.claim_close(rq, now):
                # Settle the open question so that attempts on it count in the table.
                self._settle(players, (await Tries.load(uow, [rq.id]))[rq.id].by_user, rq)
            names = await uow.users.names([p.user_id for p in players])
            over = self._end(round_, chat_ref, lang, self._table(players, names), "stopped", now)
            await uow.commit()
        return [over]

    # ------------------------------------------------------------------ restarts

    async def resume(
        self,
        now: datetime,
        platforms: tuple[str, ...] | None = None,
        started_at: datetime | None = None,
    ) -> tuple[list[Reply], list[Wakeup]]:
        """After a restart: send what rounds owe their chats (see `owed`), close what ran out
        while we were down, and say when to wake up. `platforms`: those this process serves
        (None: all); `started_at`: when this process started (None: now)."""
        replies = await self.owed(now, platforms, started_at or now)
        async with self.uow() as uow:
            running = await uow.rounds.all_running()
            ids = [
                (r.id, r.seconds)
                for r, chat in running
                if platforms is None or chat.platform in platforms
            ]
        wakeups: list[Wakeup] = []
        for round_id, seconds in ids:
            if seconds is None:
                continue  # untimed rounds wait for their player
            replies += await self.tick(round_id, now)
            wakeup = await self.next_wakeup(round_id)
            if wakeup is not None:
                wakeups.append(wakeup)
        return replies, wakeups

    async def owed(
        self, now: datetime, platforms: tuple[str, ...] | None, decided_before: datetime
    ) -> list[Reply]:
        """What rounds decided before `decided_before` (in a process that has died since) and
        their chats never received: a question's result, a question nobody was shown (asked
        now, its clock starting now) and a round's end. What was decided over OWED_FOR ago is
        let be (a chat that blocked the bot is not tried at every start for ever)."""
        replies: list[Reply] = []
        recent = now - OWED_FOR
        async with self.uow() as uow:
            for round_, chat in await uow.rounds.owing(platforms, recent):
                due = [
                    rq
                    for rq in await uow.rounds.due_results(round_.id)
                    if rq.closed_at is not None and recent <= rq.closed_at < decided_before
                ]
                unseen = None
                if round_.status == "running":
                    rq = await uow.rounds.question_at(round_.id, round_.position)
                    fresh = rq is not None and rq.opened_at is not None and rq.opened_at >= recent
                    if fresh and await self._unseen_since(uow, rq, decided_before):
                        unseen = rq
                ended = round_.ended_at is not None and round_.ended_at < decided_before
                if not (due or unseen or (round_.status != "running" and ended)):
                    continue
                chat_ref = self._chat_ref(chat, ChatRef(chat.platform, chat.platform_chat_id))
                lang = chat_lang(chat)
                players = await uow.rounds.players(round_.id)
                names = await uow.users.names([p.user_id for p in players])
                table = self._table(players, names)
                tries = await Tries.load(uow, [rq.id for rq in due])
                for rq in due:
                    question = Question.from_json(rq.question)
                    replies.append(
                        self._result(
                            chat_ref, lang, round_, rq, question, tries[rq.id], names, table
                        )
                    )
                if unseen is not None:
                    replies.append(self._reopen(round_, unseen, chat_ref, lang, now))
                elif round_.status != "running" and ended:
                    reason = round_.end_reason or "done"
                    replies.append(self._round_over(round_, chat_ref, lang, table, reason))
            await uow.commit()
        if replies:
            log.info("sending %d round message(s) that never reached their chats", len(replies))
        return replies

    async def overdue(self, before: datetime, platforms: tuple[str, ...] | None) -> list[Wakeup]:
        """The rounds whose open question should have closed before `before`, with its
        deadline."""
        async with self.uow(read_only=True) as uow:
            return [Wakeup(r, at) for r, at in await uow.rounds.overdue(before, platforms)]

    async def next_wakeup(self, round_id: int) -> Wakeup | None:
        async with self.uow(read_only=True) as uow:
            round_ = await uow.rounds.get(round_id, lock=False)
            if round_ is None or round_.status != "running":
                return None
            rq = await uow.rounds.question_at(round_.id, round_.position)
            if rq is None or rq.status != "open" or rq.deadline is None:
                return None
            return Wakeup(round_id, rq.deadline)

    async def next_wakeup_for_question(self, round_question_id: int) -> Wakeup | None:
        async with self.uow(read_only=True) as uow:
            rq = await uow.rounds.question(round_question_id)
            if rq is None or rq.status != "open" or rq.deadline is None:
                return None
            return Wakeup(rq.round_id, rq.deadline)

    async def current_question(
        self, chat_ref: ChatRef, sender: Sender, now: datetime
    ) -> AskQuestion | None:
        """The open question of the chat's running round, to ask again (e.g. after a restart)."""
        async with self.uow() as uow:
            chat = await uow.chats.get_or_create(chat_ref, now)
            user = await uow.users.get_or_create(chat_ref.platform, sender, now)
            round_ = await uow.rounds.running(chat.id, lock=False)
            rq = await uow.rounds.question_at(round_.id, round_.position) if round_ else None
            await uow.commit()
            if round_ is None or rq is None or rq.status != "open":
                return None
            return self._ask(round_, rq, chat_ref, chat_lang(chat, user))

    async def platform_ref(self, round_question_id: int) -> str | None:
        """The platform's handle on a posted question (e.g. after a restart, to edit it)."""
        async with self.uow(read_only=True) as uow:
            rq = await uow.rounds.question(round_question_id)
            return rq.platform_ref if rq else None

    async def knows_platform_ref(self, ref: str) -> bool:
        async with self.uow(read_only=True) as uow:
            return await uow.rounds.question_by_ref(ref) is not None

    async def mark_posted(self, round_question_id: int, ref: str | None, at: datetime) -> None:
        """The platform took a question's post (`ref`: its handle on it, if any), at `at`."""
        await self._marks.submit(("question", round_question_id, ref, at))

    async def mark_result_posted(self, round_question_id: int) -> None:
        await self._marks.submit(("result", round_question_id, None, None))

    async def mark_end_posted(self, round_id: int) -> None:
        await self._marks.submit(("end", round_id, None, None))

    async def _mark_delivered(self, marks: list[_Mark]) -> list[None]:
        async with self.uow(brief=True) as uow:
            await uow.rounds.set_posted(
                [(i, ref, at) for kind, i, ref, at in marks if kind == "question"]
            )
            await uow.rounds.set_results_posted([i for kind, i, _, _ in marks if kind == "result"])
            await uow.rounds.set_ends_posted([i for kind, i, _, _ in marks if kind == "end"])
            await uow.commit()
        return [None] * len(marks)

    async def _mark_delivered_alone(self, mark: _Mark) -> None:
        await self._mark_delivered([mark])
