"""Record a Keras 3 run in one line: wrap the optimizer.

    opt = keras.optimizers.AdamW(learning_rate=keras.optimizers.schedules.CosineDecay(1e-3, 1000))
    opt = optverify.keras.record(opt, "run.ovt")          # the one line
    for x, y in batches:                                  # a custom training loop
        grads = ...                                       # tf.GradientTape, jax.grad, torch
        opt.apply(grads, model.trainable_variables)       # or opt.apply_gradients(zip(grads, vars))
    opt.close()
    # $ optverify check run.ovt

The wrapper forwards everything to the optimizer; its `apply(grads, trainable_variables)`
and `apply_gradients(grads_and_vars)` also record the gradients (as given) and the variables
after the update. The header is written at the first call, from θ₀ (the variables before
it) and `optimizer.get_config()` verbatim: a built-in schedule appears there as its serialized
form (`{"module": "keras.optimizers.schedules", "class_name": "CosineDecay", "config": …}`),
which the oracle reads as the schedule's declaration. The optimizer's class names the
optverify optimizer (SGD → sgd, Adam → adam, AdamW → adamw, Adagrad → adagrad, RMSprop →
rmsprop, Adadelta → adadelta); any other class, including a subclass of these, is refused.
Variables excluded from weight decay (`exclude_from_weight_decay`) are written as a
parameter group with `weight_decay` 0.

A learning rate the oracle cannot evaluate (a custom `LearningRateSchedule`, a callable) is
recorded at every step as the step's `hyperparameters` (`{"learning_rate": …}`, the value
`optimizer.learning_rate` gives just before the update), so such runs are checked too. So is
a built-in schedule unless the backend is JAX with x64 enabled
(`jax.config.update("jax_enable_x64", True)`): the oracle evaluates the schedules in that
arithmetic (Python floats as float64); without x64, and on TensorFlow or torch, Keras computes
them in float32, and a correct run would agree only within tolerance, not bit for bit.

`model.fit` does not call `apply`/`apply_gradients` on the JAX backend (it jits
`stateless_apply`): record a custom loop that calls one of them eagerly.
"""
import keras as _keras

from .trace import Closing, TraceWriter, jsonable

__all__ = ["record", "Recorder", "OPTIMIZERS"]

# Keras class name -> optverify optimizer name (preset "keras").
OPTIMIZERS = {
    "SGD": "sgd",
    "Adam": "adam",
    "AdamW": "adamw",
    "Adagrad": "adagrad",
    "RMSprop": "rmsprop",
    "Adadelta": "adadelta",
}

_SCHEDULES_MODULE = "keras.optimizers.schedules"
# The built-in schedules the oracle evaluates itself (src/oracle/schedules.rs).
_MODELLED_SCHEDULES = {"ExponentialDecay", "PiecewiseConstantDecay", "InverseTimeDecay",
                       "PolynomialDecay", "CosineDecay", "CosineDecayRestarts"}


def optimizer_name(optimizer):
    """The optverify name of a Keras optimizer (its exact class; a subclass may change the
    update, so it is refused)."""
    cls = type(optimizer)
    name = OPTIMIZERS.get(cls.__name__)
    if name is None or getattr(_keras.optimizers, cls.__name__, None) is not cls:
        known = ", ".join(f"keras.optimizers.{k}" for k in OPTIMIZERS)
        raise ValueError(f"optverify.keras: optimizer class {cls.__module__}.{cls.__qualname__} is not one the "
                         f"oracle models ({known})")
    return name


def _lr_is_modelled(optimizer):
    """True when the oracle evaluates the learning rate itself: a number (or variable), or a
    built-in schedule it models; False for a custom schedule or a callable."""
    lr = getattr(optimizer, "_learning_rate", None)
    if isinstance(lr, _keras.optimizers.schedules.LearningRateSchedule):
        cls = type(lr)
        return cls.__name__ in _MODELLED_SCHEDULES and getattr(_keras.optimizers.schedules, cls.__name__, None) is cls
    return not callable(lr) or isinstance(lr, _keras.Variable)


def _schedule_arithmetic_modelled():
    """The oracle evaluates Keras schedules as Keras computes them on the JAX backend with x64
    enabled (a Python float is then a weakly typed float64). Without x64, and on the other
    backends, a schedule computes in float32: correct runs agree only within tolerance."""
    if _keras.config.backend() != "jax":
        return False
    import jax

    return bool(jax.config.jax_enable_x64)


def _jax_enable_x64():
    """JAX's x64 flag for the header on the JAX backend (the oracle then knows that a schedule
    computed in float32, whose learning rate the step lines carry), None on the others."""
    if _keras.config.backend() != "jax":
        return None
    import jax

    return bool(jax.config.jax_enable_x64)


def _numpy(x):
    return _keras.ops.convert_to_numpy(x)


def _name(v, i):
    return str(getattr(v, "path", None) or getattr(v, "name", None) or f"variable{i}")


class Recorder(Closing):
    """The wrapped optimizer `record` returns. `apply`/`apply_gradients` update and record;
    `close()` (or use it as a context manager) when done; `steps` counts the steps written;
    every other attribute is the optimizer's."""

    def __init__(self, optimizer, path, *, format=None, producer=None, lr_per_step=None):
        self.optimizer = optimizer
        self.path = path
        self.format = format
        self.name = optimizer_name(optimizer)
        self.producer = producer or (f"keras {_keras.__version__} ({_keras.config.backend()} backend; "
                                     f"optverify.keras.record)")
        if lr_per_step is None:
            lr = getattr(optimizer, "_learning_rate", None)
            scheduled = isinstance(lr, _keras.optimizers.schedules.LearningRateSchedule)
            lr_per_step = not _lr_is_modelled(optimizer) or (scheduled and not _schedule_arithmetic_modelled())
        self.lr_per_step = bool(lr_per_step)
        self.writer = None
        self.variables = None

    def __getattr__(self, name):  # only for names the recorder does not have
        return getattr(self.__dict__["optimizer"], name)

    def _open(self, variables):
        names = [_name(v, i) for i, v in enumerate(variables)]
        if len(set(names)) != len(names):
            raise ValueError("optverify.keras: variable paths must be unique (they name the trace's layout blocks)")
        opt = self.optimizer
        hp = jsonable(opt.get_config())
        groups = None
        if opt.weight_decay is not None and hasattr(opt, "_use_weight_decay"):
            excluded = [n for n, v in zip(names, variables) if not opt._use_weight_decay(v)]
            if excluded:
                kept = [n for n in names if n not in excluded]
                groups = [{"blocks": kept, "hyperparameters": {}}] if kept else []
                groups.append({"blocks": excluded, "hyperparameters": {"weight_decay": 0.0}})
        self.writer = TraceWriter(
            self.path,
            optimizer=self.name,
            preset="keras",
            hyperparameters=hp,
            producer=self.producer,
            named_params=[(n, _numpy(v)) for n, v in zip(names, variables)],
            format=self.format,
            param_groups=groups,
            jax_enable_x64=_jax_enable_x64(),
        )
        self.variables = list(variables)

    def apply(self, grads, trainable_variables=None):
        """`optimizer.apply(grads, trainable_variables)`, recorded."""
        grads = list(grads)
        if trainable_variables is None:
            if not self.optimizer.built:
                raise ValueError("optverify.keras: pass trainable_variables (the optimizer is not built yet)")
            trainable_variables = self.optimizer._trainable_variables
        variables = list(trainable_variables)
        if any(g is None for g in grads):
            raise ValueError("optverify.keras: a gradient is None; record steps whose every variable has a gradient")
        if self.writer is None:
            self._open(variables)
        elif len(variables) != len(self.variables) or any(a is not b for a, b in zip(variables, self.variables)):
            raise ValueError("optverify.keras: apply() got other variables than at the first step; one recorder "
                             "records one set of variables, in one order")
        hp = None
        if self.lr_per_step:
            # The value the update reads: the schedule at `iterations` (t − 1), before apply.
            hp = {"learning_rate": float(_numpy(self.optimizer.learning_rate))}
        g = [_numpy(x) for x in grads]
        out = self.optimizer.apply(grads, variables)
        self.writer.step(g, [_numpy(v) for v in variables], hyperparameters=hp)
        return out

    def apply_gradients(self, grads_and_vars):
        """`optimizer.apply_gradients(grads_and_vars)`, recorded."""
        pairs = list(grads_and_vars)
        return self.apply([g for g, _ in pairs], [v for _, v in pairs])

    @property
    def steps(self):
        return 0 if self.writer is None else self.writer.steps

    def close(self):
        if self.writer is not None:
            self.writer.close()


def record(optimizer, path, *, format=None, producer=None, lr_per_step=None):
    """Wrap a Keras optimizer so that every `apply(grads, vars)` / `apply_gradients(pairs)`
    records the gradients and the variables after the update into the trace at `path`
    (`*.jsonl`: JSON Lines; anything else: a binary trace directory). The header holds
    `optimizer.get_config()` verbatim; θ₀ is read at the first call. `lr_per_step` (default:
    only for a learning rate the oracle does not evaluate itself) writes the learning rate of
    every step into the step lines."""
    return Recorder(optimizer, path, format=format, producer=producer, lr_per_step=lr_per_step)
