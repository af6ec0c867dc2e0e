"""How far OCR text is from the truth: character error rates.

Both texts are normalised first (NFKC, so full-width and ASCII punctuation compare
equal, and all whitespace removed, because where a line breaks or whether a space
separates Chinese from Latin is layout, not reading). Then:

- `cer`: Levenshtein distance / length of the truth (order matters);
- `bag_cer`: the larger of characters missing and characters extra, as multisets, / length
  of the truth (order does not matter: a page read in another column order is not
  punished; a substitution counts once, so it is never above `cer`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import numpy as np

_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insert, delete, substitute: cost 1), one numpy row at a time."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    codes_b = np.array([ord(c) for c in b], dtype=np.int64)
    steps = np.arange(len(b) + 1, dtype=np.int64)
    row = steps.copy()
    for i, ch in enumerate(a, start=1):
        sub = row[:-1] + (codes_b != ord(ch))
        dele = row[1:] + 1
        best = np.empty_like(row)
        best[0] = i
        best[1:] = np.minimum(sub, dele)
        # insertions run along the row: best[j] = min_k (best[k] + j - k)
        row = np.minimum.accumulate(best - steps) + steps
    return int(row[-1])


def cer(truth: str, ocr: str) -> float:
    """Levenshtein character error rate of *ocr* against *truth* (after `normalise`)."""
    t, o = normalise(truth), normalise(ocr)
    if not t:
        return 0.0 if not o else 1.0
    return levenshtein(t, o) / len(t)


def bag_cer(truth: str, ocr: str) -> float:
    """Order-insensitive error rate: max(missing, extra characters, as multisets) / len(truth)."""
    t, o = Counter(normalise(truth)), Counter(normalise(ocr))
    total = sum(t.values())
    errors = max(sum((t - o).values()), sum((o - t).values()))
    if not total:
        return 0.0 if not errors else 1.0
    return errors / total
