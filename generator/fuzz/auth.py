"""Getting past each vendor's auth wall: sessions opened through the generated client, then the
credentials each operation's security requirement asks for, applied the way the spec says."""

from __future__ import annotations

import importlib
import inspect
import secrets
import typing
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import BaseModel

from ..naming import snake

# Per vendor: which app credentials (named as `python -m emulators <vendor> --print-config` does)
# fill which security schemes, and how a session is opened with them.
STATIC: dict[str, Callable[[dict[str, str]], dict[str, Any]]] = {
    "qiscus": lambda c: {"sdkSecret": c.get("secret"), "appId": c.get("app_id")},
    "leancloud": lambda c: {"lcId": c.get("app_id"), "lcMasterKey": c.get("master_key")},
    "baasbox": lambda c: {
        "appCode": c.get("appcode"),
        "basicAuth": ("admin", c.get("admin_password", "admin")),
    },
    "quickblox": lambda c: {"apiKey": c.get("account_key")},
    "connectycube": lambda c: {"adminApiKey": c.get("auth_secret")},
}


def _field_model(model: Any, name: str) -> Any:
    """The model class of a field (`CreateUserRequest.user` -> `NewUser`), without its `| None`."""
    annotation = model.model_fields[name].annotation
    options = typing.get_args(annotation) or (annotation,)
    return next(o for o in options if isinstance(o, type) and issubclass(o, BaseModel))


def _user_session_quickblox_like(vendor: str, client: Any, creds: dict[str, str]) -> dict[str, Any]:
    """App session, sign a user up, then a user session: every write needs one."""
    models = importlib.import_module(f"generated.{vendor}.models")
    login, password = f"fuzz{secrets.token_hex(4)}", "fuzz-password-1"
    app = {
        "application_id": int(creds["app_id"]),
        "auth_key": creds["auth_key"],
        "timestamp": 0,
        "nonce": 0,
        "signature": "",
    }
    client.create_session(models.CreateSessionRequest(**app))
    new_user = _field_model(models.CreateUserRequest, "user")
    client.create_user(models.CreateUserRequest(user=new_user(login=login, password=password)))
    credentials = _field_model(models.CreateSessionRequest, "user")
    client.create_session(
        models.CreateSessionRequest(**app, user=credentials(login=login, password=password))
    )
    return {}


def _session_leancloud(vendor: str, client: Any, creds: dict[str, str]) -> dict[str, Any]:
    models = importlib.import_module(f"generated.{vendor}.models")
    signup = getattr(models, "SignUpRequest", None)
    if signup is not None:
        client.sign_up(signup(username=f"fuzz{secrets.token_hex(4)}", password="fuzz-password-1"))
    return {}


def _session_baasbox(vendor: str, client: Any, creds: dict[str, str]) -> dict[str, Any]:
    models = importlib.import_module(f"generated.{vendor}.models")
    request = getattr(models, "LoginRequest", None)
    if request is not None:
        client.login(
            request(
                username="admin",
                password=creds.get("admin_password", "admin"),
                appcode=creds.get("appcode", "1234567890"),
            )
        )
    return {}


SESSIONS: dict[str, Callable[[str, Any, dict[str, str]], dict[str, Any]]] = {
    "quickblox": _user_session_quickblox_like,
    "connectycube": _user_session_quickblox_like,
    "leancloud": _session_leancloud,
    "baasbox": _session_baasbox,
}


class Authenticator:
    """Holds a vendor's credentials and answers, per operation, the headers that authenticate it."""

    def __init__(
        self,
        vendor: str,
        app_credentials: dict[str, str],
        schemes: dict[str, Any] | None = None,
        *,
        http: httpx.Client | None = None,
        base_url: str = "",
    ) -> None:
        self.vendor = vendor
        self.client_module = importlib.import_module(f"generated.{vendor}.client")
        self.runtime = importlib.import_module(f"generated.{vendor}._client_runtime")
        self.app_credentials = dict(app_credentials)
        static = STATIC.get(vendor, lambda c: {})(self.app_credentials)
        self.schemes = {k: v for k, v in {**static, **(schemes or {})}.items() if v is not None}
        self.http = http
        self.base_url = base_url
        self.notes: list[str] = []

    def login(self) -> None:
        """Open the vendor's sessions (best effort: a server without them is fuzzed without)."""
        opener = SESSIONS.get(self.vendor)
        if opener is None:
            return
        accepted = set(inspect.signature(self.client_module.Client.__init__).parameters)
        kwargs = {
            snake(name): value for name, value in self.schemes.items() if snake(name) in accepted
        }
        kwargs.update(
            {k: v for k, v in self.app_credentials.items() if k in accepted and k not in kwargs}
        )
        client = self.client_module.Client(
            self.base_url or "http://fuzz", http_client=self.http, retries=0, **kwargs
        )
        try:
            opener(self.vendor, client, self.app_credentials)
        except Exception as exc:  # report it, and fuzz with what we have
            self.notes.append(f"could not open a session: {type(exc).__name__}: {exc}"[:300])
        for name, value in client._core.credentials.items():
            if value is not None:
                self.schemes[name] = value

    def headers(self, operation_id: str) -> dict[str, str]:
        endpoint = next(
            (
                value
                for name, value in vars(self.client_module).items()
                if isinstance(value, self.runtime.Endpoint) and value.operation_id == operation_id
            ),
            None,
        )
        if endpoint is None:
            return {}
        core = self.runtime.Core(
            self.client_module.SCHEMES,
            dict(self.schemes),
            {},
            retries=0,
            backoff=0,
            max_delay=0,
            retry_non_idempotent=False,
        )
        headers, _query, cookies = core.auth(endpoint)
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        return dict(headers)
