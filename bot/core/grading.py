"""Grade a typed (or picked) answer the way a fair human marker would.

Order of checks, first hit wins:

1. invalid: empty/whitespace ("empty"), longer than MAX_ANSWER_CHARS ("too_long"), no letter or
   digit at all, e.g. emoji or control characters only ("no_text").
2. "exact": the answer itself, ignoring surrounding space and case.
3. "alias": another accepted form (an alias), ignoring case, or after normalisation.
4. "normalised": equal after normalising width, quotes, punctuation, hyphens/spaces,
   Traditional -> Simplified Chinese and an English plural ("ＤＲＯＰＯＵＴ", "fine tuning").
5. "typo": a close spelling of a Latin-script accepted form, in proportion to its length and
   per word: no tolerance for words of 4 characters or fewer ("T5", "EOS"), digits must match,
   adding or removing a prefix such as "un" is never a typo. Chinese gets no typo tolerance: one
   different character usually makes a different term (半监督学习 / 无监督学习), and input methods
   produce whole words, so T/S conversion and aliases cover the honest slips.
   A typo is refused when another glossary name is at least as close as the answer ("chir" may be
   "chair" unless the glossary also has something closer).
6. "in_sentence": the answer wrapped in filler words only ("I think it's dropout",
   "答案是损失函数", "是损失函数吧"); anything else around it ("not dropout", "exploding gradient",
   "不是损失函数") keeps it wrong. The core is then matched as in 2-5 (a typo stays "typo").
7. "wrong".

`grade` never raises: unexpected input is reported as invalid ("unreadable") and logged.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from bot.content.model import Entry, Glossary, Question
from bot.content.text import has_cjk, normalise, singular_key, strip_invisible

log = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 200

# Words a learner wraps an answer in. Only these may surround an in-sentence answer.
FILLER_EN = frozenset(
    """i im ive id me my think thought believe guess suppose assume reckon feel its it is was this
    that thats the a an answer answers final term word called correct right must should would
    could be say said maybe probably perhaps possibly surely sure pretty definitely certainly
    likely hmm hm um umm uh er erm ok okay well so then yes yeah yep of course go with lets
    obviously clearly""".split()
)
# Chinese filler, longest first so "我觉得是" is removed before "是".
_FILLER_ZH_PREFIX = sorted(
    """我觉得是 我觉得 我认为是 我认为 我猜是 我猜 我想是 应该是 应该 可能是 可能 大概是 大概
    也许是 也许 答案是 答案应该是 答案 就是 是 嗯 呃 额 选""".split(),
    key=len,
    reverse=True,
)
_FILLER_ZH_SUFFIX = sorted("吧 呢 吗 啊 呀 嘛 了 啦 吧我猜 对吧".split(), key=len, reverse=True)


@dataclass(frozen=True, slots=True)
class Grade:
    correct: bool
    how: str  # exact | alias | normalised | typo | in_sentence | wrong | invalid
    matched: str | None = None  # the accepted form the answer matched
    reason: str | None = None  # for invalid: empty | too_long | no_text | out_of_range


WRONG = Grade(False, "wrong")


def _allowed_edits(length: int) -> int:
    """Typos tolerated in a word or name of `length` characters."""
    if length <= 4:
        return 0
    if length <= 7:
        return 1
    if length <= 12:
        return 2
    return 3


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s_]+", normalise(text)) if w]


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def typo_distance(given: str, target: str) -> int | None:
    """Edits from `given` to `target` when they count as a typo, else None (for Latin text)."""
    g, t = singular_key(given), singular_key(target)
    if not g or not t or has_cjk(g) or has_cjk(t):
        return None
    if g == t:
        return 0
    if _digits(g) != _digits(t):
        return None
    # A whole prefix/suffix added or dropped is a different word ("unsupervised"/"supervised").
    if len(g) != len(t) and abs(len(g) - len(t)) >= 2 and (g in t or t in g):
        return None
    total = OSA.distance(g, t)
    if total > _allowed_edits(len(t)):
        return None
    gw, tw = _words(given), _words(target)
    if len(gw) == len(tw):
        # Word by word, so a short word in a long name keeps zero tolerance ("EOT token").
        for a, b in zip(gw, tw, strict=True):
            if OSA.distance(a, b) > _allowed_edits(len(b)):
                return None
    else:
        # Joined or split words ("back propagation through-time"): short words must be intact.
        if any(len(w) <= 4 and w not in g for w in tw):
            return None
    return total


def _strip_filler(norm: str) -> str:
    """The core of a normalised answer once filler words are removed from both ends."""
    words = norm.split()
    while words and words[0] in FILLER_EN:
        words.pop(0)
    while words and words[-1] in FILLER_EN:
        words.pop()
    core = " ".join(words)
    changed = True
    while changed and core:
        changed = False
        for prefix in _FILLER_ZH_PREFIX:
            if core.startswith(prefix) and len(core) > len(prefix):
                core, changed = core[len(prefix) :].strip(), True
                break
        for suffix in _FILLER_ZH_SUFFIX:
            if core.endswith(suffix) and len(core) > len(suffix):
                core, changed = core[: -len(suffix)].strip(), True
                break
        if changed:
            words = core.split()
            while words and words[0] in FILLER_EN:
                words.pop(0)
            while words and words[-1] in FILLER_EN:
                words.pop()
            core = " ".join(words)
    return core


class Grader:
    def __init__(self, glossary: Glossary) -> None:
        self.glossary = glossary
        self._all_names: list[tuple[Entry, str, str]] = [
            (entry, name, singular_key(name))
            for entry in glossary.entries
            for name in entry.names
            if name.strip()
        ]

    # --- public ---------------------------------------------------------------------------

    def grade(self, question: Question, text: str) -> Grade:
        """Judge a typed answer. Never raises."""
        try:
            return self._grade(question, text)
        except Exception:  # a quiz must survive any input; the log tells us what to fix
            log.exception("grading failed for %r", text[:100] if isinstance(text, str) else text)
            return Grade(False, "invalid", reason="unreadable")

    def grade_option(self, question: Question, index: int) -> Grade:
        """Judge a picked option (0-based)."""
        if (
            isinstance(index, bool)
            or not isinstance(index, int)
            or not question.options
            or not 0 <= index < len(question.options)
        ):
            return Grade(False, "invalid", reason="out_of_range")
        if index == question.correct_option:
            return Grade(True, "exact", matched=question.options[index])
        return WRONG

    # --- internals ------------------------------------------------------------------------

    def _grade(self, question: Question, text: str) -> Grade:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        if not text.strip():
            return Grade(False, "invalid", reason="empty")
        visible = strip_invisible(text).strip()
        if len(visible) > MAX_ANSWER_CHARS:
            return Grade(False, "invalid", reason="too_long")
        if not any(ch.isalnum() for ch in visible):
            return Grade(False, "invalid", reason="no_text")

        norm = normalise(visible)
        if question.options and re.fullmatch(r"\d{1,2}", norm):
            return self.grade_option(question, int(norm) - 1)  # "2" picks the second option

        accepted = list(dict.fromkeys([question.answer, *question.accepted]))
        for form in accepted:
            if visible.casefold() == form.strip().casefold():
                return Grade(True, "exact" if form == question.answer else "alias", matched=form)

        found = self._match(question, accepted, visible)
        if found is not None:
            return found
        core = _strip_filler(norm)
        if core and core != norm:
            found = self._match(question, accepted, core)
            if found is not None and found.how != "typo":
                return Grade(True, "in_sentence", matched=found.matched)
            if found is not None:
                return found
        return WRONG

    def _match(self, question: Question, accepted: list[str], given: str) -> Grade | None:
        """Normalised or typo match of `given` against the accepted forms, else None."""
        given_key = singular_key(given)
        for form in accepted:
            if singular_key(form) == given_key:
                how = "normalised" if singular_key(question.answer) == given_key else "alias"
                return Grade(True, how, matched=form)
        best: tuple[int, str] | None = None
        for form in accepted:
            d = typo_distance(given, form)
            if d is not None and (best is None or d < best[0]):
                best = (d, form)
        if best is None:
            return None
        if self._closer_rival(question, accepted, given, best[0]):
            return None
        return Grade(True, "typo", matched=best[1])

    def _closer_rival(
        self, question: Question, accepted: list[str], given: str, distance: int
    ) -> bool:
        """True when another entry's name is at least as close to `given` as the answer."""
        own = self.glossary.get(question.entry_id)
        same_concept = {question.entry_id}
        if own is not None:
            same_concept |= set(own.translations)
            same_concept |= {e.id for e in self.glossary.entries if own.id in e.translations}
        accepted_keys = {singular_key(a) for a in accepted}
        given_key = singular_key(given)
        for entry, _name, name_key in self._all_names:
            if entry.id in same_concept or name_key in accepted_keys:
                continue
            if name_key == given_key:
                return True
            if has_cjk(name_key):
                continue
            if OSA.distance(given_key, name_key, score_cutoff=distance) <= distance:
                return True
        return False


__all__ = ["FILLER_EN", "MAX_ANSWER_CHARS", "Grade", "Grader", "typo_distance"]
