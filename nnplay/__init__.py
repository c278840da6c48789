"""nnplay: a terminal neural-network playground on real PyTorch."""

__version__ = "0.1.0"
