"""The PostgreSQL backend's statement sent ahead: its rows are collected once, by the
same statement with the same parameters, and nothing else that uses the connection in
the meantime trips over it."""

from __future__ import annotations

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext
from psycopg.pq import TransactionStatus

from credentials import selectors
from tango_portal.db.postgresql.base import NOT_SENT

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ECHO = "tango_test_echo"
DIVIDE = "tango_test_divide"


@pytest.fixture
def echo() -> str:
    connection.prepare(ECHO, "SELECT $1::text, $2::int")
    return ECHO


@pytest.fixture
def divide() -> str:
    connection.prepare(DIVIDE, "SELECT 1 / $1::int")
    return DIVIDE


def select_one() -> tuple[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone()


def test_the_rows_are_collected_once_and_typed(echo):
    assert connection.send_ahead(echo, ["tango", "42"]) is True
    assert connection.connection.info.transaction_status == TransactionStatus.ACTIVE

    assert connection.collect_ahead(echo, ["tango", "42"]) == [("tango", 42)]
    assert connection.collect_ahead(echo, ["tango", "42"]) is NOT_SENT


@pytest.mark.parametrize(
    ("name", "params"),
    [(ECHO, ["tango", "43"]), (ECHO, ["tango"]), ("tango_test_other", ["tango", "42"])],
)
def test_another_statement_or_other_parameters_are_not_sent_and_consume_what_was(echo, name, params):
    connection.send_ahead(echo, ["tango", "42"])

    assert connection.collect_ahead(name, params) is NOT_SENT

    assert connection.collect_ahead(echo, ["tango", "42"]) is NOT_SENT
    assert select_one() == (1,)


def test_each_statement_keeps_its_own_column_types(echo, divide):
    # The row loaders are found once per statement: one statement's must never read another's.
    for _ in range(2):
        connection.send_ahead(echo, ["tango", "42"])
        assert connection.collect_ahead(echo, ["tango", "42"]) == [("tango", 42)]
        connection.send_ahead(divide, ["1"])
        assert connection.collect_ahead(divide, ["1"]) == [(1,)]


def test_a_statement_prepared_again_with_other_columns_is_read_with_them():
    name = "tango_test_retyped"
    connection.prepare(name, "SELECT $1::text")
    try:
        connection.send_ahead(name, ["42"])
        assert connection.collect_ahead(name, ["42"]) == [("42",)]
        connection._prepared_on.clear()  # as on a new session that has it from before

        connection.prepare(name, "SELECT $1::int")

        connection.send_ahead(name, ["42"])
        assert connection.collect_ahead(name, ["42"]) == [(42,)]
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DEALLOCATE {name}")
        connection._prepared_on.pop(name, None)


def test_a_second_statement_sent_ahead_replaces_the_first(echo):
    connection.send_ahead(echo, ["first", "1"])
    connection.send_ahead(echo, ["second", "2"])

    assert connection.collect_ahead(echo, ["second", "2"]) == [("second", 2)]
    assert connection.collect_ahead(echo, ["first", "1"]) is NOT_SENT


def test_a_query_on_a_cursor_meanwhile_runs_and_leaves_the_rows_to_collect(echo):
    connection.send_ahead(echo, ["tango", "42"])

    assert select_one() == (1,)

    assert connection.collect_ahead(echo, ["tango", "42"]) == [("tango", 42)]


def test_the_health_check_meanwhile_finds_the_connection_usable_and_leaves_the_rows(echo):
    connection.send_ahead(echo, ["tango", "42"])

    assert connection.is_usable() is True

    assert connection.collect_ahead(echo, ["tango", "42"]) == [("tango", 42)]


@pytest.mark.django_db(transaction=True)
def test_a_transaction_begun_meanwhile_leaves_the_rows_to_collect(echo):
    connection.send_ahead(echo, ["tango", "42"])

    with transaction.atomic():
        assert select_one() == (1,)

    assert connection.collect_ahead(echo, ["tango", "42"]) == [("tango", 42)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("rolled_back", [False, True], ids=["commit", "rollback"])
def test_a_transaction_ended_meanwhile_leaves_the_rows_to_collect(echo, rolled_back):
    with transaction.atomic():
        select_one()
        connection.send_ahead(echo, ["tango", "42"])
        transaction.set_rollback(rolled_back)

    assert connection.get_autocommit() is True
    assert connection.collect_ahead(echo, ["tango", "42"]) == [("tango", 42)]


@pytest.mark.django_db(transaction=True)
def test_a_lookup_sent_ahead_sees_what_was_committed_before(issued_token):
    token, client, account = issued_token.value, issued_token.client, issued_token.account

    assert selectors.live_token_lookup_ahead(token=token) == connection.discard_ahead
    with CaptureQueriesContext(connection) as captured:
        live = selectors.live_token_by_value(token=token)

    assert live is not None
    assert live.client_id == client.client_id
    assert live.service_account == account.username
    assert [query["sql"] for query in captured.captured_queries] == [
        "EXECUTE tango_live_token(...) -- sent ahead"
    ]


@pytest.mark.django_db(transaction=True)
def test_a_server_error_is_raised_on_collect_and_the_connection_goes_on(divide):
    assert connection.send_ahead(divide, ["0"]) is True

    with pytest.raises(DataError, match="division by zero"):
        connection.collect_ahead(divide, ["0"])

    assert connection._ahead is None
    assert select_one() == (1,)
    assert connection.is_usable() is True


@pytest.mark.django_db(transaction=True)
def test_a_server_error_is_kept_for_collect_while_other_uses_of_the_connection_go_on(divide):
    connection.send_ahead(divide, ["0"])

    assert select_one() == (1,)
    assert connection.is_usable() is True
    with pytest.raises(DataError, match="division by zero"):
        connection.collect_ahead(divide, ["0"])
    assert connection._ahead is None


@pytest.mark.django_db(transaction=True)
def test_discarding_a_failed_statement_drops_its_error(divide):
    connection.send_ahead(divide, ["0"])

    connection.discard_ahead()

    assert connection.collect_ahead(divide, ["0"]) is NOT_SENT
    assert select_one() == (1,)


def test_a_server_error_in_an_atomic_block_rolls_it_back_and_the_connection_goes_on(divide):
    with pytest.raises(DataError), transaction.atomic():
        connection.send_ahead(divide, ["0"])
        connection.collect_ahead(divide, ["0"])

    assert select_one() == (1,)


def test_nothing_is_sent_in_a_failed_transaction(echo):
    with transaction.atomic():
        with connection.cursor() as cursor, pytest.raises(DataError):
            cursor.execute("SELECT 1 / 0")

        assert connection.send_ahead(echo, ["tango", "42"]) is False

        assert connection._ahead is None
        assert connection.connection.info.transaction_status == TransactionStatus.INERROR
        transaction.set_rollback(True)

    assert select_one() == (1,)


def test_the_statement_is_logged_once_as_sent_ahead(echo):
    with CaptureQueriesContext(connection) as captured:
        connection.send_ahead(echo, ["tango", "42"])
        connection.collect_ahead(echo, ["tango", "42"])

    assert len(captured.captured_queries) == 1, captured.captured_queries
    assert captured.captured_queries[0]["sql"].startswith(f"EXECUTE {ECHO}(")


def test_discarding_consumes_the_statement(echo):
    connection.send_ahead(echo, ["tango", "42"])

    connection.discard_ahead()

    assert select_one() == (1,)
    assert connection.collect_ahead(echo, ["tango", "42"]) is NOT_SENT


@pytest.mark.django_db(transaction=True)
def test_closing_drops_the_statement_and_a_new_connection_has_nothing_to_collect(echo):
    connection.send_ahead(echo, ["tango", "42"])

    connection.close()

    assert connection._ahead is None
    connection.ensure_connection()

    assert connection.collect_ahead(echo, ["tango", "42"]) is NOT_SENT
    assert select_one() == (1,)
