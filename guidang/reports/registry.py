"""The one renderer registry: every document guidang writes for people or machines, by (kind, format).

A kind is a document (``receipt``: the vendor's 回执; ``check``: the ``guidang check`` report; the ops
reports add theirs); a format is ``json``, ``html``, ``csv`` or ``text``. A renderer turns the kind's
document (a :class:`~guidang.pipeline.outcome.BatchOutcome`, a list of checked subjects, …) into text;
options a format needs (the language of a text report, the title of a page) are keywords.

Every template lives in ``reports/templates`` and is rendered by the one :data:`ENVIRONMENT`, which
escapes always (vendors' names, titles and file names are untrusted; ``select_autoescape()`` would not
know the ``.html.j2`` ending). Every CSV goes through :mod:`guidang.csvout`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol

from jinja2 import Environment, PackageLoader

ENVIRONMENT = Environment(
    loader=PackageLoader("guidang.reports", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


class Renderer(Protocol):
    def __call__(self, document: Any, /, **options: Any) -> str: ...


_RENDERERS: dict[tuple[str, str], Renderer] = {}
# the modules whose renderers register on import (each imports this one, so they are loaded on first use)
_MODULES = ("guidang.reports.receipt", "guidang.reports.check")


def _load() -> None:
    for name in _MODULES:
        importlib.import_module(name)


def renderer(kind: str, fmt: str) -> Callable[[Renderer], Renderer]:
    """Decorator: register the renderer of ``kind`` documents in format ``fmt`` (once)."""

    def register(fn: Renderer) -> Renderer:
        if (kind, fmt) in _RENDERERS:
            raise ValueError(f"renderer for {kind}/{fmt} registered twice")
        _RENDERERS[kind, fmt] = fn
        return fn

    return register


def formats(kind: str) -> tuple[str, ...]:
    """The formats a kind of document can be rendered in, as registered."""
    _load()
    return tuple(fmt for k, fmt in _RENDERERS if k == kind)


def render(kind: str, fmt: str, document: Any, /, **options: Any) -> str:
    """``document`` rendered as a ``kind`` document in format ``fmt``."""
    _load()
    try:
        fn = _RENDERERS[kind, fmt]
    except KeyError:
        raise KeyError(f"no renderer for {kind}/{fmt} (registered: {sorted(_RENDERERS)})") from None
    return fn(document, **options)


def render_template(name: str, /, **values: Any) -> str:
    """A template of ``reports/templates`` rendered with ``values`` (escaped)."""
    return ENVIRONMENT.get_template(name).render(**values)
