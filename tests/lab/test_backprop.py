from itertools import pairwise

import numpy as np
import pytest

from nnplay.lab.backprop import (
    BackpropConfig,
    autograd_step,
    hidden_weight_rule,
    numpy_step,
    output_weight_rule,
    worked_example,
)


def test_forward_values_and_loss_match_the_curriculum():
    step = worked_example().autograd[0]
    assert step.hidden_net == pytest.approx([0.3775, 0.3925], abs=1e-12)
    assert step.hidden_out == pytest.approx([0.593270, 0.596884], abs=1e-6)
    assert step.output_out == pytest.approx([0.751365, 0.772928], abs=1e-6)
    assert step.loss == pytest.approx(0.298371, abs=1e-6)


def test_weights_after_one_step_match_the_published_example():
    after = worked_example().autograd[0].after
    assert after["W2"] == pytest.approx(
        np.array([[0.358916, 0.408666], [0.511301, 0.561370]]), abs=1e-6
    )
    assert after["W1"] == pytest.approx(
        np.array([[0.149781, 0.199561], [0.249751, 0.299502]]), abs=1e-6
    )
    # biases are parameters too: b ← b − lr · dL/db
    step = worked_example().autograd[0]
    assert after["b2"] == pytest.approx(0.60 - 0.5 * step.grads["b2"])


def test_numpy_layers_agree_with_autograd_in_float64():
    result = worked_example(BackpropConfig(steps=3, lr=1.3))
    assert result.max_difference < 1e-12
    assert len(result.numpy) == 3


def test_a_broken_numpy_layer_would_show_as_a_difference():
    config = BackpropConfig()
    good = numpy_step(config.parameters(), config.x, config.target, config.lr)
    shifted = numpy_step(config.parameters(), config.x, [0.02, 0.99], config.lr)
    assert np.max(np.abs(good.numbers() - shifted.numbers())) > 1e-4


def test_repeated_steps_lower_the_loss_and_chain_from_previous_weights():
    result = worked_example(BackpropConfig(steps=5))
    losses = [t.loss for t in result.autograd]
    assert all(b < a for a, b in pairwise(losses))
    for earlier, later in pairwise(result.autograd):
        assert later.before["W1"] == pytest.approx(earlier.after["W1"])


def test_chain_rule_factors_multiply_to_the_autograd_gradient():
    step = worked_example().autograd[0]
    out_rule = output_weight_rule(step, unit=0, source=0)
    assert [v for _, v in out_rule.factors] == pytest.approx(
        [0.741365, 0.186816, 0.593270], abs=1e-6
    )
    assert out_rule.gradient == pytest.approx(step.grads["W2"][0][0], abs=1e-15)
    assert "0.082167" in out_rule.text()
    hidden_rule = hidden_weight_rule(step, unit=1, source=0)
    assert len(hidden_rule.paths) == 2  # the hidden unit reaches the loss through both outputs
    assert hidden_rule.factors[0][1] == pytest.approx(sum(v for _, v in hidden_rule.paths))
    assert hidden_rule.gradient == pytest.approx(step.grads["W1"][1][0], abs=1e-15)


def test_edited_inputs_change_every_engine_the_same_way():
    config = BackpropConfig(x=[1.0, -2.0], target=[0.5, 0.5], b2=[0.0, 0.1], lr=0.1)
    params = config.parameters()
    a = autograd_step(params, config.x, config.target, config.lr)
    n = numpy_step(params, config.x, config.target, config.lr)
    assert np.max(np.abs(a.numbers() - n.numbers())) < 1e-12
    assert a.hidden_net == pytest.approx([0.15 - 0.40 + 0.35, 0.25 - 0.60 + 0.35])


def test_result_serialises_to_plain_json():
    import json

    data = json.loads(json.dumps(worked_example().to_dict()))
    assert data["losses"][0] == pytest.approx(0.298371, abs=1e-6)
    assert data["chain_rules"][0]["weight"] == "W2[0][0]"
