"""`quizbot content import` on the five seed documents and on files it cannot read."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.content.glossary import check_paths, check_texts
from bot.content.importer import (
    chinese_punctuation,
    detect_lang,
    import_files,
    parse_document,
    render_draft,
)

REPO = Path(__file__).resolve().parents[1]


# A copy of the five seed documents ships in tests/data, so these tests never skip.
SEEDS = REPO / "tests" / "data" / "seeds"


def seed(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*.txt"))


def test_the_seed_copies_are_all_there():
    assert len(list(SEEDS.glob("00[0-4]_*.txt"))) == 5


def imported(prefix: str):
    (result,) = import_files([seed(prefix)])
    return result


def terms(result) -> list[str]:
    return [d.term for d in result.drafts]


def everything(result) -> str:
    return "\n".join(" ".join((d.term, *d.aliases, d.definition)) for d in result.drafts)


def skipped(result) -> list[str]:
    return [str(s) for s in result.skipped]


# --- one test per seed ------------------------------------------------------------------------


def test_buzzword_list():
    result = imported("000")
    assert (result.layout, result.lang) == ("term-definition", "en")
    assert terms(result) == [
        "Gradient", "Loss Function", "Pre-Train", "Fine Tune", "Tensor", "Hyperparameters",
        "Optimizer", "Reinforcement Learning",
    ]  # fmt: skip
    assert skipped(result) == [
        "skipped line 1: document title (“Buzz Words”)",
        "skipped line 2: language switcher",
    ]
    gradient = result.drafts[0]
    assert gradient.definition.startswith("A gradient measures how much the output")
    assert gradient.definition.endswith("reduces the error.")


def test_flashcard_deck():
    result = imported("001")
    assert (result.layout, result.lang) == ("flashcards", "en")
    found = terms(result)
    assert len(found) == 24
    assert found[:3] == ["Activation Function", "Activation map", "Adam Optimization"]
    assert found[-1] == "Fully connected layers"
    for term in ("Backpropagation through time", "EOS Token", "Exploding gradient", "Fold"):
        assert term in found
    for noise in (
        "Build, Train and Tune Model Flashcards", "(92 cards)", "Purpose", "Example",
        "Inspiration for mechanism", "Examples of Evolutionary Algorithms",
        "Population of Solutions", "Mutation", "Crossover", "Genetic Algorithms (GA)",
        "Epsilon-greedy (particularly in RL)",
        "Used for example in autoencoders.",
    ):  # fmt: skip
        assert noise not in found, noise
    # Parenthesised names on the term line become aliases.
    detector = result.drafts[found.index("Feature detector")]
    assert detector.aliases == ["kernel", "filter"]
    # Sub-lines stay inside their card.
    bayes = result.drafts[found.index("Bayesian hyperparameters optimization")].definition
    assert "The goal of Bayesian Hyperparameters Optimization is" in bayes
    assert "Purpose:" not in bayes
    evolution = result.drafts[found.index("Evolutionary hyperparameters optimization techinques")]
    assert "Mutation: Making small random changes" in evolution.definition
    assert "Differential Evolution (DE)" in evolution.definition
    bottleneck = result.drafts[found.index("Bottleneck layer")].definition
    assert bottleneck.endswith("Used for example in autoencoders.")
    # The card that stops mid-sentence is trimmed to its last whole sentence.
    bootstrapping = result.drafts[found.index("Bootstrapping")].definition
    assert bootstrapping.endswith("sampling with replacement from the observed data.")
    assert "statistical estimates or models" not in bootstrapping
    assert any("Bootstrapping stops mid-sentence; trimmed" in n for n in result.notes)


def test_encyclopedia_snippets():
    result = imported("002")
    assert (result.layout, result.lang) == ("paragraphs", "en")
    assert terms(result) == [
        "Transfer learning", "Fine-tuning", "Domain adaptation", "Training data set", "T5",
        "Knowledge distillation", "Hyperparameter optimization",
    ]  # fmt: skip
    by_term = {d.term: d for d in result.drafts}
    assert by_term["Transfer learning"].aliases == ["TL"]
    assert by_term["T5"].aliases == ["Text-to-Text Transfer Transformer"]
    assert by_term["Knowledge distillation"].aliases == ["model distillation"]
    assert by_term["Hyperparameter optimization"].aliases == ["hyperparameter tuning"]
    # The second paragraph about transfer learning joins the first.
    assert "dramatically reduces the complexity" in by_term["Transfer learning"].definition
    assert "line 5: speaks of Transfer learning again; merged into it" in result.notes
    text = everything(result)
    assert "[" not in text and "Search results" not in text and "WOW.Com" not in text
    assert "[10]For" not in text and "data set. For classification" not in text
    assert skipped(result) == [
        "skipped line 1: search-results page header",
        "skipped line 2: search-results page header",
    ]


def test_chinese_notes():
    result = imported("003")
    assert (result.layout, result.lang) == ("term-definition", "zh")
    found = terms(result)
    for term in ("参数", "模型", "模型族", "学习算法", "训练模型", "维数", "目标函数", "损失函数",
                 "优化算法", "强化学习", "层"):  # fmt: skip
        assert term in found, term
    for noise in ("深度学习的部分专业名词", "数据要正确", "分类", "无监督可解决的问题",
                  "新的容量控制方法", "相关文章", "RabbitMQ的基本介绍", "server"):  # fmt: skip
        assert noise not in found, noise
    text = everything(result)
    for noise in ("本站", "侵权", "MySQL", "RabbitMQ", "Kafka", "STM32", "&#x", "xdnf.cn"):
        assert noise not in text, noise
    assert "skipped line 71: site disclaimer" in skipped(result)
    assert "skipped lines 75-155: teasers of related articles after “相关文章”" in skipped(result)
    by_term = {d.term: d for d in result.drafts}
    # A heading followed by a paragraph or a numbered list is an entry too.
    assert by_term["维数"].definition.startswith("当每个样本的特征类别数量都是相同的时候，")
    assert "重复第（2）步和第（3）步" in by_term["训练模型"].definition
    # Scraped ASCII punctuation is written the Chinese way.
    assert by_term["参数"].definition == "类比旋钮，旋钮的转动可以调整程序的行为。"


def test_chinese_blog_teasers():
    result = imported("004")
    assert (result.layout, result.lang) == ("paragraphs", "zh")
    assert terms(result) == [
        "向量检索", "过度拟合", "前馈神经网络", "基于梯度的学习", "超参数搜索", "大模型指令微调",
        "反向传播", "推荐引擎-逻辑回归", "训练损失", "验证损失", "PyTorch Lightning",
    ]  # fmt: skip
    text = everything(result)
    for noise in ("UMBRELLA", "未雨绸缪", "阅读全文", "»", "0%"):
        assert noise not in text, noise
    assert "skipped line 1: document title (“UMBRELLA”)" in skipped(result)
    assert "skipped line 80: page furniture (progress indicator)" in skipped(result)
    by_term = {d.term: d for d in result.drafts}
    # Bullets that list applications stay inside their teaser.
    assert "生物信息学：基因序列转化为向量" in by_term["向量检索"].definition
    assert by_term["训练损失"].definition.startswith("就像你教小狗时")


def test_drafts_of_every_seed_are_well_formed_glossary_yaml():
    assert SEEDS is not None
    results = import_files(sorted(SEEDS.glob("00[0-4]_*.txt")))
    draft = render_draft(results)
    data = yaml.safe_load(draft)
    assert len(data["entries"]) == 8 + 24 + 7 + 12 + 11
    _, problems = check_texts([("draft.yaml", draft)])
    # What is left needs a person: gists that still name their term, and one English/Chinese
    # pair to link as translations ("loss function" is the English the Chinese notes give).
    others = [str(p) for p in problems if "gist: names the term" not in p.message]
    assert others == [
        'draft.yaml:571: zh-loss-function: aliases[0]: "loss function" is also a name of '
        "loss-function (draft.yaml:18); a question could have two right answers"
    ]
    assert len(problems) > len(others), "the seeds' first sentences name their terms"
    ids = [e["id"] for e in data["entries"]]
    assert len(ids) == len(set(ids))
    assert "zh-objective-function" in ids and "zh-pytorch-lightning" in ids
    assert all(len(e["gist"]) <= 100 for e in data["entries"])


# --- helpers ----------------------------------------------------------------------------------


def test_language_detection_and_override():
    assert detect_lang("Gradient: a vector of partial derivatives") == "en"
    assert detect_lang("参数:类比旋钮,旋钮的转动可以调整程序的行为 (knob)") == "zh"
    result = parse_document("Gradient: a vector of partial derivatives.\n" * 3, "x.txt", "zh")
    assert result.lang == "zh"


def test_chinese_punctuation():
    assert chinese_punctuation("参数:类比旋钮,旋钮") == "参数：类比旋钮，旋钮"
    assert (
        chinese_punctuation("数据的维数(dimensionality)。 固定")
        == "数据的维数（dimensionality）。固定"
    )
    assert chinese_punctuation("PyTorch Lightning 是框架, a, b") == "PyTorch Lightning 是框架，a, b"
    assert chinese_punctuation("ratio 1:2, fine") == "ratio 1:2, fine"


def test_full_width_colon_lines():
    text = "术语表\n梯度：函数输出随输入变化的快慢。\n损失函数：衡量预测与真实值差距的函数。\n"
    text += "层：处理单元。\n"
    result = parse_document(text, "notes.txt")
    assert result.layout == "term-definition"
    assert [d.term for d in result.drafts] == ["梯度", "损失函数", "层"]


# --- the command ------------------------------------------------------------------------------


def test_import_command_writes_a_draft_and_a_summary(tmp_path, capsys):
    out = tmp_path / "draft.yaml"
    assert main(["content", "import", str(seed("003")), str(seed("000")), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.splitlines()
    assert "003_d1bab573c57165a3.txt: layout term-definition, language zh" in err
    assert "  skipped line 71: site disclaimer" in err
    assert "  kept line 9: 参数" in err
    assert "  kept line 3: Gradient" in err
    assert f"wrote 20 draft entries to {out}" in err
    _, problems = check_paths([out])
    messages = {p.message.split(";")[0] for p in problems if "gist" not in p.message}
    # 003 comes first here, so the English entry is the one reported.
    assert messages == {f'term: "Loss Function" is also a name of zh-loss-function ({out}:103)'}
    # Refuses to overwrite without --force.
    assert main(["content", "import", str(seed("000")), "--out", str(out)]) == 1
    assert "exists; choose another --out or add --force" in capsys.readouterr().err
    assert main(["content", "import", str(seed("000")), "--out", str(out), "--force"]) == 0


def test_import_command_prints_the_draft_to_stdout(capsys):
    assert main(["content", "import", str(seed("002"))]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    assert [e["id"] for e in data["entries"]][:2] == ["transfer-learning", "fine-tuning"]
    assert data["entries"][0]["source"] == "002_c0611ac664d6b76a.txt"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.txt", None, "no such file"),
        ("binary.txt", b"\x7fELF\x02\x01\x00\x00", "binary file, not text"),
        ("gbk.txt", "参数:旋钮".encode("gbk"), "not UTF-8 text (byte 0xb2 on line 1)"),
        ("empty.txt", b"  \n\n", "empty file"),
    ],
)
def test_unreadable_documents_give_one_line_and_status_1(tmp_path, capsys, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert main(["content", "import", str(seed("000")), str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"quizbot: cannot import {path}: {message}")
    assert "Traceback" not in captured.err


def test_a_document_without_terms(tmp_path, capsys):
    path = tmp_path / "prose.txt"
    path.write_text("Just some prose without any term in it, going on and on for a while.\n")
    assert main(["content", "import", str(path)]) == 1
    assert "no glossary entries found; nothing written" in capsys.readouterr().err


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(
        alphabet=st.sampled_from(
            list("Term: definition.\n•-1)阅读全文»参数：旋钮,(x) |English 0%")
        ),
        max_size=300,
    )
)
def test_parse_never_raises_on_arbitrary_text(text):
    result = parse_document(text, "x.txt")
    render_draft([result])
    for draft in result.drafts:
        assert draft.term.strip() and draft.definition.strip()
