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


class BinaryRenderer(Protocol):
    def __call__(self, document: Any, /, **options: Any) -> bytes: ...


_RENDERERS: dict[tuple[str, str], Renderer] = {}
_BINARY: dict[tuple[str, str], BinaryRenderer] = {}  # formats that are not text (xlsx, pdf)
# the modules whose renderers register on import (each imports this one, so they are loaded on first use)
_MODULES = ("guidang.reports.receipt", "guidang.reports.check", "guidang.reports.ops",
            "guidang.reports.forms")


def _load() -> None:
    for name in _MODULES:
        importlib.import_module(name)


def renderer(kind: str, fmt: str) -> Callable[[Renderer], Renderer]:
    """Decorator: register the renderer of ``kind`` documents in format ``fmt`` (once)."""

    def register(fn: Renderer) -> Renderer:
        if (kind, fmt) in _RENDERERS or (kind, fmt) in _BINARY:
            raise ValueError(f"renderer for {kind}/{fmt} registered twice")
        _RENDERERS[kind, fmt] = fn
        return fn

    return register


def binary_renderer(kind: str, fmt: str) -> Callable[[BinaryRenderer], BinaryRenderer]:
    """Decorator: register the renderer of ``kind`` documents in a binary format ``fmt`` (xlsx, pdf)."""

    def register(fn: BinaryRenderer) -> BinaryRenderer:
        if (kind, fmt) in _RENDERERS or (kind, fmt) in _BINARY:
            raise ValueError(f"renderer for {kind}/{fmt} registered twice")
        _BINARY[kind, fmt] = fn
        return fn

    return register


def formats(kind: str) -> tuple[str, ...]:
    """The formats a kind of document can be rendered in, as registered."""
    _load()
    return tuple(fmt for k, fmt in [*_RENDERERS, *_BINARY] if k == kind)


def render_bytes(kind: str, fmt: str, document: Any, /, **options: Any) -> bytes:
    """``document`` as the bytes of a file: a binary format as rendered, a text format in UTF-8 (CSV with a
    byte order mark, so that Excel reads its Chinese as UTF-8)."""
    _load()
    if (kind, fmt) in _BINARY:
        return _BINARY[kind, fmt](document, **options)
    text = render(kind, fmt, document, **options)
    return text.encode("utf-8-sig" if fmt == "csv" else "utf-8")


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
