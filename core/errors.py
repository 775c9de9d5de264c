"""Errors the core raises for things a user can fix.

``CoreError`` messages name the object and say what to do; anything else the core raises
is a bug. Always holds: no message contains a SAS token or key material.
"""

from __future__ import annotations


class CoreError(Exception):
    """A user-facing failure: the message names the object and what to do."""


class NotFound(CoreError):
    """The named object does not exist."""


class AlreadyExists(CoreError):
    """The named object exists already and would be overwritten."""


class IntegrityError(CoreError):
    """Stored data does not match its id (a corrupted or missing block)."""


class Forbidden(CoreError):
    """Access refused (missing, forged, expired or revoked token)."""
