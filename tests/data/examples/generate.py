#!/usr/bin/env python3
"""Write the example traces of tests/data/examples/ with scripts/optverify_trace.py.

    /tmp/ovenv/bin/python tests/data/examples/generate.py

torch-adagrad-labelled-optax-f32.jsonl: a float32 PyTorch run (a 3 -> 2 linear layer fitted by
least squares on fixed random data, torch.optim.Adagrad(lr=0.1), 30 full-batch steps) whose
header deliberately declares optax's adagrad with the same learning rate: the mistake of
assuming the two frameworks' Adagrad agree. optax starts the accumulator at 0.1 and puts
eps = 1e-7 inside the root; PyTorch starts at 0 with eps = 1e-10 outside. `optverify check`
must exit 1 and name PyTorch's defaults in its diagnosis (tests/cli.rs).
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "scripts"))
from optverify_trace import TraceWriter  # noqa: E402

torch.set_num_threads(1)
out = os.path.dirname(os.path.abspath(__file__))

torch.manual_seed(0)
model = torch.nn.Linear(3, 2)  # float32
x, y = torch.randn(16, 3), torch.randn(16, 2)
opt = torch.optim.Adagrad(model.parameters(), lr=0.1, foreach=False)
with TraceWriter(f"{out}/torch-adagrad-labelled-optax-f32.jsonl", optimizer="adagrad", preset="optax",
                 hyperparameters={"learning_rate": 0.1}, named_params=model.named_parameters(),
                 producer=f"torch {torch.__version__} Adagrad(lr=0.1), deliberately labelled optax") as tw:
    for _ in range(30):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        grads = [p.grad.clone() for p in model.parameters()]
        opt.step()
        tw.step(grads, list(model.parameters()), loss=loss)
print("wrote", out)
