"""The LeanCloud Python SDK (PyPI `leancloud`) against an emulator.

    LC_API_SERVER=http://127.0.0.1:8183 python leancloud_py.py
    python leancloud_py.py http://127.0.0.1:8183

The SDK takes its server from `LC_API_SERVER` (or `LEANCLOUD_API_SERVER`); an argument sets it.
Credentials: LC_APP_ID, LC_APP_KEY, LC_MASTER_KEY (the emulator's defaults otherwise). The master
key signs only the calls the REST API reserves for it (the IM server API). Runs in its own
environment: the SDK pins old releases (gevent<23, Werkzeug<2, markupsafe<=2.0.1, requests<=2.31).
Prints one JSON object on stdout and exits 1 at the first failed step.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from typing import Any

import leancloud
from leancloud import client

STEPS: list[dict[str, Any]] = []
CURRENT = ["setup"]


class FlowError(AssertionError):
    pass


def check(condition: object, message: str, detail: object = None) -> None:
    if not condition:
        raise FlowError(message if detail is None else f"{message}: {detail!r}")


@contextmanager
def step(name: str) -> Iterator[None]:
    CURRENT[0] = name
    started = time.monotonic()
    yield
    STEPS.append({"name": name, "ms": round((time.monotonic() - started) * 1000)})


@contextmanager
def master_key() -> Iterator[None]:
    client.use_master_key(True)
    try:
        yield
    finally:
        client.use_master_key(False)


def refused(call: Callable[[], object]) -> leancloud.LeanCloudError | None:
    try:
        call()
    except leancloud.LeanCloudError as error:
        return error
    return None


def flow() -> dict[str, Any]:
    if not os.environ.get("LC_API_SERVER") and not os.environ.get("LEANCLOUD_API_SERVER"):
        raise FlowError("usage: leancloud_py.py BASE_URL (or set LC_API_SERVER)")
    leancloud.init(
        os.environ.get("LC_APP_ID", "lc-app-id"),
        app_key=os.environ.get("LC_APP_KEY", "lc-app-key"),
        master_key=os.environ.get("LC_MASTER_KEY", "lc-master-key"),
    )
    client.use_master_key(False)  # act as an app: the master key only where it is required
    suffix = format(time.time_ns() // 1000, "x")
    password = "secret-password-1"
    class_name = f"PyNote{suffix}"

    def sign_up(name: str) -> leancloud.User:
        user = leancloud.User()
        user.set_username(f"{name}_{suffix}")
        user.set_password(password)
        user.set_email(f"{name}.{suffix}@example.com")
        user.set("nickname", name)
        user.sign_up()
        return user

    with step("sign up ann"):
        ann = sign_up("ann")
    check(ann.id and ann.get_session_token(), "sign-up gave no objectId/sessionToken", ann.dump())
    check(ann.created_at is not None, "sign-up gave no createdAt", ann.dump())
    check(leancloud.User.get_current().id == ann.id, "sign-up makes the user current")
    with step("sign up bob"):
        bob = sign_up("bob")
    check(bob.id != ann.id, "second sign-up", bob.dump())

    with step("log in ann"):
        me = leancloud.User()
        me.login(f"ann_{suffix}", password)
    check(me.id == ann.id and me.get("nickname") == "ann", "login", me.dump())
    check(me.get("password") is None, "password never returned", me.dump())
    with step("update user"):
        me.set("nickname", "Ann Updated")
        me.increment("logins", 1)
        me.save()
    with step("users/me (become)"):
        again = leancloud.User.become(me.get_session_token())
    check(
        again.get("nickname") == "Ann Updated" and again.get("logins") == 1, "become", again.dump()
    )
    with step("fetch another user"):
        other = leancloud.User.create_without_data(bob.id)
        other.fetch()
    check(other.get_username() == f"bob_{suffix}", "fetch", other.dump())
    with step("query users"):
        users = (
            leancloud.Query(leancloud.User)
            .contained_in("username", [f"ann_{suffix}", f"bob_{suffix}"])
            .descending("username")
            .find()
        )
    check([u.id for u in users] == [bob.id, ann.id], "users by username", [u.dump() for u in users])

    with step("create conversation"):
        conv = leancloud.Conversation("Py flow")
        conv.set("m", [ann.id, bob.id])
        conv.set("topic", "py")
        conv.save()
    check(conv.id and conv.name == "Py flow", "conversation", conv.dump())
    with step("list conversations"):
        convs = (
            leancloud.Query(leancloud.Conversation)
            .equal_to("m", bob.id)
            .equal_to("topic", "py")
            .find()
        )
    check([c.id for c in convs] == [conv.id], "conversations of bob", [c.dump() for c in convs])
    check(sorted(convs[0].members) == sorted([ann.id, bob.id]), "members", convs[0].members)
    with master_key():
        for text in ("hello from Python", "second message"):
            with step(f"send message {text!r}"):
                conv.send(ann.id, text)
        with step("list messages"):
            history = leancloud.Message.find_by_conversation(conv.id, limit=10)
    check(
        [m.data for m in history] == ["second message", "hello from Python"],
        "message history, newest first",
        [vars(m) for m in history],
    )
    check(
        all(m.from_client == ann.id and m.conversation_id == conv.id for m in history),
        "message sender and conversation",
        [vars(m) for m in history],
    )
    check(
        all(m.message_id and m.timestamp for m in history),
        "message ids",
        [vars(m) for m in history],
    )

    note = leancloud.Object.extend(class_name)
    with step("create object"):
        alpha = note(title="alpha", score=3, tags=["py", "alpha"])
        alpha.save()
    check(alpha.id and alpha.created_at is not None, "create", alpha.dump())
    with step("create objects (batch)"):
        beta = note(title="beta", score=7, tags=["py", "beta"])
        gamma = note(title="gamma", score=9, tags=["py", "gamma"])
        leancloud.Object.save_all([beta, gamma])
    check(beta.id and gamma.id and beta.id != gamma.id, "batch create", [beta.id, gamma.id])
    with step("create private object"):
        secret = note(title="secret", score=100)
        acl = leancloud.ACL()
        acl.set_read_access(ann.id, True)
        acl.set_write_access(ann.id, True)
        secret.set_acl(acl)
        secret.save()

    with step("query objects"):
        found = (
            leancloud.Query(class_name)
            .greater_than("score", 5)
            .less_than("score", 50)
            .descending("score")
            .find()
        )
    check(
        [o.get("title") for o in found] == ["gamma", "beta"],
        "5 < score < 50 by score desc",
        [o.dump() for o in found],
    )
    with step("query with startswith and contains_all"):
        starts = leancloud.Query(class_name).startswith("title", "gam").find()
        tagged = leancloud.Query(class_name).contains_all("tags", ["py", "alpha"]).find()
    check([o.id for o in starts] == [gamma.id], "startswith", [o.dump() for o in starts])
    check([o.id for o in tagged] == [alpha.id], "contains_all", [o.dump() for o in tagged])
    with step("or query"):
        either = leancloud.Query.or_(
            leancloud.Query(class_name).equal_to("title", "alpha"),
            leancloud.Query(class_name).equal_to("title", "beta"),
        ).find()
    check(sorted(o.id for o in either) == sorted([alpha.id, beta.id]), "or", [o.id for o in either])
    with step("count objects"):
        counted = leancloud.Query(class_name).greater_than_or_equal_to("score", 3).count()
    check(counted == 4, "count sees ann's private object", counted)
    with step("CQL query"):
        cql = leancloud.Query.do_cloud_query(
            f"select * from {class_name} where score > ? order by score", 5
        )
    check(
        [o.get("title") for o in cql.results] == ["beta", "gamma", "secret"],
        "CQL",
        [o.dump() for o in cql.results],
    )

    with step("update object"):
        alpha.set("title", "alpha2")
        alpha.increment("score", 10)
        alpha.add_unique("tags", "updated")
        alpha.save(fetch_when_save=True)
    check(alpha.get("score") == 13 and alpha.get("title") == "alpha2", "update", alpha.dump())
    check(sorted(alpha.get("tags")) == ["alpha", "py", "updated"], "add_unique", alpha.get("tags"))
    with step("get object"):
        reread = leancloud.Query(class_name).get(alpha.id)
    check(reread.get("score") == 13, "get after update", reread.dump())

    with step("log in bob"):
        as_bob = leancloud.User()
        as_bob.login(f"bob_{suffix}", password)
    with step("query as bob"):
        bob_sees = leancloud.Query(class_name).find()
    check(
        sorted(o.id for o in bob_sees) == sorted([alpha.id, beta.id, gamma.id]),
        "the ACL hides the private object from bob",
        [o.id for o in bob_sees],
    )
    with step("delete as bob is refused"):
        error = refused(secret.destroy)
    check(error is not None and error.code == 403, "bob cannot delete ann's object", error)
    with step("log in ann again"):
        leancloud.User().login(f"ann_{suffix}", password)

    with step("delete object"):
        beta.destroy()
    with step("query after delete"):
        gone = leancloud.Query(class_name).equal_to("title", "beta").find()
    check(gone == [], "deleted object still found", [o.dump() for o in gone])
    with step("delete objects (batch)"):
        leancloud.Object.destroy_all([alpha, gamma, secret])
    with step("count after deletes"):
        left = leancloud.Query(class_name).count()
    check(left == 0, "objects left", left)

    with step("log out"):
        leancloud.User.get_current().logout()
    check(leancloud.User.get_current() is None, "logout clears the current user")
    with step("users/me without a session"):
        error = refused(lambda: client.get("/users/me"))
    check(error is not None and error.code == 211, "users/me without a session: code 211", error)

    return {
        "vendor": "leancloud-python",
        "sdk": metadata.version("leancloud"),
        "users": {"ann": ann.id, "bob": bob.id},
        "class_name": class_name,
        "conversation": conv.id,
        "messages": [m.message_id for m in history],
        "objects": {
            "created": [alpha.id, beta.id, gamma.id],
            "queried": [o.id for o in found],
            "private": secret.id,
        },
    }


def main() -> int:
    if len(sys.argv) > 1:  # read by the SDK on every request
        os.environ["LC_API_SERVER"] = sys.argv[1].rstrip("/")
    try:
        result = flow()
    except Exception as error:  # report any failure, SDK or assertion, as the flow's result
        detail = str(error) if isinstance(error, FlowError) else traceback.format_exc()
        print(json.dumps({"ok": False, "step": CURRENT[0], "error": detail, "steps": STEPS}))
        print(f'FAILED at step "{CURRENT[0]}": {detail}', file=sys.stderr)
        return 1
    print(json.dumps({"ok": True, **result, "steps": STEPS}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
