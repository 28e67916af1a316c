"""A small notes service: the example app of the mintaka README and docs.

It shows the point of mintaka end to end: a note is committed *before* the client hears
`201`, and a note whose commit fails (a duplicate title) is answered with `409`, never
with a false success.
"""
