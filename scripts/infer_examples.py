#!/usr/bin/env python3
"""Write the real-framework traces of tests/data/infer/: correct runs (and two buggy hand-written
optimizers) whose headers leave out what `optverify check` must infer.

    /tmp/ovenv/bin/python scripts/infer_examples.py

Every run: a 3 -> 2 linear layer (layout weight 2x3, bias 2) fitted by least squares on fixed
random data, full batch, torch single-threaded with foreach=False (optax eager). The header
declares the optimizer and its base hyperparameters only, as a user who forgot the rest would:

* torch-adamw-cosine[-f32].jsonl: AdamW(lr=0.01) under CosineAnnealingLR(T_max=60), 80 steps;
* torch-sgd-onecycle.jsonl: SGD(momentum=0.9) under OneCycleLR(max_lr=0.1, total_steps=50);
* torch-adamw-onecycle-momentum[-f32].jsonl: AdamW(lr=0.01, weight_decay=0.01) under
  OneCycleLR(max_lr=0.02, total_steps=60), whose default cycle_momentum=True cycles β₁ too;
* torch-sgd-nesterov-onecycle-momentum[-f32].jsonl: SGD(momentum=0.9, nesterov=True), the first 50
  steps of OneCycleLR(max_lr=0.1, total_steps=80, anneal_strategy="linear", pct_start=0.25);
* torch-sgd-steplr.jsonl: SGD(lr=0.1, momentum=0.9) under StepLR(step_size=15, gamma=0.3), 40 steps;
* torch-adamw-groups.jsonl: AdamW(lr=0.01, weight_decay=0.1) with the bias in a group without decay;
* torch-adamw-groups-lr-decay[-f32].jsonl: the same with the bias group at lr=0.03 too;
* optax-adam-clip.jsonl: chain(clip_by_global_norm(0.5), adam(0.01)), recording the gradients
  before clipping;
* optax-sgd-warmup-cosine.jsonl: sgd(warmup_cosine_decay_schedule(0, 0.1, 10, 60, 1e-3), momentum=0.9);
* hand-adam-no-m-correction.jsonl: a hand-written torch Adam without m's bias correction;
* hand-adamw-decay-after.jsonl: a hand-written torch AdamW applying the decay after the step.
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from optverify_trace import TraceWriter  # noqa: E402

torch.set_num_threads(1)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "infer")
os.makedirs(out, exist_ok=True)


def torch_model(dtype):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2).to(dtype)
    x, y = torch.randn(16, 3, dtype=dtype), torch.randn(16, 2, dtype=dtype)
    return model, x, y


def torch_run(name, optimizer, hp, make_opt, steps, dtype=torch.float64, make_sched=None, step_fn=None):
    model, x, y = torch_model(dtype)
    opt = make_opt(model)
    sched = make_sched(opt) if make_sched else None
    with TraceWriter(f"{out}/{name}", optimizer=optimizer, preset="pytorch", hyperparameters=hp,
                     named_params=model.named_parameters(),
                     producer=f"torch {torch.__version__} ({name}: see scripts/infer_examples.py)") as tw:
        for _ in range(steps):
            opt.zero_grad() if opt is not None else model.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            grads = [p.grad.clone() for p in model.parameters()]
            if step_fn:
                step_fn(model)
            else:
                opt.step()
            if sched:
                sched.step()
            tw.step(grads, list(model.parameters()), loss=loss)


torch_run("torch-adamw-cosine.jsonl", "adamw", {"lr": 0.01},
          lambda m: torch.optim.AdamW(m.parameters(), lr=0.01, foreach=False), 80,
          make_sched=lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=60))
torch_run("torch-adamw-cosine-f32.jsonl", "adamw", {"lr": 0.01},
          lambda m: torch.optim.AdamW(m.parameters(), lr=0.01, foreach=False), 80, dtype=torch.float32,
          make_sched=lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=60))
torch_run("torch-sgd-onecycle.jsonl", "sgd", {"lr": 0.1, "momentum": 0.9},
          lambda m: torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, foreach=False), 50,
          make_sched=lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=50,
                                                                    cycle_momentum=False))
# OneCycleLR with its default cycle_momentum=True: β₁ (AdamW) or the momentum (SGD) cycles
# with the lr, which no per-step lr alone explains.
for suffix, dt in [("", torch.float64), ("-f32", torch.float32)]:
    torch_run(f"torch-adamw-onecycle-momentum{suffix}.jsonl", "adamw", {"lr": 0.01, "weight_decay": 0.01},
              lambda m: torch.optim.AdamW(m.parameters(), lr=0.01, weight_decay=0.01, foreach=False), 60,
              dtype=dt, make_sched=lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.02, total_steps=60))
    # A prefix: 50 of total_steps=80, linear annealing, pct_start=0.25.
    torch_run(f"torch-sgd-nesterov-onecycle-momentum{suffix}.jsonl", "sgd",
              {"lr": 0.1, "momentum": 0.9, "nesterov": True},
              lambda m: torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, nesterov=True, foreach=False), 50,
              dtype=dt, make_sched=lambda o: torch.optim.lr_scheduler.OneCycleLR(
                  o, max_lr=0.1, total_steps=80, anneal_strategy="linear", pct_start=0.25))
torch_run("torch-sgd-steplr.jsonl", "sgd", {"lr": 0.1, "momentum": 0.9},
          lambda m: torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, foreach=False), 40,
          make_sched=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=15, gamma=0.3))
torch_run("torch-adamw-groups.jsonl", "adamw", {"lr": 0.01, "weight_decay": 0.1},
          lambda m: torch.optim.AdamW([{"params": [m.weight]}, {"params": [m.bias], "weight_decay": 0.0}],
                                      lr=0.01, weight_decay=0.1, foreach=False), 40)
# The bias without decay *and* with its own lr, undeclared.
for suffix, dt in [("", torch.float64), ("-f32", torch.float32)]:
    torch_run(f"torch-adamw-groups-lr-decay{suffix}.jsonl", "adamw", {"lr": 0.01, "weight_decay": 0.1},
              lambda m: torch.optim.AdamW([{"params": [m.weight]},
                                           {"params": [m.bias], "weight_decay": 0.0, "lr": 0.03}],
                                          lr=0.01, weight_decay=0.1, foreach=False), 40, dtype=dt)


def hand(bug):
    """A hand-written Adam(W) step with a bug, as a user might write it."""
    state = {"t": 0, "m": None, "v": None}
    b1, b2, eps, lr, wd = 0.9, 0.999, 1e-8, 0.01, 0.1

    def step(model):
        ps = list(model.parameters())
        if state["m"] is None:
            state["m"] = [torch.zeros_like(p) for p in ps]
            state["v"] = [torch.zeros_like(p) for p in ps]
        state["t"] += 1
        t = state["t"]
        with torch.no_grad():
            for p, m, v in zip(ps, state["m"], state["v"]):
                g = p.grad
                m.mul_(b1).add_((1 - b1) * g)
                v.mul_(b2).add_((1 - b2) * g * g)
                mh = m if bug == "no_m_correction" else m / (1 - b1 ** t)
                vh = v / (1 - b2 ** t)
                u = mh / (vh.sqrt() + eps)
                if bug == "decay_after":
                    p.sub_(lr * u)
                    p.mul_(1 - lr * wd)
                else:
                    p.sub_(lr * u)
    return step


torch_run("hand-adam-no-m-correction.jsonl", "adam", {"lr": 0.01}, lambda m: None, 30,
          step_fn=hand("no_m_correction"))
torch_run("hand-adamw-decay-after.jsonl", "adamw", {"lr": 0.01, "weight_decay": 0.1}, lambda m: None, 30,
          step_fn=hand("decay_after"))

# optax (eager, float64).
import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402


def optax_run(name, optimizer, hp, tx, steps):
    model, x, y = torch_model(torch.float64)
    params = {"weight": jnp.asarray(model.weight.detach().numpy()), "bias": jnp.asarray(model.bias.detach().numpy())}
    xs, ys = jnp.asarray(x.numpy()), jnp.asarray(y.numpy())

    def loss_fn(p):
        return jnp.mean((xs @ p["weight"].T + p["bias"] - ys) ** 2)

    state = tx.init(params)
    with TraceWriter(f"{out}/{name}", optimizer=optimizer, preset="optax", hyperparameters=hp,
                     named_params=[("weight", params["weight"]), ("bias", params["bias"])],
                     producer=f"optax {optax.__version__} jax {jax.__version__} ({name}: see scripts/infer_examples.py)") as tw:
        for _ in range(steps):
            loss, g = jax.value_and_grad(loss_fn)(params)
            updates, state = tx.update(g, state, params)
            params = optax.apply_updates(params, updates)
            tw.step([g["weight"], g["bias"]], [params["weight"], params["bias"]], loss=loss)


optax_run("optax-adam-clip.jsonl", "adam", {"learning_rate": 0.01},
          optax.chain(optax.clip_by_global_norm(0.5), optax.adam(0.01)), 40)
optax_run("optax-sgd-warmup-cosine.jsonl", "sgd", {"learning_rate": 0.1, "momentum": 0.9},
          optax.sgd(optax.warmup_cosine_decay_schedule(0.0, 0.1, 10, 60, 1e-3), momentum=0.9), 50)
print("wrote", os.path.abspath(out))
