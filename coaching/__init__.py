"""The coaching and quality dashboard's domain: the store, imports, reviews, scoring and access.

Nothing in this package imports Streamlit; the pages in ``pages/`` are its face.
"""

__version__ = "0.1.0"
