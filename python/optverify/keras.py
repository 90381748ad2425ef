"""Record a Keras 3 run in one line: `record_fit(model, path)` for `model.fit` (JAX backend),
`record(optimizer, path)` for a custom training loop.

    model.compile(optimizer=keras.optimizers.AdamW(learning_rate=schedule), loss="mse")
    with optverify.keras.record_fit(model, "run.ovt"):   # the one line, before fit
        model.fit(x, y, epochs=3, validation_split=0.2)
    # $ optverify check run.ovt

    opt = keras.optimizers.AdamW(learning_rate=keras.optimizers.schedules.CosineDecay(1e-3, 1000))
    opt = optverify.keras.record(opt, "run.ovt")          # the one line
    for x, y in batches:                                  # a custom training loop
        grads = ...                                       # tf.GradientTape, jax.grad, torch
        opt.apply(grads, model.trainable_variables)       # or opt.apply_gradients(zip(grads, vars))
    opt.close()

**`record`.** The wrapper forwards everything to the optimizer; its `apply(grads,
trainable_variables)` and `apply_gradients(grads_and_vars)` also record the gradients (as
given) and the variables after the update. The header is written at the first call, from θ₀
(the variables before it) and `optimizer.get_config()` verbatim: a built-in schedule appears
there as its serialized form (`{"module": "keras.optimizers.schedules", "class_name":
"CosineDecay", "config": …}`), which the oracle reads as the schedule's declaration. The
optimizer's class names the optverify optimizer (SGD → sgd, Adam → adam, AdamW → adamw, Adagrad
→ adagrad, RMSprop → rmsprop, Adadelta → adadelta); any other class, including a subclass of
these, is refused. Variables excluded from weight decay (`exclude_from_weight_decay`) are
written as a parameter group with `weight_decay` 0.

A learning rate the oracle cannot evaluate (a custom `LearningRateSchedule`, a callable) is
recorded at every step as the step's `hyperparameters` (`{"learning_rate": …}`, the value
`optimizer.learning_rate` gives just before the update), so such runs are checked too. So is
a built-in schedule unless the backend is JAX with x64 enabled
(`jax.config.update("jax_enable_x64", True)`): the oracle evaluates the schedules in that
arithmetic (Python floats as float64); without x64, and on TensorFlow or torch, Keras computes
them in float32, and a correct run would agree only within tolerance, not bit for bit. A
constant learning rate assigned during the run (`opt.learning_rate = …`: the wrapper passes
assignments on to the optimizer) is written on the step lines whose value is not the header's.

**`record_fit`.** `model.fit` on the JAX backend never calls `apply`/`apply_gradients`: its
training step (`JAXTrainer.train_step`) computes the gradients and calls
`optimizer.stateless_apply(optimizer_variables, grads, trainable_variables)` inside `jax.jit`.
A Keras callback does not see the gradients, so `record_fit(model, path)`, called after
`model.compile` and before the first `fit`, instruments the compiled optimizer instead: its
`stateless_apply` gains a `jax.debug.callback(..., ordered=True)` that ships each step's
gradients, the trainable variables after it and the learning rate the update used (the value
`apply` hands to the update, captured while the step is traced) to the host, in step order, and
θ₀ at the optimizer's first step. The model's jitted training function is dropped so that fit
traces it again through the instrumentation; `close()` (or the end of the `with` block) removes
it. What is recorded:

* every training step of every `fit` (and `train_on_batch`) until `close()`, across epochs and
  consecutive `fit` calls; `steps_per_execution` > 1 is the same (on JAX, fit loops over the
  jitted step in Python); validation and `evaluate` run no optimizer step and record nothing;
* the optimizer's variables, i.e. `model.trainable_variables` when fit built it: non-trainable
  variables (BatchNormalization's moving statistics) and frozen layers (`trainable=False`) are
  not optimizer parameters and are not in the trace;
* the header exactly as `record` writes it (`get_config()` verbatim, taken by `record_fit`;
  the exclusion group), and the learning rate on the step lines in the same cases as `record`
  (float32 schedules: JAX without x64); a constant learning rate that a callback
  (`LearningRateScheduler`, `ReduceLROnPlateau`) changes is written on the step lines of the
  steps whose value is not the header's.

fit jits the step, and XLA compiles the update its own way: it contracts multiply-adds into
FMAs, and rewrites a division by a square root (Adagrad, RMSprop, Adadelta) as a multiplication
by `rsqrt`. A correct fit run therefore agrees with the reference within tolerance, a few ulps
(measured: 3–8 f32, 2–7 f64 ulps over the six optimizers), not bit for bit. Compiled with
`jit_compile=False` (or `run_eagerly=True`) the step runs op by op and agrees bit for bit; so
does a jitted SGD, Adam or AdamW run on XLA without FMA instructions
(`XLA_FLAGS=--xla_cpu_max_isa=SSE4_2`). Refused, with the reason: another backend than JAX (record a custom loop with
`record`), a model not compiled, an optimizer class other than the six (a `LossScaleOptimizer`
from mixed precision included), an optimizer that has already stepped (the trace starts at
θ₀), a second `record_fit` on the same optimizer while one records, a variable with a
constraint (applied after the update; not modelled).
"""
import os

import keras as _keras

from .trace import TraceWriter, WriterOwner, jsonable

__all__ = ["record", "record_fit", "Recorder", "FitRecorder", "OPTIMIZERS"]

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


def _open_writer(opt, name, path, format, producer, names, variables, arrays, config):
    """The trace writer of a Keras run, its header as `record` writes it: `config` (the
    optimizer's `get_config()`, verbatim) as the hyperparameters, θ₀ = `arrays` named
    `names`, and the variables `exclude_from_weight_decay` excludes as a parameter group with
    `weight_decay` 0."""
    if len(set(names)) != len(names):
        raise ValueError("optverify.keras: variable paths must be unique (they name the trace's layout blocks)")
    groups = None
    if opt.weight_decay is not None and hasattr(opt, "_use_weight_decay"):
        excluded = [n for n, v in zip(names, variables) if not opt._use_weight_decay(v)]
        if excluded:
            kept = [n for n in names if n not in excluded]
            groups = [{"blocks": kept, "hyperparameters": {}}] if kept else []
            groups.append({"blocks": excluded, "hyperparameters": {"weight_decay": 0.0}})
    return TraceWriter(
        path,
        optimizer=name,
        preset="keras",
        hyperparameters=config,
        producer=producer,
        named_params=list(zip(names, arrays)),
        format=format,
        param_groups=groups,
        jax_enable_x64=_jax_enable_x64(),
    )


class Recorder(WriterOwner):
    """The wrapped optimizer `record` returns. `apply`/`apply_gradients` update and record;
    `close()` (or use it as a context manager) when done; `steps` counts the steps written;
    every other attribute is the optimizer's, read and assigned (`opt.learning_rate = 1e-3`
    sets the optimizer's)."""

    _OWN = frozenset({"optimizer", "path", "format", "name", "producer", "lr_per_step", "lr_variable", "writer",
                      "variables", "header_lr"})

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
        # A constant learning rate is a Variable the loop may assign (`opt.learning_rate = …`):
        # a step whose value is not the header's gets it on its step line.
        self.lr_variable = isinstance(getattr(optimizer, "_learning_rate", None), _keras.Variable)
        self.writer = None
        self.variables = None
        self.header_lr = None

    def __getattr__(self, name):  # only for names the recorder does not have
        return getattr(self.__dict__["optimizer"], name)

    def __setattr__(self, name, value):
        # Assigned to the wrapper, `learning_rate` would change nothing the optimizer uses.
        if name in self._OWN:
            object.__setattr__(self, name, value)
        else:
            setattr(self.optimizer, name, value)

    def _open(self, variables):
        config = jsonable(self.optimizer.get_config())
        self.writer = _open_writer(self.optimizer, self.name, self.path, self.format, self.producer,
                                   [_name(v, i) for i, v in enumerate(variables)], variables,
                                   [_numpy(v) for v in variables], config)
        self.header_lr = config.get("learning_rate")
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
        if self.lr_per_step or self.lr_variable:
            # The value the update reads: the schedule at `iterations` (t − 1), before apply.
            lr = float(_numpy(self.optimizer.learning_rate))
            if self.lr_per_step or lr != self.header_lr:
                hp = {"learning_rate": lr}
        g = [_numpy(x) for x in grads]
        out = self.optimizer.apply(grads, variables)
        self.writer.step(g, [_numpy(v) for v in variables], hyperparameters=hp)
        return out

    def apply_gradients(self, grads_and_vars):
        """`optimizer.apply_gradients(grads_and_vars)`, recorded."""
        pairs = list(grads_and_vars)
        return self.apply([g for g, _ in pairs], [v for _, v in pairs])


def record(optimizer, path, *, format=None, producer=None, lr_per_step=None):
    """Wrap a Keras optimizer so that every `apply(grads, vars)` / `apply_gradients(pairs)`
    records the gradients and the variables after the update into the trace at `path`
    (`*.jsonl`: JSON Lines; anything else: a binary trace directory). The header holds
    `optimizer.get_config()` verbatim; θ₀ is read at the first call. `lr_per_step` (default:
    only for a learning rate the oracle does not evaluate itself) writes the learning rate of
    every step into the step lines."""
    return Recorder(optimizer, path, format=format, producer=producer, lr_per_step=lr_per_step)


class FitRecorder(WriterOwner):
    """What `record_fit` returns: it records every training step `model.fit` (or
    `train_on_batch`) runs with the model's compiled optimizer, until `close()` (or the end of
    a `with` block), which also removes the instrumentation. `steps` counts the steps written."""

    def __init__(self, model, path, *, format=None, producer=None, lr_per_step=None):
        if _keras.config.backend() != "jax":
            raise RuntimeError(
                f"optverify.keras.record_fit: the Keras backend is {_keras.config.backend()!r}; record_fit "
                "instruments the JAX backend's jitted training step. Set KERAS_BACKEND=jax before importing "
                "keras, or record a custom training loop with optverify.keras.record(optimizer, path)")
        if not isinstance(model, _keras.Model):
            raise TypeError(f"optverify.keras.record_fit: model must be a keras.Model, got {type(model).__name__}")
        opt = getattr(model, "optimizer", None)
        if not getattr(model, "compiled", False) or opt is None:
            raise ValueError("optverify.keras.record_fit: the model is not compiled with an optimizer; call "
                             "model.compile(optimizer=..., loss=...) first, then record_fit(model, path), then model.fit")
        self.name = optimizer_name(opt)
        active = getattr(opt.__dict__.get("stateless_apply"), "_optverify_recorder", None)
        if active is not None:
            raise RuntimeError(f"optverify.keras.record_fit: this model's optimizer is already being recorded to "
                               f"{active.path!r}; one recorder per run (close() it first)")
        done = int(_numpy(opt._iterations))
        if done != 0:
            raise ValueError(f"optverify.keras.record_fit: the optimizer has already taken {done} "
                             f"step{'' if done == 1 else 's'} "
                             "(optimizer.iterations); a trace starts at the optimizer's first step, from θ₀: "
                             "call record_fit before the first fit, or compile the model with a new optimizer")
        if model.built:
            _check_constraints(model.trainable_variables)
        _check_destination(path, format)
        self.model = model
        self.optimizer = opt
        self.path = path
        self.format = format
        self.producer = producer or (f"keras {_keras.__version__} (jax backend; model.fit; "
                                     f"optverify.keras.record_fit)")
        lr = getattr(opt, "_learning_rate", None)
        if lr_per_step is None:
            scheduled = isinstance(lr, _keras.optimizers.schedules.LearningRateSchedule)
            lr_per_step = not _lr_is_modelled(opt) or (scheduled and not _schedule_arithmetic_modelled())
        self.lr_per_step = bool(lr_per_step)
        # A constant learning rate is a Variable that callbacks (LearningRateScheduler,
        # ReduceLROnPlateau) may assign between steps: a step whose value is not the header's is
        # then written on its step line.
        self.lr_variable = isinstance(lr, _keras.Variable)
        # get_config() now: during fit the JAX trainer detaches the optimizer variables' values
        # (a constant learning rate's among them), so it cannot be called from the training step.
        self.config = jsonable(opt.get_config())
        self.writer = None
        self.error = None
        self.variables = None
        self._install()

    # -- instrumentation

    def _install(self):
        opt, rec = self.optimizer, self
        original = opt.stateless_apply  # the bound method of the optimizer's class

        def stateless_apply(optimizer_variables, grads, trainable_variables):
            rec._trace_check(opt._trainable_variables)
            # The learning rate the step's update uses: the value `apply` hands to
            # `_backend_update_step` (the schedule at `iterations`, before the increment),
            # captured while the step is traced rather than computed a second time.
            used = []

            def update_step(grads_, variables_, learning_rate):
                used.append(learning_rate)
                return type(opt)._backend_update_step(opt, grads_, variables_, learning_rate)

            opt._backend_update_step = update_step
            try:
                new_trainable, new_optimizer = original(optimizer_variables, grads, trainable_variables)
            finally:
                del opt.__dict__["_backend_update_step"]
            if len(used) != 1:
                raise RuntimeError(f"optverify.keras.record_fit: the optimizer ran {len(used)} update steps in "
                                   "one training step; expected 1")
            with _keras.StatelessScope(state_mapping=list(zip(opt.variables, optimizer_variables))):
                # A constant learning rate is the optimizer's Variable: its value in this step's state.
                lr = used[0].value if isinstance(used[0], _keras.Variable) else _keras.ops.convert_to_tensor(used[0])
                it = opt._iterations.value
            import jax

            # θ₀ once, at the optimizer's first step (record_fit refuses an optimizer past it).
            jax.lax.cond(it == 0,
                         lambda: jax.debug.callback(rec._first, list(trainable_variables), lr, ordered=True),
                         lambda: None)
            jax.debug.callback(rec._step, it, lr, list(grads), list(new_trainable), ordered=True)
            return new_trainable, new_optimizer

        stateless_apply._optverify_recorder = self
        opt.stateless_apply = stateless_apply
        # fit jits the training step once and keeps it (model.train_function): make it trace
        # again, now through the instrumented stateless_apply.
        self.model.train_function = None

    def _uninstall(self):
        if getattr(self.optimizer.__dict__.get("stateless_apply"), "_optverify_recorder", None) is self:
            del self.optimizer.__dict__["stateless_apply"]
            self.model.train_function = None

    def _trace_check(self, variables):
        """At trace time: the variables the optimizer updates (known once fit has built the
        model and the optimizer), checked once."""
        if self.variables is None:
            _check_constraints(variables)
            self.variables = list(variables)

    # -- host side (jax.debug.callback, in step order)

    def _first(self, theta0, lr):
        try:
            if self.writer is not None:
                raise RuntimeError("optverify.keras.record_fit: the optimizer's step counter restarted at 0")
            config = dict(self.config)
            if self.lr_variable:
                # get_config()'s float(learning_rate) as the first step reads it.
                config["learning_rate"] = float(lr)
            self.header_lr = config.get("learning_rate")
            names = [_name(v, i) for i, v in enumerate(self.variables)]
            self.writer = _open_writer(self.optimizer, self.name, self.path, self.format, self.producer, names,
                                       self.variables, list(theta0), config)
        except Exception as e:  # surfaced by close() too: XLA may wrap or defer it
            self.error = self.error or e
            raise

    def _step(self, it, lr, grads, params):
        try:
            if self.writer is None:
                raise RuntimeError("optverify.keras.record_fit: a training step before the header was written")
            if int(it) != self.writer.steps:
                raise RuntimeError(f"optverify.keras.record_fit: the optimizer is at step {int(it) + 1}, the trace "
                                   f"at step {self.writer.steps + 1}: steps ran unrecorded")
            hp = None
            lr = float(lr)
            if self.lr_per_step or (self.lr_variable and lr != self.header_lr):
                hp = {"learning_rate": lr}
            self.writer.step(list(grads), list(params), hyperparameters=hp)
        except Exception as e:
            self.error = self.error or e
            raise

    def close(self):
        self._uninstall()
        super().close()
        if self.error is not None:
            raise RuntimeError(f"optverify.keras.record_fit: recording {self.path!r} failed: {self.error}") from self.error


def _check_constraints(variables):
    for i, v in enumerate(variables):
        if getattr(v, "constraint", None) is not None:
            raise ValueError(f"optverify.keras.record_fit: variable {_name(v, i)!r} has a constraint; Keras "
                             "applies it after the optimizer's update, which the oracle does not model")


def _check_destination(path, format):
    """Refuse now what TraceWriter would refuse at the first step: there the error surfaces
    from inside the jitted step, wrapped by XLA."""
    path = os.fspath(path)
    if format is None:
        format = "jsonl" if path.endswith(".jsonl") else "binary"
    if format not in ("jsonl", "binary"):
        raise ValueError(f"optverify.keras.record_fit: format must be 'jsonl' or 'binary', not {format!r}")
    if format == "binary":
        if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
            raise FileExistsError(f"{path}: exists and is not an empty directory; a binary trace needs a new directory")
        import importlib.util

        missing = [m for m in ("numpy", "safetensors") if importlib.util.find_spec(m) is None]
        if missing:
            raise ImportError(f"optverify.keras.record_fit: a binary trace ({path}) needs {' and '.join(missing)} "
                              "(pip install numpy safetensors), or write JSON Lines: a path ending in .jsonl")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise FileNotFoundError(f"{path}: the directory {parent} does not exist")


def record_fit(model, path, *, format=None, producer=None, lr_per_step=None):
    """Record `model.fit` on the JAX backend: call after `model.compile(optimizer=...)`, before
    the first `fit`; every training step then writes the gradients and the trainable variables
    after the update into the trace at `path` (`*.jsonl`: JSON Lines; anything else: a binary
    trace directory), validation and `evaluate` nothing. The header is the one `record` writes.
    Returns a `FitRecorder`: `close()` it (or use it as a context manager) when done."""
    return FitRecorder(model, path, format=format, producer=producer, lr_per_step=lr_per_step)
