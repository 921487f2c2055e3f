"""Trainer of the local verifier: tabular models over the extension's patch features, exported to ONNX."""
import os

# onnxruntime (since 1.30, on Linux and macOS) sends usage events to Microsoft and keeps a device id and an event
# database in ~/.cache/Microsoft unless this is set before its first session; a value the user set is kept.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
