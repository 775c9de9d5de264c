"""The commands the embedded platform brings to ``bcdr``: ``platform …``, ``serve``,
``verify`` and ``gc``, mounted by the engine from the entry points ``bcdr.commands``
(``sdk.cli`` is the contract).

``common`` finds the platform's home and opens its verbs; ``serve`` and ``store`` (verify,
gc) are top-level commands; ``group`` assembles ``bcdr platform`` from ``inventory`` (list,
show, vm power, tag, delete), ``images`` (disk write/export, recover-files) and ``keys``
(whoami, subscriptions, key vault verbs). Always holds: these modules import click and the
SDK at load and the core only inside a command, so ``bcdr -help`` stays fast; only they
print; paths on the command line are taken from the working directory (``-chdir``);
nothing here prints a secret.
"""
