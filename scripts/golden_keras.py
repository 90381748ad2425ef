#!/usr/bin/env python3
"""Write the Keras golden traces of tests/data/golden/ (keras-*.jsonl).

Usage (versions pinned in scripts/requirements-golden.txt):

    /tmp/ovenv/bin/pip install -r scripts/requirements-golden.txt
    /tmp/ovenv/bin/python scripts/golden_keras.py tests/data/golden
    /tmp/ovenv/bin/python scripts/golden_keras.py --features tests/data/golden/features
    /tmp/ovenv/bin/python scripts/golden_keras.py --schedules tests/data/golden-keras-schedules.json
    /tmp/ovenv/bin/python scripts/golden_keras.py --verbatim tests/data/golden/features

The cases (layouts, initial parameters, open-loop gradients, the κ = 100 quadratic, the step
counts) and the trace writer are imported from scripts/golden_traces.py, so a Keras trace of
case C has the same θ₀ and gradients as the torch and optax traces of case C.

Keras 3 runs on the JAX backend (KERAS_BACKEND=jax), CPU, with `optimizer.apply` called
eagerly (no jax.jit): every `keras.ops` call is one XLA computation, so the operation order
is the one written in keras/src/optimizers/*.py. float64 traces set `keras.config.floatx` to
"float64" before the optimizer is built (the learning-rate variable takes floatx) and create
float64 variables; the script asserts that the model variables, the learning rate and every
optimizer slot really are float64 (float32 for the `-f32` traces).

The header's `hyperparameters` are exactly the keyword arguments passed to the Keras
constructor, under Keras's names; `optimizer` is the lower-case class name, `preset` "keras".
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402

from golden_traces import (  # noqa: E402
    CLOSED_STEPS,
    OPEN_STEPS,
    floats,
    initial_params,
    layout_for,
    open_loop_gradients,
    quadratic,
    write,
)

assert keras.config.backend() == "jax", keras.config.backend()

# (lower-case class name, setting name, keyword arguments of the Keras constructor).
# "default" passes nothing: every default, the learning rate included, comes from Keras.
KERAS = [
    ("sgd", "default", dict()),
    ("sgd", "momentum", dict(learning_rate=0.02, momentum=0.9)),
    ("sgd", "nesterov", dict(learning_rate=0.02, momentum=0.9, nesterov=True)),
    ("sgd", "decay", dict(learning_rate=0.02, momentum=0.8, weight_decay=0.1)),
    ("adam", "default", dict()),
    ("adam", "betas", dict(learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6)),
    ("adam", "amsgrad", dict(learning_rate=0.01, amsgrad=True)),
    ("adamw", "default", dict()),
    ("adamw", "decay", dict(learning_rate=0.01, beta_1=0.85, beta_2=0.995, weight_decay=0.1)),
    ("adagrad", "default", dict()),
    ("adagrad", "init", dict(learning_rate=0.1, initial_accumulator_value=0.01, epsilon=1e-5)),
    ("adagrad", "decay", dict(learning_rate=0.1, weight_decay=0.05)),
    ("rmsprop", "default", dict()),
    ("rmsprop", "centered", dict(learning_rate=0.01, rho=0.95, centered=True)),
    ("rmsprop", "momentum", dict(learning_rate=0.005, momentum=0.9, epsilon=1e-6)),
    ("adadelta", "default", dict()),
    ("adadelta", "rho", dict(learning_rate=1.0, rho=0.9, epsilon=1e-6, weight_decay=0.01)),
]

KERAS_CLASSES = {
    "sgd": keras.optimizers.SGD,
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "adagrad": keras.optimizers.Adagrad,
    "rmsprop": keras.optimizers.RMSprop,
    "adadelta": keras.optimizers.Adadelta,
}


def run_keras(name, hp, case, dtype):
    """One trace: Keras `name(**hp)` on `case`, variables and optimizer in `dtype`."""
    np_dtype = np.dtype(dtype)
    keras.config.set_floatx(dtype)
    layout = layout_for(case)
    theta0 = initial_params(case).astype(np_dtype)
    variables, off = [], 0
    for block, r, c in layout:
        shape = (r, c) if c > 1 else (r,)
        variables.append(
            keras.Variable(theta0[off:off + r * c].reshape(shape), dtype=dtype, name=block)
        )
        off += r * c
    opt = KERAS_CLASSES[name](**hp)
    opt.build(variables)
    # The precision is what the trace claims: model variables, learning rate, every slot.
    for v in variables:
        assert v.dtype == dtype, (v.path, v.dtype)
    for v in opt.variables:
        if v.path.endswith("iteration"):
            continue
        assert v.dtype == dtype, (v.path, v.dtype)
    gs = None if case == "quad" else open_loop_gradients(case).astype(np_dtype)
    a, b = quadratic()
    a, b = a.astype(np_dtype), b.astype(np_dtype)
    steps = []
    n_steps = CLOSED_STEPS if case == "quad" else OPEN_STEPS
    for t in range(n_steps):
        theta = np.concatenate([np.asarray(v.value).reshape(-1) for v in variables])
        assert theta.dtype == np_dtype
        loss = None
        if gs is None:
            g = a @ theta - b
            loss = float(0.5 * theta @ (a @ theta) - b @ theta)
        else:
            g = gs[t]
        assert g.dtype == np_dtype
        grads, off = [], 0
        for v in variables:
            n = int(np.prod(v.shape))
            grads.append(jnp.asarray(g[off:off + n].reshape(v.shape), dtype=dtype))
            off += n
        opt.apply(grads, variables)
        after = np.concatenate([np.asarray(v.value).reshape(-1) for v in variables])
        assert after.dtype == np_dtype
        rec = {"step": t + 1, "grad": floats(g), "params": floats(after)}
        if loss is not None:
            rec["loss"] = loss
        steps.append(rec)
    producer = (
        f"keras {keras.__version__}, jax {jax.__version__} "
        f"(KERAS_BACKEND=jax, CPU, floatx {dtype}, eager optimizer.apply)"
    )
    return theta0, layout, steps, producer


# ---------------------------------------------------------------- features (issue 12)
# Keras learning-rate schedules (keras.optimizers.schedules, declared in the header as
# {"name": class name, "args": constructor kwargs}; the header's hyperparameters then omit
# `learning_rate`) and per-variable exclusions from weight decay
# (`optimizer.exclude_from_weight_decay(var_names=[...])`, declared as param_groups whose
# excluded blocks have "weight_decay": 0). Matrix case (variables named "w" and "b"),
# FEATURE_STEPS steps, float64 and float32. `--features DIR` writes them.
FEATURE_STEPS = 30


def sched_spec(name, args):
    return {"name": name, "args": args}


KERAS_SCHEDULES = [
    sched_spec("ExponentialDecay", dict(initial_learning_rate=0.02, decay_steps=7, decay_rate=0.5)),
    sched_spec("ExponentialDecay", dict(initial_learning_rate=0.02, decay_steps=5, decay_rate=0.7, staircase=True)),
    sched_spec("PiecewiseConstantDecay", dict(boundaries=[8, 16, 24], values=[0.02, 0.01, 0.005, 0.03])),
    sched_spec("InverseTimeDecay", dict(initial_learning_rate=0.02, decay_steps=4, decay_rate=0.3)),
    sched_spec("InverseTimeDecay", dict(initial_learning_rate=0.02, decay_steps=4, decay_rate=0.3, staircase=True)),
    sched_spec("PolynomialDecay", dict(initial_learning_rate=0.02, decay_steps=25, end_learning_rate=0.001, power=2.0)),
    sched_spec("PolynomialDecay", dict(initial_learning_rate=0.02, decay_steps=7, end_learning_rate=0.001, power=0.5, cycle=True)),
    sched_spec("PolynomialDecay", dict(initial_learning_rate=0.02, decay_steps=25)),
    sched_spec("CosineDecay", dict(initial_learning_rate=0.02, decay_steps=25, alpha=0.05)),
    sched_spec("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=20, warmup_target=0.02, warmup_steps=6)),
    sched_spec("CosineDecay", dict(initial_learning_rate=0.001, decay_steps=20, alpha=0.1, warmup_target=0.02, warmup_steps=5)),
    # SGDR: geometric periods (t_mul ≠ 1: log, floor, pow), equal periods (t_mul = 1), defaults.
    sched_spec("CosineDecayRestarts", dict(initial_learning_rate=0.02, first_decay_steps=4, t_mul=2.0, m_mul=0.9, alpha=0.1)),
    sched_spec("CosineDecayRestarts", dict(initial_learning_rate=0.02, first_decay_steps=5, t_mul=1.0, m_mul=0.8)),
    sched_spec("CosineDecayRestarts", dict(initial_learning_rate=0.01, first_decay_steps=3, t_mul=1.5, m_mul=0.7, alpha=0.05)),
    sched_spec("CosineDecayRestarts", dict(initial_learning_rate=0.013, first_decay_steps=7)),
]


def keras_schedule(spec):
    return getattr(keras.optimizers.schedules, spec["name"])(**spec["args"])


# (tag, class, constructor kwargs without learning_rate, options): schedule=spec,
# exclude=[block names excluded from weight decay].
KERAS_FEATURES = [
    ("sgd-exponential", "sgd", dict(momentum=0.9), dict(schedule=KERAS_SCHEDULES[0])),
    ("sgd-piecewise", "sgd", dict(momentum=0.9, nesterov=True), dict(schedule=KERAS_SCHEDULES[2])),
    ("adam-exponential-staircase", "adam", dict(), dict(schedule=KERAS_SCHEDULES[1])),
    ("adam-inversetime", "adam", dict(beta_1=0.85), dict(schedule=KERAS_SCHEDULES[3])),
    ("adamw-inversetime-staircase", "adamw", dict(weight_decay=0.1), dict(schedule=KERAS_SCHEDULES[4])),
    ("rmsprop-polynomial", "rmsprop", dict(momentum=0.9), dict(schedule=KERAS_SCHEDULES[5])),
    ("adagrad-polynomial-cycle", "adagrad", dict(), dict(schedule=KERAS_SCHEDULES[6])),
    ("adadelta-polynomial", "adadelta", dict(), dict(schedule=KERAS_SCHEDULES[7])),
    ("adam-cosine", "adam", dict(), dict(schedule=KERAS_SCHEDULES[8])),
    ("adamw-cosine-warmup", "adamw", dict(weight_decay=0.1), dict(schedule=KERAS_SCHEDULES[9])),
    ("sgd-cosine-warmup-alpha", "sgd", dict(momentum=0.9, weight_decay=0.01), dict(schedule=KERAS_SCHEDULES[10])),
    # exclude_from_weight_decay(var_names=["b"]) as a parameter group with weight_decay 0
    ("adamw-exclude", "adamw", dict(learning_rate=0.01, weight_decay=0.1), dict(exclude=["b"])),
    ("sgd-exclude", "sgd", dict(learning_rate=0.05, momentum=0.9, weight_decay=0.05), dict(exclude=["b"])),
    ("adamw-exclude-cosine", "adamw", dict(weight_decay=0.1), dict(exclude=["b"], schedule=KERAS_SCHEDULES[8])),
]


def run_keras_feature(name, hp, opts, dtype):
    np_dtype = np.dtype(dtype)
    keras.config.set_floatx(dtype)
    layout = layout_for("matrix")
    theta0 = initial_params("matrix").astype(np_dtype)
    variables, off = [], 0
    for block, r, c in layout:
        shape = (r, c) if c > 1 else (r,)
        variables.append(keras.Variable(theta0[off:off + r * c].reshape(shape), dtype=dtype, name=block))
        off += r * c
    kwargs = dict(hp)
    extras = {"hyperparameters": dict(hp)}
    if "schedule" in opts:
        kwargs["learning_rate"] = keras_schedule(opts["schedule"])
        extras["schedule"] = opts["schedule"]
    opt = KERAS_CLASSES[name](**kwargs)
    if "exclude" in opts:
        opt.exclude_from_weight_decay(var_names=opts["exclude"])
        kept = [b for b, _, _ in layout if b not in opts["exclude"]]
        extras["param_groups"] = [{"blocks": kept, "hyperparameters": {}},
                                  {"blocks": list(opts["exclude"]), "hyperparameters": {"weight_decay": 0.0}}]
    opt.build(variables)
    for v in variables:
        assert v.dtype == dtype
    gs = open_loop_gradients("matrix")[:FEATURE_STEPS].astype(np_dtype)
    steps = []
    for t in range(FEATURE_STEPS):
        g = gs[t]
        grads, off = [], 0
        for v in variables:
            n = int(np.prod(v.shape))
            grads.append(jnp.asarray(g[off:off + n].reshape(v.shape), dtype=dtype))
            off += n
        opt.apply(grads, variables)
        after = np.concatenate([np.asarray(v.value).reshape(-1) for v in variables])
        assert after.dtype == np_dtype
        steps.append({"step": t + 1, "grad": floats(g), "params": floats(after)})
    producer = (
        f"keras {keras.__version__}, jax {jax.__version__} "
        f"(KERAS_BACKEND=jax, CPU, floatx {dtype}, eager optimizer.apply)"
    )
    return theta0, layout, steps, producer, extras


def features(out):
    from optverify_trace import TraceWriter

    os.makedirs(out, exist_ok=True)
    count = 0
    for tag, name, hp, opts in KERAS_FEATURES:
        for dtype, suffix, dt in [("float64", "", "f64"), ("float32", "-f32", "f32")]:
            theta0, layout, steps, producer, extras = run_keras_feature(name, hp, opts, dtype)
            with TraceWriter(f"{out}/keras-{tag}{suffix}.jsonl", name, "keras", extras["hyperparameters"],
                             producer, params0=floats(theta0), layout=layout, dtype=dt,
                             param_groups=extras.get("param_groups"),
                             schedule=extras.get("schedule")) as w:
                for rec in steps:
                    w.step(rec["grad"], rec["params"])
            count += 1
    print(f"wrote {count} keras feature traces to {out}")


# ------------------------------------------ get_config() verbatim (issue 12, keras12)
# The header's hyperparameters are `optimizer.get_config()` exactly as Keras returns it, the
# schedule inside it as Keras serializes it ({"module": "keras.optimizers.schedules",
# "class_name", "config", "registered_name"}); no header `schedule`: the oracle reads the
# declaration from `learning_rate`. Matrix case, VERBATIM_STEPS steps, float64 and float32.
# The `recorder-*` traces are written by optverify.keras.record (python/optverify/keras.py)
# around the same loop, as a user would. `--verbatim DIR` writes them.
VERBATIM_STEPS = 40

KERAS_VERBATIM = [
    ("adam-cosine", "adam", dict(beta_1=0.85), KERAS_SCHEDULES[8]),
    ("adam-cosine-warmup", "adam", dict(), KERAS_SCHEDULES[10]),
    ("adamw-exponential", "adamw", dict(weight_decay=0.1), KERAS_SCHEDULES[1]),
    ("sgd-piecewise", "sgd", dict(momentum=0.9), KERAS_SCHEDULES[2]),
    ("adamw-restarts", "adamw", dict(weight_decay=0.05), KERAS_SCHEDULES[11]),
    ("sgd-restarts", "sgd", dict(momentum=0.9, nesterov=True), KERAS_SCHEDULES[12]),
    ("adam-restarts", "adam", dict(amsgrad=True), KERAS_SCHEDULES[13]),
    ("rmsprop-restarts", "rmsprop", dict(momentum=0.5), KERAS_SCHEDULES[14]),
]


def _variables(dtype):
    np_dtype = np.dtype(dtype)
    layout = layout_for("matrix")
    theta0 = initial_params("matrix").astype(np_dtype)
    variables, off = [], 0
    for block, r, c in layout:
        shape = (r, c) if c > 1 else (r,)
        variables.append(keras.Variable(theta0[off:off + r * c].reshape(shape), dtype=dtype, name=block))
        off += r * c
    return variables


def run_keras_verbatim(name, hp, spec, dtype, path=None):
    """Keras `name(**hp, learning_rate=schedule)` on the matrix case; with `path`, recorded by
    optverify.keras.record into `path` (else the steps are returned for the caller to write)."""
    keras.config.set_floatx(dtype)
    np_dtype = np.dtype(dtype)
    variables = _variables(dtype)
    opt = KERAS_CLASSES[name](learning_rate=keras_schedule(spec), **hp)
    if path is not None:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
        import optverify.keras

        opt = optverify.keras.record(opt, path)
    theta0 = np.concatenate([np.asarray(v.value).reshape(-1) for v in variables])
    gs = open_loop_gradients("matrix")[:VERBATIM_STEPS].astype(np_dtype)
    steps = []
    for t in range(VERBATIM_STEPS):
        g = gs[t]
        grads, off = [], 0
        for v in variables:
            n = int(np.prod(v.shape))
            grads.append(jnp.asarray(g[off:off + n].reshape(v.shape), dtype=dtype))
            off += n
        if t % 2 and path is not None:
            opt.apply_gradients(zip(grads, variables))
        else:
            opt.apply(grads, variables)
        after = np.concatenate([np.asarray(v.value).reshape(-1) for v in variables])
        assert after.dtype == np_dtype
        steps.append({"step": t + 1, "grad": floats(g), "params": floats(after)})
    for v in variables:
        assert v.dtype == dtype
    if path is not None:
        opt.close()
        return None
    producer = (
        f"keras {keras.__version__}, jax {jax.__version__} "
        f"(KERAS_BACKEND=jax, CPU, floatx {dtype}, eager optimizer.apply; hyperparameters = get_config())"
    )
    return theta0, opt.get_config(), steps, producer


def verbatim(out):
    from optverify_trace import TraceWriter

    os.makedirs(out, exist_ok=True)
    count = 0
    for tag, name, hp, spec in KERAS_VERBATIM:
        for dtype, suffix, dt in [("float64", "", "f64"), ("float32", "-f32", "f32")]:
            theta0, config, steps, producer = run_keras_verbatim(name, hp, spec, dtype)
            assert isinstance(config["learning_rate"], dict), config["learning_rate"]
            with TraceWriter(f"{out}/keras-verbatim-{tag}{suffix}.jsonl", name, "keras", config, producer,
                             params0=floats(theta0), layout=layout_for("matrix"), dtype=dt) as w:
                for rec in steps:
                    w.step(rec["grad"], rec["params"])
            count += 1
    # With the recorder (apply and apply_gradients alternating), as a user would.
    for tag, name, hp, spec in [("adamw-restarts", "adamw", dict(weight_decay=0.05), KERAS_SCHEDULES[11]),
                                ("sgd-cosine", "sgd", dict(momentum=0.9), KERAS_SCHEDULES[8])]:
        for dtype, suffix in [("float64", ""), ("float32", "-f32")]:
            run_keras_verbatim(name, hp, spec, dtype, path=f"{out}/keras-recorder-{tag}{suffix}.jsonl")
            count += 1
    print(f"wrote {count} keras get_config() traces to {out}")


def schedules(path, steps=60):
    """The value every Keras schedule gives at iterations 0..steps-1 (what optimizer step t
    reads: `self._learning_rate(self._iterations)` with iterations = t - 1), float64 and
    float32 (floatx), as Python floats."""
    cases = []
    for spec in KERAS_SCHEDULES:
        for dtype, dt in [("float64", "f64"), ("float32", "f32")]:
            keras.config.set_floatx(dtype)
            sched = keras_schedule(spec)
            it = keras.Variable(0, dtype="int64", trainable=False, name="iteration")
            lrs = []
            for t in range(steps):
                it.assign(t)
                v = np.asarray(sched(it))
                lrs.append(float(v))
            # The dtype the schedule computes in (float64 for Python-float arguments even under
            # floatx float32 with x64 enabled, except PiecewiseConstantDecay).
            cases.append({"preset": "keras", "dtype": dt, "value_dtype": str(v.dtype),
                          "schedule": spec, "lrs": lrs})
    with open(path, "w") as f:
        json.dump({"producer": f"keras {keras.__version__}, jax {jax.__version__} (CPU)",
                   "cases": cases}, f, indent=1)
    print(f"wrote {len(cases)} keras schedule cases to {path}")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--features":
        features(sys.argv[2] if len(sys.argv) > 2 else "tests/data/golden/features")
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--verbatim":
        verbatim(sys.argv[2] if len(sys.argv) > 2 else "tests/data/golden/features")
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--schedules":
        schedules(sys.argv[2] if len(sys.argv) > 2 else "tests/data/golden-keras-schedules.json")
        return
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/golden"
    os.makedirs(out, exist_ok=True)
    count = 0
    for name, setting, hp in KERAS:
        for case in ["randn", "scaled", "sparse", "matrix", "quad"]:
            theta0, layout, steps, producer = run_keras(name, hp, case, "float64")
            write(f"{out}/keras-{name}-{setting}-{case}.jsonl", name, "keras", hp, theta0,
                  layout, steps, producer, "f64")
            count += 1
        # float32: one open-loop and the closed-loop case per setting, as for torch.
        for case in ["randn", "quad"]:
            theta0, layout, steps, producer = run_keras(name, hp, case, "float32")
            write(f"{out}/keras-{name}-{setting}-{case}-f32.jsonl", name, "keras", hp,
                  theta0, layout, steps, producer, "f32")
            count += 1
    print(f"wrote {count} traces to {out}")


if __name__ == "__main__":
    main()
