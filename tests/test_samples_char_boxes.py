"""The truth of a generated page records every character's box (issue #14), and the boxes hold its ink."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from guidang.samples.batch import make_batch
from guidang.samples.render import A3_MM, RenderOptions, render_text_page, render_vertical_page
from guidang.samples.truth import BatchTruth


def test_each_character_box_holds_ink_and_follows_the_line() -> None:
    page = render_text_page("归档文件 PDF/A 与电子档案")
    (line,) = page.char_boxes
    assert "".join(c for c, *_ in line) == page.lines[0].replace(" ", "")
    grey = np.asarray(page.image.convert("L"))
    for _char, left, top, right, bottom in line:
        assert grey[top:bottom, left:right].min() < 128  # ink inside
    lefts = [box[1] for box in line]
    assert lefts == sorted(lefts)


def test_vertical_page_reads_right_to_left_top_to_bottom() -> None:
    page = render_vertical_page(["歸檔文書", "檔案法"])
    assert page.lines == ("歸檔文書", "檔案法")
    first, second = page.char_boxes
    assert [b[2] for b in first] == sorted(b[2] for b in first)  # down the column
    assert second[0][1] < first[0][1]  # the second column is left of the first


def test_a3_paper() -> None:
    assert RenderOptions(dpi=100, paper_mm=A3_MM).size == (1169, 1654)


def test_batch_truth_keeps_the_boxes_through_json(tmp_path: Path) -> None:
    truth = make_batch(tmp_path / "drop", page_counts=(1,), seed=3, dpi=100, profile="clean", colour="none",
                       truth_path=tmp_path / "truth.json")
    page = truth.items[0].pages[0]
    assert len(page.char_boxes) == len(page.lines) and page.char_boxes[0]
    again = BatchTruth.load(tmp_path / "truth.json").items[0].pages[0]
    assert again.char_boxes == page.char_boxes
