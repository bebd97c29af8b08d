"""BaasBox emulator scenarios through the generated client, in process."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import emulators
from emulators.store import Store
from generated.baasbox import models
from generated.baasbox.client import ApiError, Client

APPCODE = "1234567890"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@dataclass
class World:
    app: Any
    http: TestClient
    store: Store

    def client(self, **credentials: Any) -> Client:
        credentials.setdefault("app_code", APPCODE)
        return Client(http_client=self.http, retries=0, **credentials)

    @property
    def admin(self) -> Client:
        return self.client(basic_auth=("admin", "admin"))

    def signup(self, name: str, password: str = "secret", **sections: Any) -> Client:
        """A new user, logged in: the client keeps the session token of the sign-up."""
        client = self.client()
        client.sign_up(models.SignUpRequest(username=name, password=password, **sections))
        return client

    def upload(self, path: str, credentials: dict[str, str], **fields: Any) -> Any:
        """A multipart POST with raw HTTP: the generated client's multipart encoder takes text only
        (it JSON-dumps the model first, which fails on non-UTF-8 bytes such as a PNG)."""
        files = {
            k: (k, v, "application/octet-stream") for k, v in fields.items() if isinstance(v, bytes)
        }
        data = {k: v for k, v in fields.items() if not isinstance(v, bytes)}
        headers = {"X-BAASBOX-APPCODE": APPCODE, **credentials}
        return self.http.post(path, data=data, files=files, headers=headers)

    def clock(self, seconds: float) -> None:
        self.app.state.emulator.clock = lambda: seconds


def world_for(store: Store, **settings: Any) -> World:
    app = emulators.create_app("baasbox", emulators.load("baasbox", environ={}, **settings), store)
    return World(app, TestClient(app), store)


@pytest.fixture
def world() -> Iterator[World]:
    store = Store(":memory:")
    yield world_for(store)
    store.close()


ADMIN_AUTH = {"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()}


def session_of(client: Client) -> dict[str, str]:
    assert client.last_response is not None
    return {"X-BB-SESSION": client.last_response.request.headers["X-BB-SESSION"]}


def error(call: Any, *args: Any, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as info:
        call(*args, **kwargs)
    assert info.value.body is not None, info.value.raw
    assert info.value.body.result == "error"
    return info.value


def doc(**fields: Any) -> models.CreateDocumentRequest:
    return models.CreateDocumentRequest(**fields)


# -- credentials, sessions -------------------------------------------------------------------------
def test_credentials_are_checked_in_the_vendor_envelope(world: World) -> None:
    wrong_code = error(
        world.client(app_code="nope", basic_auth=("admin", "admin")).get_current_user
    )
    assert wrong_code.status == 401 and wrong_code.body is not None
    assert wrong_code.body.message.endswith("nope is an Invalid App Code")
    bad_basic = error(world.client(basic_auth=("admin", "wrong")).get_current_user)
    assert bad_basic.status == 401 and bad_basic.body is not None
    assert bad_basic.body.message == "User admin is not authorized to access"
    assert bad_basic.body.bb_code == "" and bad_basic.body.resource == "/me"
    expired = error(world.client(bb_session="0000-1111").get_current_user)
    assert expired.status == 401 and expired.body is not None
    assert expired.body.bb_code == "40101" and expired.body.method == "GET"
    assert world.admin.get_current_user().data.user is not None


def test_sign_up_login_profile_and_logout(world: World) -> None:
    ann = world.signup(
        "ann",
        visibleByTheUser={"email": "ann@example.com"},
        visibleByAnonymousUsers={"nick": "annie"},
    )
    signup = ann.last_response
    assert signup is not None and signup.status_code == 201
    token = signup.json()["data"]["X-BB-SESSION"]
    assert signup.headers["X-BB-SESSION"] == token
    me = ann.get_current_user().data
    assert me.user is not None and me.user.name == "ann" and me.user.status == "ACTIVE"
    assert me.user.roles is not None and [r.name for r in me.user.roles] == ["registered"]
    assert me.visibleByTheUser is not None and me.visibleByTheUser.email == "ann@example.com"
    assert me.signUpDate is not None and me.signUpDate.endswith("+0000")

    again = error(world.client().sign_up, models.SignUpRequest(username="ann", password="x"))
    assert again.status == 400 and again.body is not None
    assert again.body.message == "Error signing up"
    wrong = error(
        world.client().login, models.LoginRequest(username="ann", password="bad", appcode=APPCODE)
    )
    assert wrong.status == 401 and wrong.body is not None
    assert wrong.body.message == "user ann unauthorized"
    bad_code = error(
        world.client().login, models.LoginRequest(username="ann", password="secret", appcode="0")
    )
    assert bad_code.status == 400

    other = world.client()
    login = other.login(models.LoginRequest(username="ann", password="secret", appcode=APPCODE))
    assert login.http_code == 200 and login.data.x_bb_session not in (None, token)
    updated = other.update_current_user(
        models.UpdateProfileRequest(visibleByRegisteredUsers=models.ProfileSection(city="Rome"))
    ).data
    assert updated.visibleByRegisteredUsers is not None
    assert updated.visibleByRegisteredUsers.model_extra == {"city": "Rome"}
    assert updated.visibleByAnonymousUsers is not None  # sections not sent are kept
    assert updated.visibleByAnonymousUsers.model_extra == {"nick": "annie"}

    assert other.logout().data == "user logged out"
    gone = error(world.client(bb_session=login.data.x_bb_session).get_current_user)
    assert gone.status == 401 and gone.body is not None and gone.body.bb_code == "40101"
    assert ann.refresh_session().data == ""  # the first session is still alive


def test_sessions_expire_after_idle_time_and_refresh_keeps_them(world: World) -> None:
    world.clock(1_000_000)
    ann = world.signup("ann")
    world.clock(1_000_000 + 14 * 60)
    ann.refresh_session()
    world.clock(1_000_000 + 28 * 60)  # 14 minutes after the refresh: alive
    assert ann.get_current_user().data.user is not None
    world.clock(1_000_000 + 44 * 60)  # 16 minutes idle: gone
    expired = error(ann.get_current_user)
    assert expired.status == 401 and expired.body is not None and expired.body.bb_code == "40101"

    world.admin.set_configuration_value_from_body(
        "Application", "session_tokens.timeout", models.SetConfigurationValueRequest(value="0")
    )
    bob = world.signup("bob")
    world.clock(10_000_000)
    assert bob.get_current_user().data.user is not None  # 0: never expires


def test_configured_session_ttl_wins() -> None:
    store = Store(":memory:")
    world = world_for(store, session_ttl=30)
    world.clock(100)
    ann = world.signup("ann")
    world.clock(125)
    ann.get_current_user()
    world.clock(160)
    assert error(ann.get_current_user).status == 401


def test_password_username_and_suspension(world: World) -> None:
    ann = world.signup("ann")
    world.admin.create_collection("notes")
    note = ann.create_document("notes", doc(text="mine")).data
    refused = error(ann.change_password, models.ChangePasswordRequest(old="nope", new="x"))
    assert refused.status == 400 and refused.body is not None
    assert refused.body.message == "The old password does not match with the current one"
    ann.change_password(models.ChangePasswordRequest(old="secret", new="better"))
    assert error(ann.get_current_user).status == 401  # sessions dropped
    ann = world.client(basic_auth=("ann", "better"))
    ann.change_username(models.ChangeUsernameRequest(username="anna"))
    assert error(ann.get_current_user).status == 401
    anna = world.client(basic_auth=("anna", "better"))
    assert anna.get_document("notes", note.id or "").data.field_author == "anna"

    anna.suspend_current_user()
    suspended = error(
        world.client().login,
        models.LoginRequest(username="anna", password="better", appcode=APPCODE),
    )
    assert suspended.status == 401
    assert world.admin.admin_get_user("anna").data.user.status == "SUSPENDED"  # type: ignore[union-attr]
    world.admin.admin_activate_user("anna")
    assert anna.get_current_user().data.user is not None


# -- users and friendship --------------------------------------------------------------------------
def test_profiles_are_filtered_by_friendship(world: World) -> None:
    sections = {
        "visibleByTheUser": {"email": "bob@example.com"},
        "visibleByFriends": {"phone": "123"},
        "visibleByRegisteredUsers": {"city": "Milan"},
        "visibleByAnonymousUsers": {"nick": "b"},
    }
    world.signup("bob", **sections)
    ann = world.signup("ann")
    cid = world.signup("cid")
    seen_by_cid = cid.get_user("bob").data
    assert seen_by_cid.visibleByTheUser is None and seen_by_cid.visibleByFriends is None
    assert seen_by_cid.visibleByRegisteredUsers is not None

    followed = ann.follow_user("bob")
    assert ann.last_response is not None and ann.last_response.status_code == 201
    assert followed.data.visibleByFriends is not None
    assert followed.data.visibleByFriends.model_extra == {"phone": "123"}
    assert followed.data.visibleByTheUser is None
    roles = ann.get_current_user().data.user.roles  # type: ignore[union-attr]
    assert roles is not None and {r.name for r in roles} == {"registered", "friends_of_bob"}

    assert error(ann.follow_user, "bob").status == 400
    assert error(ann.follow_user, "ann").body.message == "User cannot follow himself"  # type: ignore[union-attr]
    assert error(ann.follow_user, "nobody").status == 404
    assert [u.user.name for u in ann.list_my_following().data] == ["bob"]  # type: ignore[union-attr]
    assert [u.user.name for u in cid.list_followers("bob").data] == ["ann"]  # type: ignore[union-attr]
    bob = world.client(basic_auth=("bob", "secret"))
    assert len(bob.list_my_followers().data) == 1

    users = cid.list_users(where="visibleByRegisteredUsers.city = ?", params=["Milan"]).data
    assert [u.user.name for u in users] == ["bob"]  # type: ignore[union-attr]
    ann.unfollow_user("bob")
    missing = error(ann.unfollow_user, "bob")
    assert missing.status == 404 and missing.body is not None
    assert missing.body.message == "User ann is not a friend of bob"


# -- documents -------------------------------------------------------------------------------------
def test_documents_crud_versions_and_fields(world: World) -> None:
    ann = world.signup("ann")
    missing = error(ann.create_document, "posts", doc(title="x"))
    assert missing.status == 404
    world.admin.create_collection("posts")
    created = ann.create_document(
        "posts", doc(title="Hello", tags=["a", "b"], address={"city": "Rome"})
    ).data
    assert created.rid is not None and created.rid.startswith("#25:")
    assert created.class_ == "posts" and created.version == 1 and created.field_author == "ann"
    uid = created.id or ""
    assert ann.get_document_by_rid(created.rid[1:]).data.id == uid

    updated = ann.update_document(
        "posts",
        uid,
        models.UpdateDocumentRequest.model_validate(
            {"@version": 1, "title": "Hello again", "tags": ["a", "b"]}
        ),
    ).data
    assert updated.version == 2 and updated.model_extra == {
        "title": "Hello again",
        "tags": ["a", "b"],
    }
    stale = error(
        ann.update_document,
        "posts",
        uid,
        models.UpdateDocumentRequest.model_validate({"@version": 1, "title": "late"}),
    )
    assert stale.status == 400 and stale.body is not None and stale.body.bb_code == "40001"
    assert "stored document has version 2" in stale.body.message

    ann.update_document_field("posts", uid, "tags[1]", models.UpdateDocumentFieldRequest(data="z"))
    ann.update_document_field(
        "posts", uid, "address.zip", models.UpdateDocumentFieldRequest(data="00100")
    )
    whole = ann.get_document("posts", uid).data
    assert whole.model_extra == {
        "title": "Hello again",
        "tags": ["a", "z"],
        "address": {"zip": "00100"},
    }  # the update dropped the city
    assert whole.version == 4
    assert ann.get_document_field("posts", uid, "address.zip").data.model_extra == {"zip": "00100"}

    ann.delete_document("posts", uid)
    gone = error(ann.get_document, "posts", uid)
    assert gone.status == 404 and gone.body is not None and gone.body.message == f"{uid} not found"


def test_queries_filters_order_and_pages(world: World) -> None:
    world.admin.create_collection("items")
    ann = world.signup("ann")
    colors = ["red", "green", "blue"]
    for n in range(30):
        ann.create_document("items", doc(n=n, color=colors[n % 3], name=f"item {n:02d}"))

    reds = ann.list_documents("items", where="color = ? and n >= ?", params=["red", "10"])
    assert [d.model_extra["n"] for d in reds.data] == [12, 15, 18, 21, 24, 27]  # type: ignore[index]
    either = ann.count_documents("items", where="color='red' or color = \"blue\"").data.count
    assert either == 20
    like = ann.list_documents("items", where="name like 'ITEM 1%'", order_by="n desc").data
    assert [d.model_extra["n"] for d in like] == list(range(19, 9, -1))  # type: ignore[index]
    page = ann.list_documents("items", order_by="n asc", page=1, records_per_page=7)
    assert [d.model_extra["n"] for d in page.data] == list(range(7, 14))  # type: ignore[index]
    assert page.more is True
    last = ann.list_documents("items", order_by="n", page=4, records_per_page=7)
    assert [d.model_extra["n"] for d in last.data] == [28, 29] and last.more is False  # type: ignore[index]
    walked = ann.iter_list_documents("items", order_by="n", records_per_page=8)
    assert [d.model_extra["n"] for d in walked] == list(range(30))  # type: ignore[index]
    skipped = ann.list_documents("items", where="n < 5", order_by="n", skip=3).data
    assert [d.model_extra["n"] for d in skipped] == [3, 4]  # type: ignore[index]
    projected = ann.list_documents("items", where="n = 4", fields="name, color as c").data
    assert projected[0].model_extra == {"name": "item 04", "c": "green"}
    counted = ann.list_documents("items", where="n in [1, 2, 3]", count=True).data
    assert counted[0].model_extra == {"count": 3}
    assert (
        ann.count_documents("items", where="n between 5 and 9 and not (color = 'red')").data.count
        == 3
    )

    invalid = error(ann.list_documents, "items", where="n = = 3")
    assert invalid.status == 400 and invalid.body is not None and invalid.body.bb_code == ""


def test_document_permissions_grants_and_acl(world: World) -> None:
    world.admin.create_collection("posts")
    ann, bob = world.signup("ann"), world.signup("bob")
    anonymous = world.client()
    post = ann.create_document("posts", doc(title="private")).data
    uid = post.id or ""
    assert error(bob.get_document, "posts", uid).status == 404
    assert bob.list_documents("posts").data == []
    assert world.admin.get_document("posts", uid).data.id == uid  # administrators see everything

    ann.grant_document_to_user("posts", uid, "read", "bob")
    assert bob.get_document("posts", uid).data.id == uid
    no_update = error(
        bob.update_document,
        "posts",
        uid,
        models.UpdateDocumentRequest.model_validate({"title": "mine"}),
    )
    assert no_update.status == 403 and no_update.body is not None
    assert no_update.body.message == f"You have not the right to modify {uid}"
    assert error(bob.grant_document_to_user, "posts", uid, "all", "bob").status == 403
    assert error(ann.grant_document_to_user, "posts", uid, "read", "nobody").status == 404
    ann.revoke_document_from_user("posts", uid, "read", "bob")
    assert error(bob.get_document, "posts", uid).status == 404

    assert error(anonymous.get_document, "posts", uid).status == 404
    ann.grant_document_to_role("posts", uid, "read", "anonymous")
    assert anonymous.get_document("posts", uid).data.id == uid
    assert anonymous.count_documents("posts").data.count == 1

    shared = ann.create_document(
        "posts",
        models.CreateDocumentRequest.model_validate(
            {
                "title": "shared",
                "_allowRead": [{"name": "registered", "isrole": True}],
                "_allowUpdate": [{"name": "registered", "isrole": True}],
            }
        ),
    ).data
    bob.update_document(
        "posts",
        shared.id or "",
        models.UpdateDocumentRequest.model_validate({"title": "edited by bob"}),
    )
    with_acl = ann.get_document("posts", shared.id or "", with_acl=True).data
    assert with_acl.field_allowUpdate is not None
    assert [(e.name, e.isrole) for e in with_acl.field_allowUpdate] == [("registered", True)]
    assert error(bob.delete_document, "posts", shared.id or "").status == 403

    bad_acl = error(
        ann.create_document,
        "posts",
        models.CreateDocumentRequest.model_validate({"_allowRead": [{"name": "ghost"}]}),
    )
    assert bad_acl.status == 400 and bad_acl.body is not None and bad_acl.body.bb_code == "40005"
    ann.update_document_acl(
        "posts", uid, models.DocumentAcl.model_validate({"_allowRead": [{"name": "bob"}]})
    )
    assert bob.get_document("posts", uid).data.id == uid
    assert error(anonymous.get_document, "posts", uid).status == 404  # lists left out are emptied


def test_links_between_documents_and_users(world: World) -> None:
    world.admin.create_collection("invoices")
    world.admin.create_collection("customers")
    ann = world.signup("ann")
    invoice = ann.create_document("invoices", doc(number=345)).data
    customer = ann.create_document("customers", doc(name="John Doe")).data
    bob_id = world.client(basic_auth=("admin", "admin")).get_user("ann").data.id or ""
    link = ann.create_link(invoice.id or "", "customer", customer.id or "").data
    assert link.class_ == "E" and link.label == "customer" and link.field_author == "ann"
    assert link.in_ is not None and link.in_.model_extra["name"] == "John Doe"  # type: ignore[index]
    ann.create_link(invoice.id or "", "owner", bob_id)
    found = ann.list_links(where="label = 'customer' and out.number = 345").data
    assert [x.id for x in found] == [link.id]
    linked = ann.list_linked_documents("invoices", invoice.id or "", "customer").data
    assert [d.id for d in linked] == [customer.id]
    back = ann.list_linked_documents("customers", customer.id or "", "customer", link_dir="from")
    assert [d.id for d in back.data] == [invoice.id]
    assert ann.get_link(link.id or "").data.out is not None
    assert error(ann.create_link, invoice.id or "", "x", "no-such-id").status == 404
    ann.delete_link(link.id or "")
    assert error(ann.get_link, link.id or "").status == 404


# -- files and assets ------------------------------------------------------------------------------
def test_files_upload_download_and_acl(world: World) -> None:
    ann, bob = world.signup("ann"), world.signup("bob")
    uploaded = ann.upload_file(
        models.UploadFileRequest(
            file=b"hello world",
            attachedData=json.dumps({"kind": "greeting"}),
            acl=json.dumps({"read": {"users": ["bob"]}}),
        )
    )
    assert ann.last_response is not None and ann.last_response.status_code == 201
    info = uploaded.data
    assert info.contentType == "text/plain" and info.contentLength == 11
    assert info.attachedData is not None and info.attachedData.model_extra == {"kind": "greeting"}
    fid = info.id or ""
    assert bob.download_file(fid) == b"hello world"
    assert bob.get_file_attached_data(fid).data.model_extra == {"kind": "greeting"}
    assert bob.get_file_content(fid) == "hello world"
    assert [f.id for f in bob.list_file_details(where="attachedData.kind = 'greeting'").data] == [
        fid
    ]
    assert error(bob.delete_file, fid).status == 403
    cid = world.signup("cid")
    assert error(cid.get_file_details, fid).status == 404
    ann.grant_file_to_role(fid, "read", "registered")
    assert cid.get_file_details(fid).data.id == fid

    ann.get_current_user()
    response = world.upload("/file", session_of(ann), file=PNG)
    assert response.status_code == 201, response.text
    picture = models.FileInfoResponse.model_validate(response.json()).data
    assert picture.contentType == "image/png"
    assert picture.metadata is not None
    assert picture.metadata.model_extra["Image Width"] == "1 pixels"  # type: ignore[index]
    assert ann.download_file(picture.id or "", resize="50%") == PNG
    assert ann.last_response is not None
    assert ann.last_response.headers["content-type"] == "image/png"
    too_big = error(ann.download_file, picture.id or "", resize="300px-300px")
    assert too_big.status == 400

    for acl, code in [
        ("{", "40002"),
        ('{"write": {}}', "40003"),
        ('{"read": {"groups": []}}', "40004"),
        ('{"read": {"users": "bob"}}', "40010"),
        ('{"read": {"users": ["zed"]}}', "40005"),
        ('{"read": {"roles": ["zed"]}}', "40006"),
    ]:
        refused = error(ann.upload_file, models.UploadFileRequest(file=b"x", acl=acl))
        assert refused.status == 400 and refused.body is not None and refused.body.bb_code == code
    ann.delete_file(fid)
    assert error(ann.download_file, fid).status == 404


def test_assets_are_public_and_admin_managed(world: World) -> None:
    admin = world.admin
    ann = world.signup("ann")
    refused = error(ann.create_asset, models.CreateAssetRequest(name="x"))
    assert refused.status == 403 and refused.body is not None
    assert refused.body.message == "User ann is not an administrator"
    admin.create_asset(models.CreateAssetRequest(name="margherita", meta=json.dumps({"price": 5})))
    response = world.upload("/admin/asset", ADMIN_AUTH, name="logo", file=PNG)
    assert response.status_code == 201, response.text
    public = world.client()
    data = public.get_asset_data("margherita").data
    assert data.class_ == "_BB_Asset" and data.meta is not None
    assert data.meta.model_extra == {"price": 5}
    assert error(public.get_asset, "margherita").status == 404  # JSON assets have no file
    assert public.get_asset("logo") == PNG
    assert public.download_asset("logo") == PNG
    assert public.last_response is not None
    assert public.last_response.headers["content-disposition"].startswith("attachment")
    assert public.get_asset_scaled("logo", "25%") == PNG
    assert error(public.get_asset_scaled, "logo", "33%").status == 400
    assert {a.name for a in admin.list_assets().data} == {"margherita", "logo"}
    assert error(admin.create_asset, models.CreateAssetRequest(name="logo")).status == 400
    assert world.upload("/admin/asset", ADMIN_AUTH, name="logo2").status_code == 201
    admin.delete_asset("logo")
    assert error(public.get_asset, "logo").status == 404


# -- administration --------------------------------------------------------------------------------
def test_admin_users_roles_collections_and_endpoint_groups(world: World) -> None:
    admin = world.admin
    admin.create_role("editors", models.CreateRoleRequest(description="content editors"))
    assert error(admin.create_role, "editors", models.CreateRoleRequest()).status == 400
    admin.admin_create_user(
        models.AdminCreateUserRequest(username="ed", password="pw", role="editors")
    )
    ed = world.client(basic_auth=("ed", "pw"))
    admin.create_collection("pages")
    assert error(admin.create_collection, "pages").body.message == "Collection pages already exists"  # type: ignore[union-attr]
    ann = world.signup("ann")
    page = ann.create_document(
        "pages",
        models.CreateDocumentRequest.model_validate(
            {"title": "t", "_allowRead": [{"name": "editors", "isrole": True}]}
        ),
    ).data
    assert ed.get_document("pages", page.id or "").data.id == page.id
    admin.update_role("editors", models.UpdateRoleRequest(new_name="writers"))
    assert ed.get_document("pages", page.id or "").data.id == page.id  # grants follow the rename
    assert {r.name for r in admin.list_roles().data} >= {"registered", "writers", "friends_of_ed"}
    builtin = error(admin.delete_role, "registered")
    assert builtin.status == 400
    admin.delete_role("writers")
    assert admin.admin_get_user("ed").data.user.roles[0].name == "registered"  # type: ignore[union-attr,index]
    assert [c.model_dump() for c in admin.list_collections().data] == [
        {"name": "pages", "records": 1, "size": admin.list_collections().data[0].size}
    ]

    assert error(ann.list_collections).status == 403
    admin.disable_endpoint_group("baasbox.data.read")
    disabled = error(ann.list_documents, "pages")
    assert disabled.status == 403 and disabled.body is not None
    assert disabled.body.message == "Endpoint has been disabled"
    assert len(admin.list_documents("pages").data) == 1  # administrators are not concerned
    assert admin.get_endpoint_group("baasbox.data.read").data.enabled is False
    admin.enable_endpoint_group("baasbox.data.read")
    assert len(ann.list_documents("pages").data) == 1

    admin.admin_set_user_password("ann", models.SetUserPasswordRequest(password="reset"))
    assert error(ann.get_current_user).status == 401
    admin.admin_delete_user("ed")
    assert error(admin.admin_get_user, "ed").status == 404
    admin.delete_collection("pages")
    assert admin.list_collections().data == []


def test_settings_and_push_notifications(world: World) -> None:
    admin = world.admin
    ann, bob = world.signup("ann"), world.signup("bob")
    bob.enable_push("android", "device-1")
    message = models.SendPushRequest(message="hi", users=["bob"])
    disabled = ann.send_push(message)  # recorded, with the vendor's "some may be lost" code
    assert disabled.bb_code == "20001" and "push app 1 is disabled" in str(disabled.data)
    admin.set_configuration_value_from_body(
        "Push", "profile1.push.profile.enable", models.SetConfigurationValueRequest(value="true")
    )
    unconfigured = ann.send_push(message)
    assert unconfigured.bb_code == "20001" and "no sandbox key" in str(unconfigured.data)
    admin.set_configuration_value("Push", "Profile1", "profile1.sandbox.android.api.key", "AIza")
    sent_ok = ann.send_push(message)
    assert sent_ok.data == "Push Notification(s) has been sent" and sent_ok.bb_code is None
    sent = world.store.find("push")
    assert [(p["to"], p["pushToken"], p["payload"]["message"], p["delivered"]) for p in sent] == [
        ("bob", "device-1", "hi", False),
        ("bob", "device-1", "hi", False),
        ("bob", "device-1", "hi", True),
    ]
    bob.disable_push("device-1")
    ann.send_push(message)
    assert world.store.count("push") == 3  # no device left
    assert error(ann.send_push, models.SendPushRequest(message="x", users=["zed"])).status == 404

    section = {e.key: e.value for e in admin.get_configuration_section("Push").data}
    assert section["profile1.push.profile.enable"] == "true"
    dump = admin.dump_configuration().data
    assert [s.section for s in dump] == [
        "Application",
        "PasswordRecovery",
        "Images",
        "Push",
        "Social",
    ]
    assert error(admin.get_configuration_section, "Nope").status == 404
    not_number = error(
        admin.set_configuration_value_from_body,
        "Application",
        "session_tokens.timeout",
        models.SetConfigurationValueRequest(value="x"),
    )
    assert not_number.status == 400


def test_plugins_are_stored_not_run(world: World) -> None:
    admin = world.admin
    code = "http().get(function(req){ return {status: 200, content: 'hi'}; });"
    admin.create_plugin(
        models.CreatePluginRequest(
            name="test.hello",
            code=base64.b64encode(code.encode()).decode(),
            lang="javascript",
            encoded="BASE64",
            active=True,
        )
    )
    assert admin.last_response is not None and admin.last_response.status_code == 201
    assert admin.get_plugin("test.hello").data.code == [code]
    called = world.client().invoke_plugin_get_with_path("test.hello", "a")
    assert called.data["executed"] is False  # type: ignore[index]
    assert called.data["request"]["pathParams"] == ["a"]  # type: ignore[index]
    assert world.store.count("plugin_call") == 1
    admin.deactivate_plugin("test.hello")
    assert error(world.client().invoke_plugin_get, "test.hello").status == 503
    reserved = error(
        admin.create_plugin,
        models.CreatePluginRequest(name="baasbox.x", code="", lang="javascript"),
    )
    assert reserved.status == 400
    admin.drop_plugin("test.hello")
    assert error(world.client().invoke_plugin_get, "test.hello").status == 404


def test_password_reset_by_email(world: World) -> None:
    world.signup("nomail")
    no_email = error(world.client().request_password_reset, "nomail")
    assert no_email.status == 400 and no_email.body is not None and "email" in no_email.body.message
    world.signup("ann", visibleByTheUser={"email": "ann@example.com"})
    world.client().request_password_reset("ann")
    (mail,) = world.store.find("outbox")
    assert mail["to"] == "ann@example.com" and mail["link"] in mail["text"]
    anybody = Client(http_client=world.http, retries=0)
    step = anybody.get_password_reset_form(mail["token"] + ".json")
    assert step.user_name == "ann" and step.link is not None and step.link.endswith(".json")
    html = world.http.get(f"/user/password/reset/{mail['token']}")
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    mismatch = error_raw(
        anybody.submit_password_reset,
        mail["token"] + ".json",
        models.SubmitPasswordResetRequest.model_validate({"password": "a", "repeat-password": "b"}),
    )
    assert mismatch.status == 400
    done = anybody.submit_password_reset(
        mail["token"] + ".json",
        models.SubmitPasswordResetRequest.model_validate(
            {"password": "new", "repeat-password": "new"}
        ),
    )
    assert done.message == "Password changed"
    world.client().login(models.LoginRequest(username="ann", password="new", appcode=APPCODE))
    assert error_raw(anybody.get_password_reset_form, mail["token"] + ".json").status == 400


def error_raw(call: Any, *args: Any) -> ApiError:
    with pytest.raises(ApiError) as info:
        call(*args)
    return info.value


def test_social_login_needs_the_network_enabled(world: World) -> None:
    tokens = models.SocialTokenRequest(oauth_token="tok", oauth_secret="sec")
    assert error(world.client().social_login, "facebook", body=tokens).status == 400
    world.admin.set_configuration_value_from_body(
        "Social", "social.facebook.enabled", models.SetConfigurationValueRequest(value="true")
    )
    first = world.client()
    user = first.social_login("facebook", body=tokens).data
    assert user.generated_username is True and user.x_bb_session
    again = world.client().social_login("facebook", body=tokens).data
    assert again.id == user.id
    assert [s.from_ for s in first.list_social_logins().data] == ["facebook"]


# -- root, database --------------------------------------------------------------------------------
def test_root_endpoints_need_root_credentials(world: World) -> None:
    root = world.client(basic_auth=("root", "admin"))
    assert error(world.admin.get_uptime).status == 401
    assert root.get_uptime().data.time_unit == "ms"
    off = error(root.get_metrics_counters)
    assert off.status == 503
    root.start_metrics()
    assert root.get_metrics_counters().data.model_extra["users"] == {"count": 1}  # type: ignore[index]
    root.override_root_configuration(
        models.OverrideRootConfigurationRequest.model_validate({"baasbox.db.size": 1000})
    )
    assert root.get_root_configuration().data.baasbox_db_size == 1000
    assert (
        root.reset_admin_password(models.ResetAdminPasswordRequest(password="changed")).data
        == "Admin passowrd reset"
    )
    assert error(world.admin.get_current_user).status == 401
    assert world.client(basic_auth=("admin", "changed")).get_current_user().data.user is not None


def test_export_and_import_restore_the_database(world: World) -> None:
    admin = world.admin
    admin.create_collection("posts")
    ann = world.signup("ann")
    kept = ann.create_document("posts", doc(title="kept")).data
    name = admin.start_admin_db_export().data
    assert admin.list_admin_db_exports().data == [name]
    archive = admin.download_admin_db_export(name)
    assert zipfile.ZipFile(io.BytesIO(archive)).namelist() == ["baasbox-export.json"]
    ann.create_document("posts", doc(title="after the export"))
    response = world.upload("/admin/db/import", ADMIN_AUTH, file=archive)
    assert response.status_code == 200, response.text
    assert [d.id for d in ann.list_documents("posts").data] == [kept.id]
    assert (
        error(admin.import_admin_db, models.ImportDatabaseRequest(file=b"not a zip")).status == 400
    )
    admin.drop_database(0)
    fresh = world.admin
    assert fresh.list_collections().data == []
    assert (
        error(
            world.client().login,
            models.LoginRequest(username="ann", password="secret", appcode=APPCODE),
        ).status
        == 401
    )


def test_sqlite_file_store_keeps_everything(tmp_path: Path) -> None:
    path = str(tmp_path / "db.sqlite3")
    store = Store(path)
    world = world_for(store)
    world.admin.create_collection("posts")
    ann = world.signup("ann")
    post = ann.create_document("posts", doc(title="durable")).data
    token = ann.last_response.request.headers["X-BB-SESSION"]  # type: ignore[union-attr]
    store.close()

    again = Store(path)
    reopened = world_for(again)
    same = reopened.client(bb_session=token)  # sessions are records too
    assert same.get_document("posts", post.id or "").data.model_extra == {"title": "durable"}
    assert reopened.admin.admin_get_user("ann").data.id == same.get_current_user().data.id
    again.close()
