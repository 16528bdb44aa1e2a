"""The base of response models read straight from a stored row."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RowModel(BaseModel):
    """A response model filled from an object's attributes (an ORM row): ``X.model_validate(row)``.

    Fields a row does not hold under the same name are computed on the model
    (``computed_field``) or passed with ``update=``; nothing is copied field by field.
    """

    model_config = ConfigDict(from_attributes=True)
