"""Record an optax run in one line: wrap the GradientTransformation.

    tx = optax.adamw(learning_rate=1e-3)
    tx = optverify.optax.record(tx, "run.ovt", optimizer="adamw",
                                hyperparameters={"learning_rate": 1e-3})   # the one line
    state = tx.init(params)                       # θ₀ and the layout are read here
    for batch in batches:
        grads = jax.grad(loss_fn)(params, batch)
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
    # $ optverify check run.ovt

optax is functional: a transformation returns *updates*, and the new parameters only exist
once the caller applies them. The wrapper computes them the way `optax.apply_updates` does
(`p + u`, cast to `p`'s dtype) from the `params` argument of `update` — so `update` must be
given the parameters (`tx.update(grads, state, params)`, as every optax optimizer with weight
decay needs anyway), and the caller must apply the updates with `optax.apply_updates` (or the
same `p + u`) for the recorded parameters to be the run's.

Recording happens through `jax.debug.callback(..., ordered=True)`, so the wrapped `update`
works eagerly and under `jax.jit` alike; the host receives the gradients and the new
parameters of each step in order. If the inner state carries `hyperparams` (a transformation
built with `optax.inject_hyperparams`, the way to use a schedule you want recorded), its
learning rate at every step is written as the step's `hyperparameters`.
"""
import jax
import jax.numpy as jnp
import optax as _optax

from .trace import TraceWriter, jsonable

__all__ = ["record", "Recorder"]


def _leaf_names(tree):
    paths, _ = jax.tree_util.tree_flatten_with_path(tree)
    names = []
    for path, _leaf in paths:
        name = jax.tree_util.keystr(path)
        names.append(name if name else "params")
    return names


class Recorder:
    """Holds the trace writer of a wrapped transformation; `close()` when done."""

    def __init__(self, path, optimizer, hyperparameters, format, dtype, producer, schedule, transforms):
        self.path = path
        self.optimizer = optimizer
        self.hyperparameters = hyperparameters
        self.format = format
        self.dtype = dtype
        self.producer = producer or f"optax {_optax.__version__} (optverify.optax.record)"
        self.schedule = schedule
        self.transforms = transforms
        self.writer = None

    def open(self, params):
        if self.writer is not None:
            raise RuntimeError("optverify.optax.record: init() called twice; one recorder writes one run")
        leaves = jax.tree_util.tree_leaves(params)
        names = _leaf_names(params)
        self.writer = TraceWriter(
            self.path,
            optimizer=self.optimizer,
            preset="optax",
            hyperparameters=self.hyperparameters,
            producer=self.producer,
            named_params=list(zip(names, [jax.device_get(l) for l in leaves])),
            dtype=self.dtype,
            format=self.format,
            schedule=self.schedule,
            transforms=self.transforms,
        )

    def write(self, grads, new_params, hyperparams):
        hp = None
        if hyperparams is not None and "learning_rate" in hyperparams:
            # Only the learning rate: inject_hyperparams stores every hyperparameter as an f32
            # array (b1 = 0.8999999761581421), which is not the value the header declares, and
            # a schedule drives the learning rate.
            hp = {"learning_rate": jsonable(hyperparams["learning_rate"])}
        self.writer.step(list(grads), list(new_params), hyperparameters=hp)

    @property
    def steps(self):
        return 0 if self.writer is None else self.writer.steps

    def close(self):
        if self.writer is not None:
            self.writer.close()


def record(tx, path, *, optimizer, hyperparameters, format=None, dtype=None, producer=None,
           schedule=None, transforms=None):
    """Wrap `tx` so that every `update(grads, state, params)` records the gradients and the
    parameters after the step (`optax.apply_updates(params, updates)`) into the trace at
    `path` (`*.jsonl`: JSON Lines; anything else: a binary trace directory). `optimizer` and
    `hyperparameters` name the optax optimizer and its arguments as you called it (optax's own
    names: `"adamw"`, `{"learning_rate": 1e-3, "weight_decay": 1e-4}`); θ₀ is read at `init`.
    The returned transformation has a `.recorder` attribute (`.recorder.close()` at the end)."""
    rec = Recorder(path, optimizer, hyperparameters, format, dtype, producer, schedule, transforms)

    def init_fn(params):
        rec.open(params)
        return tx.init(params)

    def update_fn(grads, state, params=None, **extra):
        if params is None:
            raise ValueError("optverify.optax.record: call update(grads, state, params): the parameters are needed to record the step's result")
        updates, new_state = tx.update(grads, state, params, **extra)
        new_params = _optax.apply_updates(params, updates)
        hp = getattr(new_state, "hyperparams", None)
        g_leaves = jax.tree_util.tree_leaves(grads)
        p_leaves = jax.tree_util.tree_leaves(new_params)
        jax.debug.callback(lambda g, p, h: rec.write(g, p, h), g_leaves, p_leaves, hp, ordered=True)
        return updates, new_state

    wrapped = _optax.GradientTransformationExtraArgs(init_fn, update_fn)
    try:
        wrapped.recorder = rec
    except AttributeError:  # NamedTuple: attributes cannot be added; expose through a subclass
        wrapped = _Recorded(init_fn, update_fn, rec)
    return wrapped


class _Recorded(_optax.GradientTransformationExtraArgs):
    def __new__(cls, init, update, recorder):
        self = super().__new__(cls, init, update)
        self._recorder = recorder
        return self

    @property
    def recorder(self):
        return self._recorder


_ = jnp  # jax.numpy imported for users' convenience in examples
