"""The heroes service: FastAPI's SQL tutorial app (sync SQLModel) on a mintaka session.

The same models and endpoints the FastAPI documentation teaches, with one difference: the
endpoints never call `session.commit()`. mintaka's transactional session commits before
the response is sent, so a `201` means the hero is stored, and a hero the database refuses
(a duplicate name) is answered with `409`, never with a false success.
"""
