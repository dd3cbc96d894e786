"""Template filters for the office pages: `{% load office_tags %}`."""

from __future__ import annotations

from django import template

from dispatchnode.core.phones import phone_display

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """`+15125550142` → `(512) 555-0142`; anything else unchanged."""
    return phone_display(value) if value else ""
