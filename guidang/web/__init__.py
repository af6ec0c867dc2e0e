"""The web app (``guidang serve``): the archivists' review desk, and the routers of search and the HTTP ingest
API. One FastAPI app (:func:`guidang.web.app.create_app`), one permission check (:mod:`guidang.web.auth`),
one audit log (the catalogue's hash-chained ``events``, :mod:`guidang.web.audit`). See docs/web.md.
"""
