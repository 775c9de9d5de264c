"""The compute resource types of the embedded platform (issue: compute provider).

One module per resource type family, each holding its ``TYPES`` and their ``DECLARATIONS``;
``providers.platform.types`` lists the modules, one line each.
"""
