"""The Experiment schema: defaults, field rules, TOML round trips, overrides, combination checks."""

from dataclasses import fields

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnplay.errors import ExperimentError
from nnplay.experiment import (
    CSV_ONLY,
    SECTIONS,
    Experiment,
    LayerSpec,
    apply_override,
    check,
    dumps,
    field_rule,
    from_dict,
    load_file,
    loads,
    parse_assignment,
    parse_value,
    problems,
    save,
    to_dict,
    with_overrides,
    with_solution,
)
from nnplay.predict import Answer, PredictSpec
from nnplay.presets import all_presets
from nnplay.registry import LOSSES
from nnplay.rules import (
    Choice,
    ChoiceList,
    Features,
    Flag,
    Number,
    Text,
    TextList,
    VariantList,
    Vary,
)
from nnplay.tasks import FEATURE_MODES, FEATURES, TASKS, task_shape, train_samples

# ---------------------------------------------------------------------------------------------
# Strategies: every value drawn inside its field's rule

# what a text field may hold: any printable character, line breaks and tabs (no control codes)
PLAIN = st.characters(
    blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp"), whitelist_characters="\n\t"
)


def value_for(rule):
    if isinstance(rule, Number):
        if rule.integer:
            low = int(rule.low) + (1 if rule.low_open else 0)
            return st.integers(low, int(rule.high))
        return st.floats(
            rule.low, rule.high, exclude_min=rule.low_open, allow_nan=False, allow_infinity=False
        )
    if isinstance(rule, Choice):
        return st.sampled_from(rule.options)
    if isinstance(rule, Flag):
        return st.booleans()
    if isinstance(rule, Text):
        return st.text(PLAIN, max_size=min(rule.max_length, 40))
    if isinstance(rule, TextList):
        return st.lists(st.text(PLAIN, max_size=20), max_size=3)
    if isinstance(rule, Features):  # kept in FEATURES order, as the rule coerces them
        subsets = st.sets(st.sampled_from(list(FEATURES)), min_size=1)
        return st.sampled_from(FEATURE_MODES) | subsets.map(
            lambda names: [n for n in FEATURES if n in names]
        )
    if isinstance(rule, Vary):
        return st.sampled_from(
            [{}, {"training.lr": [0.1, 0.01]}, {"training.lr": [0.5], "training.epochs": [1, 2, 3]}]
        )
    if isinstance(rule, VariantList):
        return st.sampled_from(
            [[], [{"training.lr": 0.1}, {"training.epochs": 2, "training.seed": 3}]]
        )
    raise AssertionError(f"no strategy for {rule!r}")


def section_values(cls, skip=()):
    return st.fixed_dictionaries(
        {
            f.name: value_for(f.metadata["rule"])
            for f in fields(cls)
            if f.name not in ("hidden", *skip) and "rule" in f.metadata  # not a table inside
        }
    )


@st.composite
def experiments(draw):
    exp = Experiment()
    # a synthetic task (a CSV task's round trip: tests/test_csv_data.py)
    task_values = draw(section_values(SECTIONS["task"], skip=("dim", "classes", *CSV_ONLY)))
    for name, value in task_values.items():
        setattr(exp.task, name, value)
    task = TASKS[exp.task.name]
    if isinstance(exp.task.features, list) and not task.is_2d:
        exp.task.features = "raw"
    exp.task.dim = draw(st.sampled_from([0]) | st.integers(task.min_dim, min(task.max_dim, 64)))
    if task.class_range:
        exp.task.classes = draw(st.sampled_from([0]) | st.integers(*task.class_range))
    if exp.task.validation == "split" and exp.task.val_samples >= exp.task.samples:
        exp.task.validation = "fresh"
    for section in ("model", "training", "goal", "meta", "compare"):
        for name, value in draw(section_values(SECTIONS[section])).items():
            setattr(getattr(exp, section), name, value)
    for translation in (exp.meta.zh, exp.compare.zh):
        for name, value in draw(section_values(type(translation))).items():
            setattr(translation, name, value)
    if len(exp.meta.zh.hints) != len(exp.meta.hints):  # translated hints go in step, or not at all
        exp.meta.zh.hints = []
    if exp.compare.vary:  # one way of declaring variants at a time
        exp.compare.variants = []
    layers = draw(st.lists(section_values(LayerSpec), max_size=4))
    exp.model.hidden = [LayerSpec(**values) for values in layers]
    if exp.task.samples < 2:  # batch norm needs two training samples
        exp.task.samples = 2
        if exp.task.validation == "split":
            exp.task.validation = "fresh"
    if train_samples(exp.task) < 2:  # the validation and test sets leave too little to train on
        exp.task.validation, exp.task.test_fraction = "fresh", 0.0
    if exp.training.batch_size == 1 and any(layer.batch_norm for layer in exp.model.hidden):
        exp.training.batch_size = 2  # batch norm cannot normalize one sample
    kind = task_shape(exp.task).kind
    t = exp.training
    t.loss = draw(st.sampled_from([n for n, loss in LOSSES.items() if loss.refuses(kind) is None]))
    if t.nesterov and (t.optimizer != "sgd" or t.momentum <= 0):
        t.nesterov = False
    if kind == "regression" and exp.goal.metric.endswith("accuracy"):
        exp.goal.metric = draw(st.sampled_from(["val_loss", "train_loss"]))
    solution = draw(
        st.dictionaries(
            st.sampled_from(["training.lr", "training.epochs"]), st.integers(1, 100), max_size=2
        )
    )
    exp.solution = solution
    exp.predict = draw(st.sampled_from([PredictSpec(), *questions()]))
    assert problems(exp) == [], problems(exp)
    return exp


def questions() -> list[PredictSpec]:
    """The questions the presets ask: every shape of answer they use."""
    return [exp.predict for _name, exp in all_presets() if exp.predict.asks]


# ---------------------------------------------------------------------------------------------
# Defaults and round trips


def test_defaults_validate():
    exp = Experiment()
    assert problems(exp) == []
    check(exp)
    assert loads(dumps(exp)) == exp


def test_round_trip_keeps_layers_that_differ_from_the_model_defaults(tmp_path):
    exp = Experiment()
    exp.task.name = "circle"
    exp.model.activation = "tanh"
    exp.model.hidden = [
        LayerSpec(16, "tanh"),
        LayerSpec(8, "relu", 0.25, True),
        LayerSpec(4, "tanh", 0.0, False),
    ]
    text = dumps(exp)
    hidden = to_dict(exp)["model"]["hidden"]
    assert hidden[0] == 16 and hidden[2] == 4  # bare widths for layers that follow the defaults
    assert hidden[1] == {"units": 8, "activation": "relu", "dropout": 0.25, "batch_norm": True}
    back = loads(text)
    assert back == exp
    assert [layer.activation for layer in back.model.hidden] == ["tanh", "relu", "tanh"]
    assert back.model.hidden[1].dropout == 0.25 and back.model.hidden[1].batch_norm
    path = save(exp, tmp_path / "exp.toml")
    assert load_file(path) == exp
    assert not [p for p in tmp_path.iterdir() if p.name != "exp.toml"]  # no temp file left


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(experiments())
def test_any_valid_experiment_round_trips_exactly(exp):
    assert loads(dumps(exp)) == exp
    assert from_dict(to_dict(exp)) == exp


# ---------------------------------------------------------------------------------------------
# Field rules: messages name the path, the bad value and what is allowed


def all_field_paths():
    for section, cls in SECTIONS.items():
        for f in fields(cls):
            if f.name != "hidden" and "rule" in f.metadata:
                yield f"{section}.{f.name}", f.metadata["rule"]


def bad_values(rule):
    if isinstance(rule, Number):
        bad = [rule.high * 2 + 1, "x", True]
        bad.append(rule.low if rule.low_open else rule.low - 1)
        if rule.integer:
            bad.append(rule.low + 1.5)
        return bad
    if isinstance(rule, Choice):
        return ["no_such_option", 3]
    if isinstance(rule, Flag):
        return [1, "yes"]
    if isinstance(rule, Text):
        return ["x" * (rule.max_length + 1), 5, "bell\x07", "\x1b[2J"]
    if isinstance(rule, TextList):
        return ["one line", [1, 2], ["ok", "\x9b31m"]]
    if isinstance(rule, ChoiceList):
        return [rule.options[0], ["no.such"], [3], list(rule.options) * 2]
    if isinstance(rule, Features):
        # ["x3"] is a CSV task's column name: refused with the task (tests/test_features.py)
        return ["poly3", 3, [], ["x1", "x1"], ["x1", 2], [""], ["a\x1b[2J"]]
    if isinstance(rule, VariantList):
        return [{"training.lr": 0.1}, [{}], [{"goal.epochs": 3}], [1]]
    if isinstance(rule, Answer):
        return [0, 6, 2.5, "2", True, [1, 1], [1, "2"], [[1]], [1, 2, 3, 4, 5, 5]]
    if isinstance(rule, Vary):
        return [
            [1],
            {"training.lr": 0.1},
            {"training.lr": []},
            {"meta.title": ["a"]},
            {f"training.{n}": [1, 2] for n in ("lr", "epochs", "seed", "l2", "l1", "eps", "gamma")},
        ]
    raise AssertionError(rule)


@pytest.mark.parametrize("path,rule", list(all_field_paths()), ids=lambda p: str(p))
def test_every_field_rejects_out_of_range_values(path, rule):
    for value in bad_values(rule):
        with pytest.raises(ExperimentError) as info:
            apply_override(Experiment(), path, value)
        message = str(info.value)
        assert message.startswith(f"{path}: "), message
        assert rule.describe() in message, message
        shown = "true" if value is True else (repr(value) if isinstance(value, str) else str(value))
        if len(shown) < 100:
            assert shown in message, message
        # from a TOML table too
        section, name = path.split(".")
        with pytest.raises(ExperimentError, match=f"^{path}: "):
            from_dict({section: {name: value}})


def test_number_rule_messages_state_the_range():
    assert "must be a number > 0 and <= 100" in str(
        pytest.raises(ExperimentError, apply_override, Experiment(), "training.lr", 0).value
    )
    rule, doc = field_rule("training.batch_size")
    assert rule.describe() == "a whole number >= 1 and <= 200000" and doc
    assert rule.check(0) and rule.check(2.5) and rule.check(64) is None
    layer_rule, _ = field_rule("layer.units")
    assert layer_rule.check(0) and layer_rule.check(16) is None
    assert field_rule("training.loss")[0].options == tuple(LOSSES)


def test_layer_fields_in_a_toml_table_name_their_index():
    with pytest.raises(ExperimentError, match=r"^model\.hidden\[1\]\.dropout: 1\.5 is not allowed"):
        from_dict({"model": {"hidden": [4, {"units": 4, "dropout": 1.5}]}})
    with pytest.raises(ExperimentError, match=r"^model\.hidden\[0\]\.units: 0 is not allowed"):
        from_dict({"model": {"hidden": [0]}})
    with pytest.raises(ExperimentError, match=r"model\.hidden\[0\]\.colour: unknown field"):
        from_dict({"model": {"hidden": [{"units": 3, "colour": "red"}]}})
    with pytest.raises(ExperimentError, match=r"^model\.hidden: "):
        from_dict({"model": {"hidden": 16}})


def test_unknown_sections_and_fields_are_refused():
    with pytest.raises(ExperimentError, match="^optimiser: unknown section"):
        from_dict({"optimiser": {}})
    with pytest.raises(ExperimentError, match=r"^training\.learning_rate: unknown field"):
        from_dict({"training": {"learning_rate": 0.1}})
    with pytest.raises(ExperimentError, match="not valid TOML"):
        loads("[training\nlr = ")


def test_problems_lists_every_problem_with_its_path():
    exp = Experiment()
    exp.training.lr = -1
    exp.task.samples = 0
    exp.model.hidden = [LayerSpec(units=0), LayerSpec(units=4, activation="swish")]
    found = dict(problems(exp))
    assert set(found) == {
        "training.lr",
        "task.samples",
        "model.hidden[0].units",
        "model.hidden[1].activation",
    }
    assert "-1 is not allowed" in found["training.lr"]
    assert "'swish' is not allowed" in found["model.hidden[1].activation"]
    with pytest.raises(ExperimentError, match=r"^task\.samples: "):  # the first problem
        check(exp)


# ---------------------------------------------------------------------------------------------
# --set parsing


@pytest.mark.parametrize(
    "text,expected",
    [
        ("training.lr=0.01", ("training.lr", 0.01)),
        ("training.epochs=5", ("training.epochs", 5)),
        ("training.lr=1e-3", ("training.lr", 0.001)),
        ("training.nesterov=true", ("training.nesterov", True)),
        ("model.batch_norm=false", ("model.batch_norm", False)),
        ("training.loss=bce", ("training.loss", "bce")),
        ('meta.title="a title"', ("meta.title", "a title")),
        ("model.hidden=[16,16]", ("model.hidden", [16, 16])),
        (" model.hidden = [ 8 ] ", ("model.hidden", [8])),
        ('meta.hints=["a", "b"]', ("meta.hints", ["a", "b"])),
    ],
)
def test_parse_assignment_reads_toml_typed_values(text, expected):
    path, value = parse_assignment(text)
    assert (path, value) == expected
    assert type(value) is type(expected[1])


def test_parse_value_bare_words_are_text():
    assert parse_value("relu") == "relu"
    assert parse_value("2") == 2 and isinstance(parse_value("2"), int)
    assert parse_value("2.0") == 2.0 and isinstance(parse_value("2.0"), float)


@pytest.mark.parametrize("text", ["training.lr", "=3", "", "  =x"])
def test_parse_assignment_refuses_text_without_a_field(text):
    with pytest.raises(ExperimentError, match="expected section.field=value"):
        parse_assignment(text)


def test_overrides_apply_and_validate():
    exp = with_overrides(
        Experiment(),
        [
            parse_assignment(t)
            for t in [
                "model.hidden=[16,16]",
                "training.lr=0.5",
                "training.epochs=3",
                "task.name=circle",
            ]
        ],
    )
    assert [layer.units for layer in exp.model.hidden] == [16, 16]
    assert exp.training.lr == 0.5 and exp.training.epochs == 3 and exp.task.name == "circle"
    assert isinstance(exp.training.lr, float)
    base = Experiment()
    with_overrides(base, {"training.lr": 0.5})
    assert base.training.lr == 0.001  # a copy: the original is untouched


@pytest.mark.parametrize(
    "path,match",
    [
        ("optimiser.lr", r"^optimiser\.lr: unknown field; fields look like section\.field"),
        ("training.learning_rate", r"^training\.learning_rate: unknown field; training has: .*lr"),
        ("training", r"^training: unknown field"),
    ],
)
def test_override_of_unknown_section_or_field(path, match):
    with pytest.raises(ExperimentError, match=match):
        apply_override(Experiment(), path, 1)


def test_override_value_of_wrong_type_names_the_field():
    with pytest.raises(
        ExperimentError,
        match=r"^training\.lr: 'abc' is not allowed; must be a "
        r"number > 0",
    ):
        with_overrides(Experiment(), [parse_assignment("training.lr=abc")])


def test_model_wide_override_updates_layers_that_followed_the_old_default():
    exp = from_dict({"model": {"hidden": [8, {"units": 4, "activation": "sigmoid"}, 8]}})
    apply_override(exp, "model.activation", "tanh")
    assert [layer.activation for layer in exp.model.hidden] == ["tanh", "sigmoid", "tanh"]
    apply_override(exp, "model.dropout", 0.2)
    assert [layer.dropout for layer in exp.model.hidden] == [0.2, 0.2, 0.2]
    apply_override(exp, "model.batch_norm", True)
    assert all(layer.batch_norm for layer in exp.model.hidden)
    assert loads(dumps(exp)) == exp
    # New bare-width layers take the current defaults.
    apply_override(exp, "model.hidden", [5])
    assert exp.model.hidden == [LayerSpec(5, "tanh", 0.2, True)]


# ---------------------------------------------------------------------------------------------
# How fields combine


def combo(overrides):
    exp = Experiment()
    for path, value in overrides.items():
        apply_override(exp, path, value)
    return dict(problems(exp))


def test_bce_on_regression_is_refused_with_advice():
    found = combo({"task.name": "quadratic", "training.loss": "bce", "goal.metric": "val_loss"})
    assert list(found) == ["training.loss"]
    assert "regression" in found["training.loss"] and "mse" in found["training.loss"]


def test_nll_on_a_binary_task_is_refused():
    found = combo({"training.loss": "nll"})
    assert "binary" in found["training.loss"] and "bce" in found["training.loss"]


def test_cross_entropy_on_regression_is_refused():
    found = combo({"task.name": "plane", "training.loss": "cross_entropy"})
    assert "mse" in found["training.loss"]


def test_nesterov_needs_sgd_with_momentum():
    found = combo({"training.optimizer": "sgd", "training.nesterov": True})
    assert "momentum" in found["training.nesterov"]
    assert (
        combo({"training.optimizer": "sgd", "training.nesterov": True, "training.momentum": 0.9})
        == {}
    )
    assert "training.nesterov" in combo({"training.nesterov": True, "training.momentum": 0.9})


def test_split_validation_must_be_smaller_than_samples():
    found = combo({"task.validation": "split", "task.samples": 100, "task.val_samples": 100})
    assert "100" in found["task.val_samples"] and "task.samples" in found["task.val_samples"]
    assert combo({"task.validation": "split", "task.samples": 100, "task.val_samples": 99}) == {}
    # fresh validation may be larger than the training set
    assert combo({"task.samples": 10, "task.val_samples": 500}) == {}


def test_accuracy_goal_on_regression_is_refused():
    found = combo({"task.name": "quadratic", "goal.epochs": 10, "goal.metric": "val_accuracy"})
    assert "regression" in found["goal.metric"] and "val_loss" in found["goal.metric"]
    # without a goal (epochs 0) the metric does not matter
    assert combo({"task.name": "quadratic", "goal.metric": "val_accuracy"}) == {}


def test_task_dim_and_classes_problems_are_reported():
    found = combo({"task.name": "circle", "task.dim": 3})
    assert found["task.dim"].startswith("3 is not allowed for circle")  # under its own field


def test_invalid_solution_is_refused_at_load():
    good = dumps(Experiment()) + '\n[solution]\n"training.lr" = 0.01\n'
    assert loads(good).solution == {"training.lr": 0.01}
    assert with_solution(loads(good)).training.lr == 0.01
    with pytest.raises(ExperimentError, match=r"^solution\.training\.lr: -1 is not allowed"):
        loads('[solution]\n"training.lr" = -1\n')
    with pytest.raises(ExperimentError, match=r"^solution\.training\.rate: unknown field"):
        loads('[solution]\n"training.rate" = 0.1\n')
    with pytest.raises(ExperimentError, match=r"^solution: "):
        from_dict({"solution": 3})


def test_every_field_has_a_rule_and_a_help_text():
    """Forms and the compare dialog ask field_rule for any field: none may be without one."""
    from nnplay.experiment import SECTIONS, LayerSpec

    for section, cls in [*SECTIONS.items(), ("layer", LayerSpec)]:
        for f in fields(cls):
            if "section" in f.metadata:  # a whole table (meta.zh), not a field
                continue
            rule, doc = field_rule(f"{section}.{f.name}")
            assert doc and rule.describe(), f"{section}.{f.name}"
    rule, _doc = field_rule("model.hidden")
    assert rule.check([16, {"units": 4}]) is None
    assert rule.check("16") and rule.check([0]) and rule.check([8] * 33)
