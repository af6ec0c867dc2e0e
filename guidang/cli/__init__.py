"""Every guidang command, one module per command group; the console entry point is ``guidang.cli:main``.

``app`` (root group: init, demo, ingest, run), ``watch`` (watch, status), ``check``, ``eep`` (eep export /
verify / import), ``db`` (db upgrade). ``errors`` is the one mapping of exceptions to exit codes.
"""

from guidang.cli.app import main, settings

__all__ = ["main", "settings"]
