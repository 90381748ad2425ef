"""Record a small optax training run with optverify.optax.record, then check it.

    python optax_record.py run.ovt            # adamw, cosine schedule via inject_hyperparams
    python optax_record.py run.ovt --plain    # adamw, constant learning rate
    optverify check run.ovt
"""
import sys

import jax
import jax.numpy as jnp
import optax

import optverify.optax

path = sys.argv[1] if len(sys.argv) > 1 else "run.ovt"
plain = "--plain" in sys.argv

key_w, key_x, key_n = jax.random.split(jax.random.PRNGKey(0), 3)
params = {"w1": 0.1 * jax.random.normal(key_w, (20, 64)), "b1": jnp.zeros(64), "w2": jnp.full((64, 1), 0.05)}
x = jax.random.normal(key_x, (256, 20))
y = 2.0 * x[:, :1] - x[:, 1:2] + 0.1 * jax.random.normal(key_n, (256, 1))


def loss_fn(p, xb, yb):
    return jnp.mean((jax.nn.relu(xb @ p["w1"] + p["b1"]) @ p["w2"] - yb) ** 2)


if plain:
    tx = optax.adamw(learning_rate=3e-3, weight_decay=1e-4)
    schedule = None
else:
    lr = optax.cosine_decay_schedule(init_value=3e-3, decay_steps=50)
    tx = optax.inject_hyperparams(optax.adamw)(learning_rate=lr, weight_decay=1e-4)
    schedule = {"name": "cosine_decay_schedule", "args": {"init_value": 3e-3, "decay_steps": 50}}

tx = optverify.optax.record(tx, path, optimizer="adamw",  # the one line
                            hyperparameters={"learning_rate": 3e-3, "weight_decay": 1e-4}, schedule=schedule)
state = tx.init(params)


@jax.jit
def train_step(params, state, xb, yb):
    loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
    updates, state = tx.update(grads, state, params)
    return optax.apply_updates(params, updates), state, loss


for step in range(50):
    i = (step * 32) % 256
    params, state, loss = train_step(params, state, x[i:i + 32], y[i:i + 32])
jax.effects_barrier()
tx.recorder.close()
print(f"wrote {tx.recorder.steps} steps to {path}; now run: optverify check {path}")
