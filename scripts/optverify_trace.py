"""Dump your own optimizer run as an optverify trace, then check it with `optverify check`.

Standard library only (NumPy, PyTorch and JAX arrays are accepted if you have them). Copy this
file next to your training script, or put scripts/ on sys.path.

The format (optverify-trace v1, documented in src/oracle/format.rs) is JSON Lines: a header,
then one line per step with the gradient the optimizer was given and the parameters after the
step. Floats are written with repr(), which round-trips exactly; a float32 run is stored as its
float32 values widened to float (exact). NaN and infinities (a diverged run) are written as the
strings "NaN", "Infinity", "-Infinity" in `params` and `loss`; they are refused in `grad` and
`params0`, which a replay has to feed to an optimizer.

PyTorch (call `step` right after `opt.step()`; the gradients are still in `p.grad`):

    import torch
    from optverify_trace import TraceWriter
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    with TraceWriter("adam.jsonl", optimizer="adam", preset="pytorch",
                     hyperparameters={"lr": 0.01},
                     named_params=model.named_parameters(), producer=f"torch {torch.__version__}") as tw:
        for x, y in batches:
            opt.zero_grad(); torch.nn.functional.mse_loss(model(x), y).backward()
            grads = [p.grad.clone() for p in model.parameters()]
            opt.step()
            tw.step(grads, list(model.parameters()))

optax (params as a list or dict of arrays; flattened in that order, row-major):

    import optax, jax, jax.numpy as jnp
    from optverify_trace import TraceWriter
    params = {"w": jnp.zeros((2, 3)), "b": jnp.zeros(2)}
    opt = optax.adam(learning_rate=0.01); state = opt.init(params)
    with TraceWriter("adam.jsonl", optimizer="adam", preset="optax",
                     hyperparameters={"learning_rate": 0.01}, named_params=params.items(),
                     producer=f"optax {optax.__version__}") as tw:
        for batch in batches:
            loss, grads = jax.value_and_grad(loss_fn)(params, batch)
            updates, state = opt.update(grads, state, params)
            params = optax.apply_updates(params, updates)
            tw.step([grads[k] for k in ("w", "b")], [params[k] for k in ("w", "b")], loss=loss)

Then: `optverify check adam.jsonl` (exit 0 agreement, 1 disagreement with a diagnosis, 2 bad
input).
"""
import json
import math

FORMAT = "optverify-trace"
VERSION = 1

__all__ = ["TraceWriter", "flatten", "shape_of", "layout_of"]


def _tolist(x):
    """A tensor, array, scalar or nested list as nested Python lists/floats."""
    if hasattr(x, "detach"):  # torch.Tensor
        x = x.detach().cpu()
    if hasattr(x, "tolist"):  # torch, numpy, jax
        return x.tolist()
    return x


def flatten(x):
    """Row-major flat list of floats of one array or of a list of arrays (in order)."""
    out = []

    def walk(v):
        v = _tolist(v)
        if isinstance(v, (list, tuple)):
            for e in v:
                walk(e)
        else:
            out.append(float(v))

    walk(x)
    return out


def shape_of(x):
    """The shape of an array-like (tensor, array or nested list)."""
    if hasattr(x, "shape"):
        return tuple(int(d) for d in x.shape)
    v, shape = x, []
    while isinstance(v, (list, tuple)):
        shape.append(len(v))
        v = v[0] if v else None
    return tuple(shape)


def layout_of(named_params):
    """Layout blocks from (name, array) pairs: a matrix is rows x cols, a vector n x 1, a
    scalar 1 x 1, a higher-rank tensor shape[0] x (product of the rest), all row-major."""
    blocks = []
    for name, a in named_params:
        shape = shape_of(a)
        if len(shape) == 0:
            rows, cols = 1, 1
        elif len(shape) == 1:
            rows, cols = shape[0], 1
        else:
            rows, cols = shape[0], math.prod(shape[1:])
        blocks.append({"name": str(name), "rows": rows, "cols": cols})
    return blocks


def _number(x, field, allow_non_finite):
    x = float(x)
    if math.isfinite(x):
        return x
    if not allow_non_finite:
        raise ValueError(f"{field}: {x} is not finite; the format allows NaN/Infinity only in params and loss")
    if math.isnan(x):
        return "NaN"
    return "Infinity" if x > 0 else "-Infinity"


def _dtype_of(named_params):
    for _, a in named_params:
        d = str(getattr(a, "dtype", ""))
        if "float32" in d:
            return "f32"
        if "float64" in d:
            return "f64"
    return None


class TraceWriter:
    """Writes an optverify trace, one `step()` per optimizer step.

    Give the initial parameters either as `named_params` ((name, array) pairs, e.g.
    `model.named_parameters()` or `params.items()`; layout, params0 and dtype are read from
    them) or as `params0` (flat list) plus `layout` ([(name, rows, cols)] or
    [{"name", "rows", "cols"}]; default one block "params").

    `step(grad, params, loss=None)`: `grad` is the gradient the optimizer used at this step,
    `params` the parameters after it, each one array or a list of arrays in layout order;
    `loss` (optional) is the loss at the parameters before the step.
    """

    def __init__(self, path, optimizer, preset, hyperparameters, producer, *, named_params=None,
                 params0=None, layout=None, dtype=None, param_groups=None, schedule=None,
                 transforms=None):
        if named_params is not None:
            named = [(n, _tolist(a) if not hasattr(a, "shape") else a) for n, a in named_params]
            layout = layout_of(named)
            params0 = flatten([a for _, a in named])
            dtype = dtype or _dtype_of(named) or "f64"
        if params0 is None:
            raise ValueError("give named_params, or params0 (and layout)")
        params0 = [_number(x, f"params0[{i}]", False) for i, x in enumerate(flatten(params0))]
        if layout is None:
            layout = [{"name": "params", "rows": len(params0), "cols": 1}]
        layout = [b if isinstance(b, dict) else {"name": b[0], "rows": b[1], "cols": b[2]} for b in layout]
        if sum(b["rows"] * b["cols"] for b in layout) != len(params0):
            raise ValueError(f"layout describes {sum(b['rows'] * b['cols'] for b in layout)} parameters, params0 has {len(params0)}")
        dtype = dtype or "f64"
        if dtype not in ("f64", "f32"):
            raise ValueError(f"dtype must be 'f64' or 'f32', not {dtype!r}")
        header = {
            "format": FORMAT,
            "version": VERSION,
            "optimizer": optimizer,
            "preset": preset,
            "hyperparameters": {k: (list(v) if isinstance(v, tuple) else v) for k, v in hyperparameters.items()},
            "layout": layout,
            "dtype": dtype,
            "producer": producer,
            "params0": params0,
        }
        # Optional declarations (src/oracle/format.rs): parameter groups
        # [{"blocks": [...], "hyperparameters": {...}}], the framework's schedule
        # {"name", "args"[, "interval"]}, optax chain members [{"name", "args"}].
        if param_groups is not None:
            header["param_groups"] = [
                {"blocks": list(g["blocks"]),
                 "hyperparameters": {k: (list(v) if isinstance(v, tuple) else v)
                                     for k, v in g.get("hyperparameters", {}).items()}}
                for g in param_groups]
        if schedule is not None:
            header["schedule"] = schedule
        if transforms:
            header["transforms"] = list(transforms)
        self.dim = len(params0)
        self.steps = 0
        self._f = open(path, "w")
        self._write(header)

    def _write(self, obj):
        # allow_nan=False: a bare NaN token is not JSON; non-finite values are strings by now.
        self._f.write(json.dumps(obj, allow_nan=False) + "\n")

    def step(self, grad, params, loss=None, hyperparameters=None):
        """Record one step: the gradient used, the parameters after the step, the loss before it,
        and optionally the hyperparameters used at this step (a dict, or a list of dicts, one per
        parameter group: e.g. `[{"lr": g["lr"]} for g in opt.param_groups]` read before
        `opt.step()`), for schedules the header cannot name."""
        g, p = flatten(grad), flatten(params)
        t = self.steps + 1
        if len(g) != self.dim or len(p) != self.dim:
            raise ValueError(f"step {t}: grad has {len(g)} entries, params {len(p)}, expected {self.dim}")
        rec = {
            "step": t,
            "grad": [_number(x, f"step {t}: grad[{i}]", False) for i, x in enumerate(g)],
            "params": [_number(x, f"step {t}: params[{i}]", True) for i, x in enumerate(p)],
        }
        if loss is not None:
            rec["loss"] = _number(flatten(loss)[0] if not isinstance(loss, (int, float)) else loss, "loss", True)
        if hyperparameters is not None:
            rec["hyperparameters"] = hyperparameters
        self._write(rec)
        self.steps = t

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
