"""``python -m engine.cli``: the same as the ``bcdr`` console script."""

from engine.cli import main

main(prog_name="bcdr")
