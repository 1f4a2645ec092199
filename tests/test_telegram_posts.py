"""How one event's replies become Telegram posts: in a private chat the verdict, the result
and what comes next share a message, and after a quiz poll vote the result the poll showed is
left out, the verdict riding on the next poll."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.telegram import text as tg
from bot.adapters.telegram.outbound import Context, Outbox, Post
from bot.content.model import Question, QuestionType
from bot.core.events import ChatRef
from bot.core.replies import AnswerFeedback, AskQuestion, Notice, QuestionResult, RoundOver

PRIVATE = ChatRef("telegram", "5", "private")
GROUP = ChatRef("telegram", "-100", "group")
VOTE = Context(answer=True, poll_vote=True)
TYPED = Context(reply_to=9, answer=True)


def question(mc: bool, explanation: str = "Overfitting: fits noise.") -> Question:
    return Question(
        QuestionType.DEFINITION_TO_TERM if mc else QuestionType.FILL_IN,
        "en",
        "Which term is described here?",
        "overfitting",
        ("overfitting",),
        "overfitting",
        explanation,
        options=("overfitting", "dropout", "bias", "loss") if mc else (),
        correct_option=0 if mc else None,
    )


def verdict(chat=PRIVATE) -> AnswerFeedback:
    return AnswerFeedback(
        chat, "You chose A.\n✅ Right! +900 points", private_to="5", correct=True,
        points=900, verdict="✅ Right! +900 points",
    )  # fmt: skip


def result(chat=PRIVATE, mc=True, explanation="Overfitting: fits noise.") -> QuestionResult:
    return QuestionResult(
        chat, "The answer: A) overfitting", round_question_id=1, question=question(mc, explanation)
    )


def ask(mc: bool, chat=PRIVATE) -> AskQuestion:
    return AskQuestion(chat, "Question 2/5\n...", round_question_id=2, question=question(mc))


def test_verdict_result_and_a_typed_question_are_one_message():
    v, r, a = verdict(), result(), ask(mc=False)
    assert Outbox.plan([v, r, a], VOTE) == [Post(a, (v, r))]
    assert Outbox.plan([v, r, a], TYPED) == [Post(a, (v, r))]


def test_after_a_vote_the_poll_showed_the_result_and_the_verdict_rides_on_the_next_poll():
    v, r, a = verdict(), result(), ask(mc=True)
    assert Outbox.plan([v, r, a], VOTE) == [Post(a, (v,), left_out=(r,))]


def test_the_result_is_posted_when_the_poll_did_not_show_it():
    v, a = verdict(), ask(mc=True)
    typed_letter = [v, result(), a]  # "A" typed instead of a vote: the poll showed nothing
    assert Outbox.plan(typed_letter, TYPED) == [Post(typed_letter[1], (v,)), Post(a)]
    typed_question = [v, result(mc=False), a]
    assert Outbox.plan(typed_question, VOTE) == [Post(typed_question[1], (v,)), Post(a)]
    cut = "x" * 150 + "\n" + "y" * 150  # longer than a poll's explanation may be
    long_explanation = [v, result(explanation=cut), a]
    assert Outbox.plan(long_explanation, VOTE) == [Post(long_explanation[1], (v,)), Post(a)]
    plain = AnswerFeedback(PRIVATE, "✅", private_to="5", correct=True)  # no short verdict
    assert Outbox.plan([plain, result(), a], VOTE) == [Post(result(), (plain,)), Post(a)]


def test_the_last_verdict_and_result_close_the_round_in_one_message():
    v, r = verdict(), result()
    over = RoundOver(PRIVATE, "🏁 The round is over!")
    assert Outbox.plan([v, r, over], VOTE) == [Post(over, (v, r))]


def test_a_practice_verdict_rides_on_a_typed_question_but_not_on_a_poll():
    v = AnswerFeedback(PRIVATE, "✅ Right.\nNext review in 1 day", private_to="5")
    assert Outbox.plan([v, ask(mc=False)], VOTE) == [Post(ask(mc=False), (v,))]
    assert Outbox.plan([v, ask(mc=True)], VOTE) == [Post(v), Post(ask(mc=True))]


def test_groups_and_other_replies_keep_their_own_posts():
    gv, gr, ga = verdict(GROUP), result(GROUP), ask(mc=False, chat=GROUP)
    assert Outbox.plan([gv, gr, ga], VOTE) == [Post(gv), Post(gr), Post(ga)]
    retry = AnswerFeedback(PRIVATE, "❌ Not quite. Try again.", private_to="5")
    note = Notice(PRIVATE, "later")
    assert Outbox.plan([retry, note], TYPED) == [Post(retry), Post(note)]
    other = ChatRef("telegram", "6", "private")
    elsewhere = ask(mc=False, chat=other)
    assert Outbox.plan([verdict(), elsewhere], TYPED) == [Post(verdict()), Post(elsewhere)]
    assert Outbox.plan([], None) == []


def test_a_verdict_goes_on_top_of_a_poll_only_when_the_prompt_keeps_its_words():
    head = "✅ Right! +900 points"
    assert tg.poll_question_under(head, "Question 2/5", "Which?", 2, 5) == (
        "✅ Right! +900 points\nQuestion 2/5\nWhich?"
    )
    prompt = "p" * (tg.POLL_QUESTION_MAX - len("Question 2/5\n"))  # fits alone, with its header
    assert tg.poll_question_under(head, "Question 2/5", prompt, 2, 5) is None
    shorter = "p" * (tg.POLL_QUESTION_MAX - tg.utf16_len(head) - len("\n2/5\n"))
    assert tg.poll_question_under(head, "Question 2/5", shorter, 2, 5) == f"{head}\n2/5\n{shorter}"


# ------------------------------------------------------------------ nothing lost, nothing twice

REPLY_KINDS = st.sampled_from(
    ["verdict", "plain", "result", "result-typed", "typed", "poll", "over", "note"]
)
CHATS = st.sampled_from([PRIVATE, GROUP, ChatRef("telegram", "6", "private")])


def make(kind: str, chat: ChatRef):
    if kind == "verdict":
        return verdict(chat)
    if kind == "plain":
        return AnswerFeedback(chat, "❌ Not quite.", private_to="5")
    if kind in ("result", "result-typed"):
        return result(chat, mc=kind == "result")
    if kind in ("typed", "poll"):
        return ask(mc=kind == "poll", chat=chat)
    if kind == "over":
        return RoundOver(chat, "🏁 The round is over!")
    return Notice(chat, "later")


@given(st.lists(st.tuples(REPLY_KINDS, CHATS), max_size=8), st.sampled_from([None, VOTE, TYPED]))
def test_every_reply_is_posted_once_in_order_and_only_what_a_poll_showed_is_left_out(specs, ctx):
    replies = [make(kind, chat) for kind, chat in specs]
    posts = Outbox.plan(replies, ctx)
    seen = []
    for post in posts:
        assert all(r.chat == post.reply.chat for r in (*post.leads, *post.left_out))
        if post.leads or post.left_out:
            assert post.reply.chat.is_private, "groups keep one post per reply"
        for gone in post.left_out:
            assert isinstance(gone, QuestionResult) and ctx is VOTE
            assert isinstance(post.reply, AskQuestion) and post.reply.question.is_multiple_choice
        seen += [*post.leads, *post.left_out, post.reply]
    # Read top to bottom, the posts say what the replies said, each once, in their order.
    assert [id(r) for r in seen] == [id(r) for r in replies]
