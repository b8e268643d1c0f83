"""Append-only records: rows are added, never changed or removed.

Both the credential history and the team activity record use this, and a migration of
each installs database triggers (their 0003 migrations) so that SQL refuses too.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove a row of an append-only record."""


def _refuse(model: type[models.Model]) -> NoReturn:
    raise AppendOnlyError(f"{str(model._meta.verbose_name_plural).capitalize()} are append-only.")


class AppendOnlyQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> NoReturn:
        _refuse(self.model)

    def delete(self) -> NoReturn:
        _refuse(self.model)

    def _raw_delete(self, using: Any) -> NoReturn:
        _refuse(self.model)


class AppendOnlyModel(models.Model):
    """A row is saved once, by an INSERT; saving it again or deleting it raises."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse(type(self))
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(type(self))
