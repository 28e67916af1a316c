"""Tests of the full-stack example app's users, written with the kit's fixtures."""

# --8<-- [start:tests]
import pytest

USER = {"email": "ada@example.com", "full_name": "Ada"}


def test_a_new_user_is_committed_before_the_response(mintaka_client, mintaka_database):
    response = mintaka_client.post("/users/", json=USER)

    assert response.status_code == 200
    assert mintaka_client.last.committed_before_response
    assert mintaka_database.scalar("SELECT count(*) FROM fullstack_user") == 1


@pytest.mark.parametrize("attempt", [1, 2])
def test_every_test_starts_empty(mintaka_client, mintaka_database, attempt):
    assert mintaka_database.scalar("SELECT count(*) FROM fullstack_user") == 0
    assert mintaka_client.post("/users/", json=USER).status_code == 200


def test_a_taken_email_is_refused_and_commits_nothing(mintaka_client, mintaka_database):
    mintaka_client.post("/users/", json=USER)
    again = mintaka_client.post("/users/", json=USER)

    assert again.status_code == 409
    assert "commit" not in mintaka_client.last.events
    assert mintaka_database.scalar("SELECT count(*) FROM fullstack_user") == 1


# --8<-- [end:tests]
