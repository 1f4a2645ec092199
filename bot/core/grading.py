"""Grade a typed (or picked) answer the way a fair human marker would.

What counts as right (the accepted names):

* The question's own accepted forms (`Question.answer`, `Question.accepted`).
* One bilingual rule, applied everywhere: every name (term or alias) of the entry the answer
  names, and of that entry's translation twins (`links.translations`, listed on either side),
  whatever their language. For most questions that entry is the question's entry; for a
  fill-in-the-blank on another glossary term inside a sentence (the accepted forms are that
  term's names) it is that term's entry, and the question's own entry, shown in the prompt,
  stays wrong. A translation question accepts the twins' names, never the prompt's term. An
  answer that is not a glossary name (a gist, a plain word) has no twins.
  `Grader.accepted_names(question)` lists these names.

Order of checks, first hit wins:

1. invalid: empty/whitespace ("empty"), longer than MAX_ANSWER_CHARS ("too_long"), no letter or
   digit at all, e.g. emoji or control characters only ("no_text").
2. "exact": the answer itself, ignoring surrounding space and case; "alias" for another accepted
   name typed as written.
3. "normalised" (the answer) or "alias" (another accepted name): equal after normalising width,
   quotes, punctuation, hyphens/spaces, an English plural ("ＤＲＯＰＯＵＴ", "fine tuning") and
   Traditional -> Simplified Chinese, both character by character (損失函數) and phrase by phrase
   with Taiwan vocabulary (OpenCC tw2sp: 生成對抗網路 -> 生成对抗网络, 演算法 -> 算法), on the
   answer and on the names alike, so a glossary written in Taiwan usage works as well.
   From here on, an answer that is another glossary entry's name (not of the accepted concept) is
   wrong: a near miss or a rival (无监督学习 for 半监督学习, "Exploding gradient" for "Gradient").
4. Same "normalised"/"alias" verdict for two forms a teacher reads as the same name:
   a. A Chinese name plus a generic head noun (算法, 方法, 技术, 法): 反向传播算法, 梯度下降法 -
      only when the entry names a method (its curated kind is "method", else its twins' are;
      with no kind, its clue, gist or definition calls it a 方法/算法/技术), the name does not
      end in a head already (丢弃法算法), and the head does not bind to the name's end to make
      another word: another glossary name across the join (超参数优化 + 算法 holds 优化算法) or a
      common 法 word (语 + 法). 损失函数算法 (not a method) and 强化学习算法 stay wrong.
   b. An English multi-word name whose last word names an action ("Fine-tuning",
      "Pre-training") typed with another inflection of that word: "fine tuned", "fine-tune",
      "pre trained" (Snowball stem, inflections only: s, es, ed, ing; never a derivation such as
      normal/normalization). Other words must match; extra words stay wrong ("fine-tuned
      model"), and a form that is as much another name's inflection is refused.
5. "typo": a close spelling of a Latin-script accepted name, in proportion to its length and per
   word: digits must match, adding or removing a prefix such as "un" is never a typo, words of 4
   characters or fewer get no tolerance ("T5", "EOS", "loss" for "Boss")... except one: in a name
   of two or more words, one edit in one short word (3-4 letters, not an abbreviation or code
   such as "EOS"/"ReLU", not a negation) is a typo when every other word matches exactly ("lose
   function" for "Loss function"; "EOT token" stays wrong). Chinese gets no typo tolerance: one
   different character usually makes a different term (半监督学习 / 无监督学习), and input methods
   produce whole words, so T/S conversion and aliases cover the honest slips.
   A typo is refused when another glossary name is at least as close as the answer ("chir" may be
   "chair" unless the glossary also has something closer).
6. "in_sentence": the answer wrapped in filler words only ("I think it's dropout",
   "答案是损失函数", "是损失函数吧"); anything else around it ("not dropout", "exploding gradient",
   "不是损失函数", "fine-tuned model") keeps it wrong. The core is then matched as in 2-5 (a typo
   stays "typo").
7. "wrong".

`grade` never raises: unexpected input is reported as invalid ("unreadable") and logged.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from bot.content.model import Entry, Glossary, Question, QuestionType
from bot.content.text import has_cjk, key, normalise, singular_key, strip_invisible
from bot.core.grading_rules import (
    NEGATIONS,
    describes_method,
    generic_head,
    is_acronym,
    is_action_word,
    same_inflection,
    taiwan_to_mainland,
    variant_keys,
)

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


@dataclass(frozen=True, slots=True)
class _Target:
    """What a question accepts: its forms (the question's own first), who owns each form, and
    the ids of the accepted concept (the answer's entry and its translation twins)."""

    forms: tuple[str, ...]
    keys: tuple[frozenset[str], ...]
    owners: tuple[Entry | None, ...]
    answer_keys: frozenset[str]
    concept: frozenset[str]

    def how(self, form_keys: frozenset[str]) -> str:
        return "normalised" if form_keys & self.answer_keys else "alias"


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


def _written_words(text: str) -> list[str]:
    """The words of `text` split as `_words` splits them, with their case kept ("EOS", "ReLU")."""
    text = unicodedata.normalize("NFKC", strip_invisible(text))
    out = []
    for ch in text:
        if ch in "'‘’‚‛′`´":
            continue
        out.append(" " if unicodedata.category(ch)[0] in "PSZ" else ch)
    return "".join(out).split()


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _short_word_slip(target: str, gw: list[str], tw: list[str], i: int) -> bool:
    """True when word `i` of a multi-word name is a short word typed with one edit and every
    other word matches exactly ("lose function" for "Loss function")."""
    a, b = gw[i], tw[i]
    if len(tw) < 2 or len(b) < 3 or OSA.distance(a, b) != 1:
        return False
    if not (a.isascii() and a.isalpha() and b.isascii() and b.isalpha()):
        return False
    if a in NEGATIONS or b in NEGATIONS:
        return False
    written = _written_words(target)
    if len(written) != len(tw) or is_acronym(written[i]):
        return False  # "EOT token" is another token, not a slip of "EOS token"
    pairs = enumerate(zip(gw, tw, strict=True))
    return all(singular_key(x) == singular_key(y) for j, (x, y) in pairs if j != i)


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
        # Word by word, so a short word in a long name keeps zero tolerance ("EOT token"), but
        # for one edit in one short word when the rest matches exactly ("lose function").
        slips = [
            i
            for i, (a, b) in enumerate(zip(gw, tw, strict=True))
            if OSA.distance(a, b) > _allowed_edits(len(b))
        ]
        if len(slips) > 1 or (slips and not _short_word_slip(target, gw, tw, slips[0])):
            return None
    else:
        # Joined or split words ("back propagation through-time"): short words must be intact.
        if any(len(w) <= 4 and w not in g for w in tw):
            return None
    return total


def inflected_match(given: str, target: str) -> bool:
    """True when `given` is the multi-word name `target` with its last word, an action word,
    inflected otherwise ("fine tuned" for "Fine-tuning"); other words must match exactly."""
    if has_cjk(target) or has_cjk(given):
        return False
    tw = _words(target)
    if len(tw) < 2 or not is_action_word(tw[-1]):
        return False
    head = "".join(tw[:-1])
    g = key(given)
    if not g.startswith(head):
        return False
    rest = g[len(head) :]
    return rest != tw[-1] and same_inflection(rest, tw[-1])


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
        self._all_names: list[tuple[Entry, str, frozenset[str]]] = [
            (entry, name, variant_keys(name))
            for entry in glossary.entries
            for name in entry.names
            if name.strip()
        ]
        # Every comparison key of every name -> the ids of the entries holding it.
        self._by_key: dict[str, set[str]] = {}
        for entry, _name, keys in self._all_names:
            for k in keys:
                self._by_key.setdefault(k, set()).add(entry.id)
        # Translation twins, links recorded on either side.
        self._twins: dict[str, set[str]] = {e.id: set() for e in glossary.entries}
        for entry in glossary.entries:
            for other in entry.translations:
                if other != entry.id and other in self._twins:
                    self._twins[entry.id].add(other)
                    self._twins[other].add(entry.id)
        self._method: dict[str, bool] = {}

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

    def accepted_names(self, question: Question) -> tuple[str, ...]:
        """Every name a typed answer to `question` may be (before normalisation and typos)."""
        return self._target(question).forms

    # --- the accepted concept -------------------------------------------------------------

    def _owners(self, names: Iterable[str]) -> set[str]:
        """Ids of the entries holding any of `names` (compared by key)."""
        ids: set[str] = set()
        for name in names:
            for k in variant_keys(name):
                ids |= self._by_key.get(k, set())
        return ids

    def _concept(self, question: Question, own_forms: list[str]) -> set[str]:
        """Ids of the entries whose names answer `question` (see the module docstring)."""
        own = self.glossary.get(question.entry_id)
        if question.type == QuestionType.TERM_TO_DEFINITION:
            return set()  # the answer is a gist: the term is shown, and no name is right
        if question.type == QuestionType.TRANSLATION:
            return set(self._twins.get(own.id, ())) if own is not None else set()
        holders = self._owners(own_forms)
        if own is not None and own.id in holders:
            answer_ids = {own.id}
        else:
            answer_ids = holders
        concept = set(answer_ids)
        for entry_id in answer_ids:
            concept |= self._twins.get(entry_id, set())
        if own is not None and own.id not in answer_ids:
            concept.discard(own.id)  # a cloze on another term: its own entry is in the prompt
        return concept

    def _target(self, question: Question) -> _Target:
        own_forms = [
            f for f in dict.fromkeys([question.answer, *question.accepted]) if f and f.strip()
        ]
        concept = self._concept(question, own_forms)
        entries = [self.glossary.by_id[i] for i in sorted(concept) if i in self.glossary.by_id]
        # The question's forms first, then the answer's entry, then its twins.
        entries.sort(key=lambda e: (e.id != question.entry_id, e.lang != question.lang))
        forms: list[str] = list(own_forms)
        owners: list[Entry | None] = []
        for form in own_forms:
            fkeys = variant_keys(form)
            owner = next(
                (e for e in entries if any(variant_keys(n) & fkeys for n in e.names)), None
            )
            owners.append(owner)
        seen = set(forms)
        for entry in entries:
            for name in entry.names:
                if name.strip() and name not in seen:
                    seen.add(name)
                    forms.append(name)
                    owners.append(entry)
        return _Target(
            forms=tuple(forms),
            keys=tuple(variant_keys(f) for f in forms),
            owners=tuple(owners),
            answer_keys=variant_keys(question.answer) if question.answer else frozenset(),
            concept=frozenset(concept),
        )

    def _is_method(self, entry: Entry) -> bool:
        if entry.id not in self._method:
            kinds = [entry.kind] + [
                self.glossary.by_id[i].kind
                for i in sorted(self._twins.get(entry.id, ()))
                if i in self.glossary.by_id
            ]
            self._method[entry.id] = describes_method(entry, kinds)
        return self._method[entry.id]

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

        target = self._target(question)
        for form in target.forms:
            if visible.casefold() == form.strip().casefold():
                return Grade(True, "exact" if form == question.answer else "alias", matched=form)

        found = self._match(target, visible)
        if found is not None:
            return found
        # Filler is stripped from the character-converted text and from the Taiwan-converted one
        # (我覺得是生成對抗網路 -> 生成对抗网络).
        cores: list[str] = []
        for view in dict.fromkeys([norm, normalise(taiwan_to_mainland(visible))]):
            core = _strip_filler(view)
            if core and core != view and core not in cores:
                cores.append(core)
        for core in cores:
            found = self._match(target, core)
            if found is not None and found.how != "typo":
                return Grade(True, "in_sentence", matched=found.matched)
            if found is not None:
                return found
        return WRONG

    def _match(self, target: _Target, given: str) -> Grade | None:
        """Normalised, generic-head, inflected or typo match of `given`, else None."""
        given_keys = variant_keys(given)
        for form, form_keys in zip(target.forms, target.keys, strict=True):
            if given_keys & form_keys:
                return Grade(True, target.how(given_keys), matched=form)
        if self._names_another_entry(target, given_keys):
            return None  # a near miss or a rival: another entry's name
        for matcher in (self._generic_head_match, self._inflected_match):
            found = matcher(target, given, given_keys)
            if found is not None:
                return found
        best: tuple[int, str] | None = None
        for form in target.forms:
            d = typo_distance(given, form)
            if d is not None and (best is None or d < best[0]):
                best = (d, form)
        if best is None:
            return None
        if self._closer_rival(target, given, best[0]):
            return None
        return Grade(True, "typo", matched=best[1])

    def _names_another_entry(self, target: _Target, given_keys: frozenset[str]) -> bool:
        return any(
            entry_id not in target.concept
            for k in given_keys
            for entry_id in self._by_key.get(k, ())
        )

    def _generic_head_match(
        self, target: _Target, given: str, given_keys: frozenset[str]
    ) -> Grade | None:
        """反向传播算法 for 反向传播: a method's Chinese name plus a generic head noun."""
        for gkey in given_keys:
            for base, _head in generic_head(gkey):
                for form, form_keys, owner in zip(
                    target.forms, target.keys, target.owners, strict=True
                ):
                    if owner is None or base not in form_keys or not self._is_method(owner):
                        continue
                    if self._other_name_across(target, gkey, len(base)):
                        return None
                    return Grade(True, target.how(form_keys), matched=form)
        return None

    def _other_name_across(self, target: _Target, text_key: str, join: int) -> bool:
        """True when another entry's Chinese name spans the join of name and head in `text_key`
        (超参数优化|算法 holds 优化算法): the head then makes another word with the name's end."""
        for entry, _name, keys in self._all_names:
            if entry.id in target.concept:
                continue
            for k in keys:
                if not has_cjk(k) or len(k) < 2:
                    continue
                start = text_key.find(k)
                while start != -1:
                    if start < join < start + len(k):
                        return True
                    start = text_key.find(k, start + 1)
        return False

    def _inflected_match(
        self, target: _Target, given: str, given_keys: frozenset[str]
    ) -> Grade | None:
        """ "fine tuned" for "Fine-tuning": the last (action) word otherwise inflected."""
        for form, form_keys in zip(target.forms, target.keys, strict=True):
            if not inflected_match(given, form):
                continue
            for entry, name, _keys in self._all_names:
                if entry.id not in target.concept and inflected_match(given, name):
                    return None  # as much an inflection of another entry's name
            return Grade(True, target.how(form_keys), matched=form)
        return None

    def _closer_rival(self, target: _Target, given: str, distance: int) -> bool:
        """True when another entry's name is at least as close to `given` as the answer."""
        accepted_keys = frozenset().union(*target.keys) if target.keys else frozenset()
        given_key = singular_key(given)
        for entry, _name, name_keys in self._all_names:
            if entry.id in target.concept or name_keys & accepted_keys:
                continue
            if given_key in name_keys:
                return True
            for name_key in name_keys:
                if has_cjk(name_key):
                    continue
                if OSA.distance(given_key, name_key, score_cutoff=distance) <= distance:
                    return True
        return False


__all__ = [
    "FILLER_EN",
    "MAX_ANSWER_CHARS",
    "Grade",
    "Grader",
    "inflected_match",
    "typo_distance",
]
