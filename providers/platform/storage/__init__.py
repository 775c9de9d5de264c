"""storage_account, storage_container: the platform's blob storage as resources.

Each type keeps an inventory row (its arguments and tags) beside the core's own records
(``core.blobs``: the account's row in ``fabric.db`` and its space in a blob service, the
fabric's folders or the Azure Blob endpoint of the provider block). Always holds: ids are
derived from the configuration, so they are known at plan time (an account is
``.../providers/Microsoft.Storage/storageAccounts/{name}``, a container
``{account id}/blobServices/default/containers/{name}``); account names are unique in the
fabric and container names follow Azure's rules (plan errors at the argument's file:line);
blobs are data, not attributes, so writing or deleting one (``bcdr platform blob``) is never
drift, while an account's or container's own attributes changed or deleted outside bcdr are;
destroying a container or an account that holds blobs is a plan warning naming how many go.

The types live one a module: ``accounts`` (storage_account), ``containers``
(storage_container), and what they share in ``common``; each is one line of
``providers.platform.types``.
"""
