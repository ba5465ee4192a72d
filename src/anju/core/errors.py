"""One hierarchy of business errors (HackSoft "Errors", approach 2).

Services raise these with a Chinese message; views add them to forms, the API turns them into
`{"detail", "errors": [{field, message}]}` with the right status.
"""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the action. `errors` maps field names to messages."""

    status = 400

    def __init__(self, message: str, *, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}

    def as_list(self) -> list[dict[str, str | None]]:
        return [{"field": field, "message": msg} for field, msg in self.errors.items()]


class AuthenticationFailed(DomainError):
    """Wrong credentials (the API answers 401)."""

    status = 401


class ScopeError(DomainError):
    """The target lies outside the actor's division subtree (writes are refused, not hidden)."""

    status = 403


class ActionNotAllowed(DomainError):
    """The actor's roles do not include the action."""

    status = 403


class ConflictError(DomainError):
    """The object changed or already exists (e.g. one head ID = one household)."""

    status = 409
