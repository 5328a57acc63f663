"""The Streamlit side of the dashboard: sessions, sign-in, caching and small display helpers.

Everything here may import Streamlit; nothing here decides what a viewer may see (that is
``coaching.access``).
"""
