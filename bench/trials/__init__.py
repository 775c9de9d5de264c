"""Trial families of the fault harness (``bench/faults.py``).

Each module holds one family: a function ``run(n, seed, tmp) -> Outcome`` that runs ``n``
trials against the real ``bcdr`` CLI or core on files under ``tmp`` and counts what went
wrong. Always holds: a trial never reuses another trial's damage (each works on its own
folder or copy), every count is of observed behaviour (exit codes, files on disk, bytes
returned), and a family that cannot set itself up raises instead of reporting zeros.
"""
