"""The vendors' own SDKs complete their common flows against the emulators over loopback.

Qiscus: the official Python client (PyPI `qiscusapi`), pointed at the emulator's base URL.
QuickBlox, ConnectyCube, LeanCloud: the official JavaScript SDKs (npm `quickblox`, `connectycube`,
`leancloud-storage`) and LeanCloud's Python SDK (PyPI `leancloud`) run the scripts in
`tests/sdk_flows/` against an emulator started as `python -m emulators`. The npm packages and the
LeanCloud SDK's own environment (it pins old releases) are installed once into the pytest cache,
keyed by the lock files; without node/npm, or without the registries, those tests skip.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_emulators_process import emulator

from emulators.config import load


@pytest.fixture(scope="module")
def qiscus_sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    qiscusapi = pytest.importorskip("qiscusapi")
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


# -- the JavaScript SDKs and LeanCloud's Python SDK ------------------------------------------------

FLOWS = Path(__file__).resolve().parent / "sdk_flows"
# what a package client prints when it cannot reach the registry (a skip, not a failure)
OFFLINE = re.compile(
    r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|socket hang up|"
    r"getaddrinfo|Temporary failure in name resolution|Name or service not known|"
    r"Network is unreachable|Failed to establish a new connection|Max retries exceeded|"
    r"Failed to fetch|error sending request|dns error|Could not connect",
    re.IGNORECASE,
)
LEANCLOUD_PY_REQUIREMENTS = FLOWS / "leancloud_py.requirements.txt"


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


@contextmanager
def exclusive(lock: Path) -> Iterator[None]:
    """One installer at a time, across pytest-xdist workers and concurrent runs."""
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cached_install(
    config: pytest.Config,
    name: str,
    inputs: list[Path],
    install: Callable[[Path], list[subprocess.CompletedProcess[str]]],
) -> Path:
    """A directory `install` filled once per content of `inputs` (and Python version)."""
    digest = hashlib.sha256(sys.version.encode())
    for path in inputs:
        digest.update(path.read_bytes())
    key = f"sdk-flows-{name}-{digest.hexdigest()[:16]}"
    cache = getattr(config, "cache", None)
    if cache is not None:
        parent = Path(cache.mkdir("sdk-flows"))
    else:
        parent = Path(tempfile.gettempdir()) / "baas-openapi-sdk-flows"
        parent.mkdir(exist_ok=True)
    root = parent / key
    with exclusive(parent / f"{key}.lock"):
        if (root / ".installed").exists():
            return root
        for stale in parent.glob(f"sdk-flows-{name}-*"):  # installs of older lock files
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
        root.mkdir()
        for result in install(root):
            if result.returncode == 0:
                continue
            output = f"{result.stdout}\n{result.stderr}"
            shutil.rmtree(root, ignore_errors=True)
            if OFFLINE.search(output):
                pytest.skip(f"{name}: the package registry is out of reach:\n{tail(output, 8)}")
            pytest.fail(f"{name}: `{' '.join(map(str, result.args))}` failed:\n{tail(output)}")
        (root / ".installed").write_text(" ".join(path.name for path in inputs))
    return root


def run(
    args: list[str | Path], cwd: Path, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="session")
def node_modules(pytestconfig: pytest.Config) -> Path:
    """`npm ci` of tests/sdk_flows/package-lock.json, once: the directory for NODE_PATH."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not installed: the JavaScript SDK flows need Node.js 18+")
    version = run([node, "--version"], FLOWS).stdout.strip()
    if int(version.lstrip("v").split(".")[0] or 0) < 18:
        pytest.skip(f"the JavaScript SDK flows need Node.js 18+, found {version}")

    def install(root: Path) -> list[subprocess.CompletedProcess[str]]:
        for name in ("package.json", "package-lock.json"):
            shutil.copy(FLOWS / name, root / name)
        # no install scripts: the SDKs need none (ws@0.4 would try a native build)
        return [run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], root)]

    inputs = [FLOWS / "package.json", FLOWS / "package-lock.json"]
    return cached_install(pytestconfig, "npm", inputs, install) / "node_modules"


def leancloud_interpreter() -> str:
    """PyPI `leancloud` pins gevent<23, whose wheels stop at CPython 3.11."""
    if sys.version_info < (3, 12):
        return sys.executable
    found = shutil.which("python3.11")
    if found is None:
        pytest.skip("PyPI leancloud pins gevent<23 (no wheels past Python 3.11): needs python3.11")
    return found


@pytest.fixture(scope="session")
def leancloud_python(pytestconfig: pytest.Config) -> Path:
    """A virtual environment with PyPI `leancloud` and its old pins, made once."""
    interpreter = leancloud_interpreter()
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))

    def install(root: Path) -> list[subprocess.CompletedProcess[str]]:
        venv = root / "venv"
        python = venv / "bin" / "python"
        requirements: list[str | Path] = ["-r", LEANCLOUD_PY_REQUIREMENTS]
        if uv:
            made = run([uv, "venv", "--quiet", "--python", interpreter, venv], root)
            if made.returncode:
                return [made]
            return [run([uv, "pip", "install", "--python", python, *requirements], root)]
        made = run([interpreter, "-m", "venv", venv], root)
        if made.returncode:
            return [made]
        pip: list[str | Path] = [python, "-m", "pip", "install", "--disable-pip-version-check"]
        return [run([*pip, *requirements], root)]

    root = cached_install(pytestconfig, "leancloud-py", [LEANCLOUD_PY_REQUIREMENTS], install)
    return root / "venv" / "bin" / "python"


def run_flow(args: list[str | Path], env: dict[str, str]) -> dict[str, Any]:
    """Run one flow script; its JSON report, or a failure naming the step that broke."""
    result = subprocess.run(
        [str(a) for a in args],
        cwd=FLOWS,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )
    reports = [line for line in result.stdout.splitlines() if line.startswith("{")]
    report: dict[str, Any] = json.loads(reports[-1]) if reports else {}
    if result.returncode != 0 or not report.get("ok"):
        pytest.fail(
            f"{Path(str(args[1])).name} failed (exit {result.returncode}) at step "
            f"{report.get('step')!r}: {report.get('error')}\n--- stderr ---\n{tail(result.stderr)}"
        )
    return report


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (subjectAltName), as the QuickBlox SDK only speaks https."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the QuickBlox SDK needs https: no openssl to make a certificate")
    made = run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            key,
            "-out",
            cert,
        ],
        directory,
    )
    assert made.returncode == 0, made.stderr
    return cert, key


def test_quickblox_js_sdk(node_modules: Path, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    db = tmp_path / "quickblox.sqlite3"
    tls = ("--tls-cert", str(cert), "--tls-key", str(key))
    with emulator("quickblox", "--db", str(db), *tls) as (base, _):
        assert base.startswith("https://")
        env = {"NODE_PATH": str(node_modules), "NODE_EXTRA_CA_CERTS": str(cert)}
        report = run_flow(["node", FLOWS / "quickblox.js", base], env)
        # what the SDK did, read back with the account's API key
        creds = load("quickblox").credentials
        with httpx.Client(
            base_url=base,
            verify=ssl.create_default_context(cafile=str(cert)),
            headers={"Authorization": f"ApiKey {creds['account_key']}"},
        ) as api:
            users, dialogs = report["users"], report["dialogs"]
            ann = api.get(f"/users/{users['ann']}.json").json()["user"]
            as_bob = {"On-Behalf-Of": str(users["bob"])}
            listed = api.get(
                "/chat/Message.json",
                params={"chat_dialog_id": dialogs["group"], "mark_as_read": 0},
                headers=as_bob,
            ).json()
            records = api.get(f"/data/{report['class_name']}.json").json()
            blob = api.get(f"/blobs/{report['file']['id']}.json", headers=as_bob)
    assert ann["login"] == report["logins"]["ann"] and ann["full_name"] == "Ann Updated"
    assert ann["phone"] == "+15550001" and ann["user_tags"] == "sdk,flow"
    assert len(set(users.values())) == 2 and len(set(dialogs.values())) == 2
    assert [m["_id"] for m in listed["items"]] == report["messages"]
    assert [m["message"] for m in listed["items"]] == ["hello from the SDK", "second message"]
    assert all(users["bob"] in m["read_ids"] for m in listed["items"])  # the SDK marked them read
    group, private = dialogs["group"], dialogs["private"]
    assert report["unread"]["before"] == {"total": 2, group: 2, private: 0}
    assert report["unread"]["after"] == {"total": 0, group: 0}
    created = report["records"]["created"]
    assert len(set(created)) == 3
    assert report["records"]["queried"] == [created[2], created[1]]  # score > 5, by score desc
    assert sorted(report["records"]["deleted"]) == sorted([created[0], created[2]])
    assert records["items"] == []
    assert report["file"]["size"] > 0 and blob.status_code == 404  # uploaded, read back, deleted


def test_connectycube_js_sdk(node_modules: Path, tmp_path: Path) -> None:
    with emulator("connectycube", "--db", str(tmp_path / "cube.sqlite3")) as (base, _):
        report = run_flow(
            ["node", FLOWS / "connectycube.js", base], {"NODE_PATH": str(node_modules)}
        )
        creds = load("connectycube").credentials
        with httpx.Client(base_url=base) as api:
            session = api.post(
                "/session",
                json={
                    "application_id": creds["app_id"],
                    "auth_key": creds["auth_key"],
                    "user": {"login": report["logins"]["bob"], "password": report["password"]},
                },
            ).json()["session"]
            as_bob = {"CB-Token": session["token"]}
            dialogs = api.get("/chat/Dialog", headers=as_bob).json()
            messages = api.get(
                "/chat/Message",
                params={"chat_dialog_id": report["dialogs"]["group"], "mark_as_read": 0},
                headers=as_bob,
            ).json()
            records = api.get(f"/data/{report['class_name']}", headers=as_bob).json()
            blob = api.get(f"/blobs/{report['file']['id']}", headers=as_bob)
    users, created = report["users"], report["records"]["created"]
    assert session["user_id"] == users["bob"] and users["ann"] != users["bob"]
    # the private dialog was deleted by the flow; the group one remains, with both messages
    assert [d["_id"] for d in dialogs["items"]] == [report["dialogs"]["group"]]
    assert dialogs["items"][0]["name"] == "SDK flow renamed"
    assert dialogs["items"][0]["last_message"] == "second message"
    assert [m["_id"] for m in messages["items"]] == report["messages"]
    assert all(m["sender_id"] == users["ann"] for m in messages["items"])
    group, private = report["dialogs"]["group"], report["dialogs"]["private"]
    assert report["unread"]["before"] == {"total": 2, group: 2, private: 0}
    assert report["unread"]["after"] == {"total": 0, group: 0}
    assert len(set(created)) == 3 and report["records"]["queried"] == [created[2], created[1]]
    assert report["records"]["deleted"] == [created[0]]
    assert records["items"] == []
    assert report["file"]["size"] > 0 and blob.status_code == 404  # uploaded, read back, deleted


@pytest.fixture(scope="module")
def leancloud_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("leancloud") / "leancloud.sqlite3"
    with emulator("leancloud", "--db", str(db)) as (base, _):
        yield base


def leancloud_master(base: str) -> httpx.Client:
    creds = load("leancloud").credentials
    return httpx.Client(
        base_url=f"{base}/1.1",
        headers={"X-LC-Id": creds["app_id"], "X-LC-Key": f"{creds['master_key']},master"},
    )


def check_leancloud_report(base: str, report: dict[str, Any], text: str) -> None:
    """What a LeanCloud flow left in the emulator, read back with the master key."""
    users, objects = report["users"], report["objects"]
    with leancloud_master(base) as api:
        ann = api.get(f"/classes/_User/{users['ann']}").json()
        conversation = api.get(f"/classes/_Conversation/{report['conversation']}").json()
        history = api.get("/rtm/messages/history", params={"convid": report["conversation"]})
        left = api.get(f"/classes/{report['class_name']}", params={"count": 1, "limit": 0}).json()
    assert ann["nickname"] == "Ann Updated" and "password" not in ann
    assert sorted(conversation["m"]) == sorted(users.values())
    assert [m["msg-id"] for m in history.json()] == report["messages"]
    assert [m["data"] for m in history.json()] == ["second message", text]
    created = objects["created"]
    assert len({*created, objects["private"]}) == 4
    assert objects["queried"] == [created[2], created[1]]  # 5 < score < 50, by score desc
    assert left == {"results": [], "count": 0}


def test_leancloud_js_sdk(node_modules: Path, leancloud_emulator: str) -> None:
    env = {"NODE_PATH": str(node_modules)}
    report = run_flow(["node", FLOWS / "leancloud.js", leancloud_emulator], env)
    assert report["unread"] == 2
    check_leancloud_report(leancloud_emulator, report, "hello from the SDK")


def test_leancloud_python_sdk(leancloud_python: Path, leancloud_emulator: str) -> None:
    env = {"LC_API_SERVER": leancloud_emulator}  # the SDK's own way to name its server
    report = run_flow([leancloud_python, FLOWS / "leancloud_py.py"], env)
    assert report["sdk"] == "3.0.2"
    check_leancloud_report(leancloud_emulator, report, "hello from Python")
