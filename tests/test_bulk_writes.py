"""Rows a batch writes in one statement (arrays through unnest on PostgreSQL, executemany on
SQLite) are stored exactly as given: Nones, booleans, aware times, odd text, sums per row."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event, select

from bot.core.events import ChatRef, Sender
from bot.storage.models import GLOBAL_SCOPE, Answer, Round, RoundPlayer, RoundQuestion, Score
from bot.storage.repositories import ANSWER_COLUMNS

NOW = datetime(2026, 11, 30, 23, 59, 30, tzinfo=UTC)  # a Monday: a week ends a day later


async def _round_with_questions(uow, count: int = 3):
    chat = await uow.chats.get_or_create(ChatRef("test", "bulk", "group", "Bulk"), NOW)
    users = await uow.users.get_or_create_many(
        "test", [Sender(str(i), f"User {i}") for i in range(3)], NOW
    )
    round_ = Round(chat_id=chat.id, status="running", mode="speed", total=count, started_at=NOW)
    questions = [
        RoundQuestion(position=i, entry_id=f"e{i}", question={"q": i}, status="pending")
        for i in range(1, count + 1)
    ]
    await uow.rounds.add(round_, questions)
    return chat, list(users.values()), round_, questions


def _answer(key, user, chat, rq, **overrides) -> dict:
    row = {
        "dedup_key": key,
        "user_id": user.id,
        "chat_id": chat.id,
        "round_question_id": rq.id,
        "entry_id": rq.entry_id,
        "question_type": "term_def",
        "given": "B",
        "option_index": 1,
        "correct": True,
        "judged": "exact",
        "points": 750,
        "response_ms": 1234,
        "hints_used": 0,
        "created_at": NOW,
    }
    return row | overrides


@contextlib.contextmanager
def _statements(uow):
    """The SQL the unit of work sends inside the block (BEGIN left out)."""
    sent: list[str] = []
    engine = uow.session.bind.sync_engine

    def seen(_conn, _cursor, statement, *_args) -> None:
        if not statement.startswith("BEGIN"):
            sent.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", seen)


async def _users(uow, senders: list[Sender]):
    """The answer path's users of platform "test": looked up with the batch, then kept up."""
    found = await uow.batches.look_up([], [], [], [("test", s.platform_user_id) for s in senders])
    known = {uid: row for (_, uid), row in found.users.items()}
    return await uow.users.kept_up("test", senders, known, NOW)


async def test_answers_written_together_come_back_as_given(uow_factory):
    async with uow_factory() as uow:
        chat, users, _, questions = await _round_with_questions(uow)
        rows = [
            _answer("k:1", users[0], chat, questions[0]),
            # a typed answer: no option, no response time, odd text, wrong
            _answer(
                "k:2",
                users[1],
                chat,
                questions[0],
                given="‮ évaluation 损失函数 \u200f",
                option_index=None,
                response_ms=None,
                correct=False,
                points=0,
                judged="wrong",
                question_type="fill",
                created_at=NOW + timedelta(seconds=1),
            ),
            _answer("k:3", users[2], chat, questions[1], hints_used=2),
        ]
        await uow.answers.add_many([dict(r) for r in rows])
        await uow.commit()
    async with uow_factory() as uow:
        stored = (await uow.session.execute(select(Answer).order_by(Answer.dedup_key))).scalars()
        got = [{c: getattr(a, c) for c in ANSWER_COLUMNS} for a in stored]
    assert got == rows


async def test_players_and_question_states_written_together(uow_factory):
    async with uow_factory() as uow:
        _, users, round_, _ = await _round_with_questions(uow)
        new = [
            {
                "round_id": round_.id,
                "user_id": u.id,
                "points": 100 * i,
                "correct": i,
                "answered": i + 1,
                "streak": i,
                "last_correct_position": i,
                "first_answer_at": NOW + timedelta(seconds=i),
            }
            for i, u in enumerate(users)
        ]
        await uow.rounds.save_players(new, [])
        await uow.commit()
    async with uow_factory() as uow:
        players = {
            p.user_id: p for p in (await uow.session.execute(select(RoundPlayer))).scalars().all()
        }
        changed = [
            {"player_id": players[users[0].id].id, **{k: new[0][k] for k in new[0]}, "points": 999}
        ]
        for row in changed:
            del row["round_id"], row["user_id"]
        await uow.rounds.save_players([], changed)
        rqs = (
            (await uow.session.execute(select(RoundQuestion).order_by(RoundQuestion.position)))
            .scalars()
            .all()
        )
        rqs[0].status, rqs[0].opened_at, rqs[0].closed_at = "closed", NOW, NOW
        rqs[1].status, rqs[1].opened_at = "open", NOW
        rqs[1].deadline = NOW + timedelta(seconds=20)
        await uow.rounds.save_question_states(rqs[:2])
        await uow.commit()
    async with uow_factory() as uow:
        points = dict(
            (await uow.session.execute(select(RoundPlayer.user_id, RoundPlayer.points))).all()
        )
        states = (
            await uow.session.execute(
                select(
                    RoundQuestion.status,
                    RoundQuestion.opened_at,
                    RoundQuestion.closed_at,
                    RoundQuestion.deadline,
                ).order_by(RoundQuestion.position)
            )
        ).all()
    assert points == {users[0].id: 999, users[1].id: 100, users[2].id: 200}
    assert [tuple(s) for s in states] == [
        ("closed", NOW, NOW, None),
        ("open", NOW, None, NOW + timedelta(seconds=20)),
        ("pending", None, None, None),
    ]


async def test_scores_of_a_batch_are_summed_per_board_and_added_to_the_totals(uow_factory):
    async with uow_factory() as uow:
        chat, users, _, _ = await _round_with_questions(uow)
        a, b = users[0].id, users[1].id
        later = NOW + timedelta(minutes=1)  # Tuesday 1 December: same week, a new month
        await uow.scores.add_many(
            [
                (a, chat.id, 500, True, NOW),
                (a, chat.id, 0, False, NOW),
                (b, chat.id, 700, True, NOW),
            ]
        )
        await uow.commit()
    async with uow_factory() as uow:
        await uow.scores.add_many([(a, chat.id, 600, True, later)])
        await uow.commit()
    async with uow_factory() as uow:
        rows = (
            await uow.session.execute(
                select(
                    Score.chat_id,
                    Score.period,
                    Score.period_start,
                    Score.user_id,
                    Score.points,
                    Score.correct,
                    Score.answered,
                )
            )
        ).all()
    got = {tuple(r[:4]): tuple(r[4:]) for r in rows}
    week, november, december, ever = (
        date(2026, 11, 30),
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(1970, 1, 1),
    )
    expected = {}
    for scope in (chat.id, GLOBAL_SCOPE):
        expected |= {
            (scope, "week", week, a): (1100, 2, 3),
            (scope, "month", november, a): (500, 1, 2),
            (scope, "month", december, a): (600, 1, 1),
            (scope, "all", ever, a): (1100, 2, 3),
            (scope, "week", week, b): (700, 1, 1),
            (scope, "month", november, b): (700, 1, 1),
            (scope, "all", ever, b): (700, 1, 1),
        }
    assert got == expected


async def test_a_batch_writes_everything_together_in_one_statement_on_postgresql(uow_factory):
    """Question and round states, answers, new and changed players and the totals: on
    PostgreSQL one statement (one round trip), on SQLite one each; stored the same either way."""
    async with uow_factory() as uow:
        chat, users, round_, _ = await _round_with_questions(uow)
        await uow.rounds.save_players(
            [
                {"round_id": round_.id, "user_id": users[0].id, "points": 10, "correct": 1}
                | {"answered": 1, "streak": 1, "last_correct_position": 1, "first_answer_at": NOW}
            ],
            [],
        )
        (old,) = (await uow.session.execute(select(RoundPlayer))).scalars().all()
        await uow.commit()
    async with uow_factory() as uow:
        (rq,) = [
            q
            for q in (await uow.session.execute(select(RoundQuestion))).scalars().all()
            if q.position == 1
        ]
        rq.status, rq.opened_at, rq.closed_at = "closed", NOW, NOW
        (moving,) = (await uow.session.execute(select(Round))).scalars().all()
        moving.position, moving.idle_questions = 2, 1
        player = {"points": 760, "correct": 2, "answered": 2, "streak": 2}
        player |= {"last_correct_position": 2, "first_answer_at": NOW}
        writes = [
            uow.rounds.question_states([rq]),
            uow.answers.new_answers([_answer("t:1", users[0], chat, rq)]),
            uow.rounds.new_players(
                [{"round_id": round_.id, "user_id": users[1].id, **player, "points": 5}]
            ),
            uow.rounds.changed_players([{"player_id": old.id, **player}]),
            uow.scores.totals([(users[0].id, chat.id, 750, True, NOW)]),
            uow.rounds.round_states([moving]),
        ]
        with _statements(uow) as statements:
            await uow.batches.write(writes)
        on_postgres = uow.session.bind.dialect.name == "postgresql"
        assert len(statements) == (1 if on_postgres else 6)
        assert not uow.session.dirty, "the ORM takes the states as written"
        await uow.commit()
    async with uow_factory() as uow:
        stored = (await uow.session.execute(select(Answer.dedup_key, Answer.points))).all()
        points = dict(
            (await uow.session.execute(select(RoundPlayer.user_id, RoundPlayer.points))).all()
        )
        (state,) = (
            await uow.session.execute(
                select(RoundQuestion.status, RoundQuestion.closed_at).where(
                    RoundQuestion.position == 1
                )
            )
        ).all()
        totals = (
            (
                await uow.session.execute(
                    select(Score.points).where(Score.chat_id == chat.id, Score.period == "all")
                )
            )
            .scalars()
            .all()
        )
    async with uow_factory() as uow:
        (round_state,) = (
            await uow.session.execute(select(Round.position, Round.idle_questions))
        ).all()
    assert tuple(round_state) == (2, 1)
    assert [tuple(a) for a in stored] == [("t:1", 750)]
    assert points == {users[0].id: 760, users[1].id: 5}
    assert tuple(state) == ("closed", NOW)
    assert totals == [750]


async def test_the_batch_look_up_reads_what_each_query_reads(uow_factory):
    async with uow_factory() as uow:
        chat, users, round_, questions = await _round_with_questions(uow)
        player = {"points": 10, "correct": 1, "answered": 1, "streak": 1}
        player |= {"last_correct_position": 1, "first_answer_at": NOW}
        await uow.rounds.save_players(
            [{"round_id": round_.id, "user_id": u.id, **player} for u in users[:2]], []
        )
        await uow.answers.add_many(
            [
                _answer("r:1", users[0], chat, questions[0], correct=False),
                _answer("r:2", users[1], chat, questions[0]),
                _answer("r:3", users[0], chat, questions[0]),
                _answer("r:4", users[2], chat, questions[1]),
            ]
        )
        await uow.commit()
    async with uow_factory() as uow:
        keys, rqs = ["r:4", "r:9"], [questions[0].id]
        senders = [("test", "0"), ("test", "2"), ("test", "9"), ("other", "1")]
        found = await uow.batches.look_up([round_.id], keys, rqs, senders)
        players, seen, tries = found.players, found.seen, found.tries
        apart = await uow.rounds.players_of([round_.id])
        assert found.users == {
            ("test", "0"): (users[0].id, "User 0", None, None),
            ("test", "2"): (users[2].id, "User 2", None, None),
        }, "only the pairs asked for, and only those that exist"
        assert sorted(map(tuple, players)) == sorted(map(tuple, apart))
        assert (seen, tries) == await uow.answers.answered(keys, rqs)
        assert seen == {"r:4"}
        ids = [u.id for u in users]
        assert tries == {questions[0].id: [(ids[0], False), (ids[1], True), (ids[0], True)]}
        assert {p[2] for p in players} == set(ids[:2])
        assert all(p[-2] == NOW and p[-1] in ("User 0", "User 1") for p in players)


async def test_the_answer_paths_users_are_created_and_kept_up_to_date_as_rows(uow_factory):
    """Users the batch's look-up found unchanged cost no statement; a new user is created, a
    new name or platform language written with one UPDATE, a chosen interface language kept."""
    from bot.storage.models import User

    async with uow_factory() as uow:
        first = await _users(uow, [Sender("1", "Ann", lang="en")])
        await uow.commit()
    (ann,) = first.values()
    assert (ann.display_name, ann.platform_lang, ann.lang) == ("Ann", "en", None)
    async with uow_factory() as uow:
        (await uow.session.get(User, ann.id)).lang = "zh"  # chosen with /lang
        await uow.commit()

    async with uow_factory() as uow:
        found = await uow.batches.look_up([], [], [], [("test", "1")])
        known = {uid: row for (_, uid), row in found.users.items()}
        with _statements(uow) as statements:
            same = await uow.users.kept_up("test", [Sender("1", "Ann", lang="en")], known, NOW)
        assert statements == [], "found and unchanged: nothing more to send"
        with _statements(uow) as statements:
            renamed = await uow.users.kept_up(
                "test", [Sender("1", "Ann  Lee", lang="de")], known, NOW
            )
        assert len(statements) == 1 and statements[0].startswith("UPDATE users")
        both = await _users(uow, [Sender("1", "Ann Lee", lang="de"), Sender("2", "Bo")])
        await uow.commit()
    assert same["1"] == (ann.id, "Ann", "zh", "en")
    assert renamed["1"] == both["1"] == (ann.id, "Ann Lee", "zh", "de")
    assert both["2"].display_name == "Bo" and both["2"].id != ann.id
    async with uow_factory() as uow:
        stored = (
            await uow.session.execute(
                select(User.platform_user_id, User.display_name, User.lang, User.platform_lang)
            )
        ).all()
    assert sorted(map(tuple, stored)) == [("1", "Ann Lee", "zh", "de"), ("2", "Bo", None, None)]
