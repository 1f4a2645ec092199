"""Turn glossary entries into questions a teacher would sign off.

Each question keeps these rules, or is not made for that entry (`make` returns None):

* The clue gives nothing away: not the term, an alias, its translation twin, nor a part of any
  of them (a component word or its inflections, an abbreviation's expansion, another glossary
  name inside the term, a Chinese morpheme; see `bot.content.leaks`). In multiple choice a part
  that a wrong option shows too points at no option and may stay.
* One defensible answer: wrong options are of the answer's kind (`Entry.kind`, or inferred), in
  its language and script, of similar length, and never the answer's twin, an entry whose names
  overlap the answer's, one the curator marked confusable (`related`), one whose definition
  overlaps the answer's, one shown in the clue, nor one whose definition names the answer.
* A clue that stands alone: the curated defining phrase (`Entry.clue`), or else the
  definition's first sentence when it is short enough whole, never cut mid-clause and never
  opening on a pronoun.
* A blank worth filling: a fill-in blanks the term at most twice; a cloze blanks another
  glossary term or a keyword the curator marked, never a plain word, at most twice.
* An explanation that teaches: one whole sentence ("Dropout is a regularization technique ...").
* Platform limits: prompt <= 300, option <= 100, explanation <= 200 characters.

All randomness comes from one `random.Random(seed)`, so a seed reproduces a whole sequence of calls.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable

from bot.content.kinds import infer_kind
from bot.content.leaks import GENERIC_EN, GENERIC_ZH, Parts
from bot.content.model import LANGUAGES, Entry, Glossary, Question, QuestionType
from bot.content.text import (
    BLANK,
    ELLIPSIS,
    first_sentence,
    has_cjk,
    is_cjk,
    key,
    mask,
    mentions,
    name_regex,
    normalise,
    split_sentences,
    strip_noise,
)

PROMPT_LIMIT = 300
OPTION_LIMIT = 100
EXPLANATION_LIMIT = 200
CLUE_LIMIT = {"en": 240, "zh": 120}  # a longer clue is a wall of text, not a clue
DISTRACTORS = 3
MIN_DISTRACTORS = 2  # fewer, and a multiple-choice question is a coin toss: not made
SHORTLIST = 6  # distractors are drawn from this many best-ranked candidates
MAX_BLANKS = 2
RIVAL_SIMILARITY = 0.45  # definitions this alike describe rivals, not distractors
LENGTH_RATIO = 2.5  # an option this much longer or shorter than the right one stands out
COMMONPLACE_SHARE = 0.2  # a term named in more of its language's definitions is no blank
COMMONPLACE = GENERIC_EN | set(GENERIC_ZH) | {"层", "参数", "parameter", "parameters"}

_T = QuestionType
LEADS: dict[tuple[QuestionType, str], str] = {
    (_T.DEFINITION_TO_TERM, "en"): "Which term is described here?\n{clue}",
    (_T.DEFINITION_TO_TERM, "zh"): "下面描述的是哪个术语？\n{clue}",
    (_T.TERM_TO_DEFINITION, "en"): 'What does "{term}" mean?',
    (_T.TERM_TO_DEFINITION, "zh"): "“{term}”是什么意思？",
    (_T.FILL_IN, "en"): "Type the missing term:\n{clue}",
    (_T.FILL_IN, "zh"): "请填写空缺的术语：\n{clue}",
    (_T.CLOZE, "en"): "Fill in the blank:\n{clue}",
    (_T.CLOZE, "zh"): "请填空：\n{clue}",
    (_T.TRANSLATION, "en"): 'Which Chinese term means "{term}"?',
    (_T.TRANSLATION, "zh"): "“{term}”对应的英文术语是哪个？",
}
_IS = {"en": " is ", "zh": "是"}
_STOP = {"en": ".", "zh": "。"}
_TRANSLATED = {
    "en": "{term} is {twin} in Chinese.",
    "zh": "“{term}”的英文是 {twin}。",
}
# A clue must not lean on something said before it.
_PRONOUN_START = re.compile(
    r"^(?:it|its|this|these|they|their|those|such|he|she)\b|^(?:它|其|这|该|他|她)"
)
_STOP_WORDS = set(
    """a about after all also an and any are as at be because been being between both but by can
    could do does each for from had has have how if in into is it its may more most much must no
    not of on once one only or other our out over own per same should so some such than that the
    their them then there these they this those through to too under until up upon us used uses
    using very via was we were what when where which while who why will with within without would
    you your""".split()
)


def _tokens(text: str) -> list[str]:
    """Words for similarity: English content words, Chinese character bigrams."""
    norm = normalise(text)
    out = [w for w in re.findall(r"[a-z][a-z0-9]{2,}", norm) if w not in _STOP_WORDS]
    for run in re.findall(r"[\u3400-\u9fff]+", norm):
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


class _Similarity:
    """TF-IDF cosine over definitions and gists (no dependency needed for a few hundred)."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        docs = {e.id: Counter(_tokens(f"{e.gist} {e.clue} {e.definition}")) for e in entries}
        df = Counter(tok for counts in docs.values() for tok in counts)
        n = max(len(docs), 1)
        idf = {tok: math.log((1 + n) / (1 + d)) + 1 for tok, d in df.items()}
        self.vectors: dict[str, dict[str, float]] = {}
        for entry_id, counts in docs.items():
            vec = {tok: (1 + math.log(c)) * idf[tok] for tok, c in counts.items()}
            norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
            self.vectors[entry_id] = {tok: v / norm for tok, v in vec.items()}

    def cosine(self, a: str, b: str) -> float:
        va, vb = self.vectors.get(a, {}), self.vectors.get(b, {})
        if len(va) > len(vb):
            va, vb = vb, va
        return sum(v * vb.get(tok, 0.0) for tok, v in va.items())


def _noisy(text: str) -> bool:
    return bool(re.search(r"\[\s*\d+\s*\]|阅读全文|»|https?:|www\.", text))


def script_of(text: str) -> str:
    """ "zh" for text with Chinese characters, "latin" otherwise: options share one script."""
    return "zh" if has_cjk(text) else "latin"


def as_sentence(lang: str, text: str) -> str:
    """A phrase as a sentence: capitalised, with its full stop."""
    text = text.strip()
    if not text:
        return text
    if lang == "en":
        text = text[0].upper() + text[1:]
    if text[-1] not in ".!?。！？":
        text += _STOP[lang]
    return text


def _lower_first(text: str) -> str:
    """ "A regularization ..." -> "a regularization ..." (but "ReLU", "CNN" stay)."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


class QuestionGenerator:
    def __init__(self, glossary: Glossary, seed: int | None = None) -> None:
        self.glossary = glossary
        self.rng = random.Random(seed)
        self.parts = Parts(glossary)
        self._similarity = _Similarity(glossary.entries)
        self._by_lang = {lang: glossary.in_lang(lang) for lang in LANGUAGES}
        self._kinds = {e.id: e.kind or infer_kind(e) for e in glossary.entries}
        self._twins_cache: dict[str, tuple[Entry, ...]] = {}
        self._clash_cache: dict[tuple[str, str], bool] = {}
        self._commonplace_cache: dict[str, bool] = {}
        self._all_names = {
            lang: tuple({n for e in entries for n in e.names})
            for lang, entries in self._by_lang.items()
        }

    # --- public ---------------------------------------------------------------------------

    def generate(
        self,
        count: int,
        *,
        lang: str = "mixed",
        types: Collection[QuestionType | str] | None = None,
        topics: Collection[str] | None = None,
        exclude: Collection[str] = (),
        avoid: Collection[str] = (),
    ) -> list[Question]:
        """Up to `count` questions, each about a different entry.

        `exclude`: entry ids never used. `avoid`: recently asked ids, used only when nothing else
        remains. An entry whose twin is already in the round is also held back until the rest is
        used up. Fewer than `count` questions only when the pool is exhausted.
        """
        if lang not in ("mixed", *LANGUAGES):
            raise ValueError(f"unknown language {lang!r}")
        wanted = [t for t in QuestionType if types is None or t in {QuestionType(x) for x in types}]
        if count <= 0 or not wanted:
            return []
        excluded, avoided = set(exclude), set(avoid)
        topic_set = {t.casefold() for t in topics} if topics else None
        pool = [
            e
            for e in self.glossary.entries
            if (lang == "mixed" or e.lang == lang)
            and e.id not in excluded
            and (topic_set is None or topic_set & {t.casefold() for t in e.tags})
        ]
        fresh = [e for e in pool if e.id not in avoided]
        stale = [e for e in pool if e.id in avoided]
        self.rng.shuffle(fresh)
        self.rng.shuffle(stale)

        questions: list[Question] = []
        used: set[str] = set()
        for tier in (fresh, stale):
            held_back: list[Entry] = []
            for entry in tier:
                if len(questions) >= count:
                    return questions
                if any(t.id in used for t in self._twins(entry)):
                    held_back.append(entry)
                    continue
                self._ask(entry, wanted, questions, used)
            for entry in held_back:
                if len(questions) >= count:
                    return questions
                self._ask(entry, wanted, questions, used)
        return questions

    def make(self, entry: Entry, qtype: QuestionType | str) -> Question | None:
        """One question of `qtype` about `entry`, or None when no good one can be made."""
        qtype = QuestionType(qtype)
        builder = {
            _T.DEFINITION_TO_TERM: self._def_term,
            _T.TERM_TO_DEFINITION: self._term_def,
            _T.FILL_IN: self._fill,
            _T.CLOZE: self._cloze,
            _T.TRANSLATION: self._translate,
        }[qtype]
        if entry.lang not in LANGUAGES:
            return None
        question = builder(entry)
        return question if question is not None and self._acceptable(question) else None

    def kind_of(self, entry: Entry) -> str:
        return self._kinds.get(entry.id, "")

    # --- relations between entries ---------------------------------------------------------

    def _twins(self, entry: Entry) -> tuple[Entry, ...]:
        """Other-language entries of the same concept (links may be recorded on either side)."""
        if entry.id not in self._twins_cache:
            self._twins_cache[entry.id] = tuple(self.parts.twins(entry))
        return self._twins_cache[entry.id]

    def _concept_names(self, entry: Entry) -> tuple[str, ...]:
        """Every name of the concept in both languages."""
        return self.parts.names(entry)

    def _names_overlap(self, a: Entry, b: Entry) -> bool:
        """True when a name of one is, or contains as a whole word/phrase, a name of the other."""
        names_a, names_b = self._concept_names(a), self._concept_names(b)
        return any(
            key(x) == key(y) or mentions(x, [y], inflect=False) or mentions(y, [x], inflect=False)
            for x in names_a
            for y in names_b
        )

    def _clashes(self, answer: Entry, candidate: Entry) -> bool:
        """True when `candidate` could also be right (or is of another kind), so it must not be
        a wrong option against `answer`."""
        pair = (answer.id, candidate.id)
        if pair not in self._clash_cache:
            self._clash_cache[pair] = self._find_clash(answer, candidate)
        return self._clash_cache[pair]

    def _find_clash(self, answer: Entry, candidate: Entry) -> bool:
        if candidate.id == answer.id or candidate.lang != answer.lang:
            return True
        if any(t.id == candidate.id for t in self._twins(answer)):
            return True
        kinds = self.kind_of(answer), self.kind_of(candidate)
        if all(kinds) and kinds[0] != kinds[1]:
            return True
        if self._confusable(answer, candidate):
            return True
        if self._names_overlap(answer, candidate):
            return True
        # "X is a kind of <answer>": the clue of the general concept fits X as well.
        if mentions(first_sentence(candidate.definition), self._concept_names(answer)):
            return True
        return self._similarity.cosine(answer.id, candidate.id) > RIVAL_SIMILARITY

    def _confusable(self, a: Entry, b: Entry) -> bool:
        """Marked related by the curator, on either side or through a twin."""
        linked = {a.id, *(t.id for t in self._twins(a))}
        other = {b.id, *(t.id for t in self._twins(b))}
        for x in linked:
            entry = self.glossary.get(x)
            if entry is not None and other & set(entry.related):
                return True
        for y in other:
            entry = self.glossary.get(y)
            if entry is not None and linked & set(entry.related):
                return True
        return False

    def _ranked_candidates(self, answer: Entry) -> list[Entry]:
        """Wrong options that cannot be defended, most plausible first (deterministic order):
        sharing topics, and alike but not too alike."""
        scored = []
        answer_tags = {t.casefold() for t in answer.tags}
        for cand in self._by_lang.get(answer.lang, []):
            if self._clashes(answer, cand):
                continue
            tags = {t.casefold() for t in cand.tags}
            shared = len(answer_tags & tags) / len(answer_tags | tags) if answer_tags | tags else 0
            score = 2.0 * shared + self._similarity.cosine(answer.id, cand.id)
            scored.append((-score, cand.id, cand))
        scored.sort(key=lambda t: (t[0], t[1]))
        return [c for _, _, c in scored]

    def _pick_options(
        self,
        answer: Entry,
        right: str,
        option_of: Callable[[Entry], str | None],
        *,
        shown: str = "",
        candidates: list[Entry] | None = None,
        similar_length: bool = False,
    ) -> tuple[tuple[str, ...], int] | None:
        """Shuffled options: `right` plus up to three wrong ones, or None when fewer than two
        fit. `option_of(entry)` gives a candidate's option text, or None when it cannot be
        shown. `shown`: the clue, whose visible parts of the answer a wrong option must share
        (or they would point at the right one) and whose named entries are no options.
        `similar_length`: options of about the right one's length only (descriptions: a much
        longer one stands out; names vary in length by nature)."""
        ranked = candidates if candidates is not None else self._ranked_candidates(answer)
        shortlist = ranked[:SHORTLIST]
        self.rng.shuffle(shortlist)
        order = shortlist + ranked[SHORTLIST:]
        must_share = self._clang(shown, answer) if shown else set()
        if must_share:  # the options that show those parts too come first
            order.sort(key=lambda c: not self._shows_part(option_of(c), answer, must_share))
        options, seen = [right], {key(right)}
        script = script_of(right)
        for cand in order:
            if len(options) > DISTRACTORS:
                break
            if shown and mentions(shown, cand.names):
                continue
            text = option_of(cand)
            if not text or key(text) in seen or script_of(text) != script:
                continue
            if similar_length and not 1 / LENGTH_RATIO <= len(text) / len(right) <= LENGTH_RATIO:
                continue
            options.append(text)
            seen.add(key(text))
        if len(options) < 1 + MIN_DISTRACTORS:
            return None
        for part in must_share:
            if not any(self._shows_part(o, answer, {part}) for o in options[1:]):
                return None
        self.rng.shuffle(options)
        return tuple(options), options.index(right)

    def _shows_part(self, text: str | None, answer: Entry, parts: set[str]) -> bool:
        return bool(text) and bool(self._clang(text, answer) & parts)

    def _clang(self, text: str, answer: Entry) -> set[str]:
        """What of the answer's names `text` shows: its recognisable parts, and any word of
        its names (in multiple choice, one the right option alone shares with the clue gives
        it away)."""
        return self.parts.visible(text, answer) | self.parts.shared_words(text, answer)

    # --- clues and sentences ---------------------------------------------------------------

    def _lead(self, qtype: QuestionType, lang: str, **fields: str) -> str:
        return LEADS[(qtype, lang)].format(**fields)

    def _clue(self, entry: Entry) -> str | None:
        """The phrase that defines the entry without naming it: the curated clue, or the
        definition's first sentence with the names masked, when it stands alone whole."""
        if entry.clue:
            return entry.clue
        sentence = first_sentence(strip_noise(entry.definition))
        masked = _neutral_article(mask(sentence, self._concept_names(entry)))
        if BLANK in masked or not self._stands_alone(entry.lang, masked):
            return None  # the definition names its term: not a clue (the fill-in uses it)
        return masked

    def _stands_alone(self, lang: str, text: str) -> bool:
        if not text or len(text) > CLUE_LIMIT[lang] or ELLIPSIS in text:
            return False
        if _PRONOUN_START.match(text.strip().lower()):
            return False
        return _content_chars(text) >= (15 if lang == "en" else 8)

    def _sentence(self, entry: Entry) -> str | None:
        """One sentence that says what the entry is, naming it: "Dropout is a ...", "A loss
        function is a function that ..."."""
        if entry.clue:
            subject = _subject(entry, entry.clue) if entry.lang == "en" else entry.term
            return as_sentence(entry.lang, f"{subject}{_IS[entry.lang]}{_lower_first(entry.clue)}")
        sentence = first_sentence(strip_noise(entry.definition))
        if not mentions(sentence, entry.names) or not self._stands_alone(entry.lang, sentence):
            return None
        return as_sentence(entry.lang, sentence)

    def _explanation(self, entry: Entry) -> str:
        """Why the answer is right, as one whole sentence."""
        sentence = self._sentence(entry)
        if sentence and len(sentence) <= EXPLANATION_LIMIT:
            return sentence
        gist = strip_noise(entry.gist)
        separator = ": " if entry.lang == "en" else "："
        return as_sentence(entry.lang, f"{entry.term}{separator}{gist}")

    # --- builders --------------------------------------------------------------------------

    def _def_term(self, entry: Entry) -> Question | None:
        clue = self._clue(entry)
        if clue is None:
            return None
        clue = as_sentence(entry.lang, clue)
        term = entry.term
        if len(term) > OPTION_LIMIT:
            return None
        picked = self._pick_options(
            entry, term, lambda c: c.term if len(c.term) <= OPTION_LIMIT else None, shown=clue
        )
        if picked is None:
            return None
        options, right = picked
        return Question(
            type=_T.DEFINITION_TO_TERM,
            lang=entry.lang,
            prompt=self._lead(_T.DEFINITION_TO_TERM, entry.lang, clue=clue),
            answer=options[right],
            accepted=entry.names,
            entry_id=entry.id,
            explanation=self._explanation(entry),
            options=options,
            correct_option=right,
        )

    def _gist_option(self, entry: Entry, avoid_names: tuple[str, ...]) -> str | None:
        """A gist fit to be an option: not naming its own term, nor the question's term."""
        gist = strip_noise(entry.gist)
        if not gist or len(gist) > OPTION_LIMIT:
            return None
        if mentions(gist, self._concept_names(entry)) or mentions(gist, avoid_names):
            return None
        return gist

    def _term_def(self, entry: Entry) -> Question | None:
        names = self._concept_names(entry)
        right = self._gist_option(entry, names)
        if right is None:
            return None
        # A word shared only by the term and the right gist would single it out: the wrong
        # options must show every part of the term that the right one shows.
        echoed = self._clang(right, entry)
        ranked = self._ranked_candidates(entry)
        if echoed:
            ranked.sort(
                key=lambda c: not self._shows_part(self._gist_option(c, names), entry, echoed)
            )
        picked = self._pick_options(
            entry,
            right,
            lambda c: self._gist_option(c, names),
            candidates=ranked,
            similar_length=True,
        )
        if picked is None:
            return None
        options, index = picked
        wrong = [o for i, o in enumerate(options) if i != index]
        if any(not any(self._shows_part(o, entry, {p}) for o in wrong) for p in echoed):
            return None
        return Question(
            type=_T.TERM_TO_DEFINITION,
            lang=entry.lang,
            prompt=self._lead(_T.TERM_TO_DEFINITION, entry.lang, term=entry.term),
            answer=options[index],
            accepted=(options[index],),
            entry_id=entry.id,
            explanation=self._explanation(entry),
            options=options,
            correct_option=index,
        )

    def _fill(self, entry: Entry) -> Question | None:
        if entry.clue:
            separator = ": " if entry.lang == "en" else "："
            clue = f"{BLANK}{separator}{as_sentence(entry.lang, entry.clue)}"
        else:
            sentence = first_sentence(strip_noise(entry.definition))
            if not self._stands_alone(entry.lang, sentence):
                return None
            clue = _neutral_article(mask(sentence, self._concept_names(entry)))
            if BLANK not in clue:
                # The definition does not name its term: the blank heads it instead.
                separator = ": " if entry.lang == "en" else "："
                clue = f"{BLANK}{separator}{clue}"
        if clue.count(BLANK) > MAX_BLANKS or _content_chars(clue) < 15:
            return None
        if self.parts.visible(clue, entry):
            return None  # a part of the term shows: typing it in needs no knowledge
        return Question(
            type=_T.FILL_IN,
            lang=entry.lang,
            prompt=self._lead(_T.FILL_IN, entry.lang, clue=clue),
            answer=entry.term,
            accepted=entry.names,
            entry_id=entry.id,
            explanation=self._explanation(entry),
        )

    def _cloze_keys(
        self, entry: Entry, text: str, *, terms: bool = True
    ) -> list[tuple[str, tuple[str, ...], Entry | None]]:
        """What is worth blanking in `text`: another glossary term named in it (with its
        entry), or a keyword the curator marked. Never a plain word: a learner could not tell
        which of many words is meant, and learns nothing by guessing it."""
        keys: list[tuple[str, tuple[str, ...], Entry | None]] = []
        for other in self._by_lang.get(entry.lang, []) if terms else ():
            if other.id == entry.id or self._names_overlap(entry, other):
                continue
            if self._commonplace(other):
                continue  # "模型", "layer": many words fit its place, so it tests nothing
            for name in other.names:
                if mentions(self._outside_longer_names(text, name, entry.lang), [name], False):
                    keys.append((name, tuple(dict.fromkeys((name, *other.names))), other))
                    break
        for keyword in entry.keywords:
            word, *others = keyword.split("|")
            if word in text and not mentions(word, self._concept_names(entry)):
                forms = [word, *others]
                if not has_cjk(word):
                    forms += [_singular(f) for f in forms]
                keys.append((word, tuple(dict.fromkeys(forms)), None))
        self.rng.shuffle(keys)
        return keys

    def _longer_names(self, name: str, lang: str) -> list[str]:
        """Glossary names that contain `name` ("输入层" contains "层")."""
        k = key(name)
        return [n for n in self._all_names.get(lang, ()) if len(key(n)) > len(k) and k in key(n)]

    def _outside_longer_names(self, text: str, name: str, lang: str) -> str:
        """`text` with every longer glossary name that contains `name` taken out, so that a
        blank for "层" never falls inside "输入层" (nor "gradient" inside "exploding gradient")."""
        for longer in sorted(self._longer_names(name, lang), key=len, reverse=True):
            text = mask(text, [longer], blank="\u2063")
        return text

    def _mask_alone(self, text: str, names: tuple[str, ...], lang: str) -> str:
        """Blank the names where they stand alone, not inside a longer glossary name."""
        protected: dict[str, str] = {}
        for name in names:
            for longer in sorted(self._longer_names(name, lang), key=len, reverse=True):

                def keep(m: re.Match[str]) -> str:
                    token = f"\ue000{len(protected)}\ue001"
                    protected[token] = m.group(0)
                    return token

                text = name_regex(longer).sub(keep, text)
        text = mask(text, names)
        for token, original in protected.items():
            text = text.replace(token, original)
        return text

    def _commonplace(self, entry: Entry) -> bool:
        """A term so general that most definitions use it (模型, "model"): no blank for it."""
        if entry.id not in self._commonplace_cache:
            peers = self._by_lang.get(entry.lang, [])
            naming = sum(
                1 for e in peers if e.id != entry.id and mentions(e.definition, entry.names)
            )
            generic = any(normalise(n) in COMMONPLACE for n in entry.names)
            self._commonplace_cache[entry.id] = generic or naming > COMMONPLACE_SHARE * len(peers)
        return self._commonplace_cache[entry.id]

    def _cloze_sentences(self, entry: Entry) -> list[str]:
        """Sentences that name the entry and stand alone: the one made of its clue first, then
        those of its definition (a keyword may sit in either)."""
        found = []
        main = self._sentence(entry)
        if main:
            found.append(main)
        for sentence in split_sentences(strip_noise(entry.definition)):
            sentence = as_sentence(entry.lang, sentence)
            if sentence in found or not mentions(sentence, entry.names):
                continue
            if self._stands_alone(entry.lang, sentence):
                found.append(sentence)
        return found

    def _cloze(self, entry: Entry) -> Question | None:
        room = PROMPT_LIMIT - len(self._lead(_T.CLOZE, entry.lang, clue=""))
        for i, sentence in enumerate(self._cloze_sentences(entry)):
            if len(sentence) > min(room, EXPLANATION_LIMIT):
                continue  # the whole sentence is the explanation: it must fit there too
            # A curator chose the clue's words, and marked the keywords of the definition: a
            # glossary term the source merely mentions may not be inferable from its sentence.
            curated = i == 0 and bool(entry.clue)
            keys = self._cloze_keys(entry, sentence, terms=curated or not entry.clue)
            for answer, accepted, owner in keys:
                clue = _neutral_article(self._mask_alone(sentence, accepted, entry.lang))
                if re.search(rf"[-‐‑]{re.escape(BLANK)}|{re.escape(BLANK)}[-‐‑]", clue):
                    continue  # a blank inside a compound ("____-based") reads as a riddle
                blanks = clue.count(BLANK)
                if not 1 <= blanks <= MAX_BLANKS or _content_chars(clue) < 15:
                    continue
                if owner is not None and self.parts.visible(clue, owner):
                    continue  # a part of the blanked term shows elsewhere in the sentence
                question = Question(
                    type=_T.CLOZE,
                    lang=entry.lang,
                    prompt=self._lead(_T.CLOZE, entry.lang, clue=clue),
                    answer=answer,
                    accepted=accepted,
                    entry_id=entry.id,
                    explanation=sentence,
                )
                if self._acceptable(question):
                    return question
        return None

    def _translate(self, entry: Entry) -> Question | None:
        twins = self._twins(entry)
        if not twins:
            return None
        twin = twins[0]
        if mentions(twin.term, [entry.term], inflect=False):
            return None  # "T5" -> "T5模型": the option would give itself away
        twin_ids = {t.id for t in twins}

        def option_of(cand: Entry) -> str | None:
            if cand.id in twin_ids or entry.id in cand.translations:
                return None
            if any(self._names_overlap(cand, t) for t in twins):
                return None
            if mentions(cand.term, [entry.term], inflect=False) or len(cand.term) > OPTION_LIMIT:
                return None
            return cand.term

        picked = self._pick_options(twin, twin.term, option_of)
        if picked is None:
            return None
        options, index = picked
        head = _TRANSLATED[entry.lang].format(term=entry.term, twin=twin.term)
        explanation = f"{head}{' ' if entry.lang == 'en' else ''}{self._explanation(entry)}"
        if len(explanation) > EXPLANATION_LIMIT:
            explanation = head
        return Question(
            type=_T.TRANSLATION,
            lang=entry.lang,
            prompt=self._lead(_T.TRANSLATION, entry.lang, term=entry.term),
            answer=options[index],
            accepted=twin.names,
            entry_id=entry.id,
            explanation=explanation,
            options=options,
            correct_option=index,
        )

    # --- final check -----------------------------------------------------------------------

    def _acceptable(self, q: Question) -> bool:
        """Re-check the rules on the finished question (a safety net for odd content)."""
        if not q.prompt or len(q.prompt) > PROMPT_LIMIT:
            return False
        if not q.explanation or len(q.explanation) > EXPLANATION_LIMIT:
            return False
        if any(not o or len(o) > OPTION_LIMIT for o in q.options):
            return False
        if len({key(o) for o in q.options}) != len(q.options):
            return False
        texts = [q.prompt, q.explanation, *q.options]
        if any(_noisy(t) or ELLIPSIS in t for t in texts):
            return False
        entry = self.glossary.get(q.entry_id)
        if q.type == _T.TERM_TO_DEFINITION:
            return not mentions(q.answer, self._concept_names(entry)) if entry else True
        hidden: list[str] = [*q.accepted]
        if q.type in (_T.DEFINITION_TO_TERM, _T.FILL_IN) and entry is not None:
            hidden.extend(self._concept_names(entry))
        if q.type == _T.TRANSLATION and entry is not None:
            # The twin's names that are the asked term's own ("dropout" on 暂退法) are the
            # question, not its answer.
            own = {key(n) for n in entry.names}
            hidden = [n for n in hidden if key(n) not in own]
        if mentions(q.prompt, hidden, inflect=False):
            return False
        # A long name hidden inside another word ("multi-dimensional" for "dimensions").
        squashed = key(q.prompt)
        return not any(len(k) >= 8 and k in squashed for k in map(key, hidden))

    def _ask(
        self, entry: Entry, wanted: list[QuestionType], out: list[Question], used: set[str]
    ) -> None:
        for qtype in self.rng.sample(wanted, len(wanted)):
            question = self.make(entry, qtype)
            if question is not None:
                out.append(question)
                used.add(entry.id)
                return


# Last words of terms that name a mass or an activity, not one countable thing: "Dropout is a
# technique", not "A dropout is a technique".
_MASS_ENDINGS = ("ing", "ation", "ization", "isation", "ics", "dropout", "greedy")
_PREPOSITIONS = frozenset("of for through in on with over by to from".split())


def _subject(entry: Entry, clue: str) -> str:
    """The term as the subject of "... is <clue>", with the article a countable noun needs,
    as the clue's own article tells: "A loss function is a function ...", "The learning rate
    is the setting ...", "An EOS token is a ...", but "Dropout is a technique ...",
    "Overfitting is ...", "Adam optimization is ..." and "T5 is ..."."""
    term = entry.term
    article = clue.split(" ", 1)[0].lower()
    words = term.split()
    if article not in ("a", "an", "the") or not term[:1].isalpha() or " vs" in term.lower():
        return term
    # The head noun: the last word, or the one before a preposition ("Backpropagation through
    # time" is headed by "Backpropagation").
    head = words[-1]
    for i, word in enumerate(words[1:], start=1):
        if word.lower() in _PREPOSITIONS:
            head = words[i - 1]
            break
    if head.lower().endswith(_MASS_ENDINGS):
        return term
    first = words[0]
    acronym = first.isupper() and len(first) > 1
    if len(words) == 1 and (acronym or any(ch.isdigit() for ch in first)):
        return term  # a name: "T5", "BERT"
    proper = acronym or _is_proper(first, entry)
    noun = term if proper else _lower_first(term)
    if article == "the":
        return f"The {noun}"
    sound = first.lower()
    vowel = sound[:1] in "aeio" or (acronym and first[:1] in "AEFHILMNORSX")
    return f"{'An' if vowel else 'A'} {noun}"


def _is_proper(word: str, entry: Entry) -> bool:
    """A name ("Adam", "Bayesian"): the entry's texts write it capitalised mid-sentence and
    never in lower case."""
    text = f"{entry.definition} {entry.clue} {entry.gist}"
    if re.search(rf"\b{re.escape(word.lower())}\b", text):
        return False
    return re.search(rf"[^.!?]\s+{re.escape(word)}\b", f". {text}") is not None


def _singular(word: str) -> str:
    """An English plural's singular ("matrices" -> "matrix", "weights" -> "weight")."""
    low = word.lower()
    if low.endswith("ices") and len(low) > 5:
        return word[:-4] + "ix"
    if low.endswith("ies") and len(low) > 4:
        return word[:-3] + "y"
    if low.endswith("ses") and low[:-2].endswith("s"):
        return word[:-2]  # "biases" -> "bias", "classes" -> "class"
    if low.endswith("s") and not low.endswith(("ss", "us", "is")) and len(low) > 4:
        return word[:-1]
    return word


def _neutral_article(text: str) -> str:
    """ "An ____" would tell the answer starts with a vowel: write "A(n) ____" either way."""
    return re.sub(rf"\b([Aa])n? {re.escape(BLANK)}", lambda m: f"{m.group(1)}(n) {BLANK}", text)


def _content_chars(text: str) -> int:
    """Letters, digits and Han characters outside the blanks: how much a clue still says."""
    return sum(1 for ch in text.replace(BLANK, "") if ch.isalnum() or is_cjk(ch))


__all__ = ["LEADS", "QuestionGenerator", "as_sentence", "script_of"]
