"""The compute resource types of the embedded platform (issue: compute provider).

One module per resource type family, each holding its ``TYPES`` and, beside them, their
``DECLARATIONS`` (``access`` and ``vm_restore`` have none of their own);
``providers.platform.types`` lists the modules, one line each.
"""
