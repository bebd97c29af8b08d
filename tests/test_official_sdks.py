"""The vendors' own SDKs complete their common flows against the emulators over loopback.

Qiscus: the official Python client (PyPI `qiscusapi`), pointed at the emulator's base URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_emulators_process import emulator

qiscusapi = pytest.importorskip("qiscusapi")


@pytest.fixture(scope="module")
def qiscus_sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    db = Path(tmp_path_factory.mktemp("sdk")) / "qiscus.sqlite3"
    with emulator("qiscus", "--db", str(db)) as (base, _):
        api = qiscusapi.Api(app_id="qiscus-app", secret_key="qiscus-secret")
        api.base_url = (
            f"{base}/api/v2/rest/"  # the SDK builds https://<app>.qiscus.com; point it here
        )
        yield api


def test_users(qiscus_sdk: object) -> None:
    api: object = qiscus_sdk
    ann = api.login_or_register("ann@example.com", "Ann", "secret-1")  # type: ignore[attr-defined]
    assert ann.user_email == "ann@example.com" and ann.user_token
    profile = api.check_user_profile("ann@example.com")  # type: ignore[attr-defined]
    assert profile.username == "Ann"
    reset = api.reset_user_token("ann@example.com")  # type: ignore[attr-defined]
    assert not hasattr(reset, "error_message"), reset.error_info_as_json
    missing = api.check_user_profile("nobody@example.com")  # type: ignore[attr-defined]
    assert missing.error_status_code == 404 and missing.error_message


def test_rooms_and_comments(qiscus_sdk: object) -> None:
    api: object = qiscus_sdk
    for email, name in (
        ("bob@example.com", "Bob"),
        ("cid@example.com", "Cid"),
        ("ann@example.com", "Ann"),
    ):
        api.login_or_register(email, name, "pw")  # type: ignore[attr-defined]
    room = api.create_room("team", "ann@example.com", ["bob@example.com"])  # type: ignore[attr-defined]
    assert not hasattr(room, "error_message"), room.error_info_as_json
    room_id = str(room.room_id)
    posted = api.post_comment_text("ann@example.com", room_id, "hello from the SDK")  # type: ignore[attr-defined]
    assert not hasattr(posted, "error_message"), posted.error_info_as_json
    loaded = api.load_comments(room_id)  # type: ignore[attr-defined]
    assert [c.message for c in loaded.comments_info] == ["hello from the SDK"]
    added = api.add_room_participants(room_id, ["cid@example.com"])  # type: ignore[attr-defined]
    assert not hasattr(added, "error_message"), added.error_info_as_json
    rooms = api.get_user_room_lists("bob@example.com")  # type: ignore[attr-defined]
    assert not hasattr(rooms, "error_message"), rooms.error_info_as_json
    single = api.get_or_create_room_with_target("ann@example.com", "bob@example.com")  # type: ignore[attr-defined]
    assert not hasattr(single, "error_message"), single.error_info_as_json
