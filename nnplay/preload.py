"""Imported once by a fork server before it forks: what each forked child would otherwise import
again. Building the first optimizer makes torch import its compiler stack (about 1.5 s here), so
one is built here, through the public API."""

import torch

import nnplay.training  # noqa: F401  (the Trainer and everything it imports)

torch.optim.SGD([torch.zeros(1, requires_grad=True)])
