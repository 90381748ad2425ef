#!/usr/bin/env python3
"""Record the small real training runs of tests/oracle_user_runs.rs, the way a user records
them: torch through `optverify.watch`, optax through `optverify.optax.record`, Keras
`model.fit` through `optverify.keras.record_fit` (the recorders of python/optverify); the
torch and optax ones are runs that once drew a false alarm from `optverify check`.

Usage: /tmp/ovenv/bin/python scripts/user_runs.py tests/data/user_runs [NAME ...]
(torch 2.15, optax 0.2.8, jax 0.10.2, keras 3.15.1 on CPU: scripts/requirements-golden.txt).
"""
import os
import subprocess
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

import optverify  # noqa: E402


def torch_run(path, dtype, make_opt, make_sched, steps, schedule=None):
    """A 3 → 2 → 1 tanh network on a random regression, minibatches of 8, `steps` steps of
    `opt.step(); sched.step()`."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1)).to(dtype)
    x = torch.randn(64, 3, dtype=dtype)
    y = x[:, :1] * 2.0 - x[:, 1:2] + 0.1 * torch.randn(64, 1, dtype=dtype)
    opt = make_opt(model)
    sched = make_sched(opt) if make_sched else None
    rec = optverify.watch(opt, path, model=model, schedule=schedule)
    gen = torch.Generator().manual_seed(1)
    for _ in range(steps):
        idx = torch.randint(0, 64, (8,), generator=gen)
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x[idx]), y[idx])
        rec.set_loss(loss.item())
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
    rec.close()


def torch_adamw_groups_onecycle(out):
    """AdamW, weights (λ = 0.01, lr 1e-3) and biases (λ = 0, lr 2e-3), OneCycleLR over the whole
    run: its β₁ returns to max_momentum = 0.95 (the groups' declared value) at the last step."""
    import torch

    def opt(m):
        return torch.optim.AdamW([
            {"params": [m[0].weight, m[2].weight], "weight_decay": 0.01, "lr": 1e-3},
            {"params": [m[0].bias, m[2].bias], "weight_decay": 0.0, "lr": 2e-3},
        ])

    def sched(o):
        return torch.optim.lr_scheduler.OneCycleLR(o, max_lr=[1e-2, 2e-2], total_steps=12)

    torch_run(f"{out}/torch-adamw-groups-onecycle.jsonl", torch.float64, opt, sched, 12,
              {"name": "OneCycleLR", "args": {"max_lr": [1e-2, 2e-2], "total_steps": 12}})


def torch_adamw_groups_cosine(out):
    """AdamW, weights (λ = 0.01, lr 1e-3) and biases (λ = 0, lr 2e-3), CosineAnnealingLR(T_max=12),
    float32, the schedule not declared (the test also removes the per-step learning rates)."""
    import torch

    def opt(m):
        return torch.optim.AdamW([
            {"params": [m[0].weight, m[2].weight], "weight_decay": 0.01, "lr": 1e-3},
            {"params": [m[0].bias, m[2].bias], "weight_decay": 0.0, "lr": 2e-3},
        ])

    def sched(o):
        return torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=12)

    torch_run(f"{out}/torch-adamw-groups-cosine-f32.jsonl", torch.float32, opt, sched, 12)


def optax_chain_clip_inject_adamw(out):
    """chain(clip_by_global_norm(1.0), inject_hyperparams(adamw)(warmup_cosine_decay_schedule,
    weight_decay=0.01)), float64, recorded without declaring the clipping: every step's
    gradient norm (5.1 … 7.2) is above the threshold, and the step lines carry the learning
    rates."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax

    import optverify.optax as ovo

    sched = optax.warmup_cosine_decay_schedule(0.0, 0.01, 3, 10, 0.001)
    tx = optax.chain(optax.clip_by_global_norm(1.0),
                     optax.inject_hyperparams(optax.adamw)(learning_rate=sched, weight_decay=0.01))
    params = {"w": jnp.arange(6.0).reshape(2, 3) / 7, "b": jnp.ones(3)}
    tx = ovo.record(tx, f"{out}/optax-chain-clip-inject-adamw.jsonl", optimizer="adamw",
                    hyperparameters={"learning_rate": 0.01, "weight_decay": 0.01})
    state = tx.init(params)
    for t in range(10):
        grads = jax.tree_util.tree_map(lambda p: jnp.sin(p * (t + 1)) * 3, params)
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
    tx.recorder.close()


def torch_adam_amsgrad(out):
    """Adam(amsgrad=True, weight_decay=1e-3), one group, no scheduler, float32: `watch` writes
    `opt.defaults` verbatim in the header and the (constant) lr on every step line."""
    import torch

    def opt(m):
        return torch.optim.Adam(m.parameters(), lr=3e-3, amsgrad=True, weight_decay=1e-3)

    torch_run(f"{out}/torch-adam-amsgrad-f32.jsonl", torch.float32, opt, None, 12)


def optax_inject_sgd_piecewise(out):
    """inject_hyperparams(sgd)(piecewise_constant_schedule(0.05, {4: 0.5, 8: 0.2}),
    momentum=0.9, nesterov=True), float64, eager: the step lines carry the learning rates."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax

    import optverify.optax as ovo

    sched = optax.piecewise_constant_schedule(0.05, {4: 0.5, 8: 0.2})
    tx = optax.inject_hyperparams(optax.sgd)(learning_rate=sched, momentum=0.9, nesterov=True)
    params = {"w": jnp.arange(6.0).reshape(2, 3) / 7, "b": jnp.ones(3)}
    tx = ovo.record(tx, f"{out}/optax-inject-sgd-piecewise.jsonl", optimizer="sgd",
                    hyperparameters={"learning_rate": 0.05, "momentum": 0.9, "nesterov": True})
    state = tx.init(params)
    for t in range(12):
        grads = jax.tree_util.tree_map(lambda p: jnp.sin(p * (t + 1)), params)
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
    tx.recorder.close()


def keras_fit(path, *, f64, make_opt, jit_compile=True):
    """`model.fit` on the JAX backend, recorded with `record_fit`: a 3 → 4 (tanh) →
    LayerNormalization → BatchNormalization → 1 network (BatchNormalization's moving
    statistics are not trainable, so not in the trace), 64 samples of a random regression,
    `validation_split=0.25` (the 16 validation samples record nothing), batches of 8, 2 epochs:
    12 steps. float64 turns JAX's x64 mode on; each run is its own process (`main` below), so
    the optax runs' x64 does not leak into a float32 one."""
    import jax

    if f64:
        jax.config.update("jax_enable_x64", True)
    import keras
    import numpy as np

    import optverify.keras as ovk

    if f64:
        keras.backend.set_floatx("float64")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                              keras.layers.LayerNormalization(), keras.layers.BatchNormalization(),
                              keras.layers.Dense(1)])
    model.compile(optimizer=make_opt(keras), loss="mse", jit_compile=jit_compile)
    dtype = "float64" if f64 else "float32"
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(dtype)
    y = (2.0 * x[:, :1] - x[:, 1:2] + 0.1 * rng.standard_normal((64, 1))).astype(dtype)
    with ovk.record_fit(model, path) as rec:
        model.fit(x, y, batch_size=8, epochs=2, validation_split=0.25, verbose=0)
    assert rec.steps == 12, rec.steps


def _keras_adamw_cosine(keras):
    lr = keras.optimizers.schedules.CosineDecay(1e-2, decay_steps=12, alpha=0.1)
    opt = keras.optimizers.AdamW(learning_rate=lr, weight_decay=0.05)
    opt.exclude_from_weight_decay(var_names=["bias"])
    return opt


def keras_adamw_fit_cosine_f32(out):
    """AdamW, CosineDecay, biases excluded from weight decay, float32, JAX without x64 (so the
    schedule computes in float32 and its values are on the step lines), fit's jitted step."""
    keras_fit(f"{out}/keras-adamw-fit-cosine-f32.jsonl", f64=False, make_opt=_keras_adamw_cosine)


def keras_adamw_fit_cosine_nojit_f32(out):
    """The same run compiled with `jit_compile=False`: the step runs op by op."""
    keras_fit(f"{out}/keras-adamw-fit-cosine-nojit-f32.jsonl", f64=False, make_opt=_keras_adamw_cosine,
              jit_compile=False)


def keras_rmsprop_fit_exponential_f64(out):
    """RMSprop(momentum=0.5, centered=True), ExponentialDecay (staircase), float64 with x64: the
    schedule is the header's declaration only, evaluated by the oracle."""
    def opt(keras):
        lr = keras.optimizers.schedules.ExponentialDecay(1e-2, decay_steps=4, decay_rate=0.5, staircase=True)
        return keras.optimizers.RMSprop(learning_rate=lr, momentum=0.5, centered=True)

    keras_fit(f"{out}/keras-rmsprop-fit-exponential-f64.jsonl", f64=True, make_opt=opt)


RUNS = {
    "torch-adamw-groups-onecycle": torch_adamw_groups_onecycle,
    "torch-adamw-groups-cosine-f32": torch_adamw_groups_cosine,
    "optax-chain-clip-inject-adamw": optax_chain_clip_inject_adamw,
    "torch-adam-amsgrad-f32": torch_adam_amsgrad,
    "optax-inject-sgd-piecewise": optax_inject_sgd_piecewise,
    "keras-adamw-fit-cosine-f32": keras_adamw_fit_cosine_f32,
    "keras-adamw-fit-cosine-nojit-f32": keras_adamw_fit_cosine_nojit_f32,
    "keras-rmsprop-fit-exponential-f64": keras_rmsprop_fit_exponential_f64,
}
# Keras reads KERAS_BACKEND at import and JAX's x64 mode is process-wide: each Keras run gets
# a process of its own.
FRESH_PROCESS = {name for name in RUNS if name.startswith("keras-")}

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/user_runs"
    names = sys.argv[2:] or list(RUNS)
    os.makedirs(out, exist_ok=True)
    for name in names:
        if name in FRESH_PROCESS and len(names) > 1:
            subprocess.run([sys.executable, os.path.abspath(__file__), out, name], check=True)
            continue
        if name in FRESH_PROCESS:
            os.environ["KERAS_BACKEND"] = "jax"
        RUNS[name](out)
        print(f"wrote {out}/{name}.jsonl")
