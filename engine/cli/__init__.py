"""The ``bcdr`` command line: click commands with Terraform's verbs, flags and wording.

This package is the only place that prints or exits. ``app`` holds the group, the shared
options and the loading of config, variables, state and plans; ``run`` the commands that
plan and change things; ``show`` those that read or edit the state; ``tools`` import, graph,
force-unlock, fmt and version; ``providers`` the installed providers and their schemas
(``providers schema -json``); ``mounting`` the commands providers bring (the embedded
platform's ``platform``, ``serve``, ``verify``, ``gc``), mounted lazily from entry points;
``sensitive`` what keeps sensitive values secret (EXT-4). Commands hand the engine's results
to ``engine.render``. Always holds: a user mistake ends as ``Error: …`` lines (all of them,
with file:line) and exit 1, never as a traceback; an unexpected exception ends as ``Error:
internal error: …`` and exit 1 (with the traceback only when ``BCDR_DEBUG=1``); a stdout
whose reader went away (``| head``) is no error: the command runs to its end and exits 141
(a failure keeps its code); each command's module is imported when it runs (``app.BUILTIN``), the
engine's modules inside the commands, so ``-help`` and ``version`` work whatever else is
broken. The console script is ``launch.run``, which answers ``version`` and ``-help`` from
the output they printed last while nothing they came from has changed; this package's
``__init__`` imports nothing, so that answer costs no more than the interpreter's start.
"""
