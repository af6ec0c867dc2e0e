"""The Celery back end: the pipeline's page tasks on workers across machines (docs/deploy/distributed.md).

Used only when ``distributed.broker_url`` is set; otherwise nothing here is imported and the local
process pool runs every page, as it always has.
"""
