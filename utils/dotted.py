"""Dotted field paths ('vendor.name', 'total') walked through models (by attribute) or JSON dicts (by key)."""

from __future__ import annotations

from typing import Any


def get_path(root: object, dotted: str) -> Any:
    """The value at a dotted path, or None where a step is missing (dicts by key, anything else by attribute)."""
    value: Any = root
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
        if value is None:
            return None
    return value


def set_path(root: object, dotted: str, value: Any, *, create: bool = False) -> Any:
    """Set the value at a dotted path and return the old one (None where there was none).

    In dicts every step must already exist (KeyError otherwise) unless `create`, which adds empty
    dicts for missing steps; in objects the steps are attributes.
    """
    *parents, last = dotted.split(".")
    node: Any = root
    for part in parents:
        if not isinstance(node, dict):
            node = getattr(node, part)
        elif create:
            node = node.setdefault(part, {})
        elif isinstance(node.get(part), dict):
            node = node[part]
        else:
            raise KeyError(dotted)
    if isinstance(node, dict):
        if not create and last not in node:
            raise KeyError(dotted)
        old = node.get(last)
        node[last] = value
        return old
    old = getattr(node, last, None)
    setattr(node, last, value)
    return old
