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
learning rate at every step, and the value of every other scheduled hyperparameter, are
written as the step's `hyperparameters`, and the header's `transforms` gets the member
`{"name": "inject_hyperparams", "args": {...}}` if it was not declared (with
`"hyperparam_dtype"` when the hyperparameters' dtype is not the parameters'): inject_hyperparams
casts every float hyperparameter to that dtype before the alias computes with it, which the
oracle models.
"""
import jax
import jax.numpy as jnp
import optax as _optax

from .trace import TraceWriter, WriterOwner, jsonable

__all__ = ["record", "Recorder"]


def _leaf_names(tree):
    paths, _ = jax.tree_util.tree_flatten_with_path(tree)
    names = []
    for path, _leaf in paths:
        name = jax.tree_util.keystr(path)
        names.append(name if name else "params")
    return names


class Recorder(WriterOwner):
    """Holds the trace writer of a wrapped transformation; `close()` when done (or use it as a
    context manager)."""

    def __init__(self, path, optimizer, hyperparameters, format, dtype, producer, schedule, transforms,
                 param_groups=None):
        self.path = path
        self.optimizer = optimizer
        self.hyperparameters = hyperparameters
        self.format = format
        self.dtype = dtype
        self.producer = producer or f"optax {_optax.__version__} (optverify.optax.record)"
        self.schedule = schedule
        self.transforms = transforms
        self.scheduled = ()
        self.param_groups = param_groups
        self.writer = None

    def injected(self, state, params):
        """Read the `optax.inject_hyperparams` state of a freshly initialised (nested) state:
        the hyperparameters a schedule drives (recorded per step) and the member of
        `transforms` that declares the injection (added if the caller did not declare it;
        `hyperparam_dtype` when the hyperparameters' float dtype is not the parameters')."""
        node = _first(state, lambda s: s if hasattr(s, "hyperparams_states") and hasattr(s, "hyperparams") else None)
        if node is None:
            return
        self.scheduled = tuple(sorted(node.hyperparams_states))
        floats = [v for v in node.hyperparams.values()
                  if hasattr(v, "dtype") and jnp.issubdtype(v.dtype, jnp.floating)]
        p_dtypes = [l.dtype for l in jax.tree_util.tree_leaves(params)]
        highest = jnp.result_type(*p_dtypes) if p_dtypes else None
        args = {}
        if floats and highest is not None and floats[0].dtype != highest:
            args["hyperparam_dtype"] = str(floats[0].dtype)
        members = [dict(m) for m in (self.transforms or [])]
        mine = [m for m in members if m.get("name") == "inject_hyperparams"]
        if not mine:
            members.append({"name": "inject_hyperparams", "args": args})
        elif "hyperparam_dtype" not in (mine[0].get("args") or {}):
            mine[0]["args"] = {**(mine[0].get("args") or {}), **args}
        self.transforms = members

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
            param_groups=self.param_groups,
            # JAX's x64 flag decides the dtype of the alias's Python-float arithmetic (with it
            # disabled, `b1**t` is float32): the oracle needs it to pick the kernel.
            jax_enable_x64=bool(jax.config.jax_enable_x64),
        )

    def write(self, grads, new_params, hyperparams, norms=None):
        hp = None
        if hyperparams is not None and "learning_rate" in hyperparams:
            # The learning rate, and the other hyperparameters a schedule drives: the constant
            # ones are stored as arrays of the hyperparameter dtype (b1 = 0.8999999761581421 in
            # float32), the value the header declares cast by inject_hyperparams, which the
            # oracle applies itself.
            hp = {"learning_rate": jsonable(hyperparams["learning_rate"])}
            for k in self.scheduled:
                if k in hyperparams and k != "learning_rate":
                    hp[k] = jsonable(hyperparams[k])
        self.writer.step(list(grads), list(new_params), hyperparameters=hp,
                         block_norms=None if norms is None else [list(n) for n in norms])


def _first(state, pick):
    """The first non-None `pick(node)` of a (nested) optax state, depth first: the state
    itself, then the members of `optax.chain` (a tuple of states) or a wrapped
    transformation's `inner_state`; None if no node gives one."""
    found = pick(state)
    if found is not None:
        return found
    children = state if isinstance(state, (tuple, list)) else getattr(state, "inner_state", None)
    if children is None:
        return None
    if not isinstance(children, (tuple, list)):
        children = [children]
    for c in children:
        found = _first(c, pick)
        if found is not None:
            return found
    return None


def _adam_state(state):
    """The first ScaleByAdamState-like node (count, mu, nu) of a (nested) optax state."""
    return _first(state, lambda s: s if all(hasattr(s, a) for a in ("count", "mu", "nu")) else None)


def _hyperparams(state):
    """The `hyperparams` of the first `optax.inject_hyperparams` state in a (nested) optax
    state (the transformation itself, a member of `optax.chain`, or one wrapped by another
    transformation); None if there is none."""
    return _first(state, lambda s: getattr(s, "hyperparams", None))


def _block_norms(optimizer, hp, grads, new_state, params):
    """Per leaf [‖θ_{t−1}‖, ‖u_t‖] of optax `lamb` and `lars`, computed with optax's own
    operations in its order (`scale_by_trust_ratio` divides by ‖u‖: for lars u = g + λθ, for
    lamb the bias-corrected Adam direction plus λθ, from the state `update` returned), for
    `optverify check --sample` (format.rs: tensors norms.<i>); None for other optimizers."""
    if optimizer not in ("lamb", "lars"):
        return None
    wd = hp.get("weight_decay", 0.0)
    if optimizer == "lars":
        u = grads
    else:
        st = _adam_state(new_state)
        if st is None:
            return None
        b1, b2 = hp.get("b1", 0.9), hp.get("b2", 0.999)
        eps, eps_root = hp.get("eps", 1e-6), hp.get("eps_root", 0.0)
        mu_hat = _optax.tree.bias_correction(st.mu, b1, st.count)
        nu_hat = _optax.tree.bias_correction(st.nu, b2, st.count)
        u = jax.tree.map(lambda m, v: m / (jnp.sqrt(v + eps_root) + eps), mu_hat, nu_hat)
    # add_decayed_weights skips a Python-float 0.0, as optax does.
    if not (isinstance(wd, (int, float)) and wd == 0.0):
        u = jax.tree.map(lambda g, p: g + wd * p, u, params)
    p_leaves = jax.tree_util.tree_leaves(params)
    u_leaves = jax.tree_util.tree_leaves(u)
    return [jnp.stack([jnp.linalg.norm(p), jnp.linalg.norm(x)]) for p, x in zip(p_leaves, u_leaves)]


def record(tx, path, *, optimizer, hyperparameters, format=None, dtype=None, producer=None,
           schedule=None, transforms=None, param_groups=None):
    """Wrap `tx` so that every `update(grads, state, params)` records the gradients and the
    parameters after the step (`optax.apply_updates(params, updates)`) into the trace at
    `path` (`*.jsonl`: JSON Lines; anything else: a binary trace directory). `optimizer` and
    `hyperparameters` name the optax optimizer and its arguments as you called it (optax's own
    names: `"adamw"`, `{"learning_rate": 1e-3, "weight_decay": 1e-4}`); θ₀ is read at `init`.
    The returned transformation has a `.recorder` attribute (`.recorder.close()` at the end).

    `schedule`, `transforms` and `param_groups` are the header's declarations (see the trace
    format). A block is named by its pytree path, `jax.tree_util.keystr` of it (`"['w']"` for
    a dict entry `w`); e.g. a `multi_transform({"adam": adam(1e-3), "sgd": sgd(0.1)}, labels)`
    is `param_groups=[{"blocks": ["['w']"], "hyperparameters": {}}, {"blocks": ["['b']"],
    "optimizer": "sgd", "hyperparameters": {"learning_rate": 0.1}}]` with
    `transforms=[{"name": "multi_transform"}]`."""
    rec = Recorder(path, optimizer, hyperparameters, format, dtype, producer, schedule, transforms,
                   param_groups)

    def init_fn(params):
        state = tx.init(params)
        rec.injected(state, params)
        rec.open(params)
        return state

    def update_fn(grads, state, params=None, **extra):
        if params is None:
            raise ValueError("optverify.optax.record: call update(grads, state, params): the parameters are needed to record the step's result")
        updates, new_state = tx.update(grads, state, params, **extra)
        new_params = _optax.apply_updates(params, updates)
        hp = _hyperparams(new_state)
        g_leaves = jax.tree_util.tree_leaves(grads)
        p_leaves = jax.tree_util.tree_leaves(new_params)
        # With inject_hyperparams, the values the alias computed with (arrays of the
        # hyperparameter dtype), so the norms round as the step did.
        norms = _block_norms(optimizer, {**hyperparameters, **(hp or {})}, grads, new_state, params)
        jax.debug.callback(lambda g, p, h, n: rec.write(g, p, h, n), g_leaves, p_leaves, hp, norms,
                           ordered=True)
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
