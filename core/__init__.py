"""The snapshot and replication core: the embedded platform.

A library with a small Python API. It knows nothing of HCL, plans or state, and never
imports engine, providers or state.
"""
