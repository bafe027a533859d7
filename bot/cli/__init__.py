"""Console windows onto the engine: `python -m bot …`."""
