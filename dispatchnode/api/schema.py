"""OpenAPI generation details shared by every API view."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema


class TenantAutoSchema(AutoSchema):
    """Components are named for what they describe: `CustomerOutputSerializer` is `Customer`,
    an input serializer `JobInputSerializer` stays `JobInput`."""

    def get_serializer_name(self, serializer, direction) -> str:
        name = super().get_serializer_name(serializer, direction)
        name = name.removesuffix("Serializer")
        return name.removesuffix("Output") or name
