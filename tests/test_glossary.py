"""The shipped glossary, the validator's messages, and the `content check` / `dump` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.content.glossary import (
    GIST_MAX,
    GlossaryError,
    Problem,
    check_paths,
    check_texts,
    default_content_dir,
    load_glossary,
)
from bot.content.text import key

REPO = Path(__file__).resolve().parents[1]
CONTENT = REPO / "content"
SEEDS = REPO / "tests" / "data" / "seeds"
SEED_FILES = sorted(p.name for p in SEEDS.glob("*.txt"))


# --- the shipped glossary ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    glossary, problems = check_paths([CONTENT])
    return glossary, problems


def test_every_shipped_glossary_file_is_valid(shipped):
    glossary, problems = shipped
    assert [str(p) for p in problems] == []
    assert load_glossary([CONTENT]).by_id.keys() == glossary.by_id.keys()
    files = {Path(e.file).name for e in glossary.entries}
    assert files == {p.name for p in CONTENT.glob("*.yaml")}


def test_default_content_dir_is_the_shipped_one(monkeypatch, tmp_path):
    monkeypatch.delenv("QUIZBOT_CONTENT_DIR", raising=False)
    assert default_content_dir() == CONTENT
    monkeypatch.setenv("QUIZBOT_CONTENT_DIR", str(tmp_path))
    assert default_content_dir() == tmp_path
    _, problems = check_paths()
    assert [str(p) for p in problems] == [f"{tmp_path}:1: -: no glossary files (*.yaml) here"]


def test_counts_per_language_and_every_seed_contributes(shipped):
    glossary, _ = shipped
    assert len(glossary.in_lang("en")) == 42
    assert len(glossary.in_lang("zh")) == 34
    assert len(SEED_FILES) == 5
    per_seed = {name: 0 for name in SEED_FILES}
    for entry in glossary.entries:
        for source in entry.source.split(", "):
            assert source in per_seed, f"{entry.id}: unknown source {source!r}"
            per_seed[source] += 1
    assert per_seed == {
        "000_190254dd61388bee.txt": 8,
        "001_b9c02bcb5c45e484.txt": 28,
        "002_c0611ac664d6b76a.txt": 7,
        "003_d1bab573c57165a3.txt": 18,
        "004_b707847ecc6351ff.txt": 18,
    }


def _terms(glossary, lang):
    return {e.term for e in glossary.in_lang(lang)}


def test_terms_are_spelled_right_and_noise_is_not_a_term(shipped):
    glossary, _ = shipped
    en, zh = _terms(glossary, "en"), _terms(glossary, "zh")
    assert {"Denoising autoencoder", "Evolutionary hyperparameter optimization"} <= en
    assert {"Transfer learning", "Fine-tuning", "Knowledge distillation", "T5"} <= en
    assert {
        "参数",
        "模型族",
        "学习算法",
        "维数",
        "损失函数",
        "强化学习",
        "层",
        "暂退法",
        "微调",
    } <= zh
    assert {"Overfitting", "Vanishing gradient", "Cross-validation", "Epsilon-greedy"} <= en
    assert "随机梯度下降" in zh
    assert {
        "过度拟合",
        "反向传播",
        "前向传播",
        "训练损失",
        "验证损失",
        "超参数",
        "超参数搜索",
    } <= zh
    everything = " ".join(
        " ".join((e.term, *e.aliases, e.definition, e.gist)) for e in glossary.entries
    )
    for noise in (
        "Cenoising", "techinques", "specifiv", "orweights", "[1]", "[ 1 ]", "阅读全文", "»",
        "0%", "UMBRELLA", "未雨绸缪", "本站", "相关文章", "MySQL", "RabbitMQ", "Kafka", "STM32",
        "Search results", "WOW.Com", "92 cards", "简体中文", "Purpose:", "Example:", "et al",
    ):  # fmt: skip
        assert noise not in everything, noise
    for not_a_term in (
        "Examples of Evolutionary Algorithms", "Inspiration for mechanism", "Purpose",
        "Mutation", "Crossover", "Genetic Algorithms (GA)", "Decaying Epsilon",
        "Checkpoints in models", "机器学习组件", "数据要正确", "分类", "无监督可解决的问题",
        "训练/验证损失", "推荐引擎-逻辑回归", "基于逻辑回归的推荐算法", "大模型指令微调",
    ):  # fmt: skip
        assert not_a_term not in en | zh, not_a_term


def test_cut_off_definition_is_trimmed_to_a_whole_sentence(shipped):
    glossary, _ = shipped
    bootstrapping = glossary.get("bootstrapping").definition
    assert bootstrapping.endswith("from the observed data.")
    assert "statistical estimates or models" not in bootstrapping


def test_same_concept_is_one_entry_linked_across_languages(shipped):
    glossary, _ = shipped
    pairs = {
        ("loss-function", "zh-loss-function"),
        ("backpropagation", "zh-backpropagation"),
        ("dropout", "zh-dropout"),
        ("fine-tuning", "zh-fine-tuning"),
        ("hyperparameter", "zh-hyperparameter"),
        ("hyperparameter-optimization", "zh-hyperparameter-optimization"),
        ("optimizer", "zh-optimizer"),
        ("reinforcement-learning", "zh-reinforcement-learning"),
        ("overfitting", "zh-overfitting"),
    }
    found = {(e.id, t) for e in glossary.in_lang("en") for t in e.translations}
    assert found == pairs
    for en_id, zh_id in pairs:
        assert en_id in glossary.get(zh_id).translations
    # Fine-tuning appears in two English documents and as "Fine Tune": one entry.
    fine = [e for e in glossary.in_lang("en") if "fine" in key(e.term)]
    assert [e.id for e in fine] == ["fine-tuning"]
    assert "Fine tune" in fine[0].aliases
    assert "frozen" in fine[0].definition  # the 002 paragraph is merged in
    assert "过拟合" in glossary.get("zh-overfitting").aliases
    assert "BPTT" in glossary.get("backpropagation-through-time").aliases
    assert "EOS" in glossary.get("eos-token").aliases
    assert "TL" in glossary.get("transfer-learning").aliases
    assert "Hyperparameters" in glossary.get("hyperparameter").aliases


def test_no_name_answers_two_entries_of_one_language(shipped):
    glossary, _ = shipped
    for lang in ("en", "zh"):
        owner: dict[str, str] = {}
        for entry in glossary.in_lang(lang):
            for name in entry.names:
                assert owner.setdefault(key(name), entry.id) == entry.id, name


def test_gists_fit_a_poll_option_and_zh_gists_are_chinese(shipped):
    glossary, _ = shipped
    for entry in glossary.entries:
        assert 0 < len(entry.gist) <= GIST_MAX
        assert "\n" not in entry.gist
        if entry.lang == "zh":
            assert any("\u4e00" <= ch <= "\u9fff" for ch in entry.gist), entry.id


# --- messages for broken files ----------------------------------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _check(tmp_path: Path, text: str, name: str = "g.yaml") -> list[str]:
    path = _write(tmp_path, name, text)
    _, problems = check_paths([path])
    return [str(p).replace(str(tmp_path) + "/", "") for p in problems]


GOOD = """\
entries:
  - id: "gradient"
    term: "Gradient"
    lang: "en"
    definition: "How much a function's output changes when its inputs change."
    gist: "Vector of partial derivatives of a function"
"""


def test_a_good_file_has_no_problems(tmp_path):
    assert _check(tmp_path, GOOD) == []
    glossary = load_glossary([tmp_path / "g.yaml"])
    entry = glossary.get("gradient")
    assert (entry.file, entry.line) == (str(tmp_path / "g.yaml"), 2)
    assert entry.aliases == () and entry.translations == ()


def test_yaml_syntax_error_points_at_its_line(tmp_path):
    # A quote closed on the next line swallows that line: the error is where YAML notices.
    text = 'entries:\n  - id: "a"\n    term: "unclosed\n    lang: "en"\n'
    assert _check(tmp_path, text) == [
        "g.yaml:4: -: YAML syntax error: expected <block end>, but found '<scalar>' "
        "(while parsing a block mapping)"
    ]
    text = 'entries:\n  - id: "a"\n   term: "x"\n'
    assert _check(tmp_path, text) == [
        "g.yaml:3: -: YAML syntax error: expected <block end>, but found '<block mapping start>' "
        "(while parsing a block collection)"
    ]
    text = 'entries:\n\t- id: "a"\n'
    assert _check(tmp_path, text) == [
        "g.yaml:2: -: YAML syntax error: found character '\\t' that cannot start any token "
        "(while scanning for the next token)"
    ]


def test_unclosed_quote_is_reported_where_it_opens(tmp_path):
    text = 'entries:\n  - id: "a"\n    lang: "en"\n    term: "unclosed\n\n\n'
    assert _check(tmp_path, text) == [
        "g.yaml:4: -: YAML syntax error: found unexpected end of stream "
        "(while scanning a quoted scalar)"
    ]


def test_unquoted_yes_and_numbers_are_rejected_with_advice(tmp_path):
    text = GOOD.replace('term: "Gradient"', "term: yes").replace(
        'gist: "Vector of partial derivatives of a function"', "gist: 42"
    )
    assert _check(tmp_path, text) == [
        "g.yaml:3: gradient: term: YAML reads yes as a true/false value, not text; put it in "
        'quotes: "yes"',
        'g.yaml:6: gradient: gist: YAML reads 42 as a number, not text; put it in quotes: "42"',
    ]
    text = GOOD + '    aliases: ["ok", off, 1.5]\n'
    assert _check(tmp_path, text) == [
        "g.yaml:7: gradient: aliases[1]: YAML reads off as a true/false value, not text; put it "
        'in quotes: "off"',
        "g.yaml:7: gradient: aliases[2]: YAML reads 1.5 as a number, not text; put it in quotes: "
        '"1.5"',
    ]


def test_schema_violations(tmp_path):
    text = """\
entries:
  - id: "Bad Id"
    term: "Gradient"
    lang: "fr"
    definition: "Gradient"
    gist: ""
    colour: "blue"
    tags: ["training", "cooking"]
    aliases: "grad"
  - term: "No id"
    lang: "en"
"""
    assert _check(tmp_path, text) == [
        'g.yaml:2: Bad Id: id: must be a lowercase ASCII slug such as "loss-function" or '
        '"zh-loss-function"',
        'g.yaml:4: Bad Id: lang: unknown language "fr"; use one of: en, zh',
        "g.yaml:5: Bad Id: definition: only repeats the term; say what it means",
        "g.yaml:6: Bad Id: gist: is empty",
        'g.yaml:7: Bad Id: unknown key "colour"; known keys: id, term, lang, definition, gist, '
        "source, kind, clue, aliases, tags, keywords, links",
        'g.yaml:8: Bad Id: tags[1]: unknown tag "cooking"; known tags: basics, training, '
        "optimization, architecture, data, evaluation, regularization, transfer-learning, nlp, "
        "vision, rl, tools, applications",
        'g.yaml:9: Bad Id: aliases: must be a list like ["a", "b"]',
        'g.yaml:10: -: missing required key "id"',
        'g.yaml:10: -: missing required key "definition"',
        'g.yaml:10: -: missing required key "gist"',
    ]


def test_gist_rules(tmp_path):
    long_gist = "x" * 101
    text = f"""\
entries:
  - id: "gradient"
    term: "Gradient"
    aliases: ["Gradients", "grads"]
    lang: "en"
    definition: "How much a function's output changes when its inputs change."
    gist: "The gradients of a function"
  - id: "tensor"
    term: "Tensor"
    lang: "en"
    definition: "A multi-dimensional array."
    gist: "{long_gist}"
  - id: "zh-tensor"
    term: "张量"
    lang: "zh"
    definition: "多维数组。"
    gist: "A multi-dimensional array"
"""
    assert _check(tmp_path, text) == [
        'g.yaml:7: gradient: gist: names the term ("Gradient"); describe it without naming it',
        "g.yaml:12: tensor: gist: 101 characters; at most 100 fit in a poll option",
        "g.yaml:17: zh-tensor: gist: a zh entry needs Chinese text here",
    ]


def test_names_ids_and_links_across_files(tmp_path):
    _write(tmp_path, "a.yaml", GOOD + '    links:\n      translations: ["zh-gradient"]\n')
    _write(
        tmp_path,
        "b.yaml",
        """\
entries:
  - id: "gradient"
    term: "Slope"
    lang: "en"
    definition: "Rise over run."
    gist: "Rise over run"
  - id: "grad"
    term: "Grad"
    aliases: ["gradients"]
    lang: "en"
    definition: "Short for a vector of partial derivatives."
    gist: "Short for a vector of partial derivatives"
    links:
      related: ["nowhere", "grad"]
  - id: "zh-gradient"
    term: "梯度"
    lang: "zh"
    definition: "函数输出随输入变化的快慢。"
    gist: "函数输出随输入变化的快慢"
    links:
      translations: ["grad"]
""",
    )
    _, problems = check_paths([tmp_path])
    assert [str(p).replace(str(tmp_path) + "/", "") for p in problems] == [
        'a.yaml:8: gradient: links.translations: "zh-gradient" does not list "gradient" back '
        "among its translations",
        "b.yaml:2: gradient: id: duplicate id; first defined at a.yaml:2",
        'b.yaml:9: grad: aliases[0]: "gradients" is also a name of gradient (a.yaml:3); a '
        "question could have two right answers",
        "b.yaml:14: grad: links.related: links to itself",
        'b.yaml:14: grad: links.related: unknown id "nowhere"',
        'b.yaml:21: zh-gradient: links.translations: "grad" does not list "zh-gradient" back '
        "among its translations",
    ]


def test_translations_must_cross_languages_and_may_share_a_name(tmp_path):
    text = """\
entries:
  - id: "dropout"
    term: "Dropout"
    lang: "en"
    definition: "Randomly zeroing neurons during training."
    gist: "Randomly zeroing neurons while training"
    links:
      translations: ["zh-dropout", "dropout-2"]
  - id: "zh-dropout"
    term: "dropout"
    lang: "zh"
    definition: "一种容量控制方法。"
    gist: "一种容量控制方法"
    links:
      translations: ["dropout"]
  - id: "dropout-2"
    term: "Drop out"
    lang: "en"
    definition: "Randomly zeroing units."
    gist: "Zeroing units at random"
    links:
      translations: ["dropout"]
"""
    # "dropout" in en and zh is fine: they are translations of each other.
    assert _check(tmp_path, text) == [
        'g.yaml:8: dropout: links.translations: "dropout-2" is also en; a translation is in '
        "another language (same-language twins should be one entry)",
        'g.yaml:17: dropout-2: term: "Drop out" is also a name of dropout (g.yaml:3); a question '
        "could have two right answers",
        'g.yaml:22: dropout-2: links.translations: "dropout" is also en; a translation is in '
        "another language (same-language twins should be one entry)",
    ]


def test_unreadable_files(tmp_path):
    (tmp_path / "bin.yaml").write_bytes(b"entries:\n\x00\x01")
    (tmp_path / "latin1.yaml").write_bytes('entries:\n  - id: "caf\xe9"\n'.encode("latin-1"))
    (tmp_path / "blank.yaml").write_text("# only a comment\n")
    (tmp_path / "empty.yml").write_text("")
    (tmp_path / "list.yaml").write_text('- id: "a"\n')
    (tmp_path / "notes.txt").write_text("not a glossary file, ignored in a directory")
    _, problems = check_paths([tmp_path, tmp_path / "missing.yaml"])
    assert [str(p).replace(str(tmp_path) + "/", "") for p in problems] == [
        "bin.yaml:2: -: binary data, not a text file",
        'blank.yaml:1: -: empty file; expected a mapping with an "entries:" list',
        'empty.yml:1: -: empty file; expected a mapping with an "entries:" list',
        "latin1.yaml:2: -: not UTF-8 text (byte 0xe9); save it as UTF-8",
        'list.yaml:1: -: expected a mapping with an "entries:" list at the top of the file',
        "missing.yaml:1: -: no such file",
    ]


def test_duplicate_keys_and_top_level_shape(tmp_path):
    text = GOOD.replace('    lang: "en"\n', '    lang: "en"\n    lang: "zh"\n') + "extra: 1\n"
    assert _check(tmp_path, text) == [
        'g.yaml:5: gradient: duplicate key "lang" (first at line 4)',
        'g.yaml:8: -: unknown top-level key "extra"; a glossary file holds only "entries:"',
    ]
    assert _check(tmp_path, "entries: []\n") == ['g.yaml:1: -: "entries" is empty']
    assert _check(tmp_path, "entries:\n  - just text\n") == [
        "g.yaml:2: -: an entry must be a mapping of keys (id, term, lang, definition, gist ...)"
    ]


def test_load_glossary_raises_with_the_same_lines(tmp_path):
    path = _write(tmp_path, "g.yaml", GOOD.replace('lang: "en"', 'lang: "de"'))
    with pytest.raises(GlossaryError) as caught:
        load_glossary([path])
    assert (
        str(caught.value) == f'{path}:4: gradient: lang: unknown language "de"; use one of: en, zh'
    )
    assert caught.value.problems == [
        Problem(str(path), 4, "gradient", 'lang: unknown language "de"; use one of: en, zh')
    ]


def test_check_texts_reports_under_the_given_name():
    _, problems = check_texts([("draft.yaml", "entries:\n  - id: 1\n")])
    assert str(problems[0]) == (
        'draft.yaml:2: -: id: YAML reads 1 as a number, not text; put it in quotes: "1"'
    )


# --- the commands -----------------------------------------------------------------------------


def test_content_check_command(tmp_path, capsys):
    assert main(["content", "check"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == "ok: 76 entries (en 42, zh 34)"

    bad = _write(tmp_path, "bad.yaml", GOOD.replace('"Gradient"', "on", 1))
    assert main(["content", "check", str(bad)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"{bad}:3: gradient: term: YAML reads on as a true/false value, not text; put it in "
        'quotes: "on"'
    ]
    assert "1 problem(s) found" in err


def test_content_dump_command(capsys):
    assert main(["content", "dump"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 76
    records = [json.loads(line) for line in lines]
    assert set(records[0]) == {
        "id", "term", "aliases", "lang", "definition", "gist", "tags", "source", "links",
        "kind", "clue", "keywords",
    }  # fmt: skip
    by_id = {r["id"]: r for r in records}
    assert by_id["zh-loss-function"]["term"] == "损失函数"
    assert by_id["loss-function"]["links"]["translations"] == ["zh-loss-function"]
    assert (
        "损失函数" in lines[[r["id"] for r in records].index("zh-loss-function")]
    )  # not \\u escaped


def test_content_dump_refuses_a_broken_glossary(tmp_path, capsys):
    bad = _write(tmp_path, "bad.yaml", GOOD.replace('lang: "en"', 'lang: "xx"'))
    assert main(["content", "dump", str(bad)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert 'lang: unknown language "xx"' in err


def test_content_without_action_prints_help(capsys):
    assert main(["content"]) == 2
    assert "check" in capsys.readouterr().out


# --- never a traceback ------------------------------------------------------------------------

_YAMLISH = st.text(
    alphabet=st.sampled_from(list("entries:- id\"'term lang{}[],&*!|>#\n\t 0yes~损失\x00\x07")),
    max_size=200,
)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(_YAMLISH, st.text(max_size=200)))
def test_check_never_raises_on_arbitrary_text(text):
    _, problems = check_texts([("f.yaml", text)])
    for problem in problems:
        assert problem.file == "f.yaml"
        assert 1 <= problem.line <= len(text) + 1
