#!/usr/bin/env bash
# Install the wheel from dist/ into a fresh venv and run the examples end to end, as a new
# user would: `import optverify`, record a run, `optverify check` it.
#
#   scripts/test_wheel.sh [WHEEL]
#
# The venv gets the wheel and its dependencies (numpy, safetensors) from PyPI. torch, jax,
# optax and keras are not downloaded: set EXTRA_SITE to a site-packages directory that has them (e.g. an
# existing venv's) to run the torch, optax and keras examples too; without them only the NumPy
# example runs. Every example must agree (STRICT_SCHEDULES=0 only reports the schedule and
# parameter-group ones).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
wheel=${1:-$(ls -t dist/optverify-*.whl | head -1)}
python=${PYTHON:-python3}
work=$(mktemp -d /tmp/optverify-wheel-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "$wheel"
if [ -n "${EXTRA_SITE:-}" ]; then
    # After the wheel's own dependencies are installed, so those come from the wheel's metadata.
    site=$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    echo "$EXTRA_SITE" > "$site/zz-extra-site.pth"
fi
export PATH="$work/venv/bin:$PATH"
cd "$work"
fail=0
echo "== $(optverify --version); python package $(python -c 'import optverify; print(optverify.__version__)')"

run() {  # run NAME STRICT TRACE SCRIPT [ARGS...]: `python SCRIPT TRACE ARGS`, then check TRACE
    local name=$1 strict=$2 trace=$3 script=$4; shift 4
    python "$script" "$trace" "$@" >"$name.log" 2>&1 || { echo "FAIL $name: recording failed"; cat "$name.log"; fail=1; return; }
    local status=0
    optverify check "$trace" >"$name.check" 2>&1 || status=$?
    echo "== $name: optverify check exit $status: $(sed -n 3p "$name.check" | cut -c1-160)"
    if [ "$strict" = 1 ] && [ $status != 0 ]; then echo "FAIL $name"; cat "$name.check"; fail=1; fi
}

cat > numpy_sgd.py <<'PY'
import sys
import numpy as np
from optverify import TraceWriter
rng = np.random.default_rng(0)
w = rng.standard_normal(10)
with TraceWriter(sys.argv[1], optimizer="sgd", preset="pytorch", hyperparameters={"lr": 0.1},
                 producer="numpy gradient descent", named_params=[("w", w)]) as tw:
    for t in range(20):
        g = 2 * w            # gradient of |w|^2
        w = w - 0.1 * g      # torch.optim.SGD(lr=0.1), to rounding
        tw.step([g], [w])
PY
run numpy-binary 1 numpy-binary.ovt numpy_sgd.py
run numpy-jsonl 1 numpy-jsonl.jsonl numpy_sgd.py
if python -c 'import torch' 2>/dev/null; then
    run torch-plain 1 torch-plain.ovt "$root/python/examples/torch_watch.py" --plain
    run torch-groups-schedule "${STRICT_SCHEDULES:-1}" torch-groups-schedule.ovt "$root/python/examples/torch_watch.py"
    run torch-frozen 1 torch-frozen.ovt "$root/python/examples/torch_watch.py" --frozen
else
    echo "== torch not importable (set EXTRA_SITE): torch examples skipped"
fi
if python -c 'import optax' 2>/dev/null; then
    run optax-plain 1 optax-plain.ovt "$root/python/examples/optax_record.py" --plain
    run optax-schedule "${STRICT_SCHEDULES:-1}" optax-schedule.ovt "$root/python/examples/optax_record.py"
else
    echo "== optax not importable (set EXTRA_SITE): optax examples skipped"
fi
# KERAS_BACKEND: keras imports its default backend, TensorFlow, at import time.
if KERAS_BACKEND=jax python -c 'import keras, jax' 2>/dev/null; then
    run keras-plain 1 keras-plain.ovt "$root/python/examples/keras_record.py" --plain
    run keras-restarts "${STRICT_SCHEDULES:-1}" keras-restarts.ovt "$root/python/examples/keras_record.py"
    run keras-restarts-jsonl "${STRICT_SCHEDULES:-1}" keras-restarts.jsonl "$root/python/examples/keras_record.py"
    # Every step of the recorded runs bit for bit (the schedule's learning rate on each step line).
    for t in keras-plain.ovt keras-restarts.ovt; do
        optverify check "$t" | grep -q "50/50 steps bit for bit" || { echo "FAIL $t: not 50/50 bit for bit"; optverify check "$t"; fail=1; }
    done
    # A learning rate assigned mid-loop through the wrapper reaches the optimizer, and its new
    # value is written on the step lines: the run agrees bit for bit.
    python - <<'PY' >keras-lr-assigned.log 2>&1 || { echo "FAIL keras-lr-assigned: recording failed"; cat keras-lr-assigned.log; fail=1; }
import os; os.environ.setdefault("KERAS_BACKEND", "jax")
import jax, keras, numpy as np, optverify.keras
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(1)])
opt = optverify.keras.record(keras.optimizers.Adam(1e-2), "keras-lr-assigned.jsonl")
x = np.random.default_rng(0).standard_normal((32, 5)).astype("float32")
def loss(t, n, xb):
    p, _ = model.stateless_call(t, n, xb)
    return keras.ops.mean((p - xb[:, :1]) ** 2)
grad = jax.jit(jax.grad(loss))
for step in range(10):
    if step == 5:
        opt.learning_rate = 3e-3
    opt.apply(grad([v.value for v in model.trainable_variables], [], x), model.trainable_variables)
opt.close()
assert abs(float(opt.optimizer.learning_rate) - 3e-3) < 1e-9, float(opt.optimizer.learning_rate)
PY
    optverify check keras-lr-assigned.jsonl | grep -q "10/10 steps bit for bit" || { echo "FAIL keras-lr-assigned"; optverify check keras-lr-assigned.jsonl; fail=1; }
    # model.fit, recorded with record_fit: jitted, so within tolerance (exit 0), not bit for bit.
    run keras-fit 1 keras-fit.ovt "$root/python/examples/keras_fit.py"
    run keras-fit-f64 1 keras-fit-f64.ovt "$root/python/examples/keras_fit.py" --f64
    run keras-fit-sgd-jsonl 1 keras-fit-sgd.jsonl "$root/python/examples/keras_fit.py" --sgd
    # 3 epochs of 5 training batches; the validation batches are not steps.
    for t in keras-fit.ovt keras-fit-f64.ovt keras-fit-sgd.jsonl; do
        optverify check "$t" | grep -q "/15 steps bit for bit" || { echo "FAIL $t: not 15 steps"; optverify check "$t"; fail=1; }
    done
    # record_fit's refusals, each naming what to do.
    python - <<'PY' || fail=1
import os; os.environ.setdefault("KERAS_BACKEND", "jax")
import keras, optverify.keras
def model(opt=None, constraint=None):
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, kernel_constraint=constraint)])
    if opt is not None:
        m.compile(optimizer=opt, loss="mse")
    return m
def refused(what, call, *words):
    try:
        call()
    except Exception as e:
        assert all(w in str(e) for w in words), (what, str(e))
        print(f"== keras record_fit refuses {what}:", str(e)[:90])
    else:
        raise SystemExit(f"FAIL keras record_fit: {what} was accepted")
refused("an uncompiled model", lambda: optverify.keras.record_fit(model(), "never.jsonl"), "model.compile")
refused("Lion", lambda: optverify.keras.record_fit(model(keras.optimizers.Lion()), "never.jsonl"), "Lion", "keras.optimizers.AdamW")
m = model("adam")
rec = optverify.keras.record_fit(m, "once.jsonl")
refused("a second record_fit", lambda: optverify.keras.record_fit(m, "twice.jsonl"), "already being recorded", "once.jsonl")
rec.close()
import numpy as np
m.fit(np.ones((4, 3), "float32"), np.ones((4, 1), "float32"), verbose=0)
refused("an optimizer that has stepped", lambda: optverify.keras.record_fit(m, "late.jsonl"), "already taken 1 step ")
refused("a constraint", lambda: optverify.keras.record_fit(model("sgd", keras.constraints.NonNeg()), "never.jsonl"), "constraint")
PY
    if python -c 'import torch' 2>/dev/null; then
        KERAS_BACKEND=torch python - <<'PY' || fail=1
import keras, optverify.keras
m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
m.compile(optimizer="adam", loss="mse")
try:
    optverify.keras.record_fit(m, "never.jsonl")
except RuntimeError as e:
    assert "KERAS_BACKEND=jax" in str(e) and "optverify.keras.record(" in str(e), e
    print("== keras record_fit refuses the torch backend:", str(e)[:90])
else:
    raise SystemExit("FAIL keras record_fit: the torch backend was accepted")
PY
    fi
    # A subclass (it may change the update) is refused by name.
    python - <<'PY' || fail=1
import os; os.environ.setdefault("KERAS_BACKEND", "jax")
import keras, optverify.keras
class MyAdam(keras.optimizers.Adam):
    pass
try:
    optverify.keras.record(MyAdam(), "never.jsonl")
except ValueError as e:
    assert "MyAdam" in str(e) and "keras.optimizers.AdamW" in str(e), e
    print("== keras: a subclass is refused:", str(e)[:100])
else:
    raise SystemExit("FAIL keras: a subclass was accepted")
PY
else
    echo "== keras not importable (set EXTRA_SITE): keras examples skipped"
fi
# The shim keeps the old script working.
python - <<PY || fail=1
import sys; sys.path.insert(0, "$root/scripts")
from optverify_trace import TraceWriter
print("== scripts/optverify_trace.py imports TraceWriter from the package:", TraceWriter.__module__)
PY
[ $fail = 0 ] && echo "wheel test: OK" || { echo "wheel test: FAILED"; exit 1; }
