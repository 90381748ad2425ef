"""Trace writers: JSON Lines (small runs, standard library only) and the binary layout (a
directory of safetensors files, for model-scale runs; needs NumPy and the `safetensors`
package).

Both formats are specified in one place, the module doc of the crate's `src/oracle/format.rs`
(also on docs.rs as `optverify::oracle::format`). In short:

* JSON Lines: line 1 the header, then one `{"step", "grad", "params", ...}` per step.
* Binary: a directory holding `header.safetensors` (metadata key `optverify-trace`: the same
  header JSON without `params0`; tensors `params0.<i>`, one per layout block) and one
  `step-NNNNNNNN.safetensors` per step (metadata key `optverify-step`: the step's JSON without
  `grad`/`params`; tensors `grad.<i>`, `params.<i>`). f32 runs store float32, f64 runs float64.

`TraceWriter(path, ...)` picks the format from the path: `*.jsonl` writes JSON Lines, anything
else a binary trace directory (or say `format="jsonl"` / `format="binary"`).
"""
import json
import math
import os

FORMAT = "optverify-trace"
VERSION = 1
HEADER_FILE = "header.safetensors"
HEADER_KEY = "optverify-trace"
STEP_KEY = "optverify-step"

__all__ = ["TraceWriter", "flatten", "shape_of", "layout_of", "step_file_name", "jsonable"]


def step_file_name(t):
    return f"step-{t:08d}.safetensors"


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


def jsonable(v):
    """A hyperparameter value as JSON: tuples as lists, 0-d tensors/arrays as numbers."""
    if isinstance(v, (list, tuple)):
        return [jsonable(e) for e in v]
    if isinstance(v, dict):
        return {str(k): jsonable(e) for k, e in v.items()}
    if hasattr(v, "item") and getattr(v, "ndim", 0) == 0:
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError(f"hyperparameter value {v} is not finite")
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    raise TypeError(f"hyperparameter value {v!r} of type {type(v).__name__} has no JSON form")


def _number(x, field, allow_non_finite):
    x = float(x)
    if math.isfinite(x):
        return x
    if not allow_non_finite:
        raise ValueError(f"{field}: {x} is not finite; the format allows NaN/Infinity only in params and loss")
    if math.isnan(x):
        return "NaN"
    return "Infinity" if x > 0 else "-Infinity"


def _dtype_of(arrays):
    found = set()
    for a in arrays:
        d = str(getattr(a, "dtype", ""))
        if "float32" in d:
            found.add("f32")
        elif "float64" in d:
            found.add("f64")
        elif d:
            raise ValueError(f"parameters of dtype {d} are not supported (float32 or float64 only)")
    if len(found) > 1:
        raise ValueError("the parameters mix float32 and float64; a trace has one dtype")
    return found.pop() if found else None


def _to_numpy(a, np_dtype):
    """A host NumPy array (no copy when possible) of one block, in the trace's dtype."""
    import numpy as np

    if hasattr(a, "detach"):  # torch
        a = a.detach()
        if a.device.type != "cpu":
            a = a.cpu()
        a = a.numpy()
    a = np.asarray(a)
    if a.dtype != np_dtype:
        raise ValueError(f"array of dtype {a.dtype} in a {np_dtype} trace")
    return np.ascontiguousarray(a)


class Closing:
    """Context-manager support for the recorders: `with ... as w:` calls `w.close()` on exit
    (also on an exception; the exception propagates)."""

    def close(self):
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class WriterOwner(Closing):
    """Base of the recorders that open their `TraceWriter` at the first step (`self.writer` is
    None until then): the steps written so far, and `close()`, which closes the trace."""

    writer = None

    @property
    def steps(self):
        return 0 if self.writer is None else self.writer.steps

    def close(self):
        if self.writer is not None:
            self.writer.close()


class TraceWriter(Closing):
    """Writes an optverify trace, one `step()` per optimizer step.

    Give the initial parameters either as `named_params` ((name, array) pairs, e.g.
    `model.named_parameters()` or `params.items()`; layout, params0 and dtype are read from
    them) or as `params0` (flat list) plus `layout` ([(name, rows, cols)] or
    [{"name", "rows", "cols"}]; default one block "params").

    `step(grad, params, loss=None, hyperparameters=None)`: `grad` is the gradient the optimizer
    used at this step, `params` the parameters after it, each a list of arrays in layout order
    (or one array); `loss` (optional) the loss at the parameters before the step;
    `hyperparameters` (optional) the values the optimizer used at this step: a dict, or a list
    of dicts, one per parameter group.

    Optional header fields: `param_groups` ([{"blocks": [names], "hyperparameters": {...}}]),
    `schedule` ({"name", "args"}), `transforms` ([{"name", "args"}]), `jax_enable_x64` (a
    bool: JAX's x64 flag during the run, for presets "optax" and "keras"; with it disabled a
    Python-float hyperparameter meets a float32 array as a float32, which changes the optax
    aliases' bias corrections).
    """

    def __init__(self, path, optimizer, preset, hyperparameters, producer, *, named_params=None,
                 params0=None, layout=None, dtype=None, format=None, param_groups=None,
                 schedule=None, transforms=None, jax_enable_x64=None):
        path = os.fspath(path)
        if jax_enable_x64 is not None and not isinstance(jax_enable_x64, bool):
            raise ValueError(f"jax_enable_x64 must be True, False or None, not {jax_enable_x64!r}")
        if format is None:
            format = "jsonl" if path.endswith(".jsonl") else "binary"
        if format not in ("jsonl", "binary"):
            raise ValueError(f"format must be 'jsonl' or 'binary', not {format!r}")
        self.format = format
        self.path = path
        arrays = None
        if named_params is not None:
            named = list(named_params)
            arrays = [a for _, a in named]
            layout = layout_of(named)
            dtype = dtype or _dtype_of(arrays) or "f64"
        if arrays is None and params0 is None:
            raise ValueError("give named_params, or params0 (and layout)")
        if layout is None:
            layout = [{"name": "params", "rows": len(flatten(params0)), "cols": 1}]
        layout = [b if isinstance(b, dict) else {"name": b[0], "rows": b[1], "cols": b[2]} for b in layout]
        dtype = dtype or "f64"
        if dtype not in ("f64", "f32"):
            raise ValueError(f"dtype must be 'f64' or 'f32', not {dtype!r}")
        self.dtype = dtype
        self.layout = layout
        self.sizes = [b["rows"] * b["cols"] for b in layout]
        self.dim = sum(self.sizes)
        header = {
            "format": FORMAT,
            "version": VERSION,
            "optimizer": optimizer,
            "preset": preset,
            "hyperparameters": jsonable(dict(hyperparameters)),
            "layout": layout,
            "dtype": dtype,
            "producer": producer,
        }
        if param_groups is not None:
            header["param_groups"] = jsonable(param_groups)
        if schedule is not None:
            header["schedule"] = jsonable(schedule)
        if transforms:
            header["transforms"] = jsonable(transforms)
        if jax_enable_x64 is not None:
            header["jax_enable_x64"] = jax_enable_x64
        self.steps = 0
        if format == "jsonl":
            p0 = flatten(arrays if arrays is not None else params0)
            if len(p0) != self.dim:
                raise ValueError(f"layout describes {self.dim} parameters, params0 has {len(p0)}")
            header["params0"] = [_number(x, f"params0[{i}]", False) for i, x in enumerate(p0)]
            self._f = open(path, "w")
            self._write(header)
        else:
            import numpy as np

            self._np_dtype = np.dtype(np.float32 if dtype == "f32" else np.float64)
            if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
                raise FileExistsError(f"{path}: exists and is not an empty directory; a binary trace needs a new directory")
            os.makedirs(path, exist_ok=True)
            blocks = self._blocks("params0", arrays if arrays is not None else params0)
            for i, b in enumerate(blocks):
                if not np.isfinite(b).all():
                    raise ValueError(f"params0.{i}: not finite")
            self._save(HEADER_FILE, {f"params0.{i}": b for i, b in enumerate(blocks)}, HEADER_KEY, header)

    # -- binary helpers

    def _blocks(self, what, arrays):
        """One contiguous NumPy array per layout block."""
        import numpy as np

        if not isinstance(arrays, (list, tuple)):
            arrays = [arrays]
        if len(arrays) == len(self.sizes) and all(hasattr(a, "shape") for a in arrays):
            blocks = [_to_numpy(a, self._np_dtype) for a in arrays]
        else:  # arrays not one per block, or a flat list: concatenate, then split by the layout
            if all(hasattr(a, "shape") for a in arrays):
                flat = np.concatenate([_to_numpy(a, self._np_dtype).reshape(-1) for a in arrays])
            else:
                flat = np.asarray(flatten(arrays), dtype=self._np_dtype)
            if flat.size != self.dim:
                raise ValueError(f"{what}: {flat.size} entries, the layout has {self.dim}")
            offs = np.cumsum([0] + self.sizes)
            blocks = [flat[offs[i]:offs[i + 1]] for i in range(len(self.sizes))]
        for i, (b, n) in enumerate(zip(blocks, self.sizes)):
            if b.size != n:
                raise ValueError(f"{what}.{i} ({self.layout[i]['name']}): {b.size} entries, the layout block has {n}")
        return blocks

    def _save(self, name, tensors, key, obj):
        from safetensors.numpy import save_file

        final = os.path.join(self.path, name)
        tmp = os.path.join(self.path, "." + name + ".tmp")
        save_file(tensors, tmp, metadata={key: json.dumps(obj, allow_nan=False)})
        os.replace(tmp, final)  # a reader never sees a partial step file

    # -- JSON Lines helper

    def _write(self, obj):
        # allow_nan=False: a bare NaN token is not JSON; non-finite values are strings by now.
        self._f.write(json.dumps(obj, allow_nan=False) + "\n")

    def step(self, grad, params, loss=None, hyperparameters=None, block_norms=None):
        """Record one step: the gradient used, the parameters after the step, the loss before
        it, the hyperparameters used at it. `block_norms` (binary traces of layer-wise
        optimizers): per layout block the pair [‖θ before the step‖, ‖u‖ the trust ratio divides
        by], as the framework computed them; written as the tensors `norms.<i>` for `check
        --sample` (ignored in JSON Lines, which is checked in full)."""
        t = self.steps + 1
        rec = {"step": t}
        if loss is not None:
            rec["loss"] = _number(flatten(loss)[0] if not isinstance(loss, (int, float)) else loss, "loss", True)
        if hyperparameters is not None:
            rec["hyperparameters"] = jsonable(hyperparameters)
        if self.format == "jsonl":
            g, p = flatten(grad), flatten(params)
            if len(g) != self.dim or len(p) != self.dim:
                raise ValueError(f"step {t}: grad has {len(g)} entries, params {len(p)}, expected {self.dim}")
            rec["grad"] = [_number(x, f"step {t}: grad[{i}]", False) for i, x in enumerate(g)]
            rec["params"] = [_number(x, f"step {t}: params[{i}]", True) for i, x in enumerate(p)]
            self._write(rec)
        else:
            import numpy as np

            gb = self._blocks("grad", grad)
            for i, b in enumerate(gb):
                if not np.isfinite(b).all():
                    raise ValueError(f"step {t}: grad.{i} ({self.layout[i]['name']}) is not finite; the format allows NaN/Infinity only in params and loss")
            pb = self._blocks("params", params)
            tensors = {f"grad.{i}": b for i, b in enumerate(gb)}
            tensors.update({f"params.{i}": b for i, b in enumerate(pb)})
            if block_norms is not None:
                if len(block_norms) != len(pb):
                    raise ValueError(f"step {t}: {len(block_norms)} block norms for {len(pb)} blocks")
                for i, pair in enumerate(block_norms):
                    tensors[f"norms.{i}"] = _to_numpy(pair, pb[i].dtype).reshape(-1)
            self._save(step_file_name(t), tensors, STEP_KEY, rec)
        self.steps = t

    def close(self):
        if self.format == "jsonl" and not self._f.closed:
            self._f.close()
