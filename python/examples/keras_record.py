"""Record a small Keras 3 training run with optverify.keras.record, then check it.

    python keras_record.py run.ovt            # AdamW, CosineDecayRestarts, biases not decayed
    python keras_record.py run.ovt --plain    # AdamW, constant learning rate
    optverify check run.ovt

A custom training loop on the JAX backend: gradients from `jax.grad` of the model's
`stateless_call`, applied eagerly with `opt.apply` (the wrapper records each step). With
TensorFlow or torch as the backend the loop computes the gradients its own way and calls
`opt.apply_gradients(zip(grads, model.trainable_variables))` just the same.
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

import optverify.keras  # noqa: E402

path = sys.argv[1] if len(sys.argv) > 1 else "run.ovt"
plain = "--plain" in sys.argv
keras.utils.set_random_seed(0)

model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
if plain:
    opt = keras.optimizers.AdamW(learning_rate=3e-3)
else:
    lr = keras.optimizers.schedules.CosineDecayRestarts(3e-3, first_decay_steps=10, t_mul=2.0, m_mul=0.8)
    opt = keras.optimizers.AdamW(learning_rate=lr, weight_decay=0.05)
    opt.exclude_from_weight_decay(var_names=["bias"])
opt = optverify.keras.record(opt, path)  # the one line

rng = np.random.default_rng(0)
x = rng.standard_normal((256, 20)).astype("float32")
y = (2.0 * x[:, :1] - x[:, 1:2] + 0.1 * rng.standard_normal((256, 1))).astype("float32")


def loss_fn(trainable, non_trainable, xb, yb):
    pred, _ = model.stateless_call(trainable, non_trainable, xb)
    return keras.ops.mean((pred - yb) ** 2)


grad_fn = jax.jit(jax.value_and_grad(loss_fn))
for step in range(50):
    i = (step * 32) % 256
    loss, grads = grad_fn([v.value for v in model.trainable_variables],
                          [v.value for v in model.non_trainable_variables], x[i:i + 32], y[i:i + 32])
    opt.apply(grads, model.trainable_variables)
opt.close()
print(f"wrote {opt.steps} steps to {path}; now run: optverify check {path}")
