"""LeanCloud emulator scenarios through the generated client, in process."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import emulators
from emulators.leancloud import LeanCloudEmulator, create_emulator
from emulators.leancloud.common import operations
from emulators.store import Store
from generated.leancloud import models
from generated.leancloud.client import ApiError, Client
from generated.leancloud.server import Handlers

APP_ID, APP_KEY, MASTER_KEY = "lc-app-id", "lc-app-key", "lc-master-key"
KEY = {"lc_id": APP_ID, "lc_key": APP_KEY}
MASTER = {"lc_id": APP_ID, "lc_master_key": MASTER_KEY}


class Clock:
    """A clock the tests move by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def make_app(
    store: Store | None = None,
    *,
    session_ttl: float = 0.0,
    clock: Callable[[], float] | None = None,
) -> Any:
    config = emulators.load("leancloud", environ={}, session_ttl=session_ttl)
    return create_emulator(config, store or Store(":memory:"), clock=clock, strict=True)


def client(app: Any, session: str | None = None, **credentials: Any) -> Client:
    """A client of `app`; `session` is sent on every call, as the SDKs do once logged in."""
    headers = {"X-LC-Session": session} if session else None
    return Client(http_client=TestClient(app, headers=headers), retries=0, **(credentials or KEY))


@pytest.fixture
def app() -> Any:
    return make_app()


@pytest.fixture
def lc(app: Any) -> Iterator[Client]:
    with client(app) as c:
        yield c


@pytest.fixture
def master(app: Any) -> Iterator[Client]:
    with client(app, **MASTER) as c:
        yield c


def fields(**values: Any) -> models.ObjectFields:
    return models.ObjectFields.model_validate(values)


def extra(model: Any) -> dict[str, Any]:
    """The custom fields of a returned object, as plain JSON."""
    dumped = model.model_dump(mode="json", by_alias=True)
    return {k: dumped[k] for k in model.model_extra or {}}


def where(clause: Any) -> models.WhereClause:
    return models.WhereClause.model_validate(clause)


def error_of(call: Callable[[], Any]) -> tuple[int, int, str]:
    with pytest.raises(ApiError) as info:
        call()
    body = info.value.body
    assert body is not None, info.value.raw
    return info.value.status, body.code, body.error


def sign_up(c: Client, name: str, password: str = "secret", **extra: Any) -> models.SessionUser:
    return c.sign_up(
        models.SignUpRequest.model_validate({"username": name, "password": password, **extra})
    )


# -- credentials ---------------------------------------------------------------------------------
def test_every_operation_is_implemented() -> None:
    names = [op.method_name for op in operations().values()]
    assert len(names) == 200
    assert [n for n in names if getattr(LeanCloudEmulator, n) is getattr(Handlers, n)] == []


def test_wrong_keys_are_refused_with_the_vendor_401(app: Any) -> None:
    for credentials in (
        {"lc_id": APP_ID, "lc_key": "wrong"},
        {"lc_id": "other-app", "lc_key": APP_KEY},
        {"lc_id": APP_ID, "lc_master_key": "wrong"},
        {"lc_id": APP_ID, "lc_sign": "not-the-key"},
    ):
        with client(app, **credentials) as c:
            assert error_of(c.get_server_date) == (401, 401, "Unauthorized.")


def test_signatures_with_app_and_master_key(app: Any) -> None:
    with client(app, lc_id=APP_ID, lc_sign=APP_KEY) as signed:
        assert signed.get_server_date().iso.year >= 2024
        # an App Key signature may not call a master-key operation
        assert error_of(signed.list_schemas) == (
            403,
            119,
            "The operation isn't allowed for clients.",
        )
    with client(app, lc_id=APP_ID, lc_sign=MASTER_KEY, lc_sign_master=True) as signed:
        assert signed.list_schemas().root == {}
    # the documented test vector, and a stale timestamp
    assert hashlib.md5(b"1453014943466UtOCzqb67d3sN12Kts4URwy8").hexdigest() == (
        "d5bcbb897e19b2f6633c716dfdfaf9be"
    )
    old = str(int(time.time() * 1000) - 3600_000)
    stale = hashlib.md5((old + APP_KEY).encode()).hexdigest() + "," + old
    response = TestClient(app).get("/1.1/date", headers={"X-LC-Id": APP_ID, "X-LC-Sign": stale})
    assert response.status_code == 401 and response.json() == {
        "code": 401,
        "error": "Unauthorized.",
    }


def test_master_only_operation_needs_the_master_key(app: Any, master: Client) -> None:
    response = TestClient(app).get(
        "/1.1/scan/classes/_User", headers={"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY}
    )
    assert response.status_code == 401 and response.json()["code"] == 401
    assert master.scan_objects("_User").results == []


# -- users and sessions --------------------------------------------------------------------------
def test_sign_up_login_me_and_refresh(app: Any, lc: Client) -> None:
    tom = sign_up(lc, "tom", email="Tom@Example.com", phone="18612340000")
    assert len(tom.objectId) == 24 and int(tom.objectId, 16) >= 0
    assert lc.last_response is not None and lc.last_response.status_code == 201
    assert lc.last_response.headers["location"].endswith(f"/1.1/users/{tom.objectId}")
    raw = lc.last_response.json()
    assert raw["createdAt"].endswith("Z") and len(raw["createdAt"]) == 24  # ...SS.mmmZ
    assert error_of(lambda: sign_up(lc, "tom")) == (400, 202, "Username has already been taken.")
    assert error_of(lambda: sign_up(lc, "tom2", email="tom@example.com"))[1] == 203
    assert error_of(lambda: sign_up(lc, "", "x"))[1] == 200
    assert error_of(lambda: lc.sign_up(models.SignUpRequest(username="x")))[1] == 201

    wrong = models.LoginRequest(username="tom", password="nope")
    assert error_of(lambda: lc.log_in(wrong)) == (400, 210, "The username and password mismatch.")
    assert error_of(lambda: lc.log_in(models.LoginRequest(username="ghost", password="x")))[1:] == (
        211,
        "Could not find user.",
    )
    logged = lc.log_in(models.LoginRequest(username="tom", password="secret"))
    assert logged.sessionToken == tom.sessionToken and logged.username == "tom"
    assert extra(logged) == {"phone": "18612340000"}
    by_mail = lc.log_in(models.LoginRequest(email="tom@example.com", password="secret"))
    assert by_mail.objectId == tom.objectId

    me = lc.get_current_user()  # the client keeps the token the login returned
    assert me.objectId == tom.objectId and me.sessionToken == tom.sessionToken
    fresh = lc.refresh_session_token(tom.objectId)
    assert fresh.sessionToken != tom.sessionToken
    assert lc.get_current_user().sessionToken == fresh.sessionToken
    with client(app, lc_id=APP_ID, lc_key=APP_KEY, lc_session=tom.sessionToken) as stale:
        assert error_of(lambda: stale.get_current_user()) == (400, 211, "Could not find user.")
        assert error_of(lambda: stale.update_user(tom.objectId, fields(a=1)))[:2] == (403, 211)


def test_users_change_only_with_their_session(app: Any, lc: Client) -> None:
    ann = sign_up(lc, "ann")
    bob = sign_up(lc, "bob")
    with client(app, session=bob.sessionToken) as as_bob:
        as_bob.set_credential("lcSession", bob.sessionToken)
        status, code, _ = error_of(lambda: as_bob.update_user(ann.objectId, fields(age=3)))
        assert (status, code) == (403, 206)
        as_bob.update_user(bob.objectId, fields(age=30, tags={"__op": "Add", "objects": ["x"]}))
        assert extra(as_bob.get_user(bob.objectId)) == {"age": 30, "tags": ["x"]}
        taken = error_of(lambda: as_bob.update_user(bob.objectId, fields(username="ann")))
        assert taken[:2] == (400, 202)
    with client(app, **MASTER) as m:
        m.update_user(ann.objectId, fields(nick="A"))
        m.delete_user(bob.objectId)
    assert error_of(lambda: lc.get_user(bob.objectId)) == (400, 211, "Could not find user.")
    assert extra(lc.get_user(ann.objectId)) == {"nick": "A"}


def test_password_change_and_lockout(app: Any, lc: Client) -> None:
    user = sign_up(lc, "amy", "first")
    bad_old = models.UpdatePasswordRequest(old_password="nope", new_password="second")
    assert error_of(lambda: lc.update_password(user.objectId, bad_old))[:2] == (400, 210)
    changed = lc.update_password(
        user.objectId, models.UpdatePasswordRequest(old_password="first", new_password="second")
    )
    assert changed.objectId == user.objectId
    assert (
        lc.log_in(models.LoginRequest(username="amy", password="second")).objectId == user.objectId
    )
    for _ in range(7):
        error_of(lambda: lc.log_in(models.LoginRequest(username="amy", password="bad")))
    locked = error_of(lambda: lc.log_in(models.LoginRequest(username="amy", password="second")))
    assert locked[:2] == (400, 219)


def test_sessions_expire_with_a_configured_ttl() -> None:
    clock = Clock()
    app = make_app(session_ttl=60, clock=clock)
    with client(app) as lc:
        user = sign_up(lc, "eve")
        assert lc.get_current_user().objectId == user.objectId
        clock.now += 61
        assert error_of(lambda: lc.get_current_user())[:2] == (400, 211)
        again = lc.log_in(models.LoginRequest(username="eve", password="secret"))
        assert again.sessionToken != user.sessionToken
        assert lc.get_current_user().sessionToken == again.sessionToken


def test_phone_codes_sign_up_and_login() -> None:
    store = Store(":memory:")
    clock = Clock()
    app = make_app(store, clock=clock)
    with client(app) as lc:
        lc.request_sms_code(models.RequestSmsCodeRequest(mobilePhoneNumber="+8618600000000"))
        again = models.RequestSmsCodeRequest(mobilePhoneNumber="+8618600000000")
        assert error_of(lambda: lc.request_sms_code(again))[:2] == (400, 601)
        code = store.get("lc_sms", "sms:+8618600000000")
        assert code is not None
        wrong = models.MobileSignUpRequest(mobilePhoneNumber="+8618600000000", smsCode="000000x")
        assert error_of(lambda: lc.sign_up_or_log_in_with_mobile_phone(wrong))[:2] == (400, 603)
        user = lc.sign_up_or_log_in_with_mobile_phone(
            models.MobileSignUpRequest(mobilePhoneNumber="+8618600000000", smsCode=code["code"])
        )
        assert user.mobilePhoneVerified is True and user.username == "+8618600000000"
        clock.now += 61
        lc.request_login_sms_code(models.PhoneCodeRequest(mobilePhoneNumber="+8618600000000"))
        login_code = store.get("lc_sms", "login:+8618600000000")
        assert login_code is not None
        logged = lc.log_in(
            models.LoginRequest(mobilePhoneNumber="+8618600000000", smsCode=login_code["code"])
        )
        assert logged.objectId == user.objectId


# -- objects -------------------------------------------------------------------------------------
def test_objects_typed_values_and_update_operators(app: Any, lc: Client) -> None:
    author = lc.create_object("Author", fields(name="Lu"))
    typed = {
        "when": {"__type": "Date", "iso": "2015-06-21T18:02:52.249Z"},
        "author": {"__type": "Pointer", "className": "Author", "objectId": author.objectId},
        "place": {"__type": "GeoPoint", "latitude": 39.9, "longitude": 116.4},
        "blob": {"__type": "Bytes", "base64": "aGVsbG8="},
        "file": {"__type": "File", "id": "543cbaede4b07db196f50f3c"},
    }
    post = lc.create_object("Post", fields(title="hi", votes=1, tags=["a"], **typed))
    assert lc.last_response is not None and lc.last_response.status_code == 201
    stored = (
        TestClient(app)
        .get(f"/1.1/classes/Post/{post.objectId}", headers={"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY})
        .json()
    )
    assert {k: stored[k] for k in typed} == typed
    lc.update_object(
        "Post",
        post.objectId,
        fields(
            votes={"__op": "Increment", "amount": 5},
            down={"__op": "Decrement", "amount": 2},
            tags={"__op": "AddUnique", "objects": ["a", "b"]},
            more={"__op": "Add", "objects": [1, 1]},
            title={"__op": "Delete"},
            likes={
                "__op": "AddRelation",
                "objects": [
                    {"__type": "Pointer", "className": "Author", "objectId": author.objectId}
                ],
            },
        ),
    )
    lc.update_object("Post", post.objectId, fields(more={"__op": "Remove", "objects": [1]}))
    got = lc.get_object("Post", post.objectId, include="author").model_dump(by_alias=True)
    assert got["votes"] == 6 and got["down"] == -2 and got["tags"] == ["a", "b"]
    assert got["more"] == [] and "title" not in got
    assert got["likes"] == {"__type": "Relation", "className": "Author"}
    assert got["author"]["name"] == "Lu" and got["author"]["__type"] == "Pointer"
    related = lc.query_objects(
        "Author",
        where=where(
            {
                "$relatedTo": {
                    "object": {"__type": "Pointer", "className": "Post", "objectId": post.objectId},
                    "key": "likes",
                }
            }
        ),
    )
    assert [r.objectId for r in related.results] == [author.objectId]
    # a conditional update that does not hold, a type clash, a bad key, a missing object
    unmet = lambda: lc.update_object(  # noqa: E731
        "Post", post.objectId, fields(votes=0), where=where({"votes": {"$lt": 3}})
    )
    assert error_of(unmet)[:2] == (400, 305)
    assert error_of(
        lambda: lc.update_object(
            "Post", post.objectId, fields(tags={"__op": "Increment", "amount": 1})
        )
    )[:2] == (400, 111)
    # the spec's key-name rule refuses it (the model too), before the emulator's own 105
    one = models.UpdateValue.model_validate(1)
    bad_key = models.ObjectFields.model_construct(**{"bad-key": one})
    assert error_of(lambda: lc.create_object("Post", bad_key))[:2] == (400, 107)
    assert error_of(lambda: lc.update_object("Post", "0" * 24, fields(a=1)))[:2] == (404, 1)
    lc.get_object("Post", "0" * 24)
    assert lc.last_response is not None and lc.last_response.json() == {}
    assert error_of(lambda: lc.get_object("Nothing", "x")) == (
        404,
        101,
        "Class or object doesn't exists.",
    )
    lc.delete_object("Post", post.objectId)
    assert lc.query_objects("Post").results == []


def test_queries_filters_order_paging_keys_and_count(lc: Client) -> None:
    owner = lc.create_object("Team", fields(name="red"))
    team = {"__type": "Pointer", "className": "Team", "objectId": owner.objectId}
    for i in range(12):
        lc.create_object(
            "Player",
            fields(
                name=f"p{i:02d}",
                score=i % 5,
                tags=["even" if i % 2 == 0 else "odd", "all"],
                **({"team": team} if i < 3 else {}),
                **({"nick": f"N{i}"} if i % 3 == 0 else {}),
            ),
        )

    def names(**query: Any) -> list[str]:
        return [str(extra(r)["name"]) for r in lc.query_objects("Player", **query).results]

    assert names(where=where({"score": {"$gte": 3}}), order="name") == ["p03", "p04", "p08", "p09"]
    assert names(where=where({"score": {"$in": [0]}}), order="-name") == ["p10", "p05", "p00"]
    assert len(names(where=where({"score": {"$nin": [0, 1]}}))) == 6
    assert names(where=where({"nick": {"$exists": True}, "score": {"$ne": 0}}), order="name") == [
        "p03",
        "p06",
        "p09",
    ]
    assert names(where=where({"name": {"$regex": "^P1", "$options": "i"}}), order="name") == [
        "p10",
        "p11",
    ]
    assert len(names(where=where({"tags": "even"}))) == 6
    assert len(names(where=where({"tags": {"$all": ["odd", "all"]}}))) == 6
    assert names(where=where({"$or": [{"score": 4}, {"name": "p00"}]}), order="name") == [
        "p00",
        "p04",
        "p09",
    ]
    assert names(
        where=where({"$and": [{"score": {"$gt": 1}}, {"score": {"$lt": 3}}]}), order="name"
    ) == ["p02", "p07"]
    assert names(where=where({"team": team}), order="name") == ["p00", "p01", "p02"]
    assert names(
        where=where({"team": {"$inQuery": {"className": "Team", "where": {"name": "red"}}}}),
        order="name",
    ) == ["p00", "p01", "p02"]
    # order by several keys, paging, count and keys
    ordered = names(order="-score,name")
    assert ordered[:3] == ["p04", "p09", "p03"]
    page = lc.query_objects("Player", order="name", skip=10, limit=5, count=1)
    assert [extra(r)["name"] for r in page.results] == ["p10", "p11"] and page.count == 12
    only_count = lc.query_objects("Player", limit=0, count=1)
    assert only_count.results == [] and only_count.count == 12
    slim = lc.query_objects("Player", keys="name", limit=1).results[0]
    assert set(slim.model_dump(exclude_none=True)) == {"objectId", "createdAt", "updatedAt", "name"}
    with_team = lc.query_objects("Player", where=where({"name": "p00"}), include="team").results[0]
    assert with_team.model_extra is not None
    assert with_team.model_dump(by_alias=True)["team"]["name"] == "red"
    bogus = lc._http.get(  # the typed client cannot even send an unknown operator
        "/1.1/classes/Player",
        params={"where": '{"a": {"$bogus": 1}}'},
        headers={"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY},
    )
    assert bogus.status_code == 400 and bogus.json() == {
        "code": 1,
        "error": "Unknown query operator '$bogus'.",
    }
    assert error_of(lambda: lc.query_objects("Missing"))[:2] == (404, 101)


def test_acl_per_user_public_and_role(app: Any, lc: Client, master: Client) -> None:
    ann = sign_up(lc, "ann")
    bob = sign_up(lc, "bob")
    cid = sign_up(lc, "cid")
    with (
        client(app, session=ann.sessionToken) as as_ann,
        client(app, session=bob.sessionToken) as as_bob,
        client(app, session=cid.sessionToken) as as_cid,
    ):
        private = as_ann.create_object(
            "Note", fields(text="mine", ACL={ann.objectId: {"read": True, "write": True}})
        )
        public_read = as_ann.create_object(
            "Note",
            fields(text="look", ACL={"*": {"read": True}, ann.objectId: {"write": True}}),
        )
        master.create_role(
            models.CreateRoleRequest.model_validate(
                {
                    "name": "Editors",
                    "ACL": {"*": {"read": True}},
                    "users": {
                        "__op": "AddRelation",
                        "objects": [
                            {"__type": "Pointer", "className": "_User", "objectId": cid.objectId}
                        ],
                    },
                }
            )
        )
        edited = as_ann.create_object(
            "Note", fields(text="team", ACL={"role:Editors": {"read": True, "write": True}})
        )
        assert extra(as_bob.get_object("Note", private.objectId)) == {}
        assert [n.objectId for n in as_bob.query_objects("Note").results] == [public_read.objectId]
        assert error_of(
            lambda: as_bob.update_object("Note", public_read.objectId, fields(text="x"))
        ) == (
            403,
            403,
            "Forbidden writing by object's ACL.",
        )
        assert error_of(lambda: as_bob.delete_object("Note", private.objectId))[:2] == (403, 403)
        as_ann.update_object("Note", public_read.objectId, fields(text="edited"))
        as_cid.update_object("Note", edited.objectId, fields(text="by editor"))
        assert {n.objectId for n in as_cid.query_objects("Note").results} == {
            public_read.objectId,
            edited.objectId,
        }
        assert len(master.query_objects("Note").results) == 3
        acl = as_ann.get_object("Note", private.objectId, return_acl=True).model_dump(by_alias=True)
        assert acl["ACL"] == {ann.objectId: {"read": True, "write": True}}
        roles = lc.query_roles(
            where=where(
                {"users": {"__type": "Pointer", "className": "_User", "objectId": cid.objectId}}
            )
        )
        assert [r.name for r in roles.results] == ["Editors"]


def test_batch_runs_each_request(lc: Client) -> None:
    first = lc.create_object("Post", fields(n=1))
    results = lc.batch(
        models.BatchRequest.model_validate(
            {
                "requests": [
                    {"method": "POST", "path": "/1.1/classes/Post", "body": {"n": 2}},
                    {
                        "method": "PUT",
                        "path": f"/1.1/classes/Post/{first.objectId}",
                        "body": {"n": {"__op": "Increment", "amount": 10}},
                    },
                    {
                        "method": "PUT",
                        "path": "/1.1/classes/Post/558e20cbe4b060308e3eb36c",
                        "body": {"n": 0},
                    },
                    {"method": "GET", "path": f"/1.1/classes/Post/{first.objectId}"},
                    {"method": "DELETE", "path": f"/1.1/classes/Post/{first.objectId}"},
                ]
            }
        )
    )
    assert results[0].success is not None and results[0].success.objectId is not None
    assert results[1].success is not None and results[1].success.objectId == first.objectId
    assert results[2].error == models.ErrorResponse(
        code=1, error="Could not find object by id '558e20cbe4b060308e3eb36c' for class 'Post'."
    )
    assert results[3].success is not None and extra(results[3].success)["n"] == 11
    assert results[4].success is not None
    assert [extra(r) for r in lc.query_objects("Post").results] == [{"n": 2}]


def test_cql_subset_and_syntax_error(lc: Client) -> None:
    for i in range(5):
        lc.create_object("Game", fields(title=f"g{i}", level=i))
    found = lc.cloud_query(
        cql="select * from Game where level >= ? and title != 'g4' limit 2", pvalues=[2]
    )
    assert [extra(r)["title"] for r in found.results] == ["g2", "g3"] and found.className == "Game"
    counted = lc.cloud_query(cql="select count(*) from Game where title in ('g1', 'g2')")
    assert counted.count == 2 and counted.results == []
    assert error_of(lambda: lc.cloud_query(cql="delete from Game"))[:2] == (400, 300)


def test_files_upload_token_flow(lc: Client) -> None:
    token = lc.create_file_token(
        models.FileTokenRequest(name="photo.jpg", metaData=models.FileMetaData(size=10))
    )
    assert token.provider == "qiniu" and token.url is not None and str(token.url).endswith(".jpg")
    lc.file_callback(models.FileCallbackRequest(token=token.token, result=True))
    record = lc.get_file(token.objectId)
    assert (
        record.name == "photo.jpg" and record.mime_type == "image/jpeg" and record.url == token.url
    )
    assert [f.objectId for f in lc.query_objects("files").results] == [token.objectId]
    failed = lc.create_file_token(models.FileTokenRequest(name="x.txt"))
    lc.file_callback(models.FileCallbackRequest(token=failed.token, result=False))
    assert error_of(lambda: lc.get_file(failed.objectId))[:2] == (404, 101)


def test_schemas_scan_and_export(master: Client) -> None:
    for i in range(5):
        master.create_object(
            "Item", fields(n=i, when={"__type": "Date", "iso": "2020-01-01T00:00:00.000Z"})
        )
    schema = master.get_class_schema("Item").root
    assert schema["n"].type == "Number" and schema["when"].type == "Date"
    first = master.scan_objects("Item", limit=3)
    assert len(first.results) == 3 and first.cursor
    rest = master.scan_objects("Item", limit=3, cursor=first.cursor)
    assert len(rest.results) == 2 and rest.cursor is None
    job = master.export_data(models.ExportDataRequest())
    assert job.status == "running"
    assert master.get_export_job(job.id).status == "done"


# -- instant messaging ---------------------------------------------------------------------------
def test_conversations_messages_history_and_unread(master: Client) -> None:
    conv = master.create_conversation(
        models.CreateConversationRequest(name="team", m=["ann", "bob"])
    )
    assert conv.objectId is not None and conv.m == ["ann", "bob"]
    cid = conv.objectId
    master.add_conversation_members(cid, models.ClientIdsRequest(client_ids=["cid"]))
    assert master.list_conversation_members(cid).result == ["ann", "bob", "cid"]
    sent = [
        master.send_conversation_message(
            cid,
            models.SendMessageRequest(from_client="ann" if i % 2 == 0 else "bob", message=f"m{i}"),
        )
        for i in range(6)
    ]
    history = master.list_conversation_messages(cid, limit=4)
    assert [m.data for m in history] == ["m5", "m4", "m3", "m2"]
    older = master.list_conversation_messages(
        cid, msgid=history[-1].msg_id, timestamp=history[-1].timestamp
    )
    assert [m.data for m in older] == ["m1", "m0"]
    oldest_first = master.list_conversation_messages(cid, reversed=True, limit=2)
    assert [m.data for m in oldest_first] == ["m0", "m1"]
    assert master.get_client_unread_count("ann").count == 3
    assert master.get_client_unread_count("cid", conv_id=cid).count == 6
    master.update_conversation_message(
        cid,
        sent[0].msg_id,
        models.EditMessageRequest(from_client="ann", message="edited", timestamp=sent[0].timestamp),
    )
    master.recall_conversation_message(
        cid,
        sent[1].msg_id,
        models.RecallMessageRequest(from_client="bob", timestamp=sent[1].timestamp),
    )
    master.delete_conversation_message(
        cid, sent[2].msg_id, from_client="ann", timestamp=sent[2].timestamp
    )
    by_id = {m.msg_id: m for m in master.list_conversation_messages(cid)}
    assert by_id[sent[0].msg_id].data == "edited" and by_id[sent[0].msg_id].patch_timestamp
    assert sent[2].msg_id not in by_id and len(by_id) == 5
    bad_edit = models.EditMessageRequest(
        from_client="bob", message="x", timestamp=sent[0].timestamp
    )
    assert (
        error_of(lambda: master.update_conversation_message(cid, sent[0].msg_id, bad_edit))[0]
        == 400
    )
    master.remove_conversation_members(cid, models.ClientIdsRequest(client_ids=["bob"]))
    master.add_conversation_blacklist(cid, models.ClientIdsRequest(client_ids=["cid"]))
    assert master.list_conversation_members(cid).result == ["ann"]
    master.add_conversation_members(cid, models.ClientIdsRequest(client_ids=["cid"]))
    assert master.list_conversation_members(cid).result == ["ann"]
    assert master.list_conversation_blacklist(cid).client_ids == ["cid"]
    unique = models.CreateConversationRequest(m=["x", "y"], unique=True)
    assert (
        master.create_conversation(unique).objectId == master.create_conversation(unique).objectId
    )
    found = master.query_conversations(where=where({"name": "team"}))
    assert [c.objectId for c in found.results] == [cid]
    assert error_of(lambda: master.list_conversation_members("0" * 24))[:2] == (404, 101)


def test_chatrooms_and_service_conversations(master: Client) -> None:
    room = master.create_chatroom(models.CreateConversationRequest(name="lobby"))
    assert room.tr is True and room.objectId is not None
    master.send_chatroom_message(
        room.objectId, models.SendMessageRequest(from_client="a", message="hey")
    )
    master.send_chatroom_message(
        room.objectId, models.SendMessageRequest(from_client="a", message="gone", transient=True)
    )
    assert [m.data for m in master.list_chatroom_messages(room.objectId)] == ["hey"]
    assert master.count_chatroom_online_members(room.objectId).result == 0
    assert [c.objectId for c in master.query_chatrooms().results] == [room.objectId]

    service = master.create_service_conversation(models.CreateConversationRequest(name="news"))
    sid = service.objectId
    assert sid is not None and service.sys is True
    for who in ("u1", "u2"):
        master.subscribe_service_conversation(sid, models.SubscribeRequest(client_id=who))
    assert master.count_service_conversation_subscribers(sid).count == 2
    master.broadcast_service_conversation_message(
        sid, models.BroadcastToSubscribersRequest(from_client="news", message="to all")
    )
    master.send_service_conversation_message(
        sid,
        models.SendServiceMessageRequest(from_client="news", to_clients=["u1"], message="to u1"),
    )
    assert [m.data for m in master.list_service_conversation_subscriber_messages(sid, "u1")] == [
        "to u1",
        "to all",
    ]
    assert [m.data for m in master.list_service_conversation_subscriber_messages(sid, "u2")] == [
        "to all"
    ]
    assert {c.objectId for c in master.query_all_conversations().results} == {room.objectId, sid}


# -- leaderboards, social, push, misc ------------------------------------------------------------
def test_leaderboard_scores_ranks_and_versions(lc: Client, master: Client) -> None:
    master.create_leaderboard(models.CreateLeaderboardRequest(statisticName="score"))
    master.create_leaderboard(
        models.CreateLeaderboardRequest(statisticName="kills", updateStrategy="sum")
    )
    users = [sign_up(lc, f"player{i}") for i in range(4)]
    for user, value in zip(users, (10, 30, 20, 30), strict=True):
        master.update_user_statistics(
            user.objectId, [models.StatisticUpdate(statisticName="score", statisticValue=value)]
        )
    better = master.update_user_statistics(
        users[0].objectId, [models.StatisticUpdate(statisticName="score", statisticValue=5)]
    )
    assert better.results[0].statisticValue == 10  # "better" keeps the higher score
    for _ in range(2):
        master.update_user_statistics(
            users[0].objectId, [models.StatisticUpdate(statisticName="kills", statisticValue=3)]
        )
    ranks = lc.get_user_leaderboard_ranks(
        "score", select_keys="username", count=1, include_statistics="kills"
    )
    assert [(r.rank, r.statisticValue) for r in ranks.results] == [
        (0, 30),
        (1, 30),
        (2, 20),
        (3, 10),
    ]
    assert ranks.results[0].user is not None and ranks.results[0].user.objectId == users[1].objectId
    assert ranks.count == 4 and extra(ranks.results[0].user) == {"username": "player1"}
    assert (
        ranks.results[3].statistics is not None
        and ranks.results[3].statistics[0].statisticValue == 6
    )
    around = lc.get_user_leaderboard_ranks_around("score", users[2].objectId, max_results_count=3)
    assert [r.rank for r in around.results] == [1, 2, 3]
    # the client holds the session of the last player signed up: not users[1]
    other = [models.StatisticUpdate(statisticName="score", statisticValue=1)]
    assert error_of(lambda: lc.update_user_statistics(users[1].objectId, other))[:2] == (403, 403)
    board = master.reset_leaderboard("score")
    assert board.version == 1
    assert lc.get_user_leaderboard_ranks("score").results == []
    assert [a.version for a in master.list_leaderboard_archives("score").results] == [0]
    assert len(lc.get_user_leaderboard_ranks("score", version=0).results) == 4
    master.create_leaderboard(
        models.CreateLeaderboardRequest(
            statisticName="speed", memberType="_Entity", order="ascending"
        )
    )
    for entity, seconds in (("car", 9.5), ("bike", 20.0), ("car", 8.0)):
        master.update_entity_statistics(
            entity, [models.StatisticUpdate(statisticName="speed", statisticValue=seconds)]
        )
    assert [
        (r.entity, r.statisticValue) for r in lc.get_entity_leaderboard_ranks("speed").results
    ] == [
        ("car", 8.0),
        ("bike", 20.0),
    ]
    assert error_of(lambda: lc.get_leaderboard("nope"))[:2] == (404, 2100)


def test_follow_friends_and_status_inbox(app: Any, lc: Client) -> None:
    ann = sign_up(lc, "ann")
    bob = sign_up(lc, "bob")
    with (
        client(app, session=ann.sessionToken) as as_ann,
        client(app, session=bob.sessionToken) as as_bob,
    ):
        as_ann.set_credential("lcSession", ann.sessionToken)
        as_bob.set_credential("lcSession", bob.sessionToken)
        as_bob.follow_user(
            bob.objectId, ann.objectId, models.FollowAttributes.model_validate({"score": 5})
        )
        followers = as_ann.list_followers(ann.objectId, include="follower")
        assert len(followers.results) == 1
        row = followers.results[0].model_dump(by_alias=True)
        assert row["follower"]["username"] == "bob" and row["score"] == 5
        assert error_of(lambda: as_bob.follow_user(ann.objectId, bob.objectId))[:2] == (403, 403)
        as_ann.publish_status(
            models.PublishStatusRequest.model_validate(
                {
                    "data": {"message": "hello followers"},
                    "query": {
                        "className": "_Follower",
                        "keys": "follower",
                        "where": {
                            "user": {
                                "__type": "Pointer",
                                "className": "_User",
                                "objectId": ann.objectId,
                            }
                        },
                    },
                }
            )
        )
        bob_ptr = models.Pointer.model_validate(
            {"__type": "Pointer", "className": "_User", "objectId": bob.objectId}
        )
        assert as_bob.count_inbox_statuses(owner=bob_ptr) == models.StatusCount(total=1, unread=1)
        inbox = as_bob.list_inbox_statuses(owner=bob_ptr)
        assert inbox.results[0].messageId == 1 and extra(inbox.results[0]) == {
            "message": "hello followers"
        }
        assert as_bob.count_inbox_statuses(owner=bob_ptr).unread == 0
        request = as_ann.create_friendship_request(
            models.FriendshipRequestCreate.model_validate(
                {
                    "user": {"__type": "Pointer", "className": "_User", "objectId": ann.objectId},
                    "friend": {"__type": "Pointer", "className": "_User", "objectId": bob.objectId},
                }
            )
        )
        assert error_of(lambda: as_ann.accept_friendship_request(request.objectId))[:2] == (
            403,
            403,
        )
        as_bob.accept_friendship_request(request.objectId)
        friends = as_ann.list_followees(ann.objectId, where=where({"friendStatus": True}))
        assert [f.followee.objectId for f in friends.results if f.followee] == [bob.objectId]


def test_installations_and_push(lc: Client, master: Client) -> None:
    lc.create_installation(
        models.CreateInstallationRequest(deviceType="ios", deviceToken="t1", channels=["news"])
    )
    lc.create_installation(
        models.CreateInstallationRequest(
            deviceType="android", installationId="i1", channels=["news", "x"]
        )
    )
    lc.create_installation(
        models.CreateInstallationRequest(deviceType="android", installationId="i2")
    )
    again = lc.create_installation(
        models.CreateInstallationRequest(deviceType="ios", deviceToken="t1", badge=3)
    )
    assert (
        len(master.query_installations().results) == 3
        and master.get_installation(again.objectId).badge == 3
    )
    push = models.PushRequest.model_validate({"data": {"alert": "hi"}, "channels": ["news"]})
    assert error_of(lambda: lc.send_push(push))[:2] == (403, 119)
    sent = master.send_push(push)
    record = master.get_push_record(sent.objectId)
    assert record.devices == 2 and record.status == "done" and record.msg is not None
    later = models.PushRequest.model_validate(
        {"data": {"alert": "later"}, "push_time": "2099-01-01T00:00:00Z"}
    )
    master.send_push(later)
    assert len(master.list_scheduled_pushes().results) == 1


def test_unknown_app_gets_no_500_and_registry_app_works() -> None:
    app = emulators.create_app(
        "leancloud", emulators.load("leancloud", environ={}), Store(":memory:")
    )
    with client(app) as lc:
        assert lc.get_server_date().field__type == "Date"
        result = lc.run_cloud_function("hello", models.CloudFunctionParams.model_validate({"a": 1}))
        assert result.result == {"a": 1}
    raw = TestClient(app)
    headers = {"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY, "Content-Type": "application/json"}
    for method, path, body in (
        ("POST", "/1.1/classes/Post", "[1]"),
        ("POST", "/1.1/classes/Post", '{"a": NaN}'),
        ("PUT", "/1.1/classes/Post/x", '{"n": {"__op": "Nope"}}'),
        ("GET", "/1.1/classes/Post?where=%7Bbad", None),
        ("POST", "/1.1/batch", '{"requests": [{"method": "POST", "path": "/nope"}]}'),
        ("GET", "/1.1/cloudQuery?cql=select", None),
    ):
        response = raw.request(method, path, content=body, headers=headers)
        assert response.status_code < 500, (path, response.text)
        answer = response.json()
        assert isinstance(answer, list) or set(answer) == {"code", "error"}, answer


def test_data_survives_a_new_app_on_the_same_sqlite_file(tmp_path: Path) -> None:
    path = str(tmp_path / "db.sqlite3")
    with client(make_app(Store(path))) as lc:
        user = sign_up(lc, "kim")
        post = lc.create_object("Post", fields(title="kept"))
    with client(make_app(Store(path))) as lc:
        assert extra(lc.get_object("Post", post.objectId)) == {"title": "kept"}
        assert (
            lc.log_in(models.LoginRequest(username="kim", password="secret")).sessionToken
            == user.sessionToken
        )


def test_what_the_sdks_send_for_prefix_queries_and_destroy_all(app: Any, lc: Client) -> None:
    raw = TestClient(app)
    headers = {"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY}
    ids = [lc.create_object("Post", fields(title=t)).objectId for t in ("a.b", "axb", "c")]
    # startsWith/endsWith quote with PCRE's \Q...\E, which the server's regexes accept
    for regex, expected in (("^\\Qa.b\\E", [ids[0]]), ("\\Qb\\E$", ids[:2]), ("^\\Qa", ids[:2])):
        found = raw.get(
            "/1.1/classes/Post",
            params={"where": json.dumps({"title": {"$regex": regex}})},
            headers=headers,
        ).json()["results"]
        assert sorted(o["objectId"] for o in found) == sorted(expected), regex
    # AV.Object.destroyAll: one DELETE of `id1,id2` per class inside a batch
    batch = {"requests": [{"method": "DELETE", "path": f"/1.1/classes/Post/{ids[0]},{ids[1]}"}]}
    assert raw.post("/1.1/batch", json=batch, headers=headers).json() == [{"success": {}}]
    left = raw.get("/1.1/classes/Post", headers=headers).json()["results"]
    assert [o["objectId"] for o in left] == [ids[2]]
    assert raw.delete(f"/1.1/classes/Post/{ids[2]},{ids[0]}", headers=headers).json() == {}
    assert raw.get("/1.1/classes/Post", headers=headers).json()["results"] == []
