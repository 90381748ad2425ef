#!/usr/bin/env python3
"""Record the argument dicts the frameworks themselves report, for every optimizer with a preset.

Writes tests/data/framework-defaults.json:
    {"pytorch": {name: {"defaults": opt.defaults, "param_group": param_groups[0] minus "params"}},
     "optax": {name: {every argument of the alias with its default, learning_rate=0.01}},
     "keras": {name: optimizer.get_config()},
     "producer": versions}
A user who writes these verbatim into a trace header must be accepted (tests/oracle.rs,
`framework_default_dicts_are_accepted_verbatim`). Values that are not JSON (a dtype class) are
written as their name; tuples as lists.

Usage: /tmp/ovenv/bin/python scripts/framework_defaults.py tests/data/framework-defaults.json
"""
import inspect
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import torch  # noqa: E402
import jax  # noqa: E402
import optax  # noqa: E402
import keras  # noqa: E402


def jsonable(v):
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return getattr(v, "__name__", str(v))


TORCH = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "adagrad": "Adagrad", "rmsprop": "RMSprop",
         "adadelta": "Adadelta", "nadam": "NAdam", "radam": "RAdam", "adafactor": "Adafactor"}
OPTAX = ["sgd", "adam", "adamw", "amsgrad", "nadam", "nadamw", "radam", "lamb", "lars", "adafactor",
         "adagrad", "rmsprop", "adadelta"]
KERAS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "adagrad": "Adagrad", "rmsprop": "RMSprop",
         "adadelta": "Adadelta"}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/framework-defaults.json"
    data = {"producer": f"torch {torch.__version__}, optax {optax.__version__}, keras {keras.__version__}",
            "pytorch": {}, "optax": {}, "keras": {}}
    for name, cls in TORCH.items():
        opt = getattr(torch.optim, cls)([torch.zeros(2, requires_grad=True)])
        group = {k: v for k, v in opt.param_groups[0].items() if k != "params"}
        data["pytorch"][name] = {"defaults": jsonable(opt.defaults), "param_group": jsonable(group)}
    for name in OPTAX:
        sig = {}
        for pname, prm in inspect.signature(getattr(optax, name)).parameters.items():
            if prm.default is not inspect.Parameter.empty:
                sig[pname] = jsonable(prm.default)
        sig["learning_rate"] = 0.01
        data["optax"][name] = sig
    for name, cls in KERAS.items():
        data["keras"][name] = jsonable(getattr(keras.optimizers, cls)().get_config())
    with open(out, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
