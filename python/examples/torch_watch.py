"""Record a small torch training run with optverify.watch, then check it.

    python torch_watch.py run.ovt            # AdamW, two parameter groups, cosine schedule
    python torch_watch.py run.ovt --plain    # AdamW, one group, constant learning rate
    python torch_watch.py run.ovt --frozen   # fine-tuning: the first layer frozen, OneCycleLR
    optverify check run.ovt

A path ending in .jsonl writes JSON Lines instead of the binary directory.
"""
import sys

import torch

import optverify

path = sys.argv[1] if len(sys.argv) > 1 else "run.ovt"
plain = "--plain" in sys.argv
frozen = "--frozen" in sys.argv
torch.manual_seed(0)

model = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
if frozen:
    # The first layer frozen but still handed to the optimizer (torch's step skips it; the
    # trace leaves it out); OneCycleLR cycles β₁ too, which watch records per step.
    model[0].requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=50)
    schedule = None
elif plain:
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    sched, schedule = None, None
else:
    # Decay the weights, not the biases; cosine-anneal the learning rate over the run.
    opt = torch.optim.AdamW(
        [
            {"params": [model[0].weight, model[2].weight], "weight_decay": 0.05},
            {"params": [model[0].bias, model[2].bias], "weight_decay": 0.0},
        ],
        lr=3e-3,
    )
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=50)
    schedule = {"name": "CosineAnnealingLR", "args": {"T_max": 50}}

rec = optverify.watch(opt, path, model=model, schedule=schedule)  # the one line

x = torch.randn(256, 20)
y = x[:, :1] * 2.0 - x[:, 1:2] + 0.1 * torch.randn(256, 1)
for step in range(50):
    idx = torch.randint(0, 256, (32,))
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x[idx]), y[idx])
    rec.set_loss(loss.item())
    loss.backward()
    opt.step()
    if sched is not None:
        sched.step()
rec.close()
print(f"wrote {rec.steps} steps to {path}; now run: optverify check {path}")
