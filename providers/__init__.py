"""Resource types: a schema plus CRUD each, calling the core.

The engine finds them through entry points (see engine/registry.py).
"""
