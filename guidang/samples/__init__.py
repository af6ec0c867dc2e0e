"""Sample corpus: realistic scanned vendor batches with ground truth (demo, tests, benchmarks).

texts (documents drawn by seed) -> render (A4 pages + text per line) -> degrade (scan
effects) -> batch (vendor drop + BatchTruth); corpus (benchmark corpus); bad (defects).
"""

from guidang.samples.batch import generate_demo, make_batch
from guidang.samples.corpus import make_bench_corpus
from guidang.samples.degrade import Degradation, degrade
from guidang.samples.truth import BatchTruth, ItemTruth, PageTruth

__all__ = [
    "BatchTruth",
    "Degradation",
    "ItemTruth",
    "PageTruth",
    "degrade",
    "generate_demo",
    "make_batch",
    "make_bench_corpus",
]
