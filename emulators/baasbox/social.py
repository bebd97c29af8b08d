"""Social login and push notifications: the parts that talk to third parties.

Offline, nothing reaches Facebook, Google, GCM or APNs. A social token is accepted as is (the
provider account is derived from it, so the same token logs in the same user) once the network is
enabled in the `Social` settings. A push is recorded in the store (kind `push`) for each device of
each recipient; when the `Push` settings of an app are incomplete (disabled, or no key or
certificate) it is recorded as undelivered and the answer carries the vendor's "sent, but some may
be lost" code, bb_code 20001 (the server itself would answer 503 with 50301-50305).
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, Literal
from urllib.parse import quote, urlencode

from generated.baasbox import models
from generated.baasbox.server import Credentials, PushHandlers, Reply, SocialHandlers

from ..store import Doc
from .common import Base, Caller, bad, not_found, ok, server_error

NETWORKS = ("facebook", "google")
AUTH_URLS = {
    "facebook": "https://www.facebook.com/dialog/oauth",
    "google": "https://accounts.google.com/o/oauth2/auth",
}
PUSH_SENT = "Push Notification(s) has been sent"


class SocialOps(Base, SocialHandlers):
    def network(self, name: str) -> str:
        network = name.lower()
        if network not in NETWORKS:
            raise bad(f"Social network {name} is not supported")
        if not self.flag(f"social.{network}.enabled"):
            raise bad(
                f"Social login with {network} is not enabled. HINT: check the Social settings"
            )
        return network

    @staticmethod
    def tokens(
        oauth_token: str | None, oauth_secret: str | None, body: models.SocialTokenRequest | None
    ) -> tuple[str, str]:
        token = (body.oauth_token if body else None) or oauth_token
        secret = (body.oauth_secret if body else None) or oauth_secret
        if not token:
            raise bad("The 'oauth_token' field is missing")
        if not secret:
            raise bad("The 'oauth_secret' field is missing")
        return token, secret

    @staticmethod
    def social_entry(network: str, token: str, secret: str) -> dict[str, Any]:
        provider_id = hashlib.sha1(f"{network}:{token}".encode()).hexdigest()[:16]
        return {
            "username": f"{network}_{provider_id}",
            "password": None,
            "from": network,
            "token": token,
            "secret": secret,
            "id": provider_id,
            "additionalData": {
                "name": None,
                "email": None,
                "avatarUrl": None,
                "personal_url": None,
            },
        }

    def owner_of(self, network: str, provider_id: str) -> Doc | None:
        return self.store.first(
            "user", lambda u: (u.get("social") or {}).get(network, {}).get("id") == provider_id
        )

    async def social_login(
        self,
        *,
        auth: Credentials,
        social_network: str,
        oauth_token: str | None = None,
        oauth_secret: str | None = None,
        body: models.SocialTokenRequest | None = None,
    ) -> Any:
        network = self.network(social_network)
        token, secret = self.tokens(oauth_token, oauth_secret, body)
        entry = self.social_entry(network, token, secret)
        with self.store.transaction():
            user = self.owner_of(network, entry["id"])
            if user is None:
                user = self.create_user(
                    str(uuid.uuid4()), uuid.uuid4().hex, "registered", {}, generated=True
                )
                user["social"] = {network: entry}
                user["visibleByRegisteredUsers"]["_social"] = {network: {"id": entry["id"]}}
                self.store.put("user", user["username"], user)
            elif user["status"] != "ACTIVE":
                raise bad(f"user {user['username']} unauthorized")
            session = self.open_session(user["username"])
        view = self.user_view(user, None, everything=True)
        view["X-BB-SESSION"] = session
        return Reply(200, ok(view), headers={"X-BB-SESSION": session})

    async def link_social_network(
        self,
        *,
        auth: Credentials,
        social_network: str,
        oauth_token: str | None = None,
        oauth_secret: str | None = None,
        body: models.SocialTokenRequest | None = None,
    ) -> Any:
        caller = self.me(auth)
        network = self.network(social_network)
        token, secret = self.tokens(oauth_token, oauth_secret, body)
        entry = self.social_entry(network, token, secret)
        with self.store.transaction():
            owner = self.owner_of(network, entry["id"])
            if owner is not None and owner["username"] != caller.username:
                raise server_error(
                    "A user with this token already exists and is linked to another account"
                )

            def change(user: Doc) -> Doc:
                user.setdefault("social", {})[network] = entry
                return user

            self.store.update("user", caller.username or "", change)
        return ok("")

    async def unlink_social_network(self, *, auth: Credentials, social_network: str) -> Any:
        caller = self.me(auth)
        network = social_network.lower()
        user = caller.user or {}
        linked = user.get("social") or {}
        if network not in linked:
            raise not_found(f"The user {caller.username} is not linked to {social_network}")
        if user.get("generated_username") and len(linked) == 1:
            raise server_error(
                f"Cannot unlink {social_network}: it is the only way the user can log in"
            )

        def change(record: Doc) -> Doc:
            record.get("social", {}).pop(network, None)
            return record

        self.store.update("user", caller.username or "", change)
        return ok("")

    async def list_social_logins(self, *, auth: Credentials) -> Any:
        caller = self.me(auth)
        linked = (caller.user or {}).get("social") or {}
        if not linked:
            raise not_found(f"The user {caller.username} is not linked to any social network")
        return ok(list(linked.values()))

    def callback_url(self, network: str) -> str:
        scheme = "https" if self.flag("network.http.ssl") else "http"
        host = self.setting("network.http.url") or "localhost"
        port = self.setting("network.http.port") or "9000"
        return f"{scheme}://{host}:{port}/social/login/{network}/callback"

    async def get_social_authorization_url(self, *, auth: Credentials, social_network: str) -> Any:
        network = self.network(social_network)
        query = urlencode(
            {
                "client_id": self.setting(f"social.{network}.token"),
                "redirect_uri": self.callback_url(network),
                "response_type": "code",
            }
        )
        return ok({"url": f"{AUTH_URLS[network]}?{query}"})

    async def social_login_callback(
        self,
        *,
        auth: Credentials,
        social_network: str,
        access_token: str | None = None,
        code: str | None = None,
        oauth_verifier: str | None = None,
    ) -> Any:
        network = self.network(social_network)
        if access_token:
            return ok("")
        if not code and not oauth_verifier:
            raise bad("Missing the provider's authorization code")
        grant = code or oauth_verifier or ""
        token = hashlib.sha1(f"{network}:code:{grant}".encode()).hexdigest()
        secret = hashlib.sha1(f"{network}:secret:{grant}".encode()).hexdigest()
        location = (
            f"{self.callback_url(network)}?access_token={quote(token)}"
            f"&access_secret={quote(secret)}"
        )
        return Reply(303, None, headers={"Location": location})


class PushOps(Base, PushHandlers):
    def add_device(self, caller: Caller, os: str, push_token: str) -> None:
        self.register_device(caller.username or "", {"os": os, "pushToken": push_token})

    async def enable_push(
        self, *, auth: Credentials, os: Literal["ios", "android"], push_token: str
    ) -> Any:
        self.add_device(self.me(auth), os, push_token)
        return ok("")

    async def enable_push_deprecated(
        self, *, auth: Credentials, os: Literal["ios", "android"], device_id: str
    ) -> Any:
        self.add_device(self.me(auth), os, device_id)
        return ok("")

    async def disable_push(self, *, auth: Credentials, push_token: str) -> Any:
        caller = self.me(auth)
        self.forget_device(caller.username or "", push_token)
        return ok("")

    def profile_problems(self, profiles: list[int]) -> list[str]:
        """Why each push app could not deliver: disabled, or without key or certificate."""
        problems = []
        for profile in profiles:
            prefix = f"profile{profile}"
            mode = "sandbox" if self.flag(f"{prefix}.push.sandbox.enable") else "production"
            if not self.flag(f"{prefix}.push.profile.enable"):
                problems.append(f"push app {profile} is disabled")
            elif not (
                self.setting(f"{prefix}.{mode}.android.api.key")
                or self.setting(f"{prefix}.{mode}.ios.certificate")
            ):
                problems.append(f"push app {profile} has no {mode} key or certificate")
        return problems

    def push(self, caller: Caller, users: list[str], body: Any, verbose: bool) -> Any:
        profiles = list(body.profiles or [1])
        recipients = []
        for name in users:
            user = self.user(name)
            if user is None:
                raise not_found(f"User {name} not found")
            recipients.append(user)
        problems = self.profile_problems(profiles)
        payload = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
        lines: list[str] = []
        with self.store.transaction():
            for user in recipients:
                for device in user.get("login_info") or []:
                    token = device.get("pushToken") or device.get("deviceId")
                    if not token:
                        continue
                    for profile in profiles:
                        self.store.insert(
                            "push",
                            {
                                "from": caller.username,
                                "to": user["username"],
                                "os": device.get("os"),
                                "pushToken": token,
                                "profile": profile,
                                "payload": payload,
                                "time": self.stamp(),
                                "delivered": not problems,
                            },
                        )
                        lines.append(
                            f"sent to {user['username']} ({device.get('os')}) through app {profile}"
                        )
            self.log("push", f"{caller.username} sent a push to {', '.join(users)}")
        if problems:
            warning = (
                "Push notifications may be lost: "
                + "; ".join(problems)
                + ". HINT: check the Push settings"
            )
            return ok(warning, bb_code="20001")
        if verbose and caller.is_admin:
            return ok(lines)
        return ok(PUSH_SENT)

    async def send_push(
        self, *, auth: Credentials, verbose: bool | None = None, body: models.SendPushRequest
    ) -> Any:
        caller = self.me(auth)
        if not body.users:
            raise bad("The 'users' field is missing or empty", "40023")
        return self.push(caller, list(body.users), body, bool(verbose))

    async def send_push_to_user(
        self, *, auth: Credentials, username: str, body: models.SendPushToUserRequest
    ) -> Any:
        caller = self.me(auth)
        return self.push(caller, [username], body, False)
