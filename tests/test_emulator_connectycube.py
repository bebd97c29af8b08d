"""The ConnectyCube emulator, driven through the generated client as an application would use it."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

import emulators
from emulators.config import Config
from emulators.connectycube import contract
from emulators.store import Store
from generated.connectycube import models
from generated.connectycube.client import ApiError, Client

# the emulator's clock starts at the real time (signed sessions must be within an hour of it)
T0 = float(int(time.time()))


def day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


@dataclass
class Cube:
    """One emulator in process, a movable clock, and helpers to open clients on it."""

    config: Config
    app: Any
    http: TestClient

    @property
    def emulator(self) -> Any:
        return self.app.state.emulator

    def move(self, seconds: float) -> None:
        now = self.emulator.clock() + seconds
        self.emulator.clock = lambda: now

    def client(self, **kwargs: Any) -> Client:
        kwargs.setdefault("auth_secret", self.config["auth_secret"])
        return Client(http_client=self.http, retries=0, **kwargs)

    def app_session(self, client: Client | None = None) -> Client:
        client = client or self.client()
        client.create_session(
            models.CreateSessionRequest(application_id=1, auth_key=self.config["auth_key"])
        )
        return client

    def sign_up(self, login: str, password: str = "password1", **fields: Any) -> int:
        client = self.client(cb_auth_key=self.config["auth_key"], auth_secret=None)
        user = {"login": login, "password": password, **fields}
        return client.create_user(models.CreateUserRequest.model_validate({"user": user})).user.id

    def login(self, login: str, password: str = "password1") -> Client:
        client = self.client()
        client.create_session(
            models.CreateSessionRequest(
                application_id=1,
                auth_key=self.config["auth_key"],
                user=models.SessionUserCredentials(login=login, password=password),
            )
        )
        return client

    def raw(self, client: Client, method: str, path: str, **kwargs: Any) -> Any:
        """A request outside the client's declared parameters (custom filters), with its token."""
        token = client._core.credentials["cbToken"]
        response = self.http.request(method, path, headers={"CB-Token": token}, **kwargs)
        return response


def conforms(response: httpx.Response) -> None:
    """Every answer has a declared status and, when JSON, the declared schema."""
    response.read()
    request = response.request
    if "json" in response.headers.get("content-type", "") and response.content:
        body = response.json()
    else:
        body = None
    errors = contract.response_errors(request.method, request.url.path, response.status_code, body)
    if body is None:
        errors = [e for e in errors if e.startswith("status")]
    assert not errors, f"{request.method} {request.url.path} -> {response.status_code}: {errors}"


def make(config: Config | None = None, store: Store | None = None) -> Cube:
    config = config or emulators.load("connectycube", environ={})
    app = emulators.create_app("connectycube", config, store or Store(":memory:"))
    http = TestClient(app)
    http.event_hooks["response"].append(conforms)
    cube = Cube(config, app, http)
    cube.emulator.clock = lambda: T0
    return cube


@pytest.fixture
def cube() -> Iterator[Cube]:
    yield make()


def error(call: Any) -> tuple[int, Any]:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value.status, caught.value.raw


# -- sessions ----------------------------------------------------------------------------------


def test_signed_session_user_session_and_destroy(cube: Cube) -> None:
    client = cube.app_session()
    session = client.get_session().session
    assert session.user_id == 0 and session.user is None and len(session.token) == 40
    assert cube.http.get("/session", headers={"CB-Token": session.token}).headers[
        "CB-Token-ExpirationDate"
    ] == datetime.fromtimestamp(T0 + 7200, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

    alice = cube.sign_up("alice", email="alice@example.org", full_name="Alice A")
    user_client = cube.login("alice")
    info = user_client.get_session().session
    assert info.user_id == alice and info.user is not None and info.user.login == "alice"
    assert info.user.last_request_at is not None

    user_client.destroy_session()
    stale = cube.client(cb_token=info.token)
    assert error(stale.get_session) == (
        401,
        {"errors": {"base": ["Required session does not exist"]}},
    )


def test_session_credentials_are_checked(cube: Cube) -> None:
    cube.sign_up("alice")
    assert error(
        lambda: cube.client(auth_secret="not-the-secret").create_session(
            models.CreateSessionRequest(application_id=1, auth_key=cube.config["auth_key"])
        )
    ) == (422, {"errors": ["Unexpected signature"]})
    assert error(
        lambda: cube.client().create_session(
            models.CreateSessionRequest(application_id=1, auth_key="wrong")
        )
    ) == (401, {"errors": ["Unauthorized"]})
    assert error(lambda: cube.login("alice", "bad-password")) == (401, {"errors": ["Unauthorized"]})
    # the signature covers nested fields: a tampered login breaks it
    body = {
        "application_id": 1,
        "auth_key": cube.config["auth_key"],
        "nonce": 5,
        "timestamp": int(T0),
    }
    signed = dict(body, user={"login": "alice", "password": "password1"})
    from generated.connectycube._client_runtime import body_signature

    rule = {"field": "signature"}
    signed["signature"] = body_signature(signed, rule, cube.config["auth_secret"])
    assert cube.http.post("/session", json=signed).status_code == 201
    signed["user"] = {"login": "mallory", "password": "password1"}
    signed["nonce"] = 6
    assert cube.http.post("/session", json=signed).json() == {"errors": ["Unexpected signature"]}
    # without any token
    assert cube.http.get("/chat/Dialog").json() == {"errors": ["Token is required"]}


def test_session_expiry_slides_with_requests(cube: Cube) -> None:
    cube.sign_up("alice")
    client = cube.login("alice")
    cube.move(7000)  # under two hours: still valid, and extended
    client.get_session()
    cube.move(7000)  # 14000 s after login, 7000 s after the last request
    client.get_session()
    cube.move(7201)
    assert error(client.get_session)[0] == 401


def test_configured_ttl_and_guest_sessions() -> None:
    cube = make(emulators.load("connectycube", environ={}, session_ttl=60))
    client = cube.app_session()
    cube.move(61)
    assert error(client.get_session)[1] == {"errors": {"base": ["Required session does not exist"]}}

    cube = make()
    guest = cube.client()
    session = guest.create_session(
        models.CreateSessionRequest(
            application_id=1,
            auth_key=cube.config["auth_key"],
            user=models.SessionUserCredentials(guest="1", full_name="Olof"),
        )
    ).session
    assert session.user is not None and session.user.is_guest and session.user.full_name == "Olof"
    assert len(session.token) == 36 and session.token.isupper()
    cube.move(3 * 3600)  # a guest session is not bound to the two-hour rule
    guest.get_session()
    cube.move(22 * 3600)
    assert error(guest.get_session)[0] == 401


def test_login_upgrades_and_logout_downgrades(cube: Cube) -> None:
    bob = cube.sign_up("bob")
    client = cube.app_session()
    assert error(client.list_dialogs) == (403, {"errors": {"base": ["Forbidden. Need user."]}})
    assert client.login_user(models.LoginRequest(login="bob", password="password1")).user.id == bob
    assert client.list_dialogs().items == []
    client.logout_user()
    assert client.get_session().session.user_id == 0


def test_unknown_users_are_created_on_the_fly_unless_denied(cube: Cube) -> None:
    new = cube.login("newcomer", "password9")
    assert new.get_session().session.user is not None
    strict = make(replace(cube.config, options={"create_user_on_session": "0"}))
    assert error(lambda: strict.login("nobody")) == (401, {"errors": ["Unauthorized"]})


# -- users -------------------------------------------------------------------------------------


def test_sign_up_validation_and_profile_changes(cube: Cube) -> None:
    alice = cube.sign_up("alice", email="alice@example.org", tag_list="ops,beta")
    assert error(lambda: cube.sign_up("ALICE")) == (
        422,
        {"errors": {"login": ["has already been taken"]}},
    )
    assert error(lambda: cube.sign_up("shorty", "short"))[1] == {
        "errors": {"password": ["is too short (minimum is 8 characters)"]}
    }
    bob = cube.sign_up("bob")
    client = cube.login("alice")
    profile = models.UpdateUserRequest(user=models.UserUpdateFields(full_name="Alice B"))
    assert client.update_user(alice, profile).user.full_name == "Alice B"
    assert error(lambda: client.update_user(bob, profile))[0] == 403
    new_password = models.UpdateUserRequest(user=models.UserUpdateFields(password="password2"))
    assert error(lambda: client.update_user(alice, new_password))[1] == {
        "errors": {"old_password": ["can't be blank"]}
    }
    new_password.user.old_password = "password1"
    client.update_user(alice, new_password)
    cube.login("alice", "password2")
    assert client.get_user_by_login(login="alice").user.user_tags == "ops,beta"
    assert [u.user.id for u in client.list_users_by_tags(tags="beta,nothing").items] == [alice]
    assert error(lambda: client.get_user_by_email(email="none@example.org")) == (
        404,
        {"errors": ["The resource wasn't found"]},
    )


def test_search_users_v2_rules(cube: Cube) -> None:
    ids = [cube.sign_up(f"member{i}", full_name=f"Team Member {i}") for i in range(7)]
    client = cube.login("member0")
    page = client.search_users(id_in=ids[:3], sort_desc="id")
    assert [u.id for u in page.items] == ids[2::-1] and page.total_entries == 3
    assert len(client.search_users(full_name_start_with="team").items) == 5  # start_with: 5 max
    assert error(lambda: client.search_users(login_start_with="mem"))[0] == 422
    assert error(lambda: client.search_users(created_at_gt=0))[0] == 422  # no stand-alone field
    found = client.search_users(
        id_in=ids, id_nin=[ids[0]], created_at_gte=int(T0), limit=2, offset=1
    )
    assert [u.id for u in found.items] == ids[2:4] and found.total_entries == 6


def test_legacy_user_list_is_an_application_setting(cube: Cube) -> None:
    cube.sign_up("alice")
    client = cube.login("alice")
    status, body = error(client.list_users)
    assert status == 403 and body["errors"]["base"][0].startswith("Users retrieving forbidden")
    legacy = make(replace(cube.config, options={"list_users_v1": "1"}))
    ids = [legacy.sign_up(name) for name in ("carol", "dave", "erin")]
    client = legacy.login("carol")
    page = client.list_users(
        filter=[f"number id gt {ids[0]}"], order="desc string login", per_page=1
    )
    assert (page.total_entries, [u.user.login for u in page.items]) == (2, ["erin"])


def test_password_reset_and_account_removal(cube: Cube) -> None:
    alice = cube.sign_up("alice", email="alice@example.org")
    client = cube.login("alice")
    client.reset_password(models.ResetPasswordRequest(email="alice@example.org"))
    assert [m["user_id"] for m in cube.emulator.outbox("reset_password_email")] == [alice]
    assert error(lambda: client.reset_password_by_query(email="ghost@example.org"))[0] == 404
    client.delete_user(alice)
    assert error(client.get_session)[0] == 401


# -- chat --------------------------------------------------------------------------------------


def chat_pair(cube: Cube) -> tuple[int, int, Client, Client]:
    alice, bob = cube.sign_up("alice"), cube.sign_up("bob")
    return alice, bob, cube.login("alice"), cube.login("bob")


def test_group_chat_unread_counts_and_read_marks(cube: Cube) -> None:
    alice, bob, a, b = chat_pair(cube)
    dialog = a.create_dialog(models.CreateDialogRequest(type=2, name="Ops", occupants_ids=f"{bob}"))
    assert dialog.occupants_ids == [alice, bob] and dialog.xmpp_room_jid == (
        f"1_{dialog.field_id}@muc.chat.connectycube.com"
    )
    for i in range(3):
        cube.move(1)
        a.create_message(
            models.CreateMessageRequest.model_validate(
                {"chat_dialog_id": dialog.field_id, "message": f"hello {i}", "build": "1.4.2"}
            )
        )
    unread = b.get_unread_messages_count(chat_dialog_ids=dialog.field_id)
    assert unread.total == 3 and unread.model_extra == {dialog.field_id: 3}
    listed = b.list_dialogs().items[0]
    assert listed.unread_messages_count == 3 and listed.last_message == "hello 2"
    assert a.list_dialogs().items[0].last_message_status == "sent"

    page = b.list_messages(chat_dialog_id=dialog.field_id, limit=2, mark_as_read=0)
    assert [m.message for m in page.items] == ["hello 0", "hello 1"]
    assert page.items[0].model_extra == {"build": "1.4.2"}
    assert b.get_unread_messages_count().total == 3  # mark_as_read=0 left them unread
    b.list_messages(chat_dialog_id=dialog.field_id, skip=1)
    assert b.get_unread_messages_count().total == 1
    first = b.list_messages(chat_dialog_id=dialog.field_id, sort_desc="date_sent").items[-1]
    assert bob in first.read_ids and b.get_unread_messages_count().total == 0
    assert a.list_dialogs().items[0].last_message_status == "read"


def test_message_filters_paging_and_edits(cube: Cube) -> None:
    alice, bob, a, b = chat_pair(cube)
    dialog = a.create_dialog(models.CreateDialogRequest(type=2, name="Q", occupants_ids=[bob]))
    sent = []
    for i, (who, text) in enumerate(
        [(a, "apple pie"), (b, "banana"), (a, "cherry pie"), (b, "date")]
    ):
        cube.move(10)
        message = who.create_message(
            models.CreateMessageRequest.model_validate(
                {
                    "chat_dialog_id": dialog.field_id,
                    "message": text,
                    "attachments": {"0": {"type": "image" if i % 2 else "file", "id": str(i)}},
                }
            )
        )
        sent.append(message)
    by = {"chat_dialog_id": dialog.field_id, "mark_as_read": 0}

    def texts(**filters: Any) -> list[str | None]:
        return [m.message for m in a.list_messages(**by, **filters).items]

    assert texts(sender_id=bob) == ["banana", "date"]
    assert texts(message_ctn="pie", sort_desc="date_sent") == ["cherry pie", "apple pie"]
    assert texts(date_sent_gt=sent[1].date_sent, date_sent_lte=sent[2].date_sent) == ["cherry pie"]
    assert texts(id_in=f"{sent[0].field_id},{sent[3].field_id}") == ["apple pie", "date"]
    assert texts(sender_id_ne=alice, attachments_type="image") == ["banana", "date"]
    assert texts(skip=1, limit=2) == ["banana", "cherry pie"]

    a.update_messages(sent[0].field_id, models.UpdateMessageRequest(message="apple tart"))
    assert texts(limit=1) == ["apple tart"]
    assert (
        error(
            lambda: b.update_messages(sent[0].field_id, models.UpdateMessageRequest(message="x"))
        )[0]
        == 403
    )
    b.update_messages(sent[0].field_id, models.UpdateMessageRequest(read="1"))
    assert bob in a.list_messages(**by, limit=1).items[0].read_ids

    # a custom field filter the client does not declare, straight on the wire
    a.create_message(
        models.CreateMessageRequest.model_validate(
            {"chat_dialog_id": dialog.field_id, "message": "tagged", "priority": "high"}
        )
    )
    found = cube.raw(a, "GET", "/chat/Message", params={**by, "priority": "high"}).json()
    assert [m["message"] for m in found["items"]] == ["tagged"]


def test_reactions_deletes_and_permissions(cube: Cube) -> None:
    alice, bob, a, b = chat_pair(cube)
    carol = cube.sign_up("carol")
    c = cube.login("carol")
    dialog = a.create_dialog(models.CreateDialogRequest(type=2, name="R", occupants_ids=[bob]))
    m1 = a.create_message(
        models.CreateMessageRequest.model_validate(
            {"chat_dialog_id": dialog.field_id, "message": "one"}
        )
    )
    m2 = b.create_message(
        models.CreateMessageRequest.model_validate(
            {"chat_dialog_id": dialog.field_id, "message": "two"}
        )
    )
    b.update_message_reactions(m1.field_id, models.UpdateMessageReactionsRequest(add="👍"))
    a.update_message_reactions(m1.field_id, models.UpdateMessageReactionsRequest(add="👍"))
    a.update_message_reactions(
        m1.field_id, models.UpdateMessageReactionsRequest(add="🔥", remove="👍")
    )
    assert a.list_message_reactions(m1.field_id).root == {"👍": [bob], "🔥": [alice]}
    listed = a.list_messages(chat_dialog_id=dialog.field_id).items[0]
    assert listed.reactions is not None and listed.reactions.own == ["🔥"]
    assert listed.reactions.total == {"👍": 1, "🔥": 1}

    assert error(lambda: c.list_messages(chat_dialog_id=dialog.field_id))[0] == 403
    assert (
        error(
            lambda: c.create_message(
                models.CreateMessageRequest.model_validate(
                    {"chat_dialog_id": dialog.field_id, "message": "let me in"}
                )
            )
        )[0]
        == 403
    )
    assert carol not in a.list_dialogs().items[0].occupants_ids

    # bob: own message for everyone, alice's only for himself
    result = b.delete_messages(f"{m1.field_id},{m2.field_id},nope", force=1)
    assert result.SuccessfullyDeleted is not None and result.SuccessfullyDeleted.ids == [
        m2.field_id
    ]
    assert result.WrongPermissions is not None and result.WrongPermissions.ids == [m1.field_id]
    assert result.NotFound is not None and result.NotFound.ids == ["nope"]
    b.delete_messages(m1.field_id)
    assert b.list_messages(chat_dialog_id=dialog.field_id).items == []
    assert [m.message for m in a.list_messages(chat_dialog_id=dialog.field_id).items] == ["one"]
    assert cube.emulator.outbox("xmpp_remove_message")[0]["message_id"] == m2.field_id


def test_occupants_admins_and_dialog_roles(cube: Cube) -> None:
    alice, bob, a, b = chat_pair(cube)
    carol = cube.sign_up("carol")
    c = cube.login("carol")
    dialog = a.create_dialog(models.CreateDialogRequest(type=2, name="Roles", occupants_ids=[bob]))
    push = models.UpdateDialogRequest(push_all=models.DialogMembersChange(occupants_ids=[carol]))
    assert b.update_dialog(dialog.field_id, push).occupants_ids == [alice, bob, carol]
    pull = models.UpdateDialogRequest(pull_all=models.DialogMembersChange(occupants_ids=[carol]))
    assert error(lambda: b.update_dialog(dialog.field_id, pull))[0] == 403  # not an admin
    admins = models.UpdateDialogAdminsRequest(push_all=models.DialogAdminsChange(admins_ids=[bob]))
    assert error(lambda: b.update_dialog_admins(dialog.field_id, admins))[0] == 403  # not owner
    assert a.update_dialog_admins(dialog.field_id, admins).admins_ids == [bob]
    assert b.update_dialog(dialog.field_id, pull).occupants_ids == [alice, bob]
    assert (
        error(lambda: c.update_dialog(dialog.field_id, models.UpdateDialogRequest(name="x")))[0]
        == 403
    )
    six = models.UpdateDialogAdminsRequest(
        push_all=models.DialogAdminsChange(admins_ids=list(range(100, 105)))
    )
    assert error(lambda: a.update_dialog_admins(dialog.field_id, six))[0] == 422

    # delete for oneself, then for everyone (owner only)
    assert error(lambda: b.delete_dialogs(dialog.field_id, force=1))[0] == 403
    # one id: an empty 200 (several: per-id outcome), which the typed client cannot parse
    gone = cube.raw(b, "DELETE", f"/chat/Dialog/{dialog.field_id}")
    assert (gone.status_code, gone.content) == (200, b"")
    assert b.list_dialogs().items == [] and len(a.list_dialogs().items) == 1
    outcome = a.delete_dialogs(f"{dialog.field_id},{'f' * 24}", force=1)
    assert outcome.SuccessfullyDeleted is not None and outcome.SuccessfullyDeleted.ids == [
        dialog.field_id
    ]
    assert error(lambda: a.update_dialog(dialog.field_id, push)) == (
        404,
        {"errors": ["The resource wasn't found"]},
    )


def test_private_public_and_broadcast_dialogs(cube: Cube) -> None:
    alice, bob, a, b = chat_pair(cube)
    message = a.create_message(
        models.CreateMessageRequest.model_validate({"recipient_id": bob, "message": "psst"})
    )
    private = b.list_dialogs(type=3).items[0]
    assert private.field_id == message.chat_dialog_id and message.recipient_id == bob
    assert private.xmpp_room_jid is None and private.unread_messages_count == 1
    again = a.create_dialog(models.CreateDialogRequest(type=3, occupants_ids=[bob]))
    assert again.field_id == private.field_id  # one private dialog per pair

    public = a.create_dialog(models.CreateDialogRequest(type=4, name="Town square"))
    joined = b.subscribe_to_dialog(public.field_id)
    assert joined.occupants_count == 2 and joined.occupants_ids == []
    assert {u.id for u in b.list_dialog_occupants(public.field_id).items} == {alice, bob}
    b.unsubscribe_from_dialog(public.field_id)
    assert error(lambda: b.subscribe_to_dialog(private.field_id))[0] == 403

    news = a.create_dialog(models.CreateDialogRequest(type=1, name="News"))
    assert {d.field_id for d in b.list_dialogs(type_in="1,3").items} == {
        news.field_id,
        private.field_id,
    }
    assert (
        error(
            lambda: b.create_message(
                models.CreateMessageRequest.model_validate(
                    {"chat_dialog_id": news.field_id, "message": "me too"}
                )
            )
        )[0]
        == 403
    )
    assert b.list_dialogs(count=1).total_entries == 2
    assert [d.name for d in a.list_dialogs(name_ctn="square").items] == ["Town square"]


def test_dialog_extensions_notifications_and_search(cube: Cube) -> None:
    alice, bob, a, b = chat_pair(cube)
    dialog = a.create_dialog(
        models.CreateDialogRequest.model_validate(
            {
                "type": 2,
                "name": "Night party",
                "occupants_ids": [bob],
                "extensions": {"location": "Sun bar", "floor": 3},
                "permissions": {"allow_preview": True},
            }
        )
    )
    assert dialog.extensions is not None and dialog.extensions.model_extra == {
        "location": "Sun bar",
        "floor": "3",
    }
    found = cube.raw(a, "GET", "/chat/Dialog", params={"extensions[location]": "Sun bar"}).json()
    assert [d["_id"] for d in found["items"]] == [dialog.field_id]
    assert (
        cube.raw(a, "GET", "/chat/Dialog", params={"extensions[location]": "Moon"}).json()["items"]
        == []
    )

    assert b.get_dialog_notifications(dialog.field_id).notifications.enabled == 1
    b.update_dialog_notifications(dialog.field_id, models.DialogNotificationsRequest(enabled="0"))
    assert b.get_dialog_notifications(dialog.field_id).notifications.enabled == 0

    a.create_message(
        models.CreateMessageRequest.model_validate(
            {"chat_dialog_id": dialog.field_id, "message": "bring snacks"}
        )
    )
    results = b.search_chat(search_text="snacks").results
    assert [m.message for m in results.messages or []] == ["bring snacks"]
    assert [u.id for u in results.users or []] == [alice]
    assert [d.name for d in b.search_chat(search_text="Night").results.dialogs or []] == [
        "Night party"
    ]
    assert error(lambda: b.search_chat(search_text="abc"))[0] == 422

    # a stranger previews the last messages of a dialog that allows it
    cube.sign_up("carol")
    c = cube.login("carol")
    assert [
        m.message for m in c.list_messages(chat_dialog_id=dialog.field_id, preview=1).items
    ] == ["bring snacks"]


# -- custom objects ----------------------------------------------------------------------------


def test_custom_objects_types_queries_and_paging(cube: Cube) -> None:
    cube.sign_up("alice")
    a = cube.login("alice")
    people = [
        ("Nadine", 41, "Germany"),
        ("Lacey", 25, "Sweden"),
        ("Zach", 33, "India"),
        ("Omar", 29, "India"),
    ]
    first = a.create_custom_object(
        "profile",
        models.CreateCustomObjectRequest.model_validate(
            {"full_name": people[0][0], "age": people[0][1], "country": people[0][2], "tags": ["a"]}
        ),
    )
    assert (
        len(first.field_id) == 24 and first.created_at == int(T0) and first.permissions is not None
    )
    rest = a.create_custom_objects(
        "profile",
        models.CreateCustomObjectsRequest.model_validate(
            {
                "record": {
                    str(i): {"full_name": n, "age": str(age), "country": c}
                    for i, (n, age, c) in enumerate(people[1:], start=1)
                }
            }
        ),
    )
    assert [r.model_extra["age"] for r in rest.items or []] == [25, 33, 29]  # "25" read as Integer
    assert (rest.items or [])[0].model_extra["tags"] is None  # class fields default to null

    def names(**params: Any) -> list[str]:
        body = cube.raw(a, "GET", "/data/profile", params=params).json()
        return [r["full_name"] for r in body["items"]]

    assert names(**{"age[gt]": "28", "sort_asc": "age"}) == ["Omar", "Zach", "Nadine"]
    assert names(**{"country[in]": "India,Sweden", "sort_desc": "full_name"}) == [
        "Zach",
        "Omar",
        "Lacey",
    ]
    assert names(**{"full_name[ctn]": "a", "age[lte]": "33", "skip": "1", "limit": "1"}) == ["Zach"]
    assert names(**{"country[ne]": "India", "limit": "-1"}) == ["Lacey"]
    assert names(**{"country[nin]": "India", "tags[all]": "a"}) == ["Nadine"]
    assert names(**{"age[or]": "25,29", "full_name[ne]": "Omar"}) == ["Lacey"]
    assert a.list_custom_objects("profile", count=1).items_count == 4
    slim = a.list_custom_objects("profile", output_include="full_name", limit=1).items or []
    assert set(slim[0].model_dump(by_alias=True, exclude_unset=True)) == {"_id", "full_name"}
    calc = cube.raw(
        a, "GET", "/data/profile", params={"age[calc]": "avg", "group_by": "country"}
    ).json()
    assert {i["country"]: i["age"] for i in calc["items"]}["India"] == 31


def test_custom_object_update_operators_and_bulk(cube: Cube) -> None:
    cube.sign_up("alice")
    a = cube.login("alice")
    rec = a.create_custom_object(
        "trip",
        models.CreateCustomObjectRequest.model_validate(
            {"title": "Rome", "budget": 1000, "tags": ["x", "y", "z"], "stops": [1, 5, 9]}
        ),
    )
    cube.move(5)
    changed = a.update_custom_object(
        "trip",
        rec.field_id,
        models.UpdateCustomObjectRequest.model_validate(
            {
                "inc": {"budget": -250},
                "push": {"tags": ["w"]},
                "pull": {"stops": {"gt": 4}},
                "add_to_set": {"tags": ["x", "v"]},
                "title": None,
            }
        ),
    )
    extra = changed.model_extra or {}
    assert extra["budget"] == 750 and extra["tags"] == ["x", "y", "z", "w", "v"]
    assert extra["stops"] == [1] and extra["title"] is None and changed.updated_at == int(T0) + 5
    popped = a.update_custom_object(
        "trip",
        rec.field_id,
        models.UpdateCustomObjectRequest.model_validate(
            {"pop": {"tags": "-1"}, "pull_all": {"tags": ["w"]}, "stops": {"0": 7}}
        ),
    )
    assert (popped.model_extra or {})["tags"] == ["y", "z", "v"] and (popped.model_extra or {})[
        "stops"
    ] == [7]

    other = a.create_custom_object(
        "trip", models.CreateCustomObjectRequest.model_validate({"title": "Oslo", "budget": 300})
    )
    result = a.update_custom_objects_by_criteria(
        "trip",
        models.UpdateCustomObjectsByCriteriaRequest.model_validate(
            {"search_criteria": {"budget": {"lt": 500}}, "title": "Cheap"}
        ),
    )
    assert result.total_found == 1 and (result.items[0].model_extra or {})["title"] == "Cheap"
    multi = a.update_custom_objects(
        "trip",
        models.UpdateCustomObjectsRequest.model_validate(
            {
                "record": {
                    "1": {"id": rec.field_id, "budget": 1},
                    "2": {"id": "000000000000000000000000", "budget": 2},
                }
            }
        ),
    )
    assert [(i.model_extra or {})["budget"] for i in multi.items] == [1]
    assert multi.not_found is not None and multi.not_found.ids == ["000000000000000000000000"]
    gone = cube.raw(a, "DELETE", "/data/trip/by_criteria", params={"budget[lt]": "2"})
    assert gone.json() == {"total_deleted": 1}
    assert [r.field_id for r in a.list_custom_objects("trip").items or []] == [other.field_id]


def test_custom_object_permissions_and_relations(cube: Cube) -> None:
    alice, bob = cube.sign_up("alice"), cube.sign_up("bob", tag_list="officers")
    a, b = cube.login("alice"), cube.login("bob")
    secret = a.create_custom_object(
        "note",
        models.CreateCustomObjectRequest.model_validate(
            {"text": "mine", "permissions": {"read": {"access": "owner"}}}
        ),
    )
    shared = a.create_custom_object(
        "note",
        models.CreateCustomObjectRequest.model_validate(
            {
                "text": "ours",
                "permissions": {
                    "update": {"access": "open_for_users_ids", "ids": [str(bob)]},
                    "delete": {"access": "open_for_groups", "groups": ["officers"]},
                },
            }
        ),
    )
    assert secret.user_id == alice and shared.user_id == alice
    assert [r.field_id for r in b.list_custom_objects("note").items or []] == [shared.field_id]
    assert error(lambda: b.get_custom_objects("note", secret.field_id))[0] == 403
    perms = a.get_custom_objects("note", shared.field_id, permissions=1)
    assert isinstance(perms, models.CustomObjectPermissionsResponse)
    assert perms.permissions.update is not None and perms.permissions.update.users_ids == [str(bob)]
    assert error(lambda: b.get_custom_objects("note", shared.field_id, permissions=1))[0] == 403
    edit = models.UpdateCustomObjectRequest.model_validate({"text": "edited by bob"})
    assert (b.update_custom_object("note", shared.field_id, edit).model_extra or {})[
        "text"
    ] == "edited by bob"
    assert error(lambda: b.update_custom_object("note", secret.field_id, edit)) == (
        403,
        {"errors": {"base": ["You don't have permission to update this record"]}},
    )

    child = a.create_custom_object(
        "comment",
        models.CreateCustomObjectRequest.model_validate(
            {"_parent_id": shared.field_id, "body": "child"}
        ),
    )
    assert [
        r.field_id for r in a.list_custom_objects("comment", parent_id=shared.field_id).items or []
    ] == [child.field_id]
    outcome = b.delete_custom_objects("note", f"{secret.field_id},{shared.field_id}")
    assert outcome.SuccessfullyDeleted is not None and outcome.SuccessfullyDeleted.ids == [
        shared.field_id
    ]
    assert outcome.WrongPermissions is not None and outcome.WrongPermissions.ids == [
        secret.field_id
    ]
    assert a.list_custom_objects("comment").items == []  # the child went with its parent
    assert error(lambda: a.get_custom_objects("note", shared.field_id))[0] == 404


# -- files, push, address book -----------------------------------------------------------------


def test_blob_upload_complete_and_download(cube: Cube) -> None:
    cube.sign_up("alice")
    a = cube.login("alice")
    blob = a.create_blob(
        models.CreateBlobRequest(
            blob=models.BlobCreateFields(content_type="application/pdf", name="report.pdf")
        )
    ).blob
    ticket = blob.blob_object_access
    assert ticket is not None and ticket.object_access_type == "Write" and ticket.params is not None
    fields = dict(parse_qsl(urlsplit(str(ticket.params)).query))
    content = bytes(range(256)) * 4
    # the generated client cannot post non-UTF-8 bytes (it JSON-dumps the body first): post the form
    # to the bucket URL as any HTTP client would
    posted = cube.http.post(str(ticket.params).split("?")[0], data=fields, files={"file": content})
    assert posted.status_code == 201 and f"<Key>{blob.uid}</Key>".encode() in posted.content
    text = a.upload_blob_file(
        models.UploadBlobFileRequest.model_validate({**fields, "file": b"plain"})
    )
    assert text.startswith(b"<?xml") and b"<PostResponse>" in text
    cube.http.post("/", data=fields, files={"file": content})
    policy = json.dumps({"expiration": "2099-01-01T00:00:00Z", "conditions": [{"key": blob.uid}]})
    forged = {**fields, "policy": base64.b64encode(policy.encode()).decode()}
    refused = cube.http.post("/", data=forged, files={"file": b"x"})
    assert refused.status_code == 403 and b"<Code>AccessDenied</Code>" in refused.content

    assert cube.http.get(f"/blobs/{blob.uid}/download", follow_redirects=False).status_code == 404
    a.complete_blob_upload(blob.id, models.CompleteBlobUploadRequest(size=len(content)))
    assert a.get_blob(blob.id).blob.blob_status == "complete"
    assert cube.http.get(f"/blobs/{blob.uid}/download", follow_redirects=False).status_code == 403
    token = a._core.credentials["cbToken"]
    redirect = cube.http.get(
        f"/blobs/{blob.uid}/download", headers={"CB-Token": token}, follow_redirects=False
    )
    assert redirect.status_code == 302
    assert cube.http.get(redirect.headers["location"]).content == content
    url = a.get_blob_object(blob.uid, download_url=1).blob.blob_object_access
    assert url is not None and cube.http.get(str(url.download_url)).content == content
    assert a.list_blobs().total_entries == 1
    a.delete_blob(blob.id)
    assert error(lambda: a.get_blob(blob.id))[0] == 404


def test_push_subscriptions_events_and_address_book(cube: Cube) -> None:
    alice, bob = cube.sign_up("alice"), cube.sign_up("bob", phone="+15550100200", tag_list="vip")
    a, b = cube.login("alice"), cube.login("bob")
    sub = b.create_subscription(
        models.CreateSubscriptionRequest.model_validate(
            {
                "notification_channel": "gcm",
                "push_token": {
                    "environment": "production",
                    "client_identification_sequence": "tok",
                },
                "device": {"platform": "android", "udid": "dev-1"},
            }
        )
    )[0].subscription
    assert [s.subscription.id for s in b.list_subscriptions()] == [sub.id]
    assert (
        error(
            lambda: a.create_subscription(
                models.CreateSubscriptionRequest.model_validate(
                    {
                        "notification_channel": "web",
                        "push_token": {"environment": "production"},
                        "device": {"platform": "web", "udid": "dev-2"},
                    }
                )
            )
        )[0]
        == 422
    )
    message = base64.b64encode(json.dumps({"message": "hi"}).encode()).decode()
    event = a.create_event(
        models.CreateEventRequest.model_validate(
            {
                "event": {
                    "notification_type": "push",
                    "environment": "production",
                    "message": message,
                    "user": {"tags": {"any": "vip"}},
                }
            }
        )
    )[0].event
    assert event.user_id == alice and event.event_type == "one_shot"
    sent = cube.emulator.outbox("push")[0]
    assert sent["user_ids"] == [bob] and sent["subscription_ids"] == [sub.id]
    b.delete_subscription(sub.id)
    assert error(b.list_subscriptions)[0] == 404

    upload = a.upload_address_book(
        models.UploadAddressBookRequest.model_validate(
            {
                "contacts": [
                    {"name": "Bobby", "phone": "+15550100200"},
                    {"name": "Bad", "phone": "123"},
                    {"name": "Zed", "phone": "+15550100999"},
                ]
            }
        )
    )
    assert (upload.created, upload.rejected) == (
        2,
        {"1": ["Phone length must be from 10 to 15 characters"]},
    )
    again = a.upload_address_book(
        models.UploadAddressBookRequest.model_validate(
            {"contacts": [{"name": "Bob B", "phone": "+15550100200"}], "force": 1}
        )
    )
    assert (again.updated, again.deleted) == (1, 1)
    assert [(c.name, c.phone) for c in a.get_address_book()] == [("Bob B", "+15550100200")]
    registered = a.list_registered_contacts(compact=1).items
    assert [(r.user.id, r.user.address_book_name) for r in registered] == [(bob, "Bob B")]


# -- meetings, whiteboards, admin --------------------------------------------------------------


def test_meetings_recordings_and_whiteboards(cube: Cube) -> None:
    alice, bob, a, b = chat_pair(cube)
    meeting = a.create_meeting(
        models.CreateMeetingRequest.model_validate(
            {
                "name": "Weekly",
                "start_date": int(T0) + 3600,
                "end_date": int(T0) + 7200,
                "attendees": [{"id": bob}, {"email": "guest@example.org"}],
                "chat": True,
                "record": True,
            }
        )
    )
    assert meeting.host_id == alice and meeting.chat_dialog_id is not None
    assert meeting.created_at is not None and meeting.created_at.microsecond == 0
    assert [m.field_id for m in b.list_meetings()] == [meeting.field_id]
    assert b.list_meetings(start_date_gt=int(T0) + 3600) == []
    assert (
        error(lambda: b.update_meeting(meeting.field_id, models.UpdateMeetingRequest(name="mine")))[
            0
        ]
        == 403
    )
    cube.move(90)
    a.update_meeting(meeting.field_id, models.UpdateMeetingRequest(record=False))
    recordings = b.list_meeting_recordings(meeting.field_id)
    assert (
        len(recordings) == 1
        and recordings[0].duration == 90
        and recordings[0].room_id == meeting.field_id
    )

    boards = [
        b.create_whiteboard(
            models.CreateWhiteboardRequest(name=f"wb{i}", chat_dialog_id=meeting.chat_dialog_id)
        )
        for i in range(3)
    ]
    assert (
        error(
            lambda: a.create_whiteboard(
                models.CreateWhiteboardRequest(name="wb4", chat_dialog_id=meeting.chat_dialog_id)
            )
        )[0]
        == 422
    )
    assert (
        error(
            lambda: a.update_whiteboard(
                boards[0].field_id, models.UpdateWhiteboardRequest(name="taken")
            )
        )[0]
        == 403
    )
    assert (
        b.update_whiteboard(boards[0].field_id, models.UpdateWhiteboardRequest(name="renamed")).name
        == "renamed"
    )
    b.delete_whiteboard(boards[1].field_id)
    assert [w.name for w in a.list_whiteboards(chat_dialog_id=meeting.chat_dialog_id)] == [
        "renamed",
        "wb2",
    ]
    a.delete_meeting(meeting.field_id)
    assert a.list_meetings() == []


def test_admin_api(cube: Cube) -> None:
    _, bob, a, b = chat_pair(cube)
    dialog = a.create_dialog(models.CreateDialogRequest(type=2, name="Admin", occupants_ids=[bob]))
    a.create_message(
        models.CreateMessageRequest.model_validate(
            {"chat_dialog_id": dialog.field_id, "message": "x"}
        )
    )
    cube.raw(b, "DELETE", f"/chat/Dialog/{dialog.field_id}")
    wrong = cube.client(admin_api_key="nope")
    assert error(wrong.admin_list_dialogs) == (401, {"errors": {"base": ["Unauthorized"]}})
    admin = cube.client(admin_api_key=cube.config["auth_secret"])
    listed = admin.admin_list_dialogs(created_at_gte=int(T0)).items or []
    assert [(d.field_id, d.deleted_ids) for d in listed] == [(dialog.field_id, [bob])]
    muted = admin.admin_update_dialog(
        dialog.field_id, models.AdminUpdateDialogRequest(user_id=bob, is_muted=True)
    )
    assert muted.is_muted is True
    assert admin.admin_list_messages(chat_dialog_id=dialog.field_id).total_entries == 1
    assert admin.get_messages_sent_total(start_date=int(T0) - 1).total == 1
    assert admin.get_dialogs_created_per_day(types=[2]).root == {day(T0): 1}
    assert admin.admin_delete_user(bob).success is True
    assert error(lambda: admin.admin_delete_user(bob))[0] == 404


def test_state_survives_a_new_app_on_the_same_file(tmp_path: Path) -> None:
    path = str(tmp_path / "db.sqlite3")
    config = emulators.load("connectycube", environ={}, db=path)
    first = make(config, Store(path))
    first.sign_up("alice")
    a = first.login("alice")
    dialog = a.create_dialog(models.CreateDialogRequest(type=4, name="Persistent"))
    a.create_custom_object(
        "note", models.CreateCustomObjectRequest.model_validate({"text": "kept"})
    )
    token = a._core.credentials["cbToken"]

    second = make(config, Store(path))
    again = second.client(cb_token=token)
    assert again.get_session().session.user is not None
    assert [d.field_id for d in again.list_dialogs().items] == [dialog.field_id]
    assert [
        (r.model_extra or {})["text"] for r in again.list_custom_objects("note").items or []
    ] == ["kept"]


def test_paths_with_the_json_suffix_the_sdks_append(cube: Cube) -> None:
    cube.sign_up("alice")
    a = cube.login("alice")
    token = a._core.credentials["cbToken"]
    headers = {"CB-Token": token}
    session = cube.http.get("/session.json", headers=headers)
    assert session.status_code == 200 and session.json()["session"]["token"] == token
    made = cube.http.post(
        "/chat/Dialog.json", json={"type": 4, "name": "Suffixed"}, headers=headers
    )
    assert made.status_code == 201, made.text
    dialog_id = made.json()["_id"]
    listed = cube.http.get("/chat/Dialog.json", headers=headers).json()
    assert [d["_id"] for d in listed["items"]] == [dialog_id]
    record = cube.http.post("/data/note.json", json={"text": "a"}, headers=headers).json()
    gone = cube.http.delete(f"/data/note/{record['_id']}.json", headers=headers)
    assert gone.status_code == 200
    assert cube.http.get("/data/note.json", headers=headers).json()["items"] == []
