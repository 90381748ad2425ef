#!/usr/bin/env python3
"""Record the learning rates torch's schedulers and optax's schedules produce, step by step.

Writes tests/data/golden-schedules.json: a list of cases
    {"preset": "pytorch" | "optax", "schedule": {"name", "args"[, "interval"]}, "lr": base lr,
     "momentum": torch momentum or betas[0] (or null), "lrs": [lr at step 1, 2, ...],
     "momenta": [...] (torch OneCycleLR only)}
in the trace header's schedule notation (src/oracle/format.rs, src/oracle/schedules.rs).
torch: the lr (and momentum) the optimizer reads at optimizer step t, i.e. `group["lr"]` after
t - 1 calls of `sched.step()` (the loop `opt.step(); sched.step()`); optax: the schedule at the
int32 count t - 1, as scale_by_schedule evaluates it (eager, x64 enabled), converted with
float(). Values are Python floats, written with repr() (round trip).

Usage: /tmp/ovenv/bin/python scripts/golden_schedules.py tests/data/golden-schedules.json
       /tmp/ovenv/bin/python scripts/golden_schedules.py --torch-more tests/data/golden-torch-schedules.json
(the second: torch's ConstantLR, PolynomialLR, CyclicLR, ChainedScheduler, with every step's
momentum)
"""
import json
import os
import sys

os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import torch  # noqa: E402
import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

STEPS = 60

# (name, args) in the header's notation; SequentialLR's schedulers are specs of the same form.
TORCH = [
    ("sgd", 0.1, ("StepLR", dict(step_size=7, gamma=0.5))),
    ("sgd", 0.1, ("MultiStepLR", dict(milestones=[5, 12, 12, 30], gamma=0.3))),
    ("sgd", 0.1, ("ExponentialLR", dict(gamma=0.93))),
    ("sgd", 0.1, ("CosineAnnealingLR", dict(T_max=17, eta_min=0.001))),
    ("adam", 0.01, ("CosineAnnealingLR", dict(T_max=60))),
    ("sgd", 0.1, ("CosineAnnealingWarmRestarts", dict(T_0=7, T_mult=2, eta_min=0.002))),
    ("sgd", 0.1, ("LinearLR", dict(start_factor=0.1, end_factor=1.0, total_iters=9))),
    ("sgd", 0.1, ("OneCycleLR", dict(max_lr=0.2, total_steps=60))),
    ("adam", 0.01, ("OneCycleLR", dict(max_lr=0.05, total_steps=70, pct_start=0.25,
                                       anneal_strategy="linear", three_phase=True))),
    ("sgd", 0.1, ("OneCycleLR", dict(max_lr=0.2, epochs=6, steps_per_epoch=10, cycle_momentum=False))),
    ("sgd", 0.1, ("SequentialLR", dict(
        schedulers=[dict(name="LinearLR", args=dict(start_factor=0.01, total_iters=10)),
                    dict(name="CosineAnnealingLR", args=dict(T_max=50, eta_min=1e-4))],
        milestones=[10]))),
    ("adam", 0.01, ("SequentialLR", dict(
        schedulers=[dict(name="ExponentialLR", args=dict(gamma=0.9)),
                    dict(name="StepLR", args=dict(step_size=5, gamma=0.5)),
                    dict(name="CosineAnnealingWarmRestarts", args=dict(T_0=10))],
        milestones=[8, 25]))),
]

# ConstantLR, PolynomialLR, CyclicLR (its momentum too), ChainedScheduler, and SequentialLR of
# them: written to their own file by `--torch-more` (tests/data/golden-torch-schedules.json).
TORCH_MORE = [
    ("sgd", 0.1, ("ConstantLR", dict(factor=0.5, total_iters=7))),
    ("adam", 0.01, ("ConstantLR", dict())),
    ("sgd", 0.1, ("PolynomialLR", dict(total_iters=40, power=0.9))),
    ("adam", 0.01, ("PolynomialLR", dict(total_iters=25, power=2.0))),
    ("sgd", 0.1, ("PolynomialLR", dict())),
    ("sgd", 0.1, ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=5))),
    ("sgd", 0.1, ("CyclicLR", dict(base_lr=0.001, max_lr=0.006, step_size_up=4, step_size_down=7,
                                   mode="triangular2", base_momentum=0.85, max_momentum=0.95))),
    ("adam", 0.01, ("CyclicLR", dict(base_lr=0.001, max_lr=0.01, step_size_up=6, mode="exp_range",
                                     gamma=0.97))),
    ("adam", 0.01, ("CyclicLR", dict(base_lr=0.002, max_lr=0.02, step_size_up=3.5, step_size_down=2,
                                     cycle_momentum=False))),
    ("sgd", 0.1, ("ChainedScheduler", dict(schedulers=[
        dict(name="ConstantLR", args=dict(factor=0.1, total_iters=20)),
        dict(name="ExponentialLR", args=dict(gamma=0.9))]))),
    ("adam", 0.01, ("ChainedScheduler", dict(schedulers=[
        dict(name="LinearLR", args=dict(start_factor=0.1, total_iters=5)),
        dict(name="CosineAnnealingLR", args=dict(T_max=60)),
        dict(name="PolynomialLR", args=dict(total_iters=50, power=0.5))]))),
    ("sgd", 0.1, ("ChainedScheduler", dict(schedulers=[
        dict(name="SequentialLR", args=dict(
            schedulers=[dict(name="ConstantLR", args=dict(factor=0.2, total_iters=30)),
                        dict(name="PolynomialLR", args=dict(total_iters=40, power=2.0))],
            milestones=[10])),
        dict(name="ExponentialLR", args=dict(gamma=0.99))]))),
    ("sgd", 0.1, ("ChainedScheduler", dict(schedulers=[
        dict(name="CyclicLR", args=dict(base_lr=0.01, max_lr=0.05, step_size_up=8)),
        dict(name="ExponentialLR", args=dict(gamma=0.98))]))),
    ("sgd", 0.1, ("SequentialLR", dict(
        schedulers=[dict(name="LinearLR", args=dict(start_factor=0.01, total_iters=10)),
                    dict(name="PolynomialLR", args=dict(total_iters=50, power=2.0))],
        milestones=[10]))),
    ("adam", 0.01, ("SequentialLR", dict(
        schedulers=[dict(name="ConstantLR", args=dict(factor=0.1, total_iters=5)),
                    dict(name="CyclicLR", args=dict(base_lr=0.001, max_lr=0.01, step_size_up=5)),
                    dict(name="ConstantLR", args=dict(factor=0.5, total_iters=100))],
        milestones=[8, 40]))),
]

OPTAX = [
    ("constant_schedule", dict(value=0.03)),
    ("exponential_decay", dict(init_value=0.1, transition_steps=7, decay_rate=0.5)),
    ("exponential_decay", dict(init_value=0.1, transition_steps=5, decay_rate=0.7,
                               transition_begin=4, staircase=True, end_value=0.01)),
    ("cosine_decay_schedule", dict(init_value=0.1, decay_steps=37, alpha=0.05)),
    ("cosine_decay_schedule", dict(init_value=0.02, decay_steps=50, exponent=2.0)),
    ("warmup_cosine_decay_schedule", dict(init_value=0.0, peak_value=0.1, warmup_steps=5,
                                          decay_steps=50, end_value=0.001)),
    ("piecewise_constant_schedule", dict(init_value=0.1,
                                         boundaries_and_scales={"10": 0.5, "25": 0.1, "40": 2.0})),
    ("join_schedules", dict(
        schedules=[dict(name="constant_schedule", args=dict(value=0.05)),
                   dict(name="cosine_decay_schedule", args=dict(init_value=0.05, decay_steps=30)),
                   dict(name="exponential_decay", args=dict(init_value=0.01, transition_steps=3,
                                                            decay_rate=0.8))],
        boundaries=[10, 35])),
    ("linear_schedule", dict(init_value=0.1, end_value=0.001, transition_steps=45)),
    ("warmup_constant_schedule", dict(init_value=0.0, peak_value=0.1, warmup_steps=7)),
    ("warmup_exponential_decay_schedule", dict(init_value=0.001, peak_value=0.1, warmup_steps=5,
                                               transition_steps=4, decay_rate=0.8, transition_begin=3,
                                               staircase=True, end_value=0.01)),
    ("warmup_exponential_decay_schedule", dict(init_value=0.0, peak_value=0.05, warmup_steps=6,
                                               transition_steps=9, decay_rate=0.5)),
    ("piecewise_interpolate_schedule", dict(interpolate_type="linear", init_value=0.1,
                                            boundaries_and_scales={"4": 0.1, "8": 0.01})),
    ("piecewise_interpolate_schedule", dict(interpolate_type="cosine", init_value=0.07,
                                            boundaries_and_scales={"10": 0.5, "25": 0.1, "40": 2.0})),
    ("piecewise_interpolate_schedule", dict(interpolate_type="cosine", init_value=0.03)),
    ("linear_onecycle_schedule", dict(transition_steps=50, peak_value=0.1)),
    ("linear_onecycle_schedule", dict(transition_steps=37, peak_value=0.02, pct_start=0.25,
                                      pct_final=0.7, div_factor=10.0, final_div_factor=100.0)),
    # pct_start·T and pct_final·T truncate to the same boundary: the dict keeps the later scale.
    ("linear_onecycle_schedule", dict(transition_steps=10, peak_value=0.1, pct_start=0.5, pct_final=0.55)),
    ("cosine_onecycle_schedule", dict(transition_steps=45, peak_value=0.05)),
    ("cosine_onecycle_schedule", dict(transition_steps=33, peak_value=0.3, pct_start=0.1,
                                      div_factor=5.0, final_div_factor=1e3)),
    ("sgdr_schedule", dict(cosine_kwargs=[
        dict(init_value=0.0, peak_value=0.1, warmup_steps=3, decay_steps=20, end_value=0.001),
        dict(init_value=0.0, peak_value=0.05, warmup_steps=0, decay_steps=15),
        dict(init_value=0.01, peak_value=0.02, warmup_steps=4, decay_steps=30, exponent=2.0)])),
    # jnp.where's promotion, stage by stage: the weak constant is rounded to float32 by the
    # linear (float32) stage, then kept as such by the float64 interpolation stage.
    ("join_schedules", dict(
        schedules=[dict(name="constant_schedule", args=dict(value=0.1)),
                   dict(name="linear_schedule", args=dict(init_value=0.1, end_value=0.3, transition_steps=10)),
                   dict(name="cosine_onecycle_schedule", args=dict(transition_steps=20, peak_value=0.3)),
                   dict(name="cosine_decay_schedule", args=dict(init_value=0.07, decay_steps=20))],
        boundaries=[10, 20, 40])),
]


def optax_schedule(name, args):
    """Build the optax schedule from the header notation."""
    args = dict(args)
    if name == "join_schedules":
        args["schedules"] = [optax_schedule(s["name"], s["args"]) for s in args["schedules"]]
    if name in ("piecewise_constant_schedule", "piecewise_interpolate_schedule") and "boundaries_and_scales" in args:
        args["boundaries_and_scales"] = {int(k): v for k, v in args["boundaries_and_scales"].items()}
    return getattr(optax, name)(**args)


def torch_scheduler(opt, name, args):
    args = dict(args)
    if name in ("SequentialLR", "ChainedScheduler"):
        args["schedulers"] = [torch_scheduler(opt, s["name"], s["args"]) for s in args["schedulers"]]
    if name == "ChainedScheduler":
        return torch.optim.lr_scheduler.ChainedScheduler(args["schedulers"], optimizer=opt)
    return getattr(torch.optim.lr_scheduler, name)(opt, **args)


def torch_cases(table, momenta_always=False):
    """Run each (optimizer, lr, (name, args)) of `table` for STEPS steps (float64)."""
    cases = []
    for opt_name, lr, (name, args) in table:
        p = [torch.zeros(2, requires_grad=True)]
        if opt_name == "sgd":
            opt = torch.optim.SGD(p, lr=lr, momentum=0.9, foreach=False)
            mom = lambda g: g["momentum"]  # noqa: E731
        else:
            opt = torch.optim.Adam(p, lr=lr, foreach=False)
            mom = lambda g: g["betas"][0]  # noqa: E731
        m0 = mom(opt.param_groups[0])
        sched = torch_scheduler(opt, name, args)
        lrs, momenta = [], []
        for _ in range(STEPS):
            lrs.append(float(opt.param_groups[0]["lr"]))
            momenta.append(float(mom(opt.param_groups[0])))
            p[0].grad = torch.zeros(2)
            opt.step()
            sched.step()
        case = {"preset": "pytorch", "schedule": {"name": name, "args": args}, "lr": lr,
                "momentum": m0, "lrs": lrs}
        if name == "OneCycleLR" or momenta_always:
            case["momenta"] = momenta
        cases.append(case)
    return cases


def torch_more(out):
    torch.set_default_dtype(torch.float64)
    cases = torch_cases(TORCH_MORE, momenta_always=True)
    with open(out, "w") as f:
        json.dump({"producer": f"torch {torch.__version__}", "cases": cases}, f)
        f.write("\n")
    print(f"wrote {len(cases)} schedules to {out}")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--torch-more":
        torch_more(sys.argv[2] if len(sys.argv) > 2 else "tests/data/golden-torch-schedules.json")
        return
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/golden-schedules.json"
    torch.set_default_dtype(torch.float64)
    cases = torch_cases(TORCH)
    for name, args in OPTAX:
        s = optax_schedule(name, args)
        lrs = [float(jnp.asarray(s(jnp.asarray(c, jnp.int32)))) for c in range(STEPS)]
        cases.append({"preset": "optax", "schedule": {"name": name, "args": args}, "lr": None,
                      "momentum": None, "lrs": lrs})
    with open(out, "w") as f:
        json.dump({"producer": f"torch {torch.__version__}, optax {optax.__version__}, jax {jax.__version__}",
                   "cases": cases}, f)
        f.write("\n")
    print(f"wrote {len(cases)} schedules to {out}")


if __name__ == "__main__":
    main()
