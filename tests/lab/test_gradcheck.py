import pytest
import torch
from torch import nn

from nnplay.lab.gradcheck import PASS_BELOW, gradient_check, relative_error


class LeakyGradReLU(torch.autograd.Function):
    """ReLU forward, but a broken backward that passes the gradient everywhere."""

    @staticmethod
    def forward(ctx, x):
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        return grad


class ScaledGradTanh(torch.autograd.Function):
    """Tanh forward with a backward 10 % too large."""

    @staticmethod
    def forward(ctx, x):
        y = torch.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return 1.1 * grad * (1 - y * y)


class Wrap(nn.Module):
    def __init__(self, function):
        super().__init__()
        self.function = function

    def forward(self, x):
        return self.function.apply(x)


def small_net(activation: nn.Module) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 6), activation, nn.Linear(6, 2))


def data():
    generator = torch.Generator().manual_seed(1)
    return torch.randn(16, 3, generator=generator), torch.randint(0, 2, (16,), generator=generator)


def test_correct_backward_passes_on_every_parameter():
    X, y = data()
    report = gradient_check(small_net(nn.Tanh()), nn.CrossEntropyLoss(), X, y)
    assert report.passed
    assert report.max_rel_error < PASS_BELOW
    assert report.checked == report.total == 3 * 6 + 6 + 6 * 2 + 2
    assert [t.name for t in report.tensors] == ["0.weight", "0.bias", "2.weight", "2.bias"]


@pytest.mark.parametrize("broken", [LeakyGradReLU, ScaledGradTanh])
def test_broken_backward_fails(broken):
    X, y = data()
    report = gradient_check(small_net(Wrap(broken)), nn.CrossEntropyLoss(), X, y)
    assert not report.passed
    by_tensor = {t.name: t.max_rel_error for t in report.tensors}
    assert by_tensor["0.weight"] > 1e-3  # the error lives below the broken activation
    assert by_tensor["2.weight"] < PASS_BELOW  # the layer above it is unaffected
    worst = report.worst[0]
    assert worst.tensor.startswith("0.")
    assert relative_error(worst.analytic, worst.numeric) == worst.rel_error > 1e-3


def test_dropout_and_batch_norm_are_checked_in_eval_mode_without_touching_the_model():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(4, 8),
        nn.BatchNorm1d(8),
        nn.Sigmoid(),
        nn.Dropout(0.5),
        nn.Linear(8, 1),
        nn.Sigmoid(),
    )
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    X, y = torch.rand(20, 4), torch.randint(0, 2, (20, 1)).float()
    report = gradient_check(model, nn.BCELoss(), X, y)
    assert report.passed
    assert model.training and model[0].weight.dtype == torch.float32
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_sampling_bounds_the_work_and_is_seeded():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    X, y = torch.randn(50, 784), torch.randint(0, 10, (50,))
    report = gradient_check(model, nn.CrossEntropyLoss(), X, y, max_params=20, seed=3)
    assert report.total == 784 * 128 + 128 + 128 * 10 + 10
    assert report.checked == 20 + 20 + 20 + 10
    assert report.passed
    again = gradient_check(model, nn.CrossEntropyLoss(), X, y, max_params=20, seed=3)
    assert [p.index for p in again.worst] == [p.index for p in report.worst]


def test_a_parameter_the_loss_does_not_use_checks_as_zero():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2))
    model.unused = nn.Linear(2, 2)  # registered, never called
    X, y = data()
    report = gradient_check(model, nn.CrossEntropyLoss(), X, y)
    assert report.passed and report.total == 3 * 2 + 2 + 2 * 2 + 2


def test_relative_error_is_robust_near_zero():
    assert relative_error(0.0, 0.0) == 0.0
    assert relative_error(1e-12, 2e-12) < PASS_BELOW  # rounding noise on a vanishing gradient
    assert relative_error(1.0, 1.1) == pytest.approx(0.1 / 2.1)


def test_report_to_dict_is_json():
    import json

    X, y = data()
    report = gradient_check(small_net(nn.ReLU()), nn.CrossEntropyLoss(), X, y)
    data_out = json.loads(json.dumps(report.to_dict()))
    assert data_out["passed"] is True
    assert data_out["worst"][0]["index"]


def test_the_text_shows_a_tiny_error_only_as_under_the_threshold_and_a_failing_one_whole():
    """Digits of a 1e-8 error differ between CPUs: the learner reads "< 1e-06 ✔"; a failing
    error keeps its value, and --json (to_dict) every digit."""
    from nnplay.lab.text import gradcheck_lines

    X, y = data()
    passed = gradient_check(small_net(nn.ReLU()), nn.CrossEntropyLoss(), X, y)
    lines = gradcheck_lines(passed)
    assert "max relative error < 1e-06 ✔" in lines[0]
    rows = [line for line in lines[3:] if line and not line.isupper()]  # not the headings
    assert len(rows) == 4 + 5 and all(row.endswith("  < 1e-06 ✔") for row in rows)
    assert passed.to_dict()["max_rel_error"] == passed.max_rel_error > 0
    failed = gradient_check(small_net(Wrap(LeakyGradReLU)), nn.CrossEntropyLoss(), X, y)
    text = "\n".join(gradcheck_lines(failed))
    assert f"{failed.max_rel_error:.2e} ✖" in text and "FAILED" in text
