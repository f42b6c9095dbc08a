"""The connector: AR hidden states -> the DiT's condition width (as in BLIP3o-NEXT).

    cond = RMSNorm(Linear(GELU_tanh(Linear(hidden))))
    hidden [B, n_cond, ar.hidden_size] -> cond [B, n_cond, connector.out_dim]

Training: it has no loss of its own; it trains through the DiT's flow-matching loss
(`dit.loss(x0, connector(hidden), ...)`), see modeling/dit.py.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from .layers import RMSNorm


class Connector(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, eps: float = 1e-6):
        super().__init__()
        self.fc1 = nn.Linear(in_dim, out_dim)
        self.fc2 = nn.Linear(out_dim, out_dim)
        self.norm = RMSNorm(out_dim, eps)

    def forward(self, hidden):
        return self.norm(self.fc2(F.gelu(self.fc1(hidden), approximate="tanh")))
