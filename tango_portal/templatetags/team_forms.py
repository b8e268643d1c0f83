"""`{% page_team %}`: the team a form was rendered for, posted with it (accounts.teams)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from tango_portal.accounts.teams import PAGE_TEAM_FIELD

register = template.Library()


@register.simple_tag(takes_context=True)
def page_team(context: dict[str, Any]) -> SafeString | str:
    """A hidden field naming the page's team, so that a form posted after another tab
    switched team is refused rather than written to the other team."""
    team = context.get("current_team")
    return format_html('<input type="hidden" name="{}" value="{}">', PAGE_TEAM_FIELD, team.pk) if team else ""
