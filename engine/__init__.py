"""The generic plan/apply engine: specs -> config -> graph -> plan -> apply.

The engine knows no resource type: it finds providers through `engine.registry`.
It never imports `providers` or `core` by name.
"""

__version__ = "0.1.0"
