"""The generated clients' machinery: vendor signing vectors, sessions, retries, errors, paging."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest
from conftest import VENDORS, package

needs = pytest.mark.skipif


def vendor_required(*names: str) -> Any:
    return needs(not set(names) <= set(VENDORS), reason=f"needs the {', '.join(names)} spec")


@vendor_required("leancloud")
def test_leancloud_sign_matches_the_vendor_vector() -> None:
    client = package("leancloud", "client")
    runtime = package("leancloud", "_client_runtime")
    scheme = client.SCHEMES["lcSign"]
    value = runtime.header_signature(
        scheme.signature, "UtOCzqb67d3sN12Kts4URwy8", timestamp="1453014943466"
    )
    assert value == "d5bcbb897e19b2f6633c716dfdfaf9be,1453014943466"
    master = runtime.header_signature(
        scheme.signature, "DyJegPlemooo4X1tg94gQkw1", timestamp="1453014943466", suffix=True
    )
    assert master == "e074720658078c898aa0d4b1b82bdf4b,1453014943466,master"


@vendor_required("leancloud")
def test_leancloud_client_sends_id_and_signed_or_master_key() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"iso": "2024-01-02T03:04:05.000Z", "__type": "Date"})

    client = package("leancloud", "client")
    with client.Client(
        "https://x.example", lc_id="app", lc_sign="appkey", transport=httpx.MockTransport(answer)
    ) as lc:
        lc.get_server_date()
    sign, stamp = seen[-1].headers["X-LC-Sign"].split(",")
    assert seen[-1].headers["X-LC-Id"] == "app"
    assert sign == hashlib.md5((stamp + "appkey").encode()).hexdigest()
    with client.Client(
        "https://x.example", lc_id="app", lc_master_key="mk", transport=httpx.MockTransport(answer)
    ) as lc:
        lc.get_server_date()
    assert seen[-1].headers["X-LC-Key"] == "mk,master"


@vendor_required("quickblox")
def test_quickblox_session_is_signed_over_sorted_pairs_and_then_used() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/session.json":
            return httpx.Response(
                201,
                json={
                    "session": {
                        "_id": "5",
                        "application_id": 22,
                        "created_at": "2024-01-02T03:04:05Z",
                        "id": 5,
                        "nonce": 33432,
                        "token": "tok-123",
                        "ts": 1326966962,
                        "updated_at": "2024-01-02T03:04:05Z",
                        "user_id": 0,
                    }
                },
            )
        return httpx.Response(
            200, json={"current_page": 1, "per_page": 10, "total_entries": 0, "items": []}
        )

    client = package("quickblox", "client")
    models = package("quickblox", "models")
    with client.Client(
        "https://api.example", auth_secret="secret", transport=httpx.MockTransport(answer)
    ) as qb:
        body = models.CreateSessionRequest(
            application_id=22,
            auth_key="Abc123",
            timestamp=1326966962,
            nonce=33432,
            signature="",
            user=models.SessionUserCredentials(login="amigo", password="pass"),
        )
        qb.create_session(body)
        qb.list_users()
    sent = (
        dict(httpx.QueryParams(seen[0].content.decode()))
        if seen[0].headers["content-type"].startswith("application/x-www-form")
        else json.loads(seen[0].content)
    )
    # the reference's own example of the string to sign
    base = (
        "application_id=22&auth_key=Abc123&nonce=33432&timestamp=1326966962"
        "&user[login]=amigo&user[password]=pass"
    )
    expected = hmac.new(b"secret", base.encode(), hashlib.sha1).hexdigest()
    assert sent["signature"] == expected
    assert seen[1].headers["QB-Token"] == "tok-123"


@vendor_required("qiscus")
def test_retries_honour_retry_after_only_for_idempotent_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr("time.sleep", sleeps.append)
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) < 3:
            return httpx.Response(
                429 if len(calls) == 1 else 503,
                headers={"Retry-After": "2"},
                json={"status": 429, "error": {"message": "slow down"}},
            )
        return httpx.Response(
            200,
            json={
                "status": 200,
                "results": {
                    "user": {
                        "id": 1,
                        "email": "a@example.com",
                        "username": "a",
                        "avatar_url": "",
                        "token": "t",
                    }
                },
            },
        )

    client = package("qiscus", "client")
    with client.Client(
        "https://x.example", sdk_secret="s", transport=httpx.MockTransport(answer)
    ) as qiscus:
        profile = qiscus.get_user_profile(user_email="a@example.com")
    assert profile.results.user.email == "a@example.com"
    assert calls == ["GET", "GET", "GET"] and sleeps == [2.0, 2.0]

    calls.clear()
    models = package("qiscus", "models")
    with (
        client.Client(
            "https://x.example", sdk_secret="s", transport=httpx.MockTransport(answer)
        ) as qiscus,
        pytest.raises(client.ApiError) as info,
    ):
        qiscus.post_comment(
            models.PostCommentRequest(sender_email="a@example.com", room_id=1, message="x")
        )
    assert calls == ["POST"], "a POST must not be retried unless asked"
    assert info.value.status == 429
    assert info.value.body is not None and info.value.body.error.message == "slow down"

    calls.clear()
    with (
        client.Client(
            "https://x.example",
            sdk_secret="s",
            retry_non_idempotent=True,
            max_delay=0.5,
            transport=httpx.MockTransport(answer),
        ) as qiscus,
        pytest.raises(client.UnexpectedResponse),
    ):  # the third answer is not a comment
        qiscus.post_comment(
            models.PostCommentRequest(sender_email="a@example.com", room_id=1, message="x")
        )
    assert calls == ["POST", "POST", "POST"]
    assert sleeps[-2:] == [0.5, 0.5], "max_delay caps a long Retry-After"


@vendor_required("qiscus")
def test_timeouts_are_on_by_default() -> None:
    client = package("qiscus", "client")
    with client.Client("https://x.example") as qiscus:
        timeout = qiscus._http.timeout
    assert timeout.read is not None and timeout.connect is not None


@vendor_required("qiscus")
def test_iterator_walks_every_page() -> None:
    pages = {1: ["r1", "r2"], 2: ["r3"], 3: []}
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        asked.append(str(page))
        rooms = [
            {
                "room_id": i,
                "room_name": name,
                "room_type": "group",
                "last_comment_id": 0,
                "last_comment_message": "",
                "last_comment_timestamp": "2024-01-02T03:04:05Z",
                "unread_count": 0,
            }
            for i, name in enumerate(pages[page])
        ]
        return httpx.Response(
            200,
            json={
                "status": 200,
                "results": {"meta": {"current_page": page, "total_room": 3}, "rooms_info": rooms},
            },
        )

    client = package("qiscus", "client")
    with client.Client(
        "https://x.example", sdk_secret="s", transport=httpx.MockTransport(answer)
    ) as qiscus:
        names = [room.room_name for room in qiscus.iter_get_user_rooms(user_email="a@example.com")]
    assert names == ["r1", "r2", "r3"]
    assert asked == ["1", "2", "3"]


@vendor_required("qiscus")
def test_form_arrays_repeat_their_bracketed_key() -> None:
    seen: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(
            200,
            json={
                "status": 200,
                "results": {
                    "creator": "a@example.com",
                    "participants": ["a@example.com"],
                    "room_id": 1,
                    "room_name": "t",
                    "room_type": "group",
                },
            },
        )

    client = package("qiscus", "client")
    models = package("qiscus", "models")
    with client.Client(
        "https://x.example", sdk_secret="s", transport=httpx.MockTransport(answer)
    ) as qiscus:
        qiscus.create_room(
            models.CreateRoomRequest(
                name="t", creator="a@example.com", participants=["a@example.com", "b@example.com"]
            )
        )
    assert seen[0] == (
        b"name=t&participants%5B%5D=a%40example.com&participants%5B%5D=b%40example.com"
        b"&creator=a%40example.com"
    )
