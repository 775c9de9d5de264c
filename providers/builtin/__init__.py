"""The builtin provider: bcdr_data."""
