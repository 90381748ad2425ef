"""optverify: record an optimizer run and check it step by step against the reference of its
framework (`optverify check run.ovt`).

* `optverify.watch(optimizer, path, model=model)`: torch, one line (see `optverify.torch`).
* `optverify.optax.record(tx, path, optimizer=..., hyperparameters=...)`: optax, wraps the
  GradientTransformation (see `optverify.optax`).
* `optverify.keras.record(optimizer, path)`: Keras 3, wraps the optimizer; its `apply` /
  `apply_gradients` record, the header is `optimizer.get_config()` (see `optverify.keras`).
* `optverify.keras.record_fit(model, path)`: Keras 3 `model.fit` on the JAX backend, after
  `model.compile` (see `optverify.keras`).
* `optverify.TraceWriter`: write a trace by hand (any framework).

A path ending in `.jsonl` writes JSON Lines (small runs); anything else a binary trace
directory of safetensors files (model-scale runs; needs `numpy` and `safetensors`). The
`optverify` command (installed with this package) checks either.
"""
from .trace import TraceWriter, flatten, layout_of, shape_of

__version__ = "0.1.0"
__all__ = ["TraceWriter", "watch", "flatten", "layout_of", "shape_of", "__version__"]


def watch(optimizer, path, **kwargs):
    """Record every step of a `torch.optim` optimizer; see `optverify.torch.watch`."""
    from .torch import watch as _watch

    return _watch(optimizer, path, **kwargs)
