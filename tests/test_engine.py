"""The round rules as pure functions: no database, no clock."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.content.model import Question, QuestionType
from bot.core import engine
from bot.core.engine import Mode, Next, PlayerState, QuestionSlot, RoundState, Verdict

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

MC = Question(
    type=QuestionType.DEFINITION_TO_TERM,
    lang="en",
    prompt="Which term is described here?\n____ randomly deactivates neurons.",
    answer="Dropout",
    accepted=("Dropout",),
    entry_id="dropout",
    explanation="Dropout: a regularization technique.",
    options=("Dropout", "Tensor", "Optimizer", "Gradient"),
    correct_option=0,
)
TYPED = Question(
    type=QuestionType.FILL_IN,
    lang="en",
    prompt="____ randomly deactivates neurons.",
    answer="Dropout",
    accepted=("Dropout",),
    entry_id="dropout",
    explanation="Dropout: a regularization technique.",
)


def state(
    question=MC,
    *,
    mode=Mode.SPEED,
    solo=False,
    seconds=20,
    position=2,
    players=(),
    tries=None,
    hints=0,
) -> RoundState:
    slot = QuestionSlot(
        1,
        position,
        question,
        "open",
        T0,
        T0 + timedelta(seconds=seconds) if seconds else None,
        hints,
    )
    return RoundState(
        1,
        mode,
        solo,
        seconds,
        10,
        position,
        0,
        slot,
        {p.user_id: p for p in players},
        dict(tries or {}),
    )


def test_speed_points_run_from_1000_to_500():
    assert engine.speed_points(0, 20) == 1000
    assert engine.speed_points(10, 20) == 750
    assert engine.speed_points(20, 20) == 500
    assert engine.speed_points(30, 20) == 500  # never below the floor


@pytest.mark.parametrize(("streak", "bonus"), [(1, 0), (2, 100), (3, 200), (6, 500), (9, 500)])
def test_streak_bonus_is_capped(streak, bonus):
    assert engine.streak_bonus(streak) == bonus


def test_a_right_answer_scores_by_speed():
    decision = engine.judge(state(), 7, True, T0 + timedelta(seconds=5))
    assert decision.verdict == Verdict.SCORED
    assert decision.points == 875
    assert decision.streak == 1


def test_a_streak_continues_only_from_the_previous_question():
    chained = PlayerState(7, streak=2, last_correct_position=1)
    broken = PlayerState(8, streak=2, last_correct_position=0)
    s = state(players=[chained, broken])
    now = T0 + timedelta(seconds=0)
    assert engine.judge(s, 7, True, now).points == 1000 + 200
    assert engine.judge(s, 8, True, now).points == 1000


def test_hints_lower_the_points():
    decision = engine.judge(state(hints=2), 7, True, T0)
    assert decision.points == 500


def test_a_wrong_answer_scores_nothing():
    decision = engine.judge(state(), 7, False, T0)
    assert decision.verdict == Verdict.SCORED
    assert decision.points == 0


def test_multiple_choice_allows_one_answer():
    s = state(tries={7: [False]})
    assert engine.judge(s, 7, True, T0).verdict == Verdict.ALREADY_ANSWERED


def test_typed_allows_retries_until_right():
    s = state(TYPED, tries={7: [False, False]})
    assert engine.judge(s, 7, True, T0).verdict == Verdict.SCORED
    s = state(TYPED, tries={7: [False, True]})
    assert engine.judge(s, 7, True, T0).verdict == Verdict.ALREADY_RIGHT


def test_answers_after_the_deadline_are_late():
    assert engine.judge(state(), 7, True, T0 + timedelta(seconds=20)).verdict == Verdict.LATE


def test_classic_mode_gives_one_point_to_the_first_right_answer():
    s = state(TYPED, mode=Mode.CLASSIC)
    first = engine.judge(s, 7, True, T0)
    assert first.points == 1 and first.closes_question
    s = state(MC, mode=Mode.CLASSIC, tries={8: [True]})
    assert engine.judge(s, 7, True, T0).points == 0


def test_multiple_choice_closes_when_every_regular_answered():
    earlier = T0 - timedelta(minutes=1)
    alice = PlayerState(1, first_answer_at=earlier)
    bob = PlayerState(2, first_answer_at=earlier)
    s = state(players=[alice, bob], tries={1: [True]})
    assert engine.judge(s, 2, False, T0).closes_question
    s = state(players=[alice, bob])
    assert not engine.judge(s, 1, True, T0).closes_question


def test_first_question_of_a_group_round_waits_for_the_clock():
    s = state(position=1)
    assert not engine.judge(s, 1, True, T0).closes_question


def test_solo_rounds_close_on_each_answer():
    assert engine.judge(state(solo=True), 1, False, T0).closes_question
    s = state(TYPED, solo=True, seconds=None)
    assert not engine.judge(s, 1, False, T0).closes_question
    s = state(TYPED, solo=True, seconds=None, tries={1: [False, False]})
    assert engine.judge(s, 1, False, T0).closes_question


def test_untimed_rounds_score_a_fixed_amount():
    s = state(solo=True, seconds=None)
    assert engine.judge(s, 1, True, T0 + timedelta(hours=1)).points == engine.UNTIMED_POINTS


def test_three_unanswered_questions_stop_a_group_round():
    s = state()
    s.idle_questions = 2
    assert engine.after_close(s, answered_by_anyone=False) == (Next.END_IDLE, 3)
    assert engine.after_close(s, answered_by_anyone=True) == (Next.ASK, 0)
    s.position = s.total
    assert engine.after_close(s, answered_by_anyone=True) == (Next.END_DONE, 0)


def test_due_to_close_only_after_the_deadline():
    slot = state().current
    assert not engine.due_to_close(slot, T0 + timedelta(seconds=19))
    assert engine.due_to_close(slot, T0 + timedelta(seconds=20))


@pytest.mark.parametrize(
    ("answer", "level", "shown"),
    [
        ("Dropout", 1, "D______"),
        ("Dropout", 2, "Dro____"),
        ("Loss function", 1, "L___ f_______"),
        ("Fine-tuning", 1, "F___-______"),
        ("损失函数", 1, "损___"),
        ("损失函数", 2, "损失__"),
    ],
)
def test_hints_keep_the_shape_of_the_answer(answer, level, shown):
    assert engine.hint_text(answer, level) == shown
    assert len(engine.hint_text(answer, level)) == len(answer)
