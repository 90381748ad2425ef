"""Record a Keras 3 `model.fit` run (JAX backend) with optverify.keras.record_fit, then check it.

    python keras_fit.py run.ovt            # AdamW, CosineDecay, biases not decayed, float32
    python keras_fit.py run.ovt --f64      # the same in float64 (JAX x64, floatx float64)
    python keras_fit.py run.ovt --sgd      # SGD with Nesterov momentum, constant learning rate
    optverify check run.ovt

`model.compile` as usual, `record_fit(model, path)` before `fit`: every training step is
recorded (3 epochs of 5 batches: 15 steps), the validation batches are not. The model has a
Dense → BatchNormalization → Dense → LayerNormalization → Dense stack: BatchNormalization's
moving statistics are not trainable and are not in the trace, nor is the frozen Dense layer.
fit runs the step under `jax.jit`, where XLA fuses multiply-adds: the run agrees within
tolerance, a few ulps from the reference, not bit for bit.
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402

f64 = "--f64" in sys.argv
if f64:
    jax.config.update("jax_enable_x64", True)  # before any array is created

import keras  # noqa: E402
import numpy as np  # noqa: E402

import optverify.keras  # noqa: E402

if f64:
    keras.backend.set_floatx("float64")
path = sys.argv[1] if len(sys.argv) > 1 else "run.ovt"
keras.utils.set_random_seed(0)

frozen = keras.layers.Dense(16, activation="tanh")
frozen.trainable = False
model = keras.Sequential([
    keras.Input((20,)),
    keras.layers.Dense(32, activation="relu"),
    keras.layers.BatchNormalization(),
    frozen,
    keras.layers.LayerNormalization(),
    keras.layers.Dense(1),
])
if "--sgd" in sys.argv:
    opt = keras.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True)
else:
    lr = keras.optimizers.schedules.CosineDecay(3e-3, decay_steps=15, warmup_steps=3, warmup_target=5e-3)
    opt = keras.optimizers.AdamW(learning_rate=lr, weight_decay=0.05)
    opt.exclude_from_weight_decay(var_names=["bias"])
model.compile(optimizer=opt, loss="mse")

rng = np.random.default_rng(0)
dtype = "float64" if f64 else "float32"
x = rng.standard_normal((200, 20)).astype(dtype)
y = (2.0 * x[:, :1] - x[:, 1:2] + 0.1 * rng.standard_normal((200, 1))).astype(dtype)

with optverify.keras.record_fit(model, path) as rec:  # the one line
    model.fit(x, y, batch_size=32, epochs=3, validation_split=0.2, verbose=0)
print(f"wrote {rec.steps} steps to {path}; now run: optverify check {path}")
