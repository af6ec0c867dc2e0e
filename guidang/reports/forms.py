"""The registration forms (:mod:`guidang.pipeline.forms`) as data (JSON), as a page (HTML) and as a printable
A4 PDF laid out by WeasyPrint (Pango), with the Noto CJK font embedded (subset) so that the PDF prints the
same anywhere. The PDF is made from the same escaped HTML; WeasyPrint is given no base URL and fetches
nothing (every resource is inline)."""

from __future__ import annotations

import json
import logging

from guidang.pipeline.forms import RegistrationForm
from guidang.reports.registry import binary_renderer, render_template, renderer

KIND = "form"


@renderer(KIND, "json")
def form_json(form: RegistrationForm, /, **_: object) -> str:
    return json.dumps(form.as_dict(), ensure_ascii=False, indent=2) + "\n"


@renderer(KIND, "html")
def form_html(form: RegistrationForm, /, **_: object) -> str:
    data = form.as_dict()
    return render_template("form.html.j2", f={**data, "results": form.results,
                                              "generated_at": form.generated_at.strftime("%Y-%m-%d %H:%M UTC")})


def _no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    raise ValueError(f"a form fetches nothing: {url}")


@binary_renderer(KIND, "pdf")
def form_pdf(form: RegistrationForm, /, **_: object) -> bytes:
    from PIL import ImageFile

    truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    from weasyprint import HTML

    # importing WeasyPrint turns on Pillow's process-wide LOAD_TRUNCATED_IMAGES, which would let a truncated
    # scan decode in this process (scan QA's SCAN-READ relies on it being off); a form embeds no images
    ImageFile.LOAD_TRUNCATED_IMAGES = truncated
    for name in ("weasyprint", "fontTools"):  # their INFO lines are noise on a normal run
        logging.getLogger(name).setLevel(logging.WARNING)
    pdf = HTML(string=form_html(form), url_fetcher=_no_fetch).write_pdf()
    assert pdf is not None
    return bytes(pdf)
