"""`nnplay explain`: the report, its JSON, Chinese, and bad input in one line."""

import json

import pytest

from tests.command_line import run_in_process


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_the_report_works_out_a_hidden_weight_and_agrees_with_torch(capsys):
    code, out, err = run_in_process(
        capsys, "explain", "circle", "--weight", "hidden1.weight[2,1]", "--steps", "3"
    )
    assert code == 0 and err == ""
    assert out.startswith("circle: hidden1.weight[2,1] at step 4 (epoch 1, mini-batch 4 of 32")
    for words in (
        "Chain rule, sample by sample",
        "tanh′(z) = 1 − tanh²(z): the activation function's slope",
        "backpropagated from the later layers",
        "… and 26 more samples",
        "over the 1 unit of output",
        "bias correction of the first moment: 1 − β₁ᵗ = 1 − 0.9^4 = 0.3439",
        "✔ by hand = torch",
    ):
        assert words in out


def test_json_has_every_field_and_they_are_consistent(capsys):
    code, out, _ = run_in_process(
        capsys,
        "explain",
        "lr-too-high",
        "--weight",
        "output.weight[0,5]",
        "--steps",
        "2",
        "--set",
        "training.lr=0.01",
        "--set",
        "training.momentum=0.9",
        "--set",
        "training.l2=0.1",
        "--json",
    )
    data = last_json(out)
    assert code == 0
    assert data["weight"] == "output.weight[0,5]" and data["step"] == 3
    terms = {t["name"]: t["value"] for t in data["terms"]}
    assert terms["l2"] == pytest.approx(0.1 * data["old"])
    assert data["gradient"] == pytest.approx(terms["data_gradient"] + terms["l1"] + terms["l2"])
    assert data["gradient"] == pytest.approx(data["gradient_autograd"], rel=1e-6)
    optimizer = data["optimizer"]
    assert optimizer["name"] == "sgd"
    buffer = optimizer["state_before"]["momentum_buffer"]
    assert optimizer["state_after"]["momentum_buffer"] == pytest.approx(
        0.9 * buffer + data["gradient"]
    )
    assert data["update"] == pytest.approx(-0.01 * optimizer["state_after"]["momentum_buffer"])
    assert data["new"] == data["old"] + data["update"]
    assert data["new"] == pytest.approx(data["new_torch"], rel=1e-6)
    assert data["agrees"] is True and data["chain"]["count"] == 32


def test_chinese_speaks_the_course_words(capsys, monkeypatch):
    monkeypatch.setenv("NNPLAY_LANG", "zh")
    code, out, _ = run_in_process(capsys, "explain", "xor", "--set", "training.momentum=0.9")
    assert code == 0
    for words in ("链式法则", "梯度", "一阶矩", "偏差修正", "激活函数的导数", "手算 = torch"):
        assert words in out


def test_no_weight_named_explains_the_first_layers_first_weight(capsys):
    code, out, _ = run_in_process(capsys, "explain", "first-gt-fifth", "--json")
    assert code == 0 and last_json(out)["weight"] == "output.weight[0,0]"


@pytest.mark.parametrize(
    "argv,named",
    [
        (["--weight", "hidden1.weight[8,0]"], "--weight 'hidden1.weight[8,0]' is not allowed"),
        (["--weight", "hidden9.bias[0]"], "hidden1.weight[0..7, 0..1], hidden1.bias[0..7]"),
        (["--steps", "-1"], "--steps -1 is out of range; allowed: 0..1000000"),
        (
            ["--steps", "1280"],
            "the run ended after 1280 steps (finished 40 epochs); allowed: 0..1279",
        ),
        (["--set", "model.batch_norm=true"], "batch norm is not explained by hand"),
        (["--set", "training.nope=1"], "training.nope"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, argv, named):
    code, out, err = run_in_process(capsys, "explain", "xor", *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and named in err
    assert err.startswith("nnplay explain: ")
