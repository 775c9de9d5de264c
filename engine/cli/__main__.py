"""``python -m engine.cli``: the same as the ``bcdr`` console script."""

from engine.cli.launch import run

run()
