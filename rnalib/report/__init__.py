"""The report machinery, shared by both studies: what turns notebooks into a checked HTML site.

- ``page_header``: the header of every page (``report.header``: data, embedder, parameters), exposed here.
- ``pages``: runs one page through papermill, renders it, writes the index and the run log.
- ``plots``: the notebooks' figures. ``results``: the results contract and run manifests.
- ``sitecheck``: the rendered site opened in headless Chromium. ``envfiles``: requirements.lock and
  environment.yml kept in step.
"""
from .page_header import META_KEY, header

__all__ = ["META_KEY", "header"]
