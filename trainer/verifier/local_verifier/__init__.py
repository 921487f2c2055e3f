"""Trainer of the local verifier: tabular models over the extension's patch features, exported to ONNX."""
