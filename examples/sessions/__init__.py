"""The session recipes of the depends guide, as apps that the tests run.

Each module builds a small FastAPI app on SQLite files given by the caller; the guide
includes the parts between the `--8<--` markers.
"""
