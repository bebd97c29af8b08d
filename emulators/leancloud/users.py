"""Users, sessions, passwords, e-mail and phone verification, SMS codes and captchas."""

from __future__ import annotations

import secrets
import string
from typing import Any

from generated.leancloud import models
from generated.leancloud.server import Credentials

from .accounts import AccountsBase, clean_phone
from .base import check_password, hash_password
from .common import NO_USER, bad, fail, iso, random_id, raw_body, raw_query_json, reply

CAPTCHA_TTL = 60


class UsersMixin(AccountsBase):
    async def query_users(
        self,
        *,
        auth: Credentials,
        where: models.WhereClause | None = None,
        order: str | None = None,
        limit: int | None = None,
        skip: int | None = None,
        keys: str | None = None,
        include: str | None = None,
        count: int | None = None,
        return_acl: bool | None = None,
    ) -> Any:
        body = self.find(
            "_User",
            self.ctx(auth),
            where=raw_query_json("where", where),
            order=order,
            limit=limit,
            skip=skip,
            keys=keys,
            include=include,
            count=count,
            return_acl=return_acl,
        )
        return reply(models.UserList, body)

    async def sign_up(
        self,
        *,
        auth: Credentials,
        fail_on_not_exist: bool | None = None,
        body: models.SignUpRequest,
    ) -> Any:
        ctx = self.ctx(auth)
        user, token, created = self.sign_up_core(
            raw_body(body), ctx, fail_on_not_exist=bool(fail_on_not_exist)
        )
        if not created:
            return reply(models.SessionUser, self.session_view(user, token))
        answer = {
            "sessionToken": token,
            "createdAt": user["createdAt"],
            "objectId": user["objectId"],
        }
        return reply(models.SessionUser, answer, 201, self.user_location(user["objectId"]))

    async def sign_up_or_log_in_with_mobile_phone(
        self, *, auth: Credentials, body: models.MobileSignUpRequest
    ) -> Any:
        ctx = self.ctx(auth)
        data = dict(raw_body(body))
        phone = clean_phone(data.pop("mobilePhoneNumber", None))
        self.take_code(("sms", "login"), phone, str(data.pop("smsCode", "")))
        with self.store.transaction():
            user = self.user_by("mobilePhoneNumber", phone)
            if user is not None:
                user["mobilePhoneVerified"] = True
                token = self.current_session(user)
                self.save("_User", user)
                return reply(models.SessionUser, self.session_view(user, token))
            data = {"username": phone, **data, "mobilePhoneNumber": phone}
            data = self.check_user_fields(data, None, ctx)
            user = self.new_doc({"emailVerified": False, "mobilePhoneVerified": True})
            self.apply_changes("_User", user, data, creating=True)
            token = self.new_session(user)
            self.save_new("_User", user)
        return reply(models.SessionUser, self.session_view(user, token))

    async def log_in(self, *, auth: Credentials, body: models.LoginRequest) -> Any:
        data = raw_body(body)
        phone = data.get("mobilePhoneNumber")
        if data.get("smsCode") is not None and phone is not None and data.get("password") is None:
            number = clean_phone(phone)
            self.take_code(("login", "sms"), number, str(data["smsCode"]))
            with self.store.transaction():
                user = self.user_by("mobilePhoneNumber", number)
                if user is None:
                    raise bad(213, "Could not find user with the mobile phone number.")
                user["mobilePhoneVerified"] = True
                token = self.current_session(user)
                self.save("_User", user)
            return reply(models.SessionUser, self.session_view(user, token))
        password = data.get("password")
        if not isinstance(password, str) or not password:
            raise bad(201, "Password is missing or empty.")
        if data.get("username") is not None:
            user = self.user_by("username", data["username"])
            if user is None:
                raise fail(*NO_USER)
        elif data.get("email") is not None:
            user = self.user_by("email", data["email"], fold=True)
            if user is None:
                raise bad(211, "Could not find user.")
        elif phone is not None:
            user = self.user_by("mobilePhoneNumber", str(phone))
            if user is None:
                raise bad(213, "Could not find user with the mobile phone number.")
        else:
            raise bad(200, "Username is missing or empty.")
        token = self.password_login(user, password)
        fresh = self.load("_User", user["objectId"]) or user
        return reply(models.SessionUser, self.session_view(fresh, token))

    async def get_current_user(self, *, auth: Credentials, session_token: str | None = None) -> Any:
        token = auth.lc_session or session_token
        user = self.session_user(token)
        if user is None or token is None:
            raise fail(*NO_USER)
        return reply(models.SessionUser, self.session_view(user, token))

    async def get_user(
        self,
        *,
        auth: Credentials,
        object_id: str,
        include: str | None = None,
        keys: str | None = None,
    ) -> Any:
        ctx = self.ctx(auth)
        user = self.load("_User", object_id)
        if user is None or not self.can(ctx, user, "read"):
            raise fail(*NO_USER)
        return reply(models.User, self.present("_User", user, ctx, keys=keys, include=include))

    async def update_user(
        self,
        *,
        auth: Credentials,
        object_id: str,
        fetch_when_save: bool | None = None,
        body: models.ObjectFields,
    ) -> Any:
        ctx = self.ctx(auth)
        user, changed = self.update_user_core(object_id, raw_body(body), ctx)
        answer: dict[str, Any] = {"updatedAt": user["updatedAt"], "objectId": object_id}
        if fetch_when_save:
            view = self.present("_User", user, ctx)
            answer.update({k: view[k] for k in changed if k in view})
        return reply(models.UpdatedObject, answer)

    async def delete_user(self, *, auth: Credentials, object_id: str) -> Any:
        self.delete_user_core(object_id, self.ctx(auth))
        return reply(models.EmptyObject, {})

    async def refresh_session_token(self, *, auth: Credentials, object_id: str) -> Any:
        ctx = self.ctx(auth)
        self.may_alter(ctx, object_id)
        with self.store.transaction():
            user = self.user_or_211(object_id)
            self.revoke_sessions(object_id)
            token = self.new_session(user)
            user["updatedAt"] = iso(self.now())
            self.save("_User", user)
        return reply(models.SessionUser, self.session_view(user, token))

    async def update_password(
        self, *, auth: Credentials, object_id: str, body: models.UpdatePasswordRequest
    ) -> Any:
        ctx = self.ctx(auth)
        if ctx.user_id != object_id:
            raise fail(403, 206, "The user cannot be altered by a client without the session.")
        if not body.new_password.strip():
            raise bad(218, "Invalid password, it must be a non-blank string.")
        with self.store.transaction():
            user = self.user_or_211(object_id)
            if not check_password(user.get("_pw"), body.old_password):
                raise bad(210, "The username and password mismatch.")
            user["_pw"] = hash_password(body.new_password)
            user["updatedAt"] = iso(self.now())
            token = self.current_session(user)
            self.save("_User", user)
        return reply(models.User, self.session_view(user, token))

    # -- e-mail ---------------------------------------------------------------------------------
    async def request_password_reset(self, *, auth: Credentials, body: models.EmailRequest) -> Any:
        user = self.user_by("email", body.email, fold=True)
        if user is None:
            raise bad(205, "Could not find user with that email.")
        self.send_mail("passwordReset", str(body.email), user)
        return reply(models.EmptyObject, {})

    async def request_email_verify(self, *, auth: Credentials, body: models.EmailRequest) -> Any:
        user = self.user_by("email", body.email, fold=True)
        if user is None:
            raise bad(205, "Could not find user with that email.")
        self.send_mail("emailVerify", str(body.email), user)
        return reply(models.EmptyObject, {})

    # -- phone ----------------------------------------------------------------------------------
    def _phone_user(self, number: str, *, verified: bool) -> dict[str, Any]:
        user = self.user_by("mobilePhoneNumber", number)
        if user is None:
            raise bad(213, "Could not find user with the mobile phone number.")
        if verified and not user.get("mobilePhoneVerified"):
            raise bad(215, "Mobile phone number isn't verified.")
        return user

    async def request_mobile_phone_verify(
        self, *, auth: Credentials, body: models.PhoneCodeRequest
    ) -> Any:
        number = clean_phone(body.mobilePhoneNumber)
        user = self._phone_user(number, verified=False)
        if not user.get("mobilePhoneVerified"):
            self.send_code("verify", number, ttl_minutes=body.ttl, user_id=user["objectId"])
        return reply(models.EmptyObject, {})

    async def verify_mobile_phone(
        self, *, auth: Credentials, code: str, body: models.PhoneNumberRequest | None = None
    ) -> Any:
        phone = clean_phone(body.mobilePhoneNumber) if body and body.mobilePhoneNumber else None
        record = self.take_code(("verify", "sms"), phone, code)
        with self.store.transaction():
            user = self.user_by("mobilePhoneNumber", record["mobilePhoneNumber"])
            if user is None:
                raise bad(213, "Could not find user with the mobile phone number.")
            user["mobilePhoneVerified"] = True
            user["updatedAt"] = iso(self.now())
            self.save("_User", user)
        return reply(models.UpdatedObject, {})

    async def request_login_sms_code(
        self, *, auth: Credentials, body: models.PhoneCodeRequest
    ) -> Any:
        number = clean_phone(body.mobilePhoneNumber)
        user = self._phone_user(number, verified=True)
        self.send_code("login", number, ttl_minutes=body.ttl, user_id=user["objectId"])
        return reply(models.EmptyObject, {})

    async def request_password_reset_by_sms_code(
        self, *, auth: Credentials, body: models.PhoneCodeRequest
    ) -> Any:
        number = clean_phone(body.mobilePhoneNumber)
        user = self._phone_user(number, verified=True)
        self.send_code("reset", number, ttl_minutes=body.ttl, user_id=user["objectId"])
        return reply(models.EmptyObject, {})

    async def reset_password_by_sms_code(
        self, *, auth: Credentials, code: str, body: models.ResetPasswordBySmsCodeRequest
    ) -> Any:
        if not body.password.strip():
            raise bad(218, "Invalid password, it must be a non-blank string.")
        phone = clean_phone(body.mobilePhoneNumber) if body.mobilePhoneNumber else None
        record = self.take_code(("reset",), phone, code)
        with self.store.transaction():
            user = self._phone_user(record["mobilePhoneNumber"], verified=False)
            user["_pw"] = hash_password(body.password)
            user["updatedAt"] = iso(self.now())
            self.revoke_sessions(user["objectId"])
            user.pop("_sessionToken", None)
            self.save("_User", user)
        return reply(models.EmptyObject, {})

    async def request_change_phone_number(
        self, *, auth: Credentials, body: models.RequestChangePhoneNumberRequest
    ) -> Any:
        user = self.require_user(self.ctx(auth))
        number = clean_phone(body.mobilePhoneNumber)
        other = self.user_by("mobilePhoneNumber", number)
        if other is not None and other["objectId"] != user["objectId"]:
            raise bad(214, "Mobile phone number has already been taken.")
        self.send_code("change", number, ttl_minutes=body.ttl, user_id=user["objectId"])
        return reply(models.EmptyObject, {})

    async def change_phone_number(
        self, *, auth: Credentials, body: models.ChangePhoneNumberRequest
    ) -> Any:
        user = self.require_user(self.ctx(auth))
        number = clean_phone(body.mobilePhoneNumber)
        record = self.take_code(("change",), number, body.code)
        if record.get("user") != user["objectId"]:
            raise bad(603, "Invalid SMS code.")
        with self.store.transaction():
            other = self.user_by("mobilePhoneNumber", number)
            if other is not None and other["objectId"] != user["objectId"]:
                raise bad(214, "Mobile phone number has already been taken.")
            fresh = self.user_or_211(user["objectId"])
            fresh["mobilePhoneNumber"] = number
            fresh["mobilePhoneVerified"] = True
            fresh["updatedAt"] = iso(self.now())
            self.save("_User", fresh)
        return reply(models.EmptyObject, {})

    # -- SMS and captchas -----------------------------------------------------------------------
    async def request_sms_code(
        self, *, auth: Credentials, body: models.RequestSmsCodeRequest
    ) -> Any:
        self.send_code("sms", clean_phone(body.mobilePhoneNumber), ttl_minutes=body.ttl)
        return reply(models.EmptyObject, {})

    async def verify_sms_code(
        self, *, auth: Credentials, code: str, body: models.PhoneNumberRequest
    ) -> Any:
        phone = clean_phone(body.mobilePhoneNumber) if body.mobilePhoneNumber else None
        self.take_code(("sms",), phone, code)
        return reply(models.EmptyObject, {})

    async def request_captcha(
        self,
        *,
        auth: Credentials,
        width: int | None = None,
        height: int | None = None,
        size: int | None = None,
        ttl: int | None = None,
    ) -> Any:
        token = random_id(24)
        letters = max(3, min(6, size or 4))
        code = self.config.options.get("captcha_code") or "".join(
            secrets.choice(string.ascii_lowercase + string.digits) for _ in range(letters)
        )
        lifetime = max(10, min(180, ttl or CAPTCHA_TTL))
        self.store.put("lc_captcha", token, {"code": code, "expiresAt": self.now() + lifetime})
        url = f"https://{self.files_host()}/captcha/{token}.png"
        return reply(models.Captcha, {"captcha_token": token, "captcha_url": url})

    async def verify_captcha(self, *, auth: Credentials, body: models.VerifyCaptchaRequest) -> Any:
        with self.store.transaction():
            record = self.store.get("lc_captcha", body.captcha_token)
            if (
                record is None
                or self.now() >= float(record["expiresAt"])
                or str(record["code"]).lower() != body.captcha_code.lower()
            ):
                raise bad(1, "Invalid captcha code.")
            self.store.delete("lc_captcha", body.captcha_token)
            validate_token = random_id(32)
            self.store.put("lc_validate_token", validate_token, {"createdAt": self.now()})
        return reply(models.CaptchaValidation, {"validate_token": validate_token})


__all__ = ["UsersMixin"]
