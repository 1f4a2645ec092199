"""Turn glossary entries into questions a teacher would sign off.

Rules every question keeps (and `_acceptable` re-checks before one is handed out):

* No leak: the prompt never shows the answer, an alias, the other-language twin or a recognisable
  form of them (masked as "____").
* One right answer. A distractor is never the answer's entry, a twin of it, nor an entry whose name
  overlaps the answer's ("Gradient" is never offered against "Exploding gradient", "参数" never
  against "超参数"): overlapping names are usually a concept and its special case, where the
  general clue fits both. An entry whose defining (first) sentence names the answer is skipped for
  the same reason ("fine-tuning is an approach to transfer learning"), and so is one named in the
  answer's own first sentence (the learner would see it in the clue). No two options share a
  normalised text.
* Plausible distractors: same language, ranked by shared tags, `related` links and TF-IDF
  similarity of definitions; three are drawn at random from the best few.
* Platform limits: prompt <= 300, option <= 100, explanation <= 200 characters, cut cleanly.

All randomness comes from one `random.Random(seed)`, so a seed reproduces a whole sequence of calls.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable

from bot.content.model import LANGUAGES, Entry, Glossary, Question, QuestionType
from bot.content.text import (
    BLANK,
    first_sentence,
    is_cjk,
    key,
    mask,
    mentions,
    normalise,
    shorten,
    singular_key,
    strip_noise,
)

PROMPT_LIMIT = 300
OPTION_LIMIT = 100
EXPLANATION_LIMIT = 200
DISTRACTORS = 3
SHORTLIST = 6  # distractors are drawn from this many best-ranked candidates

_T = QuestionType
# "\uff1f" = full-width question mark, "\uff1a" colon, "\uff08"/"\uff09" parentheses.
LEADS: dict[tuple[QuestionType, str], str] = {
    (_T.DEFINITION_TO_TERM, "en"): "Which term is described here?\n{clue}",
    (_T.DEFINITION_TO_TERM, "zh"): "下面描述的是哪个术语\uff1f\n{clue}",
    (_T.TERM_TO_DEFINITION, "en"): 'What does "{term}" mean?',
    (_T.TERM_TO_DEFINITION, "zh"): "“{term}”是什么意思\uff1f",
    (_T.FILL_IN, "en"): "Type the missing term:\n{clue}",
    (_T.FILL_IN, "zh"): "请填写空缺的术语\uff1a\n{clue}",
    (_T.CLOZE, "en"): "Type the missing word ({term}):\n{clue}",
    (_T.CLOZE, "zh"): "请填写空缺的词语\uff08{term}\uff09\uff1a\n{clue}",
    (_T.TRANSLATION, "en"): 'Which Chinese term means "{term}"?',
    (_T.TRANSLATION, "zh"): "“{term}”对应的英文术语是哪个\uff1f",
}
_COLON = {"en": ": ", "zh": "\uff1a"}

# Words never worth a cloze blank: function words and vague academic filler.
_STOP_WORDS = set(
    """a about above across after again against all almost also although always among an and
    another any are around as at based be because been before being below between both but by can
    could did do does doing done down during each either enough especially etc even ever every
    for from further given had has have having how however if in including instead into is it its
    itself just less like made make makes making many may might more most much must near need
    needs neither no nor not now of off often on once one only onto or other others otherwise our
    out over own per rather same several should since so some such than that the their them then
    there therefore these they this those though through thus to too toward towards under until
    up upon us use used uses using usually various very via was way ways we well were what when
    where whereas whether which while who whom whose why will with within without would yet you
    your""".split()
)
_VAGUE_WORDS = set(
    """ability according achieve actual actually additional allows another approach approaches
    based become becomes better called certain characteristics common commonly complex concept
    consider considered contrast crucial describe described different difficult directly during
    effective effectively efficient enables especially essential example examples existing
    following general generally given helps important improve improving including increase
    individual instance involves itself known large larger level making manner meaning method
    methods multiple number numbers overall particular particularly perform performance possible
    potentially practice present primarily problem problems process processes provide provides
    purpose quickly rather referred related relatively represent represents require required
    requires result results several significant significantly similar simple single situation
    specific specifically standard structure successful technique techniques therefore through
    typically understand understanding useful usually value values various whether
    without""".split()
)

# Endings of adverbs, adjectives and participles: a cloze blank should be a thing, not a manner.
_NOUN_ENDINGS = (
    "tion", "sion", "ment", "ness", "ity", "ance", "ence", "ism", "ure", "ogy", "ics", "ist",
    "ship", "or", "ata", "um",
)  # fmt: skip
_NOT_A_NOUN = ("ly", "al", "ive", "ous", "ful", "able", "ible", "ic", "ed", "less")


def _tokens(text: str) -> list[str]:
    """Words for similarity: English content words, Chinese character bigrams."""
    norm = normalise(text)
    out = [w for w in re.findall(r"[a-z][a-z0-9]{2,}", norm) if w not in _STOP_WORDS]
    for run in re.findall(r"[\u3400-\u9fff]+", norm):
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


class _Similarity:
    """A tiny TF-IDF cosine over definitions and gists (no dependency needed for a few hundred)."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        docs = {e.id: Counter(_tokens(f"{e.term} {e.gist} {e.definition}")) for e in entries}
        df = Counter(tok for counts in docs.values() for tok in counts)
        self.df = df
        n = max(len(docs), 1)
        self.idf = {tok: math.log((1 + n) / (1 + d)) + 1 for tok, d in df.items()}
        self.vectors: dict[str, dict[str, float]] = {}
        for entry_id, counts in docs.items():
            vec = {tok: (1 + math.log(c)) * self.idf[tok] for tok, c in counts.items()}
            norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
            self.vectors[entry_id] = {tok: v / norm for tok, v in vec.items()}

    def cosine(self, a: str, b: str) -> float:
        va, vb = self.vectors.get(a, {}), self.vectors.get(b, {})
        if len(va) > len(vb):
            va, vb = vb, va
        return sum(v * vb.get(tok, 0.0) for tok, v in va.items())


def _noisy(text: str) -> bool:
    return bool(re.search(r"\[\s*\d+\s*\]|阅读全文|»|https?:|www\.", text))


class QuestionGenerator:
    def __init__(self, glossary: Glossary, seed: int | None = None) -> None:
        self.glossary = glossary
        self.rng = random.Random(seed)
        self._similarity = _Similarity(glossary.entries)
        self._by_lang = {lang: glossary.in_lang(lang) for lang in LANGUAGES}
        self._twins_cache: dict[str, tuple[Entry, ...]] = {}
        self._overlap_cache: dict[tuple[str, str], bool] = {}
        self._clash_cache: dict[tuple[str, str], bool] = {}
        self._naming_cache: dict[str, int] = {}
        self._term_words = {
            singular_key(w) for e in glossary.entries for n in e.names for w in n.split()
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
        """One question of `qtype` about `entry`, or None when the type does not apply."""
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

    # --- relations between entries ---------------------------------------------------------

    def _twins(self, entry: Entry) -> tuple[Entry, ...]:
        """Other-language entries of the same concept (links may be recorded on either side)."""
        if entry.id not in self._twins_cache:
            twins = {e.id: e for e in self.glossary.translations_of(entry) if e.lang != entry.lang}
            for other in self.glossary.entries:
                if entry.id in other.translations and other.lang != entry.lang:
                    twins.setdefault(other.id, other)
            self._twins_cache[entry.id] = tuple(twins.values())
        return self._twins_cache[entry.id]

    def _concept_names(self, entry: Entry) -> tuple[str, ...]:
        """Every name of the concept in both languages: what a prompt must not show."""
        names = list(entry.names)
        for twin in self._twins(entry):
            names.extend(twin.names)
        return tuple(dict.fromkeys(n for n in names if n.strip()))

    def _names_overlap(self, a: Entry, b: Entry) -> bool:
        """True when a name of one is, or contains as a whole word/phrase, a name of the other."""
        pair = (a.id, b.id) if a.id < b.id else (b.id, a.id)
        if pair not in self._overlap_cache:
            names_a, names_b = self._concept_names(a), self._concept_names(b)
            self._overlap_cache[pair] = any(
                singular_key(x) == singular_key(y)
                or mentions(x, [y], inflect=False)
                or mentions(y, [x], inflect=False)
                for x in names_a
                for y in names_b
            )
        return self._overlap_cache[pair]

    def _clashes(self, answer: Entry, candidate: Entry) -> bool:
        """True when `candidate` could also be right, so it must not be a distractor."""
        pair = (answer.id, candidate.id)
        if pair not in self._clash_cache:
            self._clash_cache[pair] = self._find_clash(answer, candidate)
        return self._clash_cache[pair]

    def _find_clash(self, answer: Entry, candidate: Entry) -> bool:
        if candidate.id == answer.id or candidate.lang != answer.lang:
            return True
        if any(t.id == candidate.id for t in self._twins(answer)):
            return True
        if self._names_overlap(answer, candidate):
            return True
        # "X is a kind of <answer>": the clue of the general concept fits X as well.
        if mentions(first_sentence(candidate.definition), self._concept_names(answer)):
            return True
        # Named in the answer's own defining sentence: visible in the clue, so no real choice.
        return mentions(first_sentence(answer.definition), candidate.names)

    def _ranked_candidates(self, answer: Entry) -> list[Entry]:
        """Non-clashing same-language entries, most plausible first (deterministic order)."""
        scored = []
        answer_tags = {t.casefold() for t in answer.tags}
        for cand in self._by_lang.get(answer.lang, []):
            if self._clashes(answer, cand):
                continue
            tags = {t.casefold() for t in cand.tags}
            shared = len(answer_tags & tags) / len(answer_tags | tags) if answer_tags | tags else 0
            linked = cand.id in answer.related or answer.id in cand.related
            score = 2.0 * shared + self._similarity.cosine(answer.id, cand.id) + 0.5 * linked
            scored.append((-score, cand.id, cand))
        scored.sort(key=lambda t: (t[0], t[1]))
        return [c for _, _, c in scored]

    def _pick_options(
        self, answer: Entry, right: str, option_of: Callable[[Entry], str | None]
    ) -> tuple[tuple[str, ...], int] | None:
        """Shuffled options: `right` plus up to three distractor texts, or None if none fits.

        `option_of(entry)` gives a candidate's option text, or None when it cannot be shown.
        """
        ranked = self._ranked_candidates(answer)
        shortlist = ranked[:SHORTLIST]
        self.rng.shuffle(shortlist)
        order = shortlist + ranked[SHORTLIST:]
        options, seen = [right], {key(right)}
        for cand in order:
            if len(options) > DISTRACTORS:
                break
            text = option_of(cand)
            if not text or key(text) in seen:
                continue
            options.append(text)
            seen.add(key(text))
        if len(options) < 2:
            return None
        self.rng.shuffle(options)
        return tuple(options), options.index(right)

    # --- builders --------------------------------------------------------------------------

    def _lead(self, qtype: QuestionType, lang: str, **fields: str) -> str:
        return LEADS[(qtype, lang)].format(**fields)

    def _clue_room(self, qtype: QuestionType, lang: str, **fields: str) -> int:
        return PROMPT_LIMIT - len(self._lead(qtype, lang, clue="", **fields))

    def _explanation(
        self, entry: Entry, head: str | None = None, *, beyond_gist: bool = False
    ) -> str:
        """ "term: gist". `beyond_gist`: the gist is the right option already, so say what the
        definition's first sentence adds instead (the gist again when it adds nothing)."""
        head = head or entry.term
        gist = strip_noise(entry.gist) or first_sentence(strip_noise(entry.definition))
        if beyond_gist:
            gist = first_sentence(strip_noise(entry.definition)) or gist
        return shorten(f"{head}{_COLON[entry.lang]}{gist}", EXPLANATION_LIMIT)

    def _masked_definition(self, entry: Entry) -> str:
        return _neutral_article(mask(strip_noise(entry.definition), self._concept_names(entry)))

    def _def_term(self, entry: Entry) -> Question | None:
        room = self._clue_room(_T.DEFINITION_TO_TERM, entry.lang)
        clue = shorten(self._masked_definition(entry), room)
        if _content_chars(clue) < 15:  # masked almost away: the gist may say more
            clue = shorten(mask(strip_noise(entry.gist), self._concept_names(entry)), room)
        if _content_chars(clue) < 10:
            return None
        picked = self._pick_options(
            entry, shorten(entry.term, OPTION_LIMIT), lambda c: shorten(c.term, OPTION_LIMIT)
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
        if not gist or mentions(gist, self._concept_names(entry)) or mentions(gist, avoid_names):
            return None
        return shorten(gist, OPTION_LIMIT)

    def _term_def(self, entry: Entry) -> Question | None:
        names = self._concept_names(entry)
        right = self._gist_option(entry, names)
        if right is None:
            return None
        picked = self._pick_options(entry, right, lambda c: self._gist_option(c, names))
        if picked is None:
            return None
        options, index = picked
        return Question(
            type=_T.TERM_TO_DEFINITION,
            lang=entry.lang,
            prompt=shorten(self._lead(_T.TERM_TO_DEFINITION, entry.lang, term=entry.term), 300),
            answer=options[index],
            accepted=(options[index],),
            entry_id=entry.id,
            explanation=self._explanation(entry, beyond_gist=True),
            options=options,
            correct_option=index,
        )

    def _fill(self, entry: Entry) -> Question | None:
        room = self._clue_room(_T.FILL_IN, entry.lang)
        masked = self._masked_definition(entry)
        clue = shorten(masked, room)
        if BLANK not in clue:
            # The definition does not name its term (or not early): the blank heads it instead.
            clue = shorten(f"{BLANK}{_COLON[entry.lang]}{masked}", room)
        if _content_chars(clue) < 15:
            return None
        return Question(
            type=_T.FILL_IN,
            lang=entry.lang,
            prompt=self._lead(_T.FILL_IN, entry.lang, clue=clue),
            answer=entry.term,
            accepted=entry.names,
            entry_id=entry.id,
            explanation=self._explanation(entry),
        )

    def _cloze_keys(self, entry: Entry, text: str) -> list[tuple[str, tuple[str, ...]]]:
        """(answer, accepted forms) worth blanking in `text`, best first.

        A glossary term named in the definition is the best key; otherwise (English only) a rare
        long content word. Chinese has no word boundaries, so only glossary terms are used there.
        """
        own = self._concept_names(entry)
        terms = []
        for other in self._by_lang.get(entry.lang, []):
            if other.id == entry.id or self._names_overlap(entry, other):
                continue
            for name in other.names:
                if mentions(text, [name], inflect=False):
                    rarity = self._definitions_naming(other)
                    terms.append((rarity, name, tuple(dict.fromkeys((name, *other.names)))))
                    break
        # Rarer terms test more knowledge ("损失函数" rather than "模型"); keep some variety.
        self.rng.shuffle(terms)
        terms.sort(key=lambda t: t[0])
        if len(terms) > 1:
            terms[:2] = self.rng.sample(terms[:2], 2)
        keys = [(name, accepted) for _, name, accepted in terms]
        if entry.lang != "en":
            return keys
        words: dict[str, float] = {}
        common = 0.25 * len(self._by_lang.get("en", []))
        for word in re.findall(r"(?<![\w-])[A-Za-z][a-z]{6,}(?![\w-])", text):
            low = word.lower()
            if low in _STOP_WORDS or low in _VAGUE_WORDS or low.endswith(_NOT_A_NOUN):
                continue
            if self._similarity.df.get(low, 0) > common:
                continue  # "machine", "learning", "network": no knowledge tested
            if mentions(word, own) or any(mentions(n, [word]) for n in own):
                continue
            # A word glossary terms are made of, or a noun by its ending: a thing, not an action.
            in_terms = singular_key(low) in self._term_words
            if not in_terms and not singular_key(low).endswith(_NOUN_ENDINGS):
                continue
            words[low] = self._similarity.idf.get(low, 1.0) * min(len(low), 12) * (1 + in_terms)
        best = sorted(words, key=lambda w: (-words[w], w))[:3]
        self.rng.shuffle(best)
        for word in best:
            keys.append((word, tuple(dict.fromkeys((word, singular_key(word))))))
        return keys

    def _definitions_naming(self, entry: Entry) -> int:
        """How many same-language definitions name `entry`: a measure of how generic it is."""
        if entry.id not in self._naming_cache:
            self._naming_cache[entry.id] = sum(
                1
                for other in self._by_lang.get(entry.lang, [])
                if other.id != entry.id and mentions(other.definition, entry.names, inflect=False)
            )
        return self._naming_cache[entry.id]

    def _cloze(self, entry: Entry) -> Question | None:
        room = self._clue_room(_T.CLOZE, entry.lang, term=entry.term)
        text = shorten(strip_noise(entry.definition), room)
        for answer, accepted in self._cloze_keys(entry, text):
            clue = shorten(_neutral_article(mask(text, accepted)), room)
            if BLANK not in clue or _content_chars(clue) < 15:
                continue
            question = Question(
                type=_T.CLOZE,
                lang=entry.lang,
                prompt=self._lead(_T.CLOZE, entry.lang, term=entry.term, clue=clue),
                answer=answer,
                accepted=accepted,
                entry_id=entry.id,
                explanation=self._explanation(entry, head=f"{answer} \u2190 {entry.term}"),
            )
            if self._acceptable(question):
                return question
        return None

    def _translate(self, entry: Entry) -> Question | None:
        twins = self._twins(entry)
        if not twins:
            return None
        twin = twins[0]
        if mentions(twin.term, entry.names, inflect=False):
            return None  # "T5" -> "T5模型": the option would give itself away
        twin_ids = {t.id for t in twins}

        def option_of(cand: Entry) -> str | None:
            if cand.id in twin_ids or entry.id in cand.translations:
                return None
            if any(self._names_overlap(cand, t) for t in twins):
                return None
            if mentions(cand.term, entry.names, inflect=False):
                return None
            return shorten(cand.term, OPTION_LIMIT)

        picked = self._pick_options(twin, shorten(twin.term, OPTION_LIMIT), option_of)
        if picked is None:
            return None
        options, index = picked
        head = f"{entry.term} = {twin.term}"
        return Question(
            type=_T.TRANSLATION,
            lang=entry.lang,
            prompt=shorten(self._lead(_T.TRANSLATION, entry.lang, term=entry.term), 300),
            answer=options[index],
            accepted=twin.names,
            entry_id=entry.id,
            explanation=self._explanation(entry, head=head),
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
        if any(_noisy(t) for t in texts):
            return False
        entry = self.glossary.get(q.entry_id)
        hidden: list[str] = [*q.accepted]
        if q.type in (_T.DEFINITION_TO_TERM, _T.FILL_IN) and entry is not None:
            hidden.extend(self._concept_names(entry))
        if q.type == _T.TERM_TO_DEFINITION:
            return not mentions(q.answer, self._concept_names(entry)) if entry else True
        if mentions(q.prompt, hidden, inflect=False):
            return False
        # A long name hidden inside another word ("multi-dimensional" for "dimensions").
        squashed = key(q.prompt)
        return not any(len(k) >= 8 and k in squashed for k in map(singular_key, hidden))

    def _ask(
        self, entry: Entry, wanted: list[QuestionType], out: list[Question], used: set[str]
    ) -> None:
        for qtype in self.rng.sample(wanted, len(wanted)):
            question = self.make(entry, qtype)
            if question is not None:
                out.append(question)
                used.add(entry.id)
                return


def _neutral_article(text: str) -> str:
    """ "An ____" would tell the answer starts with a vowel: write "A(n) ____" either way."""
    return re.sub(rf"\b([Aa])n? {re.escape(BLANK)}", lambda m: f"{m.group(1)}(n) {BLANK}", text)


def _content_chars(text: str) -> int:
    """Letters, digits and Han characters outside the blanks: how much a clue still says."""
    return sum(1 for ch in text.replace(BLANK, "") if ch.isalnum() or is_cjk(ch))


__all__ = ["LEADS", "QuestionGenerator"]
