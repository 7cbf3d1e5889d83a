"""The retry budget (s3kit/_retry.py's RetryBudget and `decide`): what a retry costs, what a
success gives back, and that both clients of one Session draw on the same budget, stop
retrying once it is spent, say so in their error and count the refusals in the metrics."""

from __future__ import annotations

import pytest

from s3kit._retry import RetryBudget, RetryDecision, RetryPolicy, decide
from s3kit._session import Session
from s3kit.errors import S3KitError, UsageError, translating
from s3kit.events import RequestEvent
from s3kit.metrics import Metrics
from tests.unit.fake_s3 import FakeS3
from tests.unit.test_retry import session_for

# -- the bucket ---------------------------------------------------------------------------------


def test_a_retry_costs_five_tokens_and_a_timeout_ten() -> None:
    budget = RetryBudget(30)
    assert [budget.spend(kind) for kind in ("throttled", "transient", "connection")] == [5, 5, 5]
    assert budget.spend("timeout") == 10
    assert budget.available == 5
    assert budget.spend("timeout") is None  # cannot pay 10 with 5: nothing taken
    assert budget.spend("transient") == 5
    assert budget.spend("transient") is None
    assert budget.available == 0


def test_a_success_refunds_one_or_what_its_last_retry_cost_never_above_the_capacity() -> None:
    budget = RetryBudget(20)
    budget.succeeded()
    assert budget.available == 20  # full: nothing to refund
    for _ in range(4):
        budget.spend("transient")
    budget.succeeded()  # not retried
    assert budget.available == 1
    budget.succeeded(5)  # retried, its last retry cost 5
    assert budget.available == 6
    budget.succeeded(10)
    assert budget.available == 16
    budget.succeeded(10)
    assert budget.available == 20


def test_an_unbounded_budget_always_pays() -> None:
    budget = RetryBudget(None)
    assert all(budget.spend("timeout") == 10 for _ in range(1000))
    assert budget.available is None


def test_a_negative_budget_is_refused() -> None:
    with pytest.raises(UsageError, match="retry budget"):
        RetryBudget(-1)


def test_decide_asks_the_budget_only_for_a_retry_the_policy_allows() -> None:
    policy = RetryPolicy(max_attempts=3)
    budget = RetryBudget(10)
    assert decide(policy, budget, 1, None) == RetryDecision(None)  # not retryable
    assert decide(policy, budget, 3, "transient") == RetryDecision(None)  # the last attempt
    assert budget.available == 10
    first = decide(policy, budget, 1, "transient", rand=lambda: 1.0)
    assert first == RetryDecision(0.05, 5)
    assert decide(policy, budget, 2, "connection", rand=lambda: 1.0) == RetryDecision(0.1, 5)
    assert decide(policy, budget, 1, "throttled") == RetryDecision(None, budget_spent=True)


# -- from the settings --------------------------------------------------------------------------


def test_the_budget_comes_from_the_settings() -> None:
    assert session_for("http://127.0.0.1:9").retry_budget.capacity == 500
    assert session_for("http://127.0.0.1:9", retry_budget=40).retry_budget.available == 40
    env = Session(
        endpoint_url="http://127.0.0.1:9",
        env={"S3KIT_RETRY_BUDGET": "25", "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "B"},
    )
    assert env.retry_budget.capacity == 25
    assert session_for("http://127.0.0.1:9", retry_budget=0).retry_budget.capacity is None


@pytest.mark.parametrize("raw", ["2.5", "-5", "lots"])
def test_a_budget_that_is_not_a_whole_number_of_tokens_is_refused(raw: str) -> None:
    session = Session(
        endpoint_url="http://127.0.0.1:9",
        env={"S3KIT_RETRY_BUDGET": raw, "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "B"},
    )
    with pytest.raises(UsageError, match="retry budget"):
        _ = session.retry_budget


# -- both clients, one budget -------------------------------------------------------------------


def http_call(session: Session) -> S3KitError:
    with pytest.raises(S3KitError) as caught:
        session.http().request("GET", "bucket", "key")
    return caught.value


def boto3_call(session: Session) -> S3KitError:
    with pytest.raises(S3KitError) as caught, translating(bucket="bucket"):
        session.client("s3").get_bucket_versioning(Bucket="bucket")
    return caught.value


CALLS = {"http": http_call, "boto3": boto3_call}


@pytest.mark.parametrize(("first", "second"), [("http", "boto3"), ("boto3", "http")])
def test_both_clients_stop_retrying_once_the_sessions_budget_is_spent(
    first: str, second: str
) -> None:
    # 15 tokens, 5 a retry: the first call spends 10 on its 2 retries, the second 5 on one and
    # is refused its next, the third gets no retry at all.
    with FakeS3(500, "InternalError") as fake:
        session = session_for(fake.url, max_retries=2, retry_budget=15)
        metrics = Metrics()
        metrics.watch(session)
        heard: list[RequestEvent] = []
        session.events.subscribe(heard.append)
        counts = []
        errors = []
        for name in (first, second, first):
            before = len(fake.requests)
            errors.append(CALLS[name](session))
            counts.append(len(fake.requests) - before)
    assert counts == [3, 2, 1]
    assert "retry budget" not in str(errors[0])
    assert all("retry budget is spent" in str(error) for error in errors[1:])
    assert all(error.code == "InternalError" and error.status == 500 for error in errors)
    assert [e.retry_budget_spent for e in heard] == [False] * 4 + [True, True]
    snapshot = metrics.snapshot()
    assert snapshot.retry_budget_refusals == 2
    assert snapshot.retries_by_reason == {"transient": 3}
    assert snapshot.document()["retry_budget_refusals"] == 2
    assert "retries: transient 3; refused by the retry budget: 2" in snapshot.table()
    assert "s3kit_retry_budget_refusals_total 2" in snapshot.prometheus().splitlines()


@pytest.mark.parametrize("client", ["http", "boto3"])
def test_successes_refill_the_budget(client: str) -> None:
    with FakeS3(500, "InternalError") as fake:
        session = session_for(fake.url, max_retries=1, retry_budget=5)
        CALLS[client](session)  # its one retry takes the 5 tokens
        assert session.retry_budget.available == 0
        fake.status, fake.code = 200, ""
        for _ in range(3):
            if client == "http":
                session.http().request("GET", "bucket", "key")
            else:
                session.client("s3").get_bucket_versioning(Bucket="bucket")
        assert session.retry_budget.available == 3
