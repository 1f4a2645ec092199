"""The quiz engine: the rules of a round as pure functions of its state and the time.

No I/O and no clock: the services load a `RoundState` from the database, ask the engine what
happens, and write the outcome back in the same transaction. That keeps the rules testable with
plain data and makes every decision repeatable.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.content.model import Question

SPEED_MAX_POINTS = 1000
SPEED_MIN_POINTS = 500
UNTIMED_POINTS = 500  # solo study rounds have no clock, so no speed to reward
STREAK_STEP = 100
STREAK_CAP = 500
HINT_PENALTY = 0.25  # each hint takes a quarter of the question's base points
MAX_HINTS = 2
IDLE_QUESTIONS_TO_STOP = 3
SOLO_TYPED_TRIES = 3  # untimed rounds need an end to a typed question


class Mode(StrEnum):
    SPEED = "speed"
    CLASSIC = "classic"


class Verdict(StrEnum):
    SCORED = "scored"  # recorded (right or wrong)
    LATE = "late"  # the question was already closed or its time was up
    ALREADY_ANSWERED = "already_answered"  # multiple choice allows one answer
    ALREADY_RIGHT = "already_right"  # typed: nothing more to win on this question
    NO_QUESTION = "no_question"  # no open question in this chat


class Next(StrEnum):
    ASK = "ask"
    ASK_AGAIN = "again"  # the same question, with a fresh clock
    END_DONE = "done"
    END_IDLE = "idle"


@dataclass(slots=True)
class QuestionSlot:
    id: int
    position: int
    question: Question
    status: str  # pending, open, closed
    opened_at: datetime | None = None
    deadline: datetime | None = None
    hints: int = 0


@dataclass(slots=True)
class PlayerState:
    user_id: int
    points: int = 0
    correct: int = 0
    answered: int = 0
    streak: int = 0
    last_correct_position: int = 0
    first_answer_at: datetime | None = None


@dataclass(slots=True)
class RoundState:
    id: int
    mode: Mode
    solo: bool
    seconds: int | None
    total: int
    position: int
    idle_questions: int
    current: QuestionSlot | None
    players: dict[int, PlayerState] = field(default_factory=dict)
    # user id -> whether each try at the open question was right, in order
    tries: dict[int, list[bool]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    points: int = 0
    streak: int = 0  # the player's streak after this answer
    closes_question: bool = False


def speed_points(elapsed: float, limit: float) -> int:
    """1000 for an instant answer, 500 at the buzzer: 1000 * (1 - t/T/2)."""
    if limit <= 0:
        return SPEED_MAX_POINTS
    fraction = min(max(elapsed / limit, 0.0), 1.0)
    return round(SPEED_MAX_POINTS * (1 - fraction / 2))


def streak_bonus(streak: int) -> int:
    """+100 for each right answer in a row after the first, at most +500."""
    return min(STREAK_STEP * max(streak - 1, 0), STREAK_CAP)


def hint_factor(hints: int) -> float:
    return max(1.0 - HINT_PENALTY * hints, 0.0)


def is_open(slot: QuestionSlot | None, now: datetime) -> bool:
    if slot is None or slot.status != "open":
        return False
    return slot.deadline is None or now < slot.deadline


def judge(state: RoundState, user_id: int, correct: bool, now: datetime) -> Decision:
    """What an answer from `user_id` is worth, and whether it closes the question."""
    slot = state.current
    if slot is None or slot.status == "pending":
        return Decision(Verdict.NO_QUESTION)
    if not is_open(slot, now):
        return Decision(Verdict.LATE)

    tries = state.tries.get(user_id, [])
    multiple_choice = slot.question.is_multiple_choice
    if multiple_choice and tries:
        return Decision(Verdict.ALREADY_ANSWERED)
    if any(tries):
        return Decision(Verdict.ALREADY_RIGHT)

    player = state.players.get(user_id) or PlayerState(user_id)
    points = 0
    streak = 0
    if correct:
        chained = player.last_correct_position == slot.position - 1 and player.streak > 0
        streak = player.streak + 1 if chained else 1
        points = _points_for_right_answer(state, slot, streak, now)
    closes = _closes_after(state, slot, user_id, correct, len(tries) + 1)
    return Decision(Verdict.SCORED, points=points, streak=streak, closes_question=closes)


def _points_for_right_answer(
    state: RoundState, slot: QuestionSlot, streak: int, now: datetime
) -> int:
    if state.mode == Mode.CLASSIC:
        someone_was_right = any(any(t) for t in state.tries.values())
        return 0 if someone_was_right else 1
    if state.seconds and slot.opened_at is not None:
        elapsed = (now - slot.opened_at).total_seconds()
        base = speed_points(elapsed, state.seconds)
    else:
        base = UNTIMED_POINTS
    return round(base * hint_factor(slot.hints)) + streak_bonus(streak)


def _closes_after(
    state: RoundState, slot: QuestionSlot, user_id: int, correct: bool, tries: int
) -> bool:
    if state.solo:
        if slot.question.is_multiple_choice or correct:
            return True
        return state.seconds is None and tries >= SOLO_TYPED_TRIES
    if not slot.question.is_multiple_choice:
        return state.mode == Mode.CLASSIC and correct
    # Multiple choice closes early once every player who was already playing has answered.
    # Players who join on this very question do not count, or the first click would close it.
    regulars = {
        p.user_id
        for p in state.players.values()
        if p.first_answer_at is not None
        and slot.opened_at is not None
        and p.first_answer_at < slot.opened_at
    }
    if not regulars:
        return False
    answered = {uid for uid, t in state.tries.items() if t} | {user_id}
    return regulars <= answered


def due_to_close(slot: QuestionSlot | None, now: datetime) -> bool:
    return (
        slot is not None
        and slot.status == "open"
        and slot.deadline is not None
        and now >= slot.deadline
    )


def after_close(state: RoundState, answered_by_anyone: bool) -> tuple[Next, int]:
    """What follows a closed question, and the new count of unanswered questions in a row."""
    idle = 0 if answered_by_anyone else state.idle_questions + 1
    if idle >= IDLE_QUESTIONS_TO_STOP and not state.solo:
        return Next.END_IDLE, idle
    if state.position >= state.total:
        return Next.END_DONE, idle
    return Next.ASK, idle


def after_unseen(state: RoundState) -> tuple[Next, int]:
    """What follows a question whose time ran out before anyone was shown it (its post never
    reached the chat): it is asked again with a fresh clock, and counts as a question nobody
    answered, so a chat that cannot be reached ends the round as an idle one does."""
    idle = state.idle_questions + 1
    if idle >= IDLE_QUESTIONS_TO_STOP and not state.solo:
        return Next.END_IDLE, idle
    return Next.ASK_AGAIN, idle


def options_ruled_out(question: Question, level: int, salt: int) -> list[int]:
    """The wrong options a multiple-choice hint of `level` rules out (one per hint, never all
    of them): the same for every player of the question, since `salt` (the question's id)
    decides. Showing the answer's letters would pick out the one option that has them."""
    if not question.is_multiple_choice or question.correct_option is None:
        return []
    wrong = [i for i in range(len(question.options)) if i != question.correct_option]
    random.Random(salt).shuffle(wrong)
    keep = 1  # at least one wrong option stays: a hint never gives the answer away
    return sorted(wrong[: max(0, min(level, len(wrong) - keep))])


def hint_text(answer: str, level: int) -> str:
    """Reveal the first letters (characters, for Chinese) of each word, keeping lengths.

    Level 1 shows one letter of each word, level 2 about a third of each word. Spaces,
    hyphens and digits-free punctuation stay visible so the shape of the answer shows.
    """
    level = max(1, min(level, MAX_HINTS))
    words = answer.split(" ")
    shown_words = []
    for word in words:
        letters = [c for c in word if c.isalnum()]
        reveal = 1 if level == 1 else max(1, -(-len(letters) // 3))
        if len(letters) <= 1:
            reveal = 0 if level == 1 and len(words) == 1 else len(letters)
        out, seen = [], 0
        for c in word:
            if c.isalnum():
                out.append(c if seen < reveal else "_")
                seen += 1
            else:
                out.append(c)
        shown_words.append("".join(out))
    return " ".join(shown_words)


def ranking_key(player: PlayerState) -> tuple:
    """Deterministic order for round tables: points, right answers, then who started earlier."""
    started = player.first_answer_at.timestamp() if player.first_answer_at else float("inf")
    return (-player.points, -player.correct, started, player.user_id)
