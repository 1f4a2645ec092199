"""Repositories: the only code that writes SQL. Each works inside the session of a unit of work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import (
    Boolean,
    Integer,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal_column,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import Executable

from bot.core.events import ChatRef, Sender
from bot.storage.bulk import as_arrays, combined, rows_of
from bot.storage.models import (
    GLOBAL_SCOPE,
    Answer,
    Chat,
    Round,
    RoundPlayer,
    RoundQuestion,
    Score,
    User,
)
from bot.storage.sanitize import clean_text, is_clean_ref

EPOCH = date(1970, 1, 1)


PERIODS = ("week", "month", "all")


def period_start(period: str, now: datetime) -> date:
    """Calendar periods in UTC: weeks start on Monday, months on the 1st."""
    today = now.date()
    if period == "week":
        return today - timedelta(days=today.weekday())
    if period == "month":
        return today.replace(day=1)
    return EPOCH


def previous_period_start(period: str, now: datetime) -> date:
    start = period_start(period, now)
    if period == "week":
        return start - timedelta(days=7)
    if period == "month":
        return (start - timedelta(days=1)).replace(day=1)
    return EPOCH


_PREPARED: dict[tuple[str, str], object] = {}

# The statements of the answer path, built once (building costs more CPU than running them).
_PLAYERS = select(RoundPlayer).where(RoundPlayer.round_id == bindparam("round_id"))
_QUESTION_AT = select(RoundQuestion).where(
    RoundQuestion.round_id == bindparam("round_id"), RoundQuestion.position == bindparam("pos")
)
_CURRENT_QUESTIONS = (
    select(RoundQuestion)
    .join(Round, Round.id == RoundQuestion.round_id)
    .where(
        Round.id.in_(bindparam("round_ids", expanding=True)),
        RoundQuestion.position.between(Round.position, Round.position + 1),
    )
)
_CLAIM_CLOSE = (
    update(RoundQuestion)
    .where(RoundQuestion.id == bindparam("rq"), RoundQuestion.status == "open")
    .values(status="closed", closed_at=bindparam("now"))
    .execution_options(synchronize_session=False)
)
_RQ = RoundQuestion.__table__
# A posted question: its handle (kept when this post gave none) and when it was first posted.
_SET_POSTED = (
    update(_RQ)
    .where(_RQ.c.id == bindparam("rq"))
    .values(
        platform_ref=func.coalesce(bindparam("ref"), _RQ.c.platform_ref),
        posted_at=func.coalesce(_RQ.c.posted_at, bindparam("at", type_=_RQ.c.posted_at.type)),
    )
)
_RESULTS_POSTED = (
    update(_RQ)
    .where(_RQ.c.id.in_(bindparam("ids", expanding=True)), _RQ.c.result_due)
    .values(result_due=False)
)
_ENDS_POSTED = (
    update(Round.__table__)
    .where(Round.__table__.c.id.in_(bindparam("ids", expanding=True)), Round.__table__.c.end_due)
    .values(end_due=False)
)
# A question's and a round's state, as answers and ticks move them (see `_States`).
QUESTION_STATE = ("status", "opened_at", "closed_at", "deadline", "result_due")
ROUND_STATE = ("status", "end_reason", "position", "idle_questions", "ended_at", "end_due")
# Plain rows are read from the tables, not through the ORM entities: the ORM's compile and
# loading steps cost a third more CPU per statement and give nothing for rows of columns.
_USERS, _ANSWERS, _PLAYERS_T = User.__table__, Answer.__table__, RoundPlayer.__table__
_NAMES = select(_USERS.c.id, _USERS.c.display_name).where(
    _USERS.c.id.in_(bindparam("ids", expanding=True))
)
# For a batch of answers in one transaction (one answer is a batch of one). Rounds are locked
# in id order, so two processes locking overlapping sets of rounds queue instead of deadlocking.
_FIND_USERS = select(User).where(
    User.platform == bindparam("platform"),
    User.platform_user_id.in_(bindparam("uids", expanding=True)),
)
# The answer path's users as plain rows (UserRow): loading ORM entities, and the session
# tracking them to its flush, cost a tenth of a batch of answers.
_FIND_USER_ROWS = select(
    _USERS.c.id,
    _USERS.c.display_name,
    _USERS.c.lang,
    _USERS.c.platform_lang,
    _USERS.c.platform_user_id,
).where(
    _USERS.c.platform == bindparam("platform"),
    _USERS.c.platform_user_id.in_(bindparam("uids", expanding=True)),
)
_RENAME_USER = (
    update(_USERS)
    .where(_USERS.c.id == bindparam("user_id"))
    .values(display_name=bindparam("name"), platform_lang=bindparam("platform_lang"))
)
_FIND_CHATS = select(Chat).where(
    Chat.platform == bindparam("platform"),
    Chat.platform_chat_id.in_(bindparam("cids", expanding=True)),
)
_RUNNING_IN = (
    select(Round)
    .where(Round.chat_id.in_(bindparam("chat_ids", expanding=True)), Round.status == "running")
    .order_by(Round.id)
)
_RUNNING_IN_LOCKED = _RUNNING_IN.with_for_update()
_FOLLOWING = aliased(RoundQuestion, name="following")
_QUESTIONS_IN_ROUNDS = (
    select(RoundQuestion, Round, Chat, _FOLLOWING)
    .join(Round, Round.id == RoundQuestion.round_id)
    .join(Chat, Chat.id == Round.chat_id)
    .outerjoin(
        _FOLLOWING,
        (_FOLLOWING.round_id == Round.id) & (_FOLLOWING.position == Round.position + 1),
    )
    .where(RoundQuestion.id.in_(bindparam("rqs", expanding=True)))
    .order_by(Round.id)
    .with_for_update(of=Round)
)
PLAYER_FIELDS = (
    "points",
    "correct",
    "answered",
    "streak",
    "last_correct_position",
    "first_answer_at",
)
_PLAYERS_OF = (
    select(
        _PLAYERS_T.c.id,
        _PLAYERS_T.c.round_id,
        _PLAYERS_T.c.user_id,
        *(_PLAYERS_T.c[f] for f in PLAYER_FIELDS),
        _USERS.c.display_name,
    )
    .join(_USERS, _USERS.c.id == _PLAYERS_T.c.user_id)
    .where(_PLAYERS_T.c.round_id.in_(bindparam("round_ids", expanding=True)))
)
_UPDATE_PLAYER = (
    update(_PLAYERS_T)
    .where(_PLAYERS_T.c.id == bindparam("player_id"))
    .values({f: bindparam(f) for f in PLAYER_FIELDS})
)
NEW_PLAYER_FIELDS = ("round_id", "user_id", *PLAYER_FIELDS)
_INSERT_PLAYERS = insert(_PLAYERS_T).from_select(
    NEW_PLAYER_FIELDS, select(rows_of(_PLAYERS_T, NEW_PLAYER_FIELDS, prefix="np_"))
)
_PLAYER_ROWS = rows_of(_PLAYERS_T, PLAYER_FIELDS, prefix="p_", player_id=Integer())
_UPDATE_PLAYERS = (
    update(_PLAYERS_T)
    .where(_PLAYERS_T.c.id == _PLAYER_ROWS.c.player_id)
    .values({f: _PLAYER_ROWS.c[f] for f in PLAYER_FIELDS})
)
ANSWER_COLUMNS = (
    "dedup_key",
    "user_id",
    "chat_id",
    "round_question_id",
    "entry_id",
    "question_type",
    "given",
    "option_index",
    "correct",
    "judged",
    "points",
    "response_ms",
    "hints_used",
    "created_at",
)
_INSERT_ANSWERS = insert(_ANSWERS).from_select(
    ANSWER_COLUMNS, select(rows_of(_ANSWERS, ANSWER_COLUMNS, prefix="a_"))
)
# The dedup keys already recorded and the tries at open questions, in one look at answers.
_ANSWERED = (
    select(
        _ANSWERS.c.dedup_key,
        _ANSWERS.c.round_question_id,
        _ANSWERS.c.user_id,
        _ANSWERS.c.correct,
    )
    .where(
        _ANSWERS.c.dedup_key.in_(bindparam("keys", expanding=True))
        | _ANSWERS.c.round_question_id.in_(bindparam("rqs", expanding=True))
    )
    .order_by(_ANSWERS.c.id)
)

# What a batch of answers looks up once its rounds are locked, in one round trip: the players
# of those rounds, `_ANSWERED`, and the users who answered. The rows of the three queries are
# padded to one shape and told apart by `kind` (PLAYER, ANSWER, USER); `n` is the row's id.
PLAYER, ANSWER, USER = 0, 1, 2
_PLAYER_COLUMNS = [_PLAYERS_T.c[f] for f in PLAYER_FIELDS]
_USER_EXTRA = (_USERS.c.lang, _USERS.c.platform_lang, _USERS.c.platform, _USERS.c.platform_user_id)


def _nulls(columns) -> list:
    return [cast(null(), c.type) for c in columns]


_BATCH_LOOK_UP = union_all(
    select(
        literal_column(str(PLAYER), Integer).label("kind"),
        _PLAYERS_T.c.id.label("n"),
        _PLAYERS_T.c.round_id,
        _PLAYERS_T.c.user_id,
        *_PLAYER_COLUMNS,
        _USERS.c.display_name.label("text"),
        cast(null(), Boolean).label("right"),
        *_nulls(_USER_EXTRA),
    )
    .join(_USERS, _USERS.c.id == _PLAYERS_T.c.user_id)
    .where(_PLAYERS_T.c.round_id.in_(bindparam("round_ids", expanding=True))),
    select(
        literal_column(str(ANSWER), Integer),
        _ANSWERS.c.id,
        _ANSWERS.c.round_question_id,
        _ANSWERS.c.user_id,
        *_nulls(_PLAYER_COLUMNS),
        _ANSWERS.c.dedup_key,
        _ANSWERS.c.correct,
        *_nulls(_USER_EXTRA),
    ).where(
        _ANSWERS.c.dedup_key.in_(bindparam("keys", expanding=True))
        | _ANSWERS.c.round_question_id.in_(bindparam("rqs", expanding=True))
    ),
    # Users of these platforms with these ids (the pairs are picked out of them in Python).
    select(
        literal_column(str(USER), Integer),
        _USERS.c.id,
        *_nulls([_PLAYERS_T.c.round_id, _PLAYERS_T.c.user_id, *_PLAYER_COLUMNS]),
        _USERS.c.display_name,
        cast(null(), Boolean),
        *_USER_EXTRA,
    ).where(
        _USERS.c.platform.in_(bindparam("platforms", expanding=True)),
        _USERS.c.platform_user_id.in_(bindparam("uids", expanding=True)),
    ),
)
_BATCH_LOOK_UP = _BATCH_LOOK_UP.order_by(
    _BATCH_LOOK_UP.selected_columns.kind, _BATCH_LOOK_UP.selected_columns.n
)


def _display_name(sender: Sender) -> str:
    return clean_text(" ".join((sender.display_name or "").split()), 128) or clean_text(
        sender.platform_user_id, 128
    )


def _refresh_user(user: User, sender: Sender) -> None:
    """Keep the name and platform language a user last wrote with."""
    name = _display_name(sender)
    if user.display_name != name:
        user.display_name = name
    if sender.lang and user.platform_lang != sender.lang[:16]:
        user.platform_lang = sender.lang[:16]


@dataclass(frozen=True, slots=True)
class BulkWrite:
    """The rows of one bulk statement, to run on its own (`_Repo._write`) or with the batch's
    other writes (`BatchRepository.write`)."""

    name: str  # which statement: part of the key of a combined one
    plain: Executable  # elsewhere: run once per row
    arrays: Executable  # on PostgreSQL: run once, one array per name (bot.storage.bulk)
    names: tuple[str, ...]
    rows: list  # dicts, or tuples in the order of `names`
    prefix: str  # of the array parameters' names

    def plain_params(self) -> list[dict]:
        if isinstance(self.rows[0], dict):
            return self.rows
        return [dict(zip(self.names, row, strict=True)) for row in self.rows]

    def array_params(self) -> dict[str, list]:
        if isinstance(self.rows[0], dict):
            return as_arrays(self.rows, self.names, self.prefix)
        columns = zip(*self.rows, strict=True)
        return {self.prefix + n: list(c) for n, c in zip(self.names, columns, strict=True)}


class _States:
    """Writes the `fields` of many rows of a table at once, by id, from the ORM objects that
    moved: the ORM's flush would send one UPDATE per object (closes and opens alternate)."""

    def __init__(self, name: str, table, fields: tuple[str, ...], prefix: str) -> None:
        self.name, self.fields, self.prefix = name, fields, prefix
        key = "row_id"
        rows = rows_of(table, fields, prefix=prefix, **{key: Integer()})
        self.plain = (
            update(table)
            .where(table.c.id == bindparam(key))
            .values({f: bindparam(f) for f in fields})
        )
        self.arrays = (
            update(table).where(table.c.id == rows.c[key]).values({f: rows.c[f] for f in fields})
        )
        self.names = (key, *fields)

    def of(self, objects: list) -> BulkWrite | None:
        """The objects' states as one statement's rows. The ORM takes them as written (if the
        write fails, the session is thrown away)."""
        if not objects:
            return None
        rows = [{"row_id": o.id, **{f: getattr(o, f) for f in self.fields}} for o in objects]
        for obj, row in zip(objects, rows, strict=True):
            for f in self.fields:
                set_committed_value(obj, f, row[f])
        return BulkWrite(self.name, self.plain, self.arrays, self.names, rows, self.prefix)


_QUESTION_STATES = _States("question_states", RoundQuestion.__table__, QUESTION_STATE, "q_")
_ROUND_STATES = _States("round_states", Round.__table__, ROUND_STATE, "r_")


class _Repo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _write(self, write: BulkWrite | None) -> None:
        if write is None:
            return
        if self._on_postgres:
            await self.session.execute(write.arrays, write.array_params())
        else:
            await self.session.execute(write.plain, write.plain_params())

    def _insert(self, table):
        dialect = self.session.bind.dialect.name
        return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)

    @property
    def _on_postgres(self) -> bool:
        return self.session.bind.dialect.name == "postgresql"

    def _prepared(self, name: str, build):
        """A statement built once per dialect: the hot paths pass only their parameters, since
        constructing a statement costs more CPU than running it."""
        key = (name, self.session.bind.dialect.name)
        stmt = _PREPARED.get(key)
        if stmt is None:
            stmt = _PREPARED[key] = build()
        return stmt

    async def _find_or_create(self, entity, find, params: dict, key: str, missing) -> dict:
        """The `entity` rows `find` selects, by their `key` column (unique with `platform`);
        the rows `missing(found)` lists are inserted first, ON CONFLICT covering a racing
        process. Two or three statements, however many rows."""
        found = {getattr(o, key): o for o in (await self.session.execute(find, params)).scalars()}
        # In key order: transactions inserting the same new rows then wait for each other
        # instead of deadlocking on the unique index.
        rows = sorted(missing(found), key=lambda row: row[key])
        if rows:
            insert_new = self._prepared(
                entity.__tablename__,
                lambda: self._insert(entity).on_conflict_do_nothing(
                    index_elements=["platform", key]
                ),
            )
            await self.session.execute(insert_new, rows)
            found = {
                getattr(o, key): o for o in (await self.session.execute(find, params)).scalars()
            }
        return found


class UserRow(NamedTuple):
    """A user as the answer path reads them (the attributes of User it needs)."""

    id: int
    display_name: str
    lang: str | None
    platform_lang: str | None


class UserRepository(_Repo):
    async def get_or_create(self, platform: str, sender: Sender, now: datetime) -> User:
        return (await self.get_or_create_many(platform, [sender], now))[sender.platform_user_id]

    async def get_or_create_many(
        self, platform: str, senders: list[Sender], now: datetime
    ) -> dict[str, User]:
        """The users behind these senders of one platform, by platform user id: created on
        first contact (ON CONFLICT covers a racing process), their name and platform language
        kept up to date. Two or three statements, however many senders."""
        latest = {s.platform_user_id: s for s in senders}
        users = await self._find_or_create(
            User,
            _FIND_USERS,
            {"platform": platform, "uids": list(latest)},
            "platform_user_id",
            lambda found: [
                {
                    "platform": platform,
                    "platform_user_id": s.platform_user_id,
                    "display_name": _display_name(s),
                    "platform_lang": (s.lang or None) and s.lang[:16],
                    "created_at": now,
                }
                for uid, s in latest.items()
                if uid not in found
            ],
        )
        for sender in senders:
            _refresh_user(users[sender.platform_user_id], sender)
        return users

    async def kept_up(
        self, platform: str, senders: list[Sender], found: dict[str, tuple], now: datetime
    ) -> dict[str, UserRow]:
        """The users behind these senders of one platform as plain rows, by platform user
        id, given those `found` already (user id -> id, name, lang, platform lang): the
        others created, names and platform languages kept up to date (an UPDATE only for
        those that changed)."""
        latest = {s.platform_user_id: s for s in senders}
        if any(uid not in found for uid in latest):  # someone new: the ORM path creates them
            await self.get_or_create_many(
                platform, [s for uid, s in latest.items() if uid not in found], now
            )
            await self.session.flush()
            params = {"platform": platform, "uids": list(latest)}
            rows = await self.session.execute(_FIND_USER_ROWS, params)
            found = {row[-1]: row[:-1] for row in rows}
        users, renamed = {}, []
        for uid, sender in latest.items():
            user_id, name, lang, platform_lang = found[uid]
            new_name = _display_name(sender)
            new_lang = sender.lang[:16] if sender.lang else platform_lang
            if (new_name, new_lang) != (name, platform_lang):
                renamed.append({"user_id": user_id, "name": new_name, "platform_lang": new_lang})
            users[uid] = UserRow(user_id, new_name, lang, new_lang)
        if renamed:
            await self.session.execute(_RENAME_USER, renamed)
        return users

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def names(self, user_ids: list[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        return dict((await self.session.execute(_NAMES, {"ids": user_ids})).all())


class ChatRepository(_Repo):
    async def get_or_create(self, ref: ChatRef, now: datetime) -> Chat:
        return (await self.get_or_create_many(ref.platform, [ref], now))[ref.platform_chat_id]

    async def get_or_create_many(
        self, platform: str, refs: list[ChatRef], now: datetime
    ) -> dict[str, Chat]:
        """The chats of one platform, by platform chat id: created on first contact (ON
        CONFLICT covers a racing process), their title kept up to date."""
        latest = {r.platform_chat_id: r for r in refs}
        chats = await self._find_or_create(
            Chat,
            _FIND_CHATS,
            {"platform": platform, "cids": list(latest)},
            "platform_chat_id",
            lambda found: [
                {
                    "platform": platform,
                    "platform_chat_id": r.platform_chat_id,
                    "kind": r.kind,
                    "title": clean_text(r.title, 256),
                    "settings": {},
                    "created_at": now,
                }
                for cid, r in latest.items()
                if cid not in found
            ],
        )
        for cid, ref in latest.items():
            title = clean_text(ref.title, 256)
            if title and chats[cid].title != title:
                chats[cid].title = title
        return chats

    async def get(self, chat_id: int) -> Chat | None:
        return await self.session.get(Chat, chat_id)


class RoundRepository(_Repo):
    async def running(self, chat_id: int, *, lock: bool = True) -> Round | None:
        return (await self.running_in([chat_id], lock=lock)).get(chat_id)

    async def running_in(self, chat_ids: list[int], *, lock: bool = True) -> dict[int, Round]:
        """The running round of each of these chats that has one, by chat id (locked, in id
        order, as `questions_in_rounds` locks them)."""
        if not chat_ids:
            return {}
        stmt = _RUNNING_IN_LOCKED if lock else _RUNNING_IN
        found = await self.session.execute(stmt, {"chat_ids": chat_ids})
        return {r.chat_id: r for r in found.scalars()}

    async def get(self, round_id: int, *, lock: bool = True) -> Round | None:
        stmt = select(Round).where(Round.id == round_id)
        if lock:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def all_running(self) -> list[tuple[Round, Chat]]:
        rows = await self.session.execute(
            select(Round, Chat)
            .join(Chat, Chat.id == Round.chat_id)
            .where(Round.status == "running")
        )
        return list(rows.all())

    async def add(self, round_: Round, questions: list[RoundQuestion]) -> Round:
        self.session.add(round_)
        await self.session.flush()
        for rq in questions:
            rq.round_id = round_.id
        self.session.add_all(questions)
        await self.session.flush()
        return round_

    async def question_at(self, round_id: int, position: int) -> RoundQuestion | None:
        found = await self.session.execute(_QUESTION_AT, {"round_id": round_id, "pos": position})
        return found.scalar_one_or_none()

    async def questions_in_rounds(
        self, round_question_ids: list[int]
    ) -> dict[int, tuple[RoundQuestion, Round, Chat, RoundQuestion | None]]:
        """Questions by id, each with its round (locked, in id order), its chat, and the
        question after the one the round is at (None after the last), which a batch of
        answers opens if it closes the current one."""
        if not round_question_ids:
            return {}
        rows = await self.session.execute(_QUESTIONS_IN_ROUNDS, {"rqs": round_question_ids})
        return {row[0].id: tuple(row) for row in rows}

    async def current_questions(self, round_ids: list[int]) -> list[RoundQuestion]:
        """The question each of these rounds is at, and the one after it."""
        if not round_ids:
            return []
        return list(
            (await self.session.execute(_CURRENT_QUESTIONS, {"round_ids": round_ids})).scalars()
        )

    async def question(self, round_question_id: int) -> RoundQuestion | None:
        return await self.session.get(RoundQuestion, round_question_id)

    async def closed_at(self, round_id: int, times: tuple[datetime, ...]) -> RoundQuestion | None:
        """The question of a round closed at one of these times, if any."""
        if not times:
            return None
        found = await self.session.execute(
            select(RoundQuestion)
            .where(
                RoundQuestion.round_id == round_id,
                RoundQuestion.status == "closed",
                RoundQuestion.closed_at.in_(times),
            )
            .limit(1)
        )
        return found.scalar_one_or_none()

    async def question_by_ref(self, ref: str) -> RoundQuestion | None:
        if not is_clean_ref(ref):
            return None  # forged: nothing like it was ever stored
        return (
            await self.session.execute(
                select(RoundQuestion).where(RoundQuestion.platform_ref == ref).limit(1)
            )
        ).scalar_one_or_none()

    async def set_posted(self, posts: list[tuple[int, str | None, datetime]]) -> None:
        """Questions the platform took: (question id, its handle or None, when) triples. The
        first time a question is posted is kept, and a handle once known."""
        rows = [
            {"rq": rq_id, "ref": ref[:128] if ref else None, "at": at} for rq_id, ref, at in posts
        ]
        if rows:
            await self.session.execute(_SET_POSTED, rows)

    async def set_results_posted(self, round_question_ids: list[int]) -> None:
        if round_question_ids:
            await self.session.execute(_RESULTS_POSTED, {"ids": round_question_ids})

    async def set_ends_posted(self, round_ids: list[int]) -> None:
        if round_ids:
            await self.session.execute(_ENDS_POSTED, {"ids": round_ids})

    async def owing(
        self, platforms: tuple[str, ...] | None, ended_since: datetime
    ) -> list[tuple[Round, Chat]]:
        """Rounds that may owe their chat a message: the running ones, and those ended since
        `ended_since` whose end has not been posted; on these platforms (None: all). In id
        order, locked."""
        stmt = (
            select(Round, Chat)
            .join(Chat, Chat.id == Round.chat_id)
            .where((Round.status == "running") | (Round.end_due & (Round.ended_at >= ended_since)))
            .order_by(Round.id)
            .with_for_update(of=Round)
        )
        if platforms is not None:
            stmt = stmt.where(Chat.platform.in_(platforms))
        return [(r, c) for r, c in await self.session.execute(stmt)]

    async def due_results(self, round_id: int) -> list[RoundQuestion]:
        """The round's closed questions whose result has not been posted, in order."""
        found = await self.session.execute(
            select(RoundQuestion)
            .where(RoundQuestion.round_id == round_id, RoundQuestion.result_due)
            .order_by(RoundQuestion.position)
        )
        return list(found.scalars())

    async def overdue(
        self, before: datetime, platforms: tuple[str, ...] | None
    ) -> list[tuple[int, datetime]]:
        """(round id, deadline) of the open questions whose deadline is before `before`, in
        running rounds of chats on these platforms (None: all)."""
        stmt = (
            select(RoundQuestion.round_id, RoundQuestion.deadline)
            .join(Round, Round.id == RoundQuestion.round_id)
            .join(Chat, Chat.id == Round.chat_id)
            .where(
                RoundQuestion.status == "open",
                RoundQuestion.deadline < before,
                Round.status == "running",
            )
            .order_by(RoundQuestion.deadline)
        )
        if platforms is not None:
            stmt = stmt.where(Chat.platform.in_(platforms))
        return [(r, d) for r, d in await self.session.execute(stmt)]

    async def save_question_states(self, questions: list[RoundQuestion]) -> None:
        await self._write(self.question_states(questions))

    @staticmethod
    def question_states(questions: list[RoundQuestion]) -> BulkWrite | None:
        """The state of questions that moved on (closed, opened)."""
        return _QUESTION_STATES.of(questions)

    @staticmethod
    def round_states(rounds: list[Round]) -> BulkWrite | None:
        """The state of rounds that moved on (a question closed, the round ended)."""
        return _ROUND_STATES.of(rounds)

    async def claim_close(self, rq: RoundQuestion, now: datetime) -> bool:
        """Close an open question. Exactly one caller wins, whichever process it runs in; the
        winner's `rq` shows it closed (without another UPDATE at flush)."""
        result = await self.session.execute(_CLAIM_CLOSE, {"rq": rq.id, "now": now})
        if result.rowcount != 1:
            return False
        set_committed_value(rq, "status", "closed")
        set_committed_value(rq, "closed_at", now)
        return True

    async def players(self, round_id: int) -> list[RoundPlayer]:
        rows = await self.session.execute(_PLAYERS, {"round_id": round_id})
        return list(rows.scalars().all())

    async def players_of(self, round_ids: list[int]) -> list:
        """The player rows of some rounds as plain rows: id, round_id, user_id, the
        PLAYER_FIELDS, and the player's display_name."""
        if not round_ids:
            return []
        return list(await self.session.execute(_PLAYERS_OF, {"round_ids": round_ids}))

    async def save_players(self, new: list[dict], changed: list[dict]) -> None:
        """Insert new player rows and update changed ones (by `player_id`), one statement each."""
        await self._write(self.new_players(new))
        await self._write(self.changed_players(changed))

    @staticmethod
    def new_players(rows: list[dict]) -> BulkWrite | None:
        if not rows:
            return None
        plain = insert(_PLAYERS_T)
        return BulkWrite("new_players", plain, _INSERT_PLAYERS, NEW_PLAYER_FIELDS, rows, "np_")

    @staticmethod
    def changed_players(rows: list[dict]) -> BulkWrite | None:
        if not rows:
            return None
        names = ("player_id", *PLAYER_FIELDS)
        return BulkWrite("players", _UPDATE_PLAYER, _UPDATE_PLAYERS, names, rows, "p_")

    async def recent_entry_ids(self, chat_id: int, limit: int = 200) -> list[str]:
        rows = await self.session.execute(
            select(RoundQuestion.entry_id)
            .join(Round, Round.id == RoundQuestion.round_id)
            .where(Round.chat_id == chat_id)
            .order_by(RoundQuestion.id.desc())
            .limit(limit)
        )
        return list(rows.scalars().all())


def _seen_and_tries(rows, keys: list[str], tries: dict[int, list[tuple[int, bool]]]):
    """Of (dedup key, question id, user id, right) answer rows in the order they came: which
    of `keys` are among them, and the tries at the questions `tries` has lists for."""
    wanted, seen = set(keys), set()
    for key, rq_id, user_id, correct in rows:
        if key in wanted:
            seen.add(key)
        if rq_id in tries:
            tries[rq_id].append((user_id, bool(correct)))
    return seen, tries


class AnswerRepository(_Repo):
    async def add(self, **values) -> bool:
        """Insert one answer; False when its dedup key was already recorded."""
        values["given"] = clean_text(values.get("given", ""), 500)
        values["dedup_key"] = clean_text(values["dedup_key"], 160)
        stmt = self._prepared(
            "answer",
            lambda: (
                self._insert(Answer)
                .on_conflict_do_nothing(index_elements=["dedup_key"])
                .returning(Answer.id)
            ),
        )
        return (await self.session.execute(stmt, values)).first() is not None

    async def seen_many(self, dedup_keys: list[str]) -> set[str]:
        return (await self.answered(dedup_keys, []))[0]

    async def add_many(self, rows: list[dict]) -> None:
        """Insert answers known to be new (their dedup keys checked under the round's lock)."""
        await self._write(self.new_answers(rows))

    @staticmethod
    def new_answers(rows: list[dict]) -> BulkWrite | None:
        if not rows:
            return None
        for values in rows:
            values["given"] = clean_text(values.get("given", ""), 500)
            values["dedup_key"] = clean_text(values["dedup_key"], 160)
        # Into the table, not the ORM entity: the ORM would split the rows into runs by which
        # columns are None (typed answers have no option), one INSERT per run.
        plain = insert(_ANSWERS)
        return BulkWrite("answers", plain, _INSERT_ANSWERS, ANSWER_COLUMNS, rows, "a_")

    async def stored(self, dedup_key: str) -> Answer | None:
        key = clean_text(dedup_key, 160)
        found = await self.session.execute(select(Answer).where(Answer.dedup_key == key))
        return found.scalar_one_or_none()

    async def last_id(self, round_question_id: int) -> int | None:
        """The id of the last answer recorded for a question."""
        found = await self.session.execute(
            select(func.max(Answer.id)).where(Answer.round_question_id == round_question_id)
        )
        return found.scalar_one()

    async def tries_of(self, round_question_ids: list[int]) -> dict[int, list[tuple[int, bool]]]:
        return (await self.answered([], round_question_ids))[1]

    async def answered(
        self, dedup_keys: list[str], round_question_ids: list[int]
    ) -> tuple[set[str], dict[int, list[tuple[int, bool]]]]:
        """Which of these dedup keys are recorded already, and the answers to each of these
        questions as (user id, right or not) in the order they came: one statement."""
        keys = [clean_text(k, 160) for k in dedup_keys]
        tries: dict[int, list[tuple[int, bool]]] = {q: [] for q in round_question_ids}
        if not keys and not round_question_ids:
            return set(), tries
        rows = await self.session.execute(_ANSWERED, {"keys": keys, "rqs": round_question_ids})
        return _seen_and_tries(rows, keys, tries)


@dataclass(slots=True)
class LookedUp:
    """What `BatchRepository.look_up` found."""

    players: list  # rows as RoundRepository.players_of gives them
    seen: set[str]  # the dedup keys already recorded
    tries: dict[int, list[tuple[int, bool]]]  # as AnswerRepository.answered gives them
    users: dict[tuple[str, str], tuple]  # (platform, user id) -> id, name, lang, platform lang


class BatchRepository(_Repo):
    """The statements of a batch of answers that span tables."""

    async def look_up(
        self,
        round_ids: list[int],
        dedup_keys: list[str],
        round_question_ids: list[int],
        senders: list[tuple[str, str]],
    ) -> LookedUp:
        """The players of these (locked) rounds, which dedup keys are recorded and the tries at
        these questions, and the users behind these (platform, user id) senders that exist
        already: one statement. Look users up again after creating them
        (`UserRepository.kept_up`)."""
        keys = [clean_text(k, 160) for k in dedup_keys]
        params = {
            "round_ids": round_ids,
            "keys": keys,
            "rqs": round_question_ids,
            "platforms": sorted({platform for platform, _ in senders}),
            "uids": sorted({uid for _, uid in senders}),
        }
        rows = (await self.session.execute(_BATCH_LOOK_UP, params)).all()
        players, answers, wanted, users = [], [], set(senders), {}
        for row in rows:
            kind = row[0]
            if kind == PLAYER:
                players.append(row[1:11])  # id, round, user, the PLAYER_FIELDS, name
            elif kind == ANSWER:
                answers.append((row[10], row[2], row[3], row[11]))
            elif (row[14], row[15]) in wanted:
                users[(row[14], row[15])] = (row[1], row[10], row[12], row[13])
        tries: dict[int, list[tuple[int, bool]]] = {q: [] for q in round_question_ids}
        seen, tries = _seen_and_tries(answers, keys, tries)
        return LookedUp(players, seen, tries, users)

    async def write(self, writes: list[BulkWrite | None]) -> None:
        """Bulk writes to different tables (a batch of answers': answers, players, totals,
        question and round states): on PostgreSQL one statement, one round trip instead of one each
        (bot.storage.bulk.combined: none of them reads what another writes); elsewhere one
        statement each, as SQLite runs them in process."""
        present = [w for w in writes if w is not None]
        if not self._on_postgres or len(present) < 2:
            for write in present:
                await self._write(write)
            return
        key = "together:" + "+".join(w.name for w in present)
        stmt = self._prepared(key, lambda: combined([w.arrays for w in present]))
        params: dict[str, list] = {}
        for write in present:
            params.update(write.array_params())
        await self.session.execute(stmt, params)


# In the order of the keys the totals are summed by (scope, period, start, user), then the sums.
SCORE_COLUMNS = ("chat_id", "period", "period_start", "user_id", "points", "correct", "answered")


class ScoreRepository(_Repo):
    async def add_many(self, answers: list[tuple]) -> None:
        """Add (user id, chat id, points, right, when[, first try]) answers to the totals in
        one statement."""
        await self._write(self.totals(answers))

    def totals(self, answers: list[tuple]) -> BulkWrite | None:
        """(user id, chat id, points, right, when[, first try]) answers as rows to add to the
        totals, summed per row first (one row may not be upserted twice in a statement).
        `answered` counts questions: an answer adds to it only when it is the user's first try
        at its question (a sixth item, True when left out); a typed question's later tries add
        only their points and, if right, the right answer."""
        totals: dict[tuple, list[int]] = {}
        periods_of: dict[date, list[tuple[str, date]]] = {}  # the periods a day falls in
        for user_id, chat_id, points, correct, now, *first_try in answers:
            asked = 1 if not first_try or first_try[0] else 0
            periods = periods_of.get(now.date())
            if periods is None:
                periods = periods_of[now.date()] = [(p, period_start(p, now)) for p in PERIODS]
            for scope in (chat_id, GLOBAL_SCOPE):
                for period, start in periods:
                    row = totals.setdefault((scope, period, start, user_id), [0, 0, 0])
                    row[0] += points
                    row[1] += int(correct)
                    row[2] += asked
        if not totals:
            return None
        # In key order, so that transactions adding to the same totals (a player's global
        # ones) lock them in the same order and wait instead of deadlocking. Six rows an
        # answer: kept as tuples, straight into columns on PostgreSQL rather than through
        # dicts (3 % of a batch's instructions, counted with callgrind).
        rows = [(*key, *sums) for key, sums in sorted(totals.items())]
        upsert = self._prepared("score", self._score_upsert)  # this dialect's
        return BulkWrite("scores", upsert, upsert, SCORE_COLUMNS, rows, "s_")

    def _score_upsert(self):
        # Into the table, not the ORM entity: six rows per answer, and the ORM's bulk path
        # costs more per row than the statement itself.
        table = Score.__table__
        stmt = self._insert(table)
        if self._on_postgres:
            rows = rows_of(table, SCORE_COLUMNS, prefix="s_")
            stmt = stmt.from_select(SCORE_COLUMNS, select(rows))
        return stmt.on_conflict_do_update(
            index_elements=["chat_id", "period", "period_start", "user_id"],
            set_={
                "points": table.c.points + stmt.excluded.points,
                "correct": table.c.correct + stmt.excluded.correct,
                "answered": table.c.answered + stmt.excluded.answered,
            },
        )

    async def top(self, scope: int, period: str, start: date, limit: int = 10) -> list[tuple]:
        """(user_id, name, points, correct, answered) best first; ties: more right answers,
        then the older account (lower id)."""
        rows = await self.session.execute(
            select(Score.user_id, User.display_name, Score.points, Score.correct, Score.answered)
            .join(User, User.id == Score.user_id)
            .where(Score.chat_id == scope, Score.period == period, Score.period_start == start)
            .order_by(Score.points.desc(), Score.correct.desc(), Score.user_id)
            .limit(limit)
        )
        return list(rows.all())

    async def standing(
        self,
        scope: int,
        period: str,
        start: date,
        user_id: int,
        *,
        more_points: Callable[[int], Awaitable[int | None]] | None = None,
    ) -> tuple[int, int, int, int] | None:
        """(rank, points, correct, answered) of one user, or None when they have no score.

        `more_points(points)` may supply the count of players with more points (a cached
        snapshot on big boards, see bot.core.ranks); ties are always counted here, exactly."""
        mine = (
            await self.session.execute(
                select(Score.points, Score.correct, Score.answered).where(
                    Score.chat_id == scope,
                    Score.period == period,
                    Score.period_start == start,
                    Score.user_id == user_id,
                )
            )
        ).first()
        if mine is None:
            return None
        points, correct, answered = mine
        # Separate counts, each a plain range of the board index (an OR of them would make
        # the planner scan the whole scope): more points; as many, more right answers; a full
        # tie broken by the older account.
        board = (Score.chat_id == scope, Score.period == period, Score.period_start == start)
        ahead = await more_points(points) if more_points else None
        clauses = [
            (Score.points == points, Score.correct > correct),
            (Score.points == points, Score.correct == correct, Score.user_id < user_id),
        ]
        if ahead is None:
            ahead = 0
            clauses.append((Score.points > points,))
        for extra in clauses:
            counted = await self.session.execute(select(func.count()).where(*board, *extra))
            ahead += counted.scalar_one()
        return ahead + 1, points, correct, answered

    async def points_histogram(self, scope: int, period: str, start: date) -> list[tuple[int, int]]:
        """(points, players) for every score on a board, most points first."""
        rows = await self.session.execute(
            select(Score.points, func.count())
            .where(Score.chat_id == scope, Score.period == period, Score.period_start == start)
            .group_by(Score.points)
            .order_by(Score.points.desc())
        )
        return [(points, count) for points, count in rows]

    async def reset_chat(self, chat_id: int) -> int:
        result = await self.session.execute(delete(Score).where(Score.chat_id == chat_id))
        return result.rowcount or 0
