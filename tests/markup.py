"""Find markup a hostile value would have injected into an HTML page guidang wrote."""

from __future__ import annotations

from html.parser import HTMLParser

ACTIVE_TAGS = frozenset({"script", "img", "iframe", "object", "embed", "svg", "math", "form", "base", "link", "meta"})
ALLOWED_META = frozenset({"charset", "name", "content"})  # <meta charset> and <meta name=viewport> of the templates


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {k for k, _ in attrs}
        # <meta charset>, and the charts of guidang.reports.charts (no script, every label escaped)
        if (tag == "meta" and names <= ALLOWED_META) or (tag == "svg" and "data-guidang-chart" in names):
            pass
        elif tag in ACTIVE_TAGS:
            self.found.append(f"<{tag}>")
        for key, value in attrs:
            if key.startswith("on"):
                self.found.append(f"{tag} {key}=")
            if value and value.strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {key}=javascript:")


def injected_markup(html: str) -> list[str]:
    """Active elements and event attributes in ``html`` (none belongs in guidang's pages)."""
    c = _Collector()
    c.feed(html)
    c.close()
    return c.found
