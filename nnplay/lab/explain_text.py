"""The explanation of one weight's next step (nnplay/lab/explain.py) as a readable report, in
the course's words: shared by `nnplay explain` and the app."""

from __future__ import annotations

from nnplay.i18n import N_, _, ljust, ngettext
from nnplay.lab.explain import SHOWN_PATHS, SHOWN_SAMPLES, TOLERANCE, Explanation, Term

# What each named number is, by its key (the JSON keeps the keys).
WORDS = {
    "loss_slope": N_("the loss's slope at the prediction"),
    "head_slope": N_("the output sigmoid's slope"),
    "softmax_minus_target": N_("softmax probability minus the true class (one-hot)"),
    "backpropagated": N_("backpropagated from the later layers"),
    "dropout": N_("the dropout mask this step draws"),
    "activation_slope": N_("the activation function's slope"),
    "input": N_("the input the weight multiplies"),
    "data_gradient": N_("gradient of the loss, the mean over the mini-batch"),
    "l1": N_("L1 regularization (weights only)"),
    "l2": N_("L2 regularization (weights only)"),
    "gradient": N_("the gradient the optimizer is given"),
    "decoupled_decay": N_("decoupled weight decay (AdamW), before the step"),
    "step_count": N_("step count"),
    "momentum_buffer": N_("momentum"),
    "nesterov": N_("Nesterov momentum's look-ahead"),
    "sum": N_("sum of squared gradients"),
    "square_avg": N_("exponentially weighted average of squared gradients"),
    "scaled": N_("the gradient divided by its root mean square"),
    "exp_avg": N_("first moment: exponentially weighted average of gradients"),
    "exp_avg_sq": N_("second moment: exponentially weighted average of squared gradients"),
    "bias_correction1": N_("bias correction of the first moment"),
    "bias_correction2": N_("bias correction of the second moment"),
    "m_hat": N_("bias-corrected first moment"),
    "v_hat": N_("bias-corrected second moment"),
    "update": N_("the optimizer's update"),
    "new": N_("the new weight"),
}


def number(value: float | None) -> str:
    return "-" if value is None else f"{value + 0.0:.6g}"  # -0 shown as 0


# How the report writes the optimizers' state, by torch's names for it.
STATE_SYMBOLS = {
    "step": "t",
    "momentum_buffer": "b",
    "sum": "G",
    "square_avg": "s",
    "exp_avg": "m",
    "exp_avg_sq": "v",
}


def term_line(term: Term) -> str:
    parts = [term.symbol, term.formula, term.worked, number(term.value)]
    return f"  {_(WORDS[term.key])}: " + " = ".join(p for p in parts if p)


def row(cells, widths) -> str:
    return ("  " + "".join(ljust(c, w) for c, w in zip(cells, widths, strict=True))).rstrip()


def chain_lines(e: Explanation) -> list[str]:
    chain = e.chain
    lines = [
        _("Chain rule, sample by sample (ℓ_n: sample n's loss, L = (1/n)·Σ_n ℓ_n):"),
        "  ∂ℓ_n/∂w = " + " × ".join(symbol.split(" = ")[0] for _k, symbol in chain.factors),
    ]
    lines += [f"    {symbol}: {_(WORDS[key])}" for key, symbol in chain.factors]
    heads = [_("SAMPLE")] + [symbol.split(" = ")[0] for _k, symbol in chain.factors] + ["∂ℓ_n/∂w"]
    widths = [max(14, len(h) + 2) for h in heads]
    widths[0] = 8
    lines.append(row(heads, widths))
    for n, (values, product) in enumerate(zip(chain.values, chain.products, strict=False)):
        if n == SHOWN_SAMPLES:
            break
        cells = [str(n + 1)] + [number(v) for v in values] + [number(product)]
        lines.append(row(cells, widths))
    more = len(chain.products) - SHOWN_SAMPLES
    if more > 0:
        lines.append("  " + _("… and {count} more samples").format(count=more))
    mean = _("(1/{count})·Σ_n ∂ℓ_n/∂w = {value}").format(
        count=len(chain.products), value=number(float(chain.products.mean()))
    )
    lines.append("  " + mean)
    return lines


def paths_lines(e: Explanation) -> list[str]:
    if e.paths is None:
        return []
    paths = e.paths.to_dict()
    title = ngettext(
        "How sample 1's backpropagated factor is made: Σ_k δ_k·w_k over the {count} unit of "
        "{layer} (δ_k = ∂ℓ/∂z_k of unit k, w_k the weight from this unit into it):",
        "How sample 1's backpropagated factor is made: Σ_k δ_k·w_k over the {count} units of "
        "{layer} (δ_k = ∂ℓ/∂z_k of unit k, w_k the weight from this unit into it):",
        paths["count"],
    )
    lines = [title.format(count=paths["count"], layer=paths["layer"])]
    for path in paths["paths"]:
        product = path["delta"] * path["weight"]
        lines.append(
            f"  k={path['unit']}: {number(path['delta'])} × {number(path['weight'])}"
            f" = {number(product)}"
        )
    more = paths["count"] - SHOWN_PATHS
    if more > 0:
        lines.append("  " + _("… and {count} smaller paths").format(count=more))
    lines.append(f"  Σ = {number(paths['sum'])}")
    return lines


def check_lines(e: Explanation) -> list[str]:
    differences = e.differences()
    rows: list[tuple[str, float | None, float | None, float]] = [
        (_("gradient"), e.gradient, e.gradient_autograd, differences["gradient"])
    ]
    rows.append((_("new weight"), e.new, e.new_torch, differences["new"]))
    rows += [
        (
            f"{STATE_SYMBOLS.get(key, key)} ({key})",
            e.state_after.get(key),
            e.state_after_torch.get(key),
            differences[key],
        )
        for key in e.state_on_autograd
        if key in differences
    ]
    heads = ("", _("BY HAND"), _("TORCH"), _("RELATIVE DIFFERENCE"))
    lines = [
        _("Checked against torch: the Trainer took this step (autograd, torch.optim):"),
        row(heads, [22] * 4),
    ]
    for name, mine, theirs, difference in rows:
        cells = (name, number(mine), number(theirs), f"{difference:.1e}")
        lines.append(row(cells, [22] * 4))
    if e.agrees:
        verdict = _(
            "✔ by hand = torch: largest relative difference {difference} (within {tolerance})"
        )
    else:
        verdict = _(
            "✖ by hand ≠ torch: largest relative difference {difference} is over {tolerance}"
        )
    lines.append(verdict.format(difference=f"{e.largest_difference:.1e}", tolerance=TOLERANCE))
    lines.append(
        "  "
        + _(
            "(the gradient relative to the size of the numbers it sums; the optimizer's state "
            "worked out by hand again on autograd's gradient)"
        )
    )
    return lines


def explain_lines(target: str, e: Explanation) -> list[str]:
    head = _(
        "{target}: {weight} at step {step} (epoch {epoch}, mini-batch {batch} of {size} "
        "samples); loss {loss}, optimizer {optimizer}, learning rate {lr}"
    )
    lines = [
        head.format(
            target=target,
            weight=e.weight,
            step=e.step,
            epoch=e.epoch,
            batch=e.batch,
            size=e.batch_size,
            loss=e.loss,
            optimizer=e.optimizer,
            lr=f"{e.lr:g}",
        ),
        _("w = {old}").format(old=number(e.old)),
        "",
        *chain_lines(e),
    ]
    if e.dropout:
        lines.append(
            "  "
            + _("dropout: the masks are those this step draws (the Trainer's own random stream)")
        )
    if e.paths is not None:
        lines += ["", *paths_lines(e)]
    lines += ["", _("Gradient:"), *map(term_line, e.terms)]
    lines += ["", _("Optimizer {name}:").format(name=e.optimizer), *map(term_line, e.arithmetic)]
    lines.append(
        "  "
        + _("w: {old} → {new} (update {update})").format(
            old=number(e.old), new=number(e.new), update=number(e.update)
        )
    )
    lines += ["", *check_lines(e)]
    if e.restored:
        note = _(
            "note: after this step the Trainer set the weights back ({reason}); torch's value "
            "above is the one its optimizer wrote"
        )
        lines.append(note.format(reason=e.restored))
    return lines
