"""Record a `torch.optim` run in one line: `optverify.watch(optimizer, path)`.

    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    rec = optverify.watch(opt, "run.ovt", model=model)   # the one line
    for x, y in batches:
        opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    rec.close()
    # $ optverify check run.ovt

A step pre-hook (`Optimizer.register_step_pre_hook`) copies the gradients the optimizer is
about to see and the hyperparameters of every parameter group (after any scheduler's
`step()`: the values this step uses); a step post-hook writes them with the parameters after
the step. The header holds `opt.defaults` (the constructor's hyperparameters, torch's own
names), the parameter groups (blocks and the hyperparameters in which they differ from the
defaults) and θ₀, read when `watch` is called (so call it before the first step).
"""
import torch as _torch

from .trace import Closing, TraceWriter, jsonable

__all__ = ["watch", "Watcher"]

# Keys of a param group that are bookkeeping, not hyperparameters of the update.
_NOT_HYPERPARAMETERS = {"params", "initial_lr", "name"}


def _group_hparams(group, keys):
    return {k: jsonable(group[k]) for k in keys if k in group}


class Watcher(Closing):
    """The recorder `watch` returns: `close()` (or use it as a context manager) when done;
    `remove()` detaches the hooks without closing; `set_loss(x)` records the loss of the next
    step (optional). `steps` counts the steps written."""

    def __init__(self, optimizer, path, *, model=None, names=None, format=None, dtype=None,
                 optimizer_name=None, schedule=None, copy_grads=True, producer=None):
        self.opt = optimizer
        all_params = [p for g in optimizer.param_groups for p in g["params"]]
        if len({id(p) for p in all_params}) != len(all_params):
            raise ValueError("a parameter appears twice in the optimizer's param groups")
        if names is None and model is not None:
            by_id = {id(p): n for n, p in model.named_parameters()}
            names = [by_id.get(id(p)) for p in all_params]
            missing = [i for i, n in enumerate(names) if n is None]
            for i in missing:
                names[i] = f"param{i}"
        if names is None:
            names = [f"group{gi}.param{pi}" for gi, g in enumerate(optimizer.param_groups) for pi in range(len(g["params"]))]
        if len(names) != len(all_params):
            raise ValueError(f"names: {len(names)} names for {len(all_params)} parameters")
        if len(set(names)) != len(names):
            raise ValueError("parameter names must be unique (they name the trace's layout blocks)")
        # A frozen parameter (requires_grad=False) never gets a gradient, and torch's step skips
        # it: it is constant, so the trace leaves it out (and a group of frozen ones only).
        watched = [p.requires_grad for p in all_params]
        self.frozen = [n for n, w in zip(names, watched) if not w]
        self._frozen_params = [p for p, w in zip(all_params, watched) if not w]
        if not any(watched):
            raise ValueError("every parameter of the optimizer is frozen (requires_grad=False): nothing to record")
        self.params = [p for p, w in zip(all_params, watched) if w]
        self.names = [n for n, w in zip(names, watched) if w]
        self.keys = [k for k in optimizer.defaults if k not in _NOT_HYPERPARAMETERS]
        defaults = _group_hparams(optimizer.defaults, self.keys)
        groups, i = [], 0
        self._groups = []  # indices of the param groups with a watched parameter
        for gi, g in enumerate(optimizer.param_groups):
            n = len(g["params"])
            blocks = [nm for nm, w in zip(names[i:i + n], watched[i:i + n]) if w]
            i += n
            if not blocks:
                continue
            self._groups.append(gi)
            hp = _group_hparams(g, self.keys)
            groups.append({"blocks": blocks, "hyperparameters": {k: v for k, v in hp.items() if defaults.get(k) != v}})
        param_groups = groups if len(groups) > 1 or groups[0]["hyperparameters"] else None
        self.writer = TraceWriter(
            path,
            optimizer=optimizer_name or type(optimizer).__name__.lower(),
            preset="pytorch",
            hyperparameters=defaults,
            producer=producer or f"torch {_torch.__version__} (optverify.watch)",
            named_params=[(n, p.detach()) for n, p in zip(self.names, self.params)],
            dtype=dtype,
            format=format,
            param_groups=param_groups,
            schedule=schedule,
        )
        self.copy_grads = copy_grads
        self._grads = None
        self._hp = None
        self._loss = None
        self._pre = optimizer.register_step_pre_hook(self._before)
        self._post = optimizer.register_step_post_hook(self._after)

    @property
    def steps(self):
        return self.writer.steps

    def set_loss(self, loss):
        """The loss at the parameters before the next step (optional)."""
        self._loss = float(loss)

    def _before(self, opt, args, kwargs):
        for n, p in zip(self.frozen, self._frozen_params):
            if p.grad is not None:
                raise RuntimeError(
                    f"optverify.watch: parameter {n} was frozen (requires_grad=False) when watch started, so the trace "
                    f"leaves it out, and it has a gradient at step {self.steps + 1}; watch a run whose frozen parameters stay frozen")
        grads = []
        for n, p in zip(self.names, self.params):
            if p.grad is None:
                raise RuntimeError(
                    f"optverify.watch: parameter {n} has no gradient at step {self.steps + 1}; torch skips such a "
                    "parameter, which a trace cannot express: give every watched parameter a gradient, or leave it out of the optimizer")
            if p.grad.is_sparse:
                raise RuntimeError(f"optverify.watch: parameter {n} has a sparse gradient; only dense gradients are recorded")
            grads.append(p.grad.detach().clone() if self.copy_grads else p.grad.detach())
        self._grads = grads
        self._hp = [_group_hparams(opt.param_groups[gi], self.keys) for gi in self._groups]

    def _after(self, opt, args, kwargs):
        if self._grads is None:
            return
        hp = self._hp if len(self._hp) > 1 else self._hp[0]
        with _torch.no_grad():
            self.writer.step(self._grads, [p.detach() for p in self.params], loss=self._loss, hyperparameters=hp)
        self._grads = self._hp = self._loss = None

    def remove(self):
        """Detach the hooks (the trace stays open)."""
        self._pre.remove()
        self._post.remove()

    def close(self):
        """Detach the hooks and close the trace."""
        self.remove()
        self.writer.close()


def watch(optimizer, path, *, model=None, names=None, format=None, dtype=None, optimizer_name=None,
          schedule=None, copy_grads=True, producer=None):
    """Record every `optimizer.step()` into the trace at `path` (`*.jsonl`: JSON Lines;
    anything else: a binary trace directory, created). `model` (or `names`, one per parameter
    in param-group order) names the layout blocks. `schedule` ({"name", "args"}) declares the
    scheduler in the header (optional: the per-step hyperparameters carry the values it
    produced). Parameters frozen when `watch` is called (`requires_grad=False`) are left out of
    the trace: torch's step skips them. Returns a `Watcher`; close it when the run ends."""
    return Watcher(optimizer, path, model=model, names=names, format=format, dtype=dtype,
                   optimizer_name=optimizer_name, schedule=schedule, copy_grads=copy_grads, producer=producer)
