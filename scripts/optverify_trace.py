"""Compatibility shim: the trace writer now lives in the `optverify` Python package
(python/optverify/trace.py in this repository; `pip install optverify` installs it with the
CLI). `from optverify_trace import TraceWriter` keeps working: with the package installed, or
from this checkout (python/ is put on the path).

TraceWriter writes JSON Lines for a path ending in `.jsonl` (standard library only) and the
binary layout (a directory of safetensors files; needs numpy and safetensors) otherwise; see
`optverify.trace` and, for one-line recording, `optverify.watch` (torch) and
`optverify.optax.record` (optax). Then: `optverify check PATH`.
"""
import os
import sys

try:
    from optverify.trace import FORMAT, VERSION, TraceWriter, flatten, layout_of, shape_of
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
    from optverify.trace import FORMAT, VERSION, TraceWriter, flatten, layout_of, shape_of

__all__ = ["TraceWriter", "flatten", "shape_of", "layout_of", "FORMAT", "VERSION"]
