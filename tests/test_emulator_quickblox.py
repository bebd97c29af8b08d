"""Scenario tests of the QuickBlox emulator: the generated client against the app, in process."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

import emulators
from emulators.quickblox import QuickbloxEmulator, build_app
from emulators.store import Store
from generated.quickblox import models
from generated.quickblox._client_runtime import body_signature
from generated.quickblox.client import ApiError, Client

CONFIG = emulators.load("quickblox")
SIGNED = {"algorithm": "hmac-sha1", "field": "signature"}


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_app(
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    session_ttl: float = 0.0,
    **options: str,
) -> Any:
    config = dataclasses.replace(
        emulators.load("quickblox", session_ttl=session_ttl), options=dict(options)
    )
    return build_app(QuickbloxEmulator(config, store or Store(":memory:"), clock))


def connect(app: Any, **credentials: Any) -> Client:
    return Client(http_client=TestClient(app), auth_secret=CONFIG["auth_secret"], **credentials)


def app_session(app: Any) -> Client:
    client = connect(app)
    client.create_session(
        models.CreateSessionRequest(
            application_id=CONFIG["app_id"],
            auth_key=CONFIG["auth_key"],
            timestamp=0,
            nonce=0,
            signature="",
        )
    )
    return client


def sign_up(app: Any, login: str, **fields: Any) -> int:
    client = app_session(app)
    user = client.create_user(
        models.CreateUserRequest(user=models.NewUser(login=login, password="password1", **fields))
    )
    assert user.user.id is not None
    return user.user.id


def user_session(app: Any, login: str, password: str = "password1") -> Client:
    client = connect(app)
    client.create_session(
        models.CreateSessionRequest(
            application_id=CONFIG["app_id"],
            auth_key=CONFIG["auth_key"],
            timestamp=0,
            nonce=0,
            signature="",
            user=models.SessionUserCredentials(login=login, password=password),
        )
    )
    return client


def error_of(call: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def errors(call: Any) -> tuple[int, Any]:
    problem = error_of(call)
    return problem.status, problem.raw


def raw_session(http: TestClient, **fields: Any) -> Any:
    body = {"application_id": CONFIG["app_id"], "auth_key": CONFIG["auth_key"], **fields}
    body.setdefault("timestamp", int(time.time()))
    body.setdefault("nonce", 1234)
    if "signature" not in body:
        body["signature"] = body_signature(body, SIGNED, CONFIG["auth_secret"])
    return http.post("/session.json", json=body)


# -- sessions ------------------------------------------------------------------------------------
def test_signup_login_and_the_rights_of_each_session_kind() -> None:
    app = make_app()
    qb = app_session(app)
    session = qb.get_session().session
    assert session.user_id == 0 and len(session.token) == 40
    assert qb.last_response is not None
    assert qb.last_response.headers["QB-Token-ExpirationDate"].endswith(" UTC")

    created = qb.create_user(
        models.CreateUserRequest(
            user=models.NewUser(
                login="ann  ",
                password="password1",
                email="ann@example.com",
                full_name="Ann",
                tag_list="beta, android",
            )
        )
    ).user
    assert created.login == "ann" and created.user_tags == "beta,android"
    assert qb.last_response is not None and qb.last_response.status_code == 201

    dup = models.CreateUserRequest(
        user=models.NewUser(login="ANN", password="password1", email="ANN@example.com")
    )
    assert errors(lambda: qb.create_user(dup)) == (
        422,
        {"errors": {"login": ["has already been taken"], "email": ["has already been taken"]}},
    )
    short = models.CreateUserRequest(user=models.NewUser(login="bo", password="short"))
    status, body = errors(lambda: qb.create_user(short))
    assert status == 422 and body["errors"]["password"][0].startswith("is too short")

    group = models.CreateDialogRequest(type=1, name="lobby")
    assert errors(lambda: qb.create_dialog(group)) == (
        403,
        {"errors": {"base": ["Forbidden. Need user."]}},
    )

    me = qb.log_in(models.LoginRequest(login="ann", password="password1")).user
    assert me.id == created.id and qb.get_session().session.user_id == created.id
    assert qb.create_dialog(group).name == "lobby"

    qb.log_out()
    assert qb.get_session().session.user_id == 0
    assert errors(lambda: qb.create_dialog(group))[0] == 403
    assert errors(lambda: qb.log_in(models.LoginRequest(login="ann", password="nope"))) == (
        401,
        {"errors": ["Unauthorized"]},
    )
    qb.delete_session()
    qb.set_credential("qbToken", session.token)
    assert errors(qb.get_session) == (
        401,
        {"errors": {"base": ["Required session does not exist"]}},
    )


def test_session_creation_checks_keys_signature_timestamp_and_nonce() -> None:
    app = make_app()
    sign_up(app, "bob")
    http = TestClient(app)
    ok = raw_session(http, nonce=777, user={"login": "bob", "password": "password1"})
    assert ok.status_code == 201, ok.text
    assert ok.json()["session"]["user_id"] > 0 and ok.json()["session"]["nonce"] == 777
    assert "qb-token-expirationdate" in ok.headers

    def base_error(response: Any) -> tuple[int, str]:
        return response.status_code, response.json()["errors"]["base"][0]

    ts = ok.json()["session"]["ts"]
    replay = raw_session(
        http, nonce=777, timestamp=ts, user={"login": "bob", "password": "password1"}
    )
    assert base_error(replay) == (422, "Timestamp and nonce pair has already been used")
    assert base_error(raw_session(http, signature="0" * 40)) == (422, "Unexpected signature")
    assert base_error(raw_session(http, auth_key="other")) == (422, "Unexpected auth_key")
    assert base_error(raw_session(http, timestamp=int(time.time()) - 7200)) == (
        422,
        "Bad timestamp",
    )
    wrong = raw_session(http, nonce=5, user={"login": "bob", "password": "wrong-pass"})
    assert (wrong.status_code, wrong.json()) == (401, {"errors": ["Unauthorized"]})
    # form-encoded, as the JS SDK sends it, with the nested `user[login]` pairs signed
    form = {
        "application_id": CONFIG["app_id"],
        "auth_key": CONFIG["auth_key"],
        "nonce": "99",
        "timestamp": str(int(time.time())),
        "user[login]": "bob",
        "user[password]": "password1",
    }
    message = "&".join(sorted(f"{k}={v}" for k, v in form.items()))
    form["signature"] = hmac.new(
        CONFIG["auth_secret"].encode(), message.encode(), hashlib.sha1
    ).hexdigest()
    assert http.post("/session.json", data=form).status_code == 201


def test_token_expires_two_hours_after_the_last_request() -> None:
    clock = Clock()
    app = make_app(clock=clock)
    qb = app_session(app)
    first = qb.last_response
    assert first is not None
    for _ in range(3):  # each request moves the expiry ahead
        clock.advance(7000)
        qb.get_session()
    assert qb.last_response is not None
    assert (
        qb.last_response.headers["QB-Token-ExpirationDate"]
        != first.headers["QB-Token-ExpirationDate"]
    )
    clock.advance(7201)
    assert errors(qb.get_session) == (
        401,
        {"errors": {"base": ["Required session does not exist"]}},
    )

    clock = Clock()
    short = make_app(clock=clock, session_ttl=60)
    quick = app_session(short)
    clock.advance(59)
    quick.get_session()
    clock.advance(61)
    assert errors(quick.get_session)[0] == 401


def test_api_key_on_behalf_of_user_tokens_and_account_settings() -> None:
    app = make_app()
    ann = sign_up(app, "ann")
    admin = connect(app, api_key=CONFIG["account_key"])
    assert admin.get_user(ann).user.login == "ann"
    token = admin.create_user_token(ann)
    as_ann = connect(app, qb_token=token.token)
    assert as_ann.get_session().session.user_id == ann
    on_behalf = connect(app, api_key=CONFIG["account_key"], on_behalf_of=str(ann))
    dialog = on_behalf.create_dialog(models.CreateDialogRequest(type=1, name="news"))
    assert dialog.user_id == ann
    assert errors(lambda: connect(app, api_key="wrong").get_user(ann))[0] == 401
    assert errors(lambda: admin.create_user_token(999))[0] == 404
    settings = connect(app, account_key=CONFIG["account_key"]).get_account_settings()
    assert settings.api_endpoint == "http://testserver"
    assert errors(connect(app, account_key="nope").get_account_settings)[0] == 401


# -- users ---------------------------------------------------------------------------------------
def test_users_list_filters_order_and_paging() -> None:
    app = make_app()
    ids = [
        sign_up(
            app,
            f"user{i}",
            full_name=f"User Number {i}",
            tag_list="odd" if i % 2 else "even",
            phone=f"+3598800000{i}",
        )
        for i in range(1, 6)
    ]
    qb = app_session(app)
    page = qb.list_users(per_page=2, page=2)
    assert (page.current_page, page.per_page, page.total_entries) == (2, 2, 5)
    assert [item.user.id for item in page.items] == ids[2:4]
    found = qb.list_users(filter=[f"number id gt {ids[1]}", "string login in user3,user5,user1"])
    assert [item.user.login for item in found.items] == ["user3", "user5"]
    newest = qb.list_users(order="desc number id", per_page=1).items[0].user
    assert newest.id == ids[-1]
    between = qb.list_users(filter=[f"number id between {ids[1]},{ids[3]}"])
    assert between.total_entries == 3
    assert [u.user.id for u in qb.iter_list_users(per_page=2)] == ids
    assert qb.list_users_by_tags(tags="odd").total_entries == 3
    assert qb.list_users_by_full_name(full_name="number 4").items[0].user.login == "user4"
    assert qb.get_user_by_login(login="USER2").user.id == ids[1]
    assert qb.get_user_by_phone(phone="+35988000003").user.id == ids[2]
    assert errors(lambda: qb.get_user(123))[0] == 404


def test_users_update_and_delete_rights() -> None:
    app = make_app()
    ann, bob = sign_up(app, "ann"), sign_up(app, "bob")
    qb = user_session(app, "ann")
    changed = qb.update_user(
        ann, models.UpdateUserRequest(user=models.UserChanges(full_name="Ann A"))
    )
    assert changed.user.full_name == "Ann A"
    assert (
        errors(
            lambda: qb.update_user(
                bob, models.UpdateUserRequest(user=models.UserChanges(full_name="x"))
            )
        )[0]
        == 403
    )
    new_pw = models.UpdateUserRequest(user=models.UserChanges(password="password2"))
    assert errors(lambda: qb.update_user(ann, new_pw)) == (
        422,
        {"errors": {"old_password": ["can't be blank"]}},
    )
    qb.update_user(
        ann,
        models.UpdateUserRequest(
            user=models.UserChanges(password="password2", old_password="password1")
        ),
    )
    user_session(app, "ann", "password2")
    taken = models.UpdateUserRequest(user=models.UserChanges(login="bob"))
    assert errors(lambda: qb.update_user(ann, taken))[1] == {
        "errors": {"login": ["has already been taken"]}
    }
    assert errors(lambda: qb.delete_user(bob))[0] == 403
    shared = qb.create_dialog(models.CreateDialogRequest(type=2, name="d", occupants_ids=str(bob)))
    qb.delete_user(ann)
    expired = error_of(qb.get_session)
    assert expired.status == 401 and "www-authenticate" in expired.response.headers
    assert user_session(app, "bob").get_dialog(shared.field_id).occupants_ids == [bob]


# -- chat ----------------------------------------------------------------------------------------
def chat_trio(app: Any) -> tuple[dict[str, int], dict[str, Client]]:
    ids = {name: sign_up(app, name, full_name=name.title()) for name in ("ann", "bob", "cid")}
    return ids, {name: user_session(app, name) for name in ids}


def test_group_chat_messages_read_marks_and_unread_counts() -> None:
    app = make_app()
    ids, qb = chat_trio(app)
    group = qb["ann"].create_dialog(
        models.CreateDialogRequest(type=2, name="team", occupants_ids=f"{ids['bob']}, {ids['cid']}")
    )
    assert (
        len(group.field_id) == 24
        and group.xmpp_room_jid == f"1_{group.field_id}@muc.chat.quickblox.com"
    )
    assert group.occupants_ids == [ids["ann"], ids["bob"], ids["cid"]]
    sent = [
        qb["ann"].create_message(
            models.CreateMessageRequest(
                chat_dialog_id=group.field_id, message=f"hello {i}", priority="high"
            )
        )
        for i in range(3)
    ]
    assert sent[0].read_ids == [ids["ann"]] and isinstance(sent[0].date_sent, int)
    assert sent[0].model_extra == {"priority": "high"}
    unread = qb["bob"].get_unread_messages_count(chat_dialog_ids=group.field_id)
    assert unread.total == 3 and unread.model_extra == {group.field_id: 3}
    listed = qb["bob"].list_dialogs()
    assert listed.items[0].unread_messages_count == 3 and listed.items[0].last_message == "hello 2"

    page = qb["bob"].list_messages(chat_dialog_id=group.field_id, limit=2, mark_as_read=0)
    assert [m.message for m in page.items] == ["hello 0", "hello 1"]
    assert qb["bob"].get_unread_messages_count().total == 3
    newest = qb["bob"].list_messages(chat_dialog_id=group.field_id, sort_desc="date_sent", limit=1)
    assert newest.items[0].message == "hello 2" and ids["bob"] in (newest.items[0].read_ids or [])
    assert qb["bob"].get_unread_messages_count().total == 2
    qb["bob"].update_message(
        f"{sent[0].field_id},{sent[1].field_id}",
        models.UpdateMessageRequest(chat_dialog_id=group.field_id, read=1),
    )
    assert qb["bob"].get_unread_messages_count().total == 0
    qb["bob"].update_message(
        sent[1].field_id, models.UpdateMessageRequest(chat_dialog_id=group.field_id, read=0)
    )
    assert qb["bob"].get_unread_messages_count().total == 1

    # edits by the sender only; the dialog's last message follows the edit
    edit = models.UpdateMessageRequest(chat_dialog_id=group.field_id, message="bye")
    assert errors(lambda: qb["bob"].update_message(sent[2].field_id, edit))[0] == 403
    qb["ann"].update_message(sent[2].field_id, edit)
    assert qb["cid"].get_dialog(group.field_id).last_message == "bye"

    # filters in the vendor's syntax, including custom fields, through the raw query string
    http = TestClient(app)
    headers = {"QB-Token": qb["cid"].get_session().session.token}
    found = http.get(
        "/chat/Message.json",
        headers=headers,
        params={
            "chat_dialog_id": group.field_id,
            "message[ctn]": "hello",
            "_id[nin]": sent[0].field_id,
            "priority": "high",
            "mark_as_read": "0",
        },
    ).json()
    assert [m["message"] for m in found["items"]] == ["hello 1"]
    assert (
        "qb-token-expirationdate"
        in http.get("/chat/Dialog.json", headers=headers, params={"type[in]": "2,3"}).headers
    )

    # deleting: for me only, or for everyone by the sender
    result = qb["bob"].delete_messages(f"{sent[0].field_id},{'f' * 24}", force=1)
    assert result.WrongPermissions and result.WrongPermissions.ids == [sent[0].field_id]
    assert result.NotFound and result.NotFound.ids == ["f" * 24]
    qb["bob"].delete_messages(sent[0].field_id)
    assert errors(lambda: qb["bob"].get_message(sent[0].field_id))[0] == 404
    assert qb["cid"].get_message(sent[0].field_id).message == "hello 0"
    qb["ann"].delete_messages(sent[2].field_id, force=1)
    assert qb["cid"].get_dialog(group.field_id).last_message == "hello 1"


def test_private_dialogs_permissions_and_dialog_filters() -> None:
    app = make_app()
    ids, qb = chat_trio(app)
    first = qb["ann"].create_message(
        models.CreateMessageRequest(recipient_id=ids["bob"], message="psst")
    )
    private = qb["bob"].get_dialog(first.chat_dialog_id or "")
    assert private.type == 3 and private.name == "Ann" and private.xmpp_room_jid is None
    again = qb["bob"].create_dialog(
        models.CreateDialogRequest(type=3, occupants_ids=str(ids["ann"]))
    )
    assert again.field_id == private.field_id and again.unread_messages_count == 1
    assert first.recipient_id == ids["bob"]
    assert errors(lambda: qb["cid"].get_dialog(private.field_id)) == (
        403,
        {"errors": {"base": ["You don't have appropriate permissions to perform this operation"]}},
    )
    post = models.CreateMessageRequest(chat_dialog_id=private.field_id, message="me too")
    assert errors(lambda: qb["cid"].create_message(post))[0] == 403
    assert errors(lambda: qb["cid"].get_dialog("0" * 24))[0] == 404

    names = ["alpha", "beta", "gamma"]
    for name in names:
        qb["ann"].create_dialog(
            models.CreateDialogRequest(type=2, name=name, occupants_ids=str(ids["cid"]))
        )
    mine = qb["ann"].list_dialogs(type=2, sort_asc="name")
    assert [d.name for d in mine.items] == names and mine.total_entries == 3
    assert [d.name for d in qb["ann"].list_dialogs(name_ctn="amm").items] == ["gamma"]
    window = qb["ann"].list_dialogs(sort_asc="name", skip=1, limit=1)
    assert (window.skip, window.limit, [d.name for d in window.items]) == (
        1,
        1,
        ["alpha"],
    )  # "Bob" (the private one) first
    assert qb["ann"].list_dialogs(count=1).total_entries == 4
    every = [d.name for d in qb["ann"].iter_list_dialogs(limit=2, sort_asc="name")]
    assert every == ["Bob", "alpha", "beta", "gamma"]
    invalid = models.CreateDialogRequest(type=2, name="x", occupants_ids="99999")
    assert errors(lambda: qb["ann"].create_dialog(invalid))[0] == 422


def test_dialog_occupants_admins_and_deletes() -> None:
    app = make_app()
    ids, qb = chat_trio(app)
    dialog = qb["ann"].create_dialog(
        models.CreateDialogRequest(type=2, name="t", occupants_ids=str(ids["bob"]))
    )
    did = dialog.field_id
    added = qb["bob"].update_dialog(
        did,
        models.UpdateDialogRequest(push_all=models.DialogArrayChange(occupants_ids=[ids["cid"]])),
    )
    assert added.occupants_ids == [ids["ann"], ids["bob"], ids["cid"]]
    kick = models.UpdateDialogRequest(pull_all=models.DialogArrayChange(occupants_ids=[ids["cid"]]))
    assert errors(lambda: qb["bob"].update_dialog(did, kick))[0] == 403
    promote = models.UpdateDialogRequest(push_all=models.DialogArrayChange(admin_ids=[ids["bob"]]))
    assert qb["ann"].update_dialog(did, promote).admin_ids == [ids["bob"]]
    assert ids["cid"] not in (qb["bob"].update_dialog(did, kick).occupants_ids or [])
    assert qb["ann"].get_dialog_notifications(did).notifications.enabled == 1
    qb["ann"].update_dialog_notifications(did, models.UpdateDialogNotificationsRequest(enabled=0))
    assert qb["ann"].get_dialog_notifications(did).notifications.enabled == 0

    # one id: an empty 200 body, as the vendor sends it (the generated client expects a body)
    token = qb["bob"].get_session().session.token
    left = TestClient(app).delete(f"/chat/Dialog/{did}.json", headers={"QB-Token": token})
    assert (left.status_code, left.content) == (200, b"")  # bob leaves the group
    assert qb["ann"].get_dialog(did).occupants_ids == [ids["ann"]]
    assert errors(lambda: qb["bob"].get_dialog(did))[0] == 403
    other = qb["bob"].create_dialog(
        models.CreateDialogRequest(type=2, name="u", occupants_ids=str(ids["ann"]))
    )
    outcome = qb["ann"].delete_dialogs(f"{did},{other.field_id},{'a' * 24}", force=1)
    assert outcome.SuccessfullyDeleted and outcome.SuccessfullyDeleted.ids == [did]
    assert outcome.WrongPermissions and outcome.WrongPermissions.ids == [other.field_id]
    assert outcome.NotFound and outcome.NotFound.ids == ["a" * 24]
    assert errors(lambda: qb["ann"].get_dialog(did))[0] == 404

    bulk = qb["bob"].add_dialogs_occupants(
        models.BulkOccupantsRequest(
            users_ids=[ids["cid"], 424242], dialogs_ids=[other.field_id, "b" * 24]
        )
    )
    assert bulk.users and bulk.users.NotFound == [424242]
    assert bulk.dialogs and bulk.dialogs.SuccessfullyUpdated == [other.field_id]
    assert ids["cid"] in (qb["cid"].get_dialog(other.field_id).occupants_ids or [])


# -- custom objects ------------------------------------------------------------------------------
def test_custom_objects_records_queries_and_permissions() -> None:
    app = make_app()
    ids, qb = chat_trio(app)
    admin = connect(app, api_key=CONFIG["account_key"])
    klass = admin.create_class(
        models.CreateClassRequest(
            name="Score",
            fields=models.ClassFieldTypes(
                {"score": "Integer", "level": "String", "badges": "String_a", "where": "Location"}
            ),
        )
    )
    assert [f.name for f in klass.custom_fields or []] == ["score", "level", "badges", "where"]
    assert errors(lambda: qb["ann"].create_class(models.CreateClassRequest(name="Nope")))[0] == 403

    levels = ["gold", "silver", "gold", "bronze"]
    made = [
        qb["ann"].create_record(
            "Score",
            models.RecordInput(
                score=100 * (i + 1), level=level, badges=["early"] if i % 2 else ["early", "fast"]
            ),
        )
        for i, level in enumerate(levels)
    ]
    first = made[0]
    assert first.field_id and len(first.field_id) == 24 and isinstance(first.created_at, int)
    assert first.user_id == ids["ann"] and first.model_extra and first.model_extra["score"] == 100
    assert (
        first.permissions
        and first.permissions.update
        and first.permissions.update.access == "owner"
    )
    bad = models.RecordInput(score="many")
    assert errors(lambda: qb["ann"].create_record("Score", bad)) == (
        422,
        {"errors": {"score": ["is not a number"]}},
    )
    assert errors(lambda: qb["ann"].create_record("Nope", models.RecordInput()))[0] == 404

    http = TestClient(app)
    headers = {"QB-Token": qb["bob"].get_session().session.token}

    def search(**params: Any) -> Any:
        response = http.get("/data/Score.json", headers=headers, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    assert [r["score"] for r in search(**{"score[gt]": "150", "level": "gold"})["items"]] == [300]
    assert [
        r["score"] for r in search(**{"level[in]": "silver,bronze", "sort_desc": "score"})["items"]
    ] == [400, 200]
    assert len(search(**{"badges[all]": "early,fast"})["items"]) == 2
    assert [
        r["score"] for r in search(**{"score[or]": "100,400", "level[or]": "silver"})["items"]
    ] == [100, 200, 400]
    assert search(limit=1, skip=1)["items"][0]["_id"] == made[1].field_id
    assert search(limit=-1)["items"][0]["_id"] == made[-1].field_id
    trimmed = search(**{"output[include]": "score", "level": "bronze"})["items"]
    assert trimmed == [{"_id": made[3].field_id, "score": 400}]
    sums = search(**{"score[calc]": "sum", "group_by": "level"})["items"]
    assert {row["level"]: row["score_sum"] for row in sums} == {
        "gold": 400,
        "silver": 200,
        "bronze": 400,
    }
    assert qb["bob"].list_records("Score", created_at_gte=0, limit=2).limit == 2

    # owner-only update by default; operators on arrays and numbers
    change = models.RecordUpdate(
        inc=models.FieldIncrements({"score": 5}), push=models.FieldArrays({"badges": ["gold-star"]})
    )
    assert errors(lambda: qb["bob"].update_record("Score", first.field_id, change))[0] == 403
    updated = qb["ann"].update_record("Score", first.field_id, change)
    assert updated.model_extra and updated.model_extra["score"] == 105
    assert updated.model_extra["badges"] == ["early", "fast", "gold-star"]
    pulled = qb["ann"].update_record(
        "Score",
        first.field_id,
        models.RecordUpdate(pull=models.FieldValues(badges="fast"), level="platinum"),
    )
    assert pulled.model_extra and pulled.model_extra["badges"] == ["early", "gold-star"]

    shared = qb["ann"].create_record(
        "Score",
        models.RecordInput(
            score=1,
            permissions=models.RecordPermissionsInput(
                update=models.PermissionInput(access="open_for_users_ids", ids=str(ids["bob"]))
            ),
        ),
    )
    assert (
        qb["bob"]
        .update_record("Score", shared.field_id or "", models.RecordUpdate(level="x"))
        .model_extra
    )
    fetched = qb["bob"].get_records("Score", f"{first.field_id},{shared.field_id}")
    assert isinstance(fetched.root, models.RecordList) and len(fetched.root.items) == 2

    by_criteria = qb["ann"].update_records_by_criteria(
        "Score",
        models.UpdateByCriteriaRequest(
            search_criteria=models.SearchCriteria(level="gold"),
            inc=models.FieldIncrements({"score": 1}),
        ),
    )
    assert by_criteria.total_found == 1 and by_criteria.items and by_criteria.items[0].model_extra
    assert by_criteria.items[0].model_extra["score"] == 301

    bulk = qb["cid"].create_records(
        "Score",
        models.MultiRecordsRequest(
            record=models.RecordsByIndex(
                {"1": models.RecordInput(score=7), "2": models.RecordInput(score=8)}
            )
        ),
    )
    assert [r.model_extra["score"] for r in bulk.items or [] if r.model_extra] == [7, 8]
    multi = qb["cid"].update_records(
        "Score",
        models.MultiRecordsRequest(
            record=models.RecordsByIndex(
                {
                    "1": models.RecordInput(_id=(bulk.items or [])[0].field_id, score=70),
                    "2": models.RecordInput(_id=first.field_id, score=0),
                }
            )
        ),
    )
    assert multi.not_found and multi.not_found.ids == [first.field_id]

    child = qb["ann"].create_record("Score", models.RecordInput(score=2, _parent_id=first.field_id))
    http.delete(
        f"/data/Score/{first.field_id}.json",
        headers={"QB-Token": qb["ann"].get_session().session.token},
    )
    assert errors(lambda: qb["ann"].get_records("Score", child.field_id or ""))[0] == 404
    gone = http.request(
        "DELETE",
        "/data/Score/by_criteria.json",
        headers={"QB-Token": qb["cid"].get_session().session.token},
        params={"score[lt]": "100"},
    )
    assert gone.json() == {
        "total_deleted": 2
    }  # 70 and 8; ann's record with 1 is not cid's to delete


# -- content -------------------------------------------------------------------------------------
def test_blob_upload_complete_and_download() -> None:
    app = make_app()
    sign_up(app, "ann")
    qb = user_session(app, "ann")
    created = qb.create_blob(
        models.CreateBlobRequest(blob=models.NewBlob(content_type="text/plain", name="a.txt"))
    )
    blob = created.blob
    assert blob.id and blob.blob_object_access and blob.blob_object_access.params
    ticket = urlsplit(blob.blob_object_access.params)
    assert (
        f"{ticket.scheme}://{ticket.netloc}{ticket.path}"
        == f"http://testserver/blobs/{blob.id}/upload/"
    )
    fields = dict(parse_qsl(ticket.query))
    form = models.BlobUploadForm.model_validate({**fields, "file": b"hello blob"})
    bad = models.BlobUploadForm.model_validate({**fields, "policy": "x", "file": b"no"})
    assert errors(lambda: qb.upload_blob_file(blob.id or 0, bad))[0] == 403
    qb.upload_blob_file(blob.id, form)
    qb.complete_blob(blob.id, models.CompleteBlobRequest(blob=models.BlobSize(size=10)))
    info = qb.get_blob(str(blob.id)).blob
    assert (info.blob_status, info.size, info.public) == ("complete", 10, False)

    http = TestClient(app)
    assert http.get(f"/blobs/{blob.uid}.json").status_code == 401
    token = qb.get_session().session.token
    redirect = http.get(f"/blobs/{blob.uid}.json", params={"token": token}, follow_redirects=False)
    assert redirect.status_code == 302
    downloaded = http.get(redirect.headers["location"])
    assert downloaded.content == b"hello blob" and downloaded.headers["content-type"].startswith(
        "text/plain"
    )
    assert http.get(redirect.headers["location"].split("?")[0]).status_code == 403
    assert (
        http.get(f"/blobs/{blob.id}/download.json", headers={"QB-Token": token}).content
        == b"hello blob"
    )
    assert qb.list_blobs().total_entries == 1
    qb.delete_blob(blob.id)
    assert errors(lambda: qb.get_blob(str(blob.id)))[0] == 404


# -- push, address book, AI ----------------------------------------------------------------------
def test_push_subscriptions_events_and_address_book() -> None:
    app = make_app()
    ids, qb = chat_trio(app)
    assert errors(qb["bob"].list_subscriptions)[0] == 404
    subs = qb["bob"].create_subscription(
        models.CreateSubscriptionRequest(
            notification_channel="gcm",
            push_token=models.PushTokenInput(
                environment="production", client_identification_sequence="tok"
            ),
            device=models.DeviceInput(platform="android", udid="dev-1"),
        )
    )
    assert (
        len(subs) == 1
        and subs[0].subscription.device
        and subs[0].subscription.device.udid == "dev-1"
    )
    event = (
        qb["ann"]
        .create_event(
            models.CreateEventRequest(
                event=models.NewEvent(
                    notification_type="push",
                    environment="production",
                    message="aGVsbG8=",
                    user=models.EventUserSelector(ids=f"{ids['bob']},{ids['cid']}"),
                )
            )
        )
        .event
    )
    assert event.event_type == "one_shot" and event.occured_count == 1 and event.active is False
    status = qb["ann"].get_event_status(event.id or 0)
    assert status.model_extra and status.model_extra["delivered"] == 1
    assert qb["ann"].list_events().total_entries == 1
    assert errors(lambda: qb["bob"].get_event(event.id or 0))[0] == 404

    empty = TestClient(app).get(
        "/address_book.json", headers={"QB-Token": qb["ann"].get_session().session.token}
    )
    assert (empty.status_code, empty.json()) == (404, {"errors": ["Empty address book"]})
    qb["ann"].update_user(
        ids["ann"], models.UpdateUserRequest(user=models.UserChanges(phone="+359880001111"))
    )
    result = qb["bob"].upload_address_book(
        models.UploadAddressBookRequest(
            contacts=[
                models.ContactInput(name="Ann", phone="+359880001111"),
                models.ContactInput(name="x", phone="1"),
            ]
        )
    )
    assert (result.created, result.rejected and list(result.rejected.root)) == (1, ["1"])
    assert [c.name for c in qb["bob"].get_address_book()] == ["Ann"]
    registered = qb["bob"].list_registered_users(compact=1)
    assert registered.items[0].user.id == ids["ann"] and registered.items[0].user.login is None


def test_ai_extensions_stand_ins_and_the_disabled_answer() -> None:
    off = make_app(ai="off")
    sign_up(off, "ann")
    request = models.AiTranslateRequest(smart_chat_assistant_id="a1", text="hola")
    assert errors(lambda: user_session(off, "ann").ai_translate(request)) == (
        405,
        {"errors": ["AI Translate is disabled"]},
    )
    on = make_app()
    sign_up(on, "ann")
    qb = user_session(on, "ann")
    assert qb.ai_translate(request).answer == "hola"
    dialog = qb.create_dialog(models.CreateDialogRequest(type=1, name="pub"))
    summary = models.AiSummarizeRequest(smart_chat_assistant_id="a1", dialog_id=dialog.field_id)
    assert qb.ai_summarize(summary).summary == "Chat is empty."


# -- storage and robustness ----------------------------------------------------------------------
def test_state_survives_a_new_app_on_the_same_sqlite_file(tmp_path: Any) -> None:
    path = str(tmp_path / "db.sqlite3")
    first = make_app(store=Store(path))
    ann = sign_up(first, "ann")
    qb = user_session(first, "ann")
    dialog = qb.create_dialog(models.CreateDialogRequest(type=1, name="kept"))
    qb.create_message(
        models.CreateMessageRequest(chat_dialog_id=dialog.field_id, message="still here")
    )
    token = qb.get_session().session.token

    second = make_app(store=Store(path))
    again = connect(second, qb_token=token)
    assert again.get_session().session.user_id == ann
    assert again.list_messages(chat_dialog_id=dialog.field_id).items[0].message == "still here"


def test_malformed_requests_get_vendor_errors_not_crashes() -> None:
    app = make_app()
    sign_up(app, "ann")
    http = TestClient(app)
    token = user_session(app, "ann").get_session().session.token
    h = {"QB-Token": token}
    cases = [
        http.post("/session.json", content=b"{", headers={"Content-Type": "application/json"}),
        http.post("/session.json", json={"application_id": "x"}),
        http.get("/users.json", headers={"QB-Token": "nope"}),
        http.get(
            "/users.json", headers=h, params={"filter[]": "number id zz", "order": "sideways"}
        ),
        http.get("/chat/Message.json", headers=h, params={"chat_dialog_id": "zzz", "x[[": "1"}),
        http.post(
            "/chat/Dialog.json", headers=h, json={"type": 2, "name": "n", "occupants_ids": "a,b"}
        ),
        http.post("/chat/Message.json", headers=h, json={"message": "no dialog"}),
        http.put(
            "/chat/Message/abc.json", headers=h, json={"chat_dialog_id": "x", "read": "maybe"}
        ),
        http.get("/data/Missing.json", headers=h, params={"a[near]": "x"}),
        http.delete("/data/Missing/by_criteria.json", headers=h),
        http.get("/blobs/zzz.json"),
        http.post("/blobs/1/upload/", files={"file": b"x"}, data={"key": "k"}),
        http.get("/_storage/blobs/none"),
    ]
    for response in cases:
        assert response.status_code < 500, (response.request.url, response.text)
        if response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
            assert "errors" in response.json(), response.text
    assert json.loads(cases[2].text) == {"errors": {"base": ["Required session does not exist"]}}


def test_classic_paths_answer_without_their_json_extension() -> None:
    app = make_app()
    sign_up(app, "ann")
    qb = user_session(app, "ann")
    token = qb.get_session().session.token
    http = TestClient(app)
    me = http.get("/session", headers={"QB-Token": token})
    assert me.status_code == 200 and me.json()["session"]["token"] == token
    assert http.get("/users", headers={"QB-Token": token}).json()["total_entries"] == 1
    # what the JS SDK's content.privateUrl builds: /blobs/{uid}?token=..., no extension
    blob = qb.create_blob(
        models.CreateBlobRequest(blob=models.NewBlob(content_type="text/plain", name="a.txt"))
    ).blob
    assert blob.uid and blob.blob_object_access and blob.blob_object_access.params
    ticket = urlsplit(blob.blob_object_access.params)
    qb.upload_blob_file(
        blob.id or 0,
        models.BlobUploadForm.model_validate({**dict(parse_qsl(ticket.query)), "file": b"hi"}),
    )
    qb.complete_blob(blob.id or 0, models.CompleteBlobRequest(blob=models.BlobSize(size=2)))
    assert http.get(f"/blobs/{blob.uid}", params={"token": token}).content == b"hi"
    # paths that never had the extension keep working as they are
    assert http.get("/openapi.json").json()["info"]["title"].startswith("QuickBlox")
