"""Qiscus emulator scenarios through the generated client, in process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import emulators
from emulators.store import Store
from generated.qiscus import models
from generated.qiscus.client import ApiError, Client

SECRET = {"sdk_secret": "qiscus-secret", "app_id": "qiscus-app"}


def client_for(store: Store, **credentials: str) -> Client:
    app = emulators.create_app("qiscus", emulators.load("qiscus", environ={}), store)
    return Client(http_client=TestClient(app), retries=0, **(credentials or SECRET))


@pytest.fixture
def qiscus() -> Iterator[Client]:
    with client_for(Store(":memory:")) as client:
        yield client


def register(client: Client, *names: str) -> list[str]:
    emails = []
    for name in names:
        email = f"{name}@example.com"
        client.login_or_register(models.LoginOrRegisterRequest(email=email, username=name.title()))
        emails.append(email)
    return emails


def test_wrong_secret_is_refused_in_the_vendor_envelope() -> None:
    with (
        client_for(Store(":memory:"), sdk_secret="nope") as client,
        pytest.raises(ApiError) as info,
    ):
        client.get_user_profile(user_email="a@example.com")
    assert info.value.status == 401
    assert info.value.body is not None and "QISCUS_SDK_SECRET" in info.value.body.error.message


def test_register_login_and_token_reset(qiscus: Client) -> None:
    first = qiscus.login_or_register(
        models.LoginOrRegisterRequest(email="Ann@Example.com", username="Ann")
    )
    again = qiscus.login_or_register(
        models.LoginOrRegisterRequest(email="ann@example.com", username="Annie")
    )
    assert again.results.user.id == first.results.user.id
    assert (
        again.results.user.username == "Annie"
        and again.results.user.token == first.results.user.token
    )
    reset = qiscus.reset_user_token(models.ResetUserTokenRequest(user_email="ann@example.com"))
    assert reset.results.user.token != first.results.user.token
    profile = qiscus.get_user_profile(user_email="ann@example.com")
    assert profile.results.user.token == reset.results.user.token
    with pytest.raises(ApiError) as info:
        qiscus.get_user_profile(user_email="nobody@example.com")
    assert info.value.status == 404 and info.value.body is not None


def test_group_chat_with_unread_counts_and_paging(qiscus: Client) -> None:
    ann, bob, cid = register(qiscus, "ann", "bob", "cid")
    room = qiscus.create_room(
        models.CreateRoomRequest(name="team", creator=ann, participants=[bob])
    ).results
    assert [p.email for p in room.participants] == [ann, bob] and room.room_type == "group"
    for i in range(25):
        qiscus.post_comment(
            models.PostCommentRequest(sender_email=ann, room_id=room.room_id, message=f"m{i}")
        )
    info = qiscus.get_user_rooms(user_email=bob).results.rooms_info[0]
    assert info.unread_count == 25 and info.last_comment_message == "m24"
    assert qiscus.get_user_rooms(user_email=ann).results.rooms_info[0].unread_count == 0
    page1 = qiscus.load_comments(room_id=room.room_id).results.comments
    page2 = qiscus.load_comments(room_id=room.room_id, page=2).results.comments
    assert [c.message for c in page1][:2] == ["m24", "m23"] and len(page1) == 20 and len(page2) == 5
    assert page1[0].comment_before_id == page1[1].id
    assert len(qiscus.load_comments(room_id=room.room_id, limit=5).results.comments) == 5
    everything = list(qiscus.iter_load_comments(room_id=room.room_id, limit=7))
    assert len(everything) == 25 and len({c.id for c in everything}) == 25
    # not a member: cannot post
    with pytest.raises(ApiError) as info_:
        qiscus.post_comment(
            models.PostCommentRequest(sender_email=cid, room_id=room.room_id, message="hi")
        )
    assert info_.value.status == 400
    qiscus.add_room_participants(
        models.AddRoomParticipantsRequest(room_id=room.room_id, emails=[cid])
    )
    qiscus.post_comment(
        models.PostCommentRequest(sender_email=cid, room_id=room.room_id, message="hello")
    )
    removed = qiscus.remove_room_participants(
        models.RemoveRoomParticipantsRequest(room_id=room.room_id, emails=[bob])
    ).results
    assert [p.email for p in removed.participants] == [ann, cid]


def test_single_room_is_found_again_and_updated(qiscus: Client) -> None:
    ann, bob = register(qiscus, "ann", "bob")
    first = qiscus.get_or_create_room_with_target(emails=[ann, bob]).results.room
    second = qiscus.get_or_create_room_with_target(emails=[bob, ann]).results.room
    assert (
        first.id == second.id and first.chat_type == "single" and first.room_name == f"{ann} {bob}"
    )
    updated = qiscus.update_room(
        models.UpdateRoomRequest(
            user_email=ann, room_id=first.id, room_name="pair", options=json.dumps({"color": "red"})
        )
    ).results
    assert updated.changed and updated.room.room_name == "pair"
    assert not qiscus.update_room(
        models.UpdateRoomRequest(user_email=ann, room_id=first.id, room_name="pair")
    ).results.changed
    info = qiscus.get_rooms_info(
        models.GetRoomsInfoRequest(room_id=[str(first.id)], user_email=bob)
    ).results
    assert info.rooms_info[0].room_name == "pair"


def test_search_system_events_and_payload_checks(qiscus: Client) -> None:
    ann, bob = register(qiscus, "ann", "bob")
    room = qiscus.create_room(
        models.CreateRoomRequest(name="t", creator=ann, participants=[bob])
    ).results
    qiscus.post_comment(
        models.PostCommentRequest(sender_email=bob, room_id=room.room_id, message="Lunch at noon?")
    )
    found = qiscus.search_messages(
        models.SearchMessagesRequest(user_email=ann, query="lunch")
    ).results.comments
    assert [c.message for c in found] == ["Lunch at noon?"]
    event = qiscus.post_system_event_message(
        models.PostSystemEventMessageRequest(
            system_event_type=models.SystemEventType("add_member"),
            room_id=room.room_id,
            subject_email=ann,
            object_email=[bob],
        )
    ).results.comment
    assert event.type == "system_event"
    with pytest.raises(ApiError) as info:
        qiscus.post_comment(
            models.PostCommentRequest(
                sender_email=ann,
                room_id=room.room_id,
                type=models.CommentType("buttons"),
                payload="{not json",
            )
        )
    assert info.value.status == 400


def test_exports_and_imports(qiscus: Client) -> None:
    register(qiscus, "ann")
    export = qiscus.create_export(models.CreateExportRequest(type="users")).results
    assert export.total_rows == 1 and export.status == "finished"
    assert qiscus.get_export(export.unique_id).results.backup_history.unique_id == export.unique_id
    assert [h.unique_id for h in qiscus.list_exports().results.backup_histories] == [
        export.unique_id
    ]
    qiscus.delete_export(export.unique_id)
    with pytest.raises(ApiError) as info:
        qiscus.get_export(export.unique_id)
    assert info.value.status == 404
    users = [
        {
            "Email": "imp@example.com",
            "Name": "Imp",
            "AvatarUrl": "",
            "AuthenticationToken": "tok",
            "Password": "pw",
            "CreateAt": "2017-05-10T11:46:30Z",
        }
    ]
    done = qiscus.create_import(
        models.CreateImportRequest(type="users", file=json.dumps(users).encode())
    )
    assert done.results.backup_history.status == "finished"
    assert qiscus.get_user_profile(user_email="imp@example.com").results.user.token == "tok"
    failed = qiscus.create_import(
        models.CreateImportRequest(type="users", file=json.dumps(users).encode())
    )
    assert failed.results.backup_history.status == "failed"
    assert len(qiscus.list_imports().results.backup_histories) == 2


def test_data_lives_in_the_database_file(tmp_path: Path) -> None:
    path = str(tmp_path / "qiscus.sqlite3")
    with client_for(Store(path)) as client:
        ann, bob = register(client, "ann", "bob")
        room = client.create_room(
            models.CreateRoomRequest(name="t", creator=ann, participants=[bob])
        ).results
        client.post_comment(
            models.PostCommentRequest(sender_email=ann, room_id=room.room_id, message="kept")
        )
    with client_for(Store(path)) as client:
        assert client.load_comments(room_id=room.room_id).results.comments[0].message == "kept"
        assert client.get_user_profile(user_email=bob).results.user.username == "Bob"
