import torch

torch.set_num_threads(1)  # two cores: one thread is faster for nets this small
