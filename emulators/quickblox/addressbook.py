"""Address book: contacts per user (and device), matched to registered users by phone."""

from __future__ import annotations

import re
from typing import Any

from generated.quickblox import models
from generated.quickblox.server import AddressbookHandlers, Credentials, Result

from .base import ADDRESS_BOOK, USER, Base
from .users import render_user
from .util import NEED_USER, fail, plain_error

Doc = dict[str, Any]
EMPTY = "Empty address book"


def digits(phone: str | None) -> str:
    return re.sub(r"\D", "", phone or "")


class AddressBookOps(Base, AddressbookHandlers):
    @staticmethod
    def book_id(user_id: int, udid: str | None) -> str:
        return f"{user_id}:{udid or ''}"

    def contacts(self, user_id: int, udid: str | None) -> list[Doc]:
        """The user's contacts: of one device, or of every device when no udid is given."""
        if udid:
            book = self.store.get(ADDRESS_BOOK, self.book_id(user_id, udid))
            return list(book["contacts"]) if book else []
        out: list[Doc] = []
        for book in self.store.find(ADDRESS_BOOK, lambda b: b.get("user_id") == user_id):
            out.extend(book.get("contacts", []))
        return out

    async def upload_address_book(
        self, *, auth: Credentials, body: models.UploadAddressBookRequest
    ) -> Result[models.AddressBookUploadResult]:
        me = self.me()
        key = self.book_id(me, body.udid)
        created = updated = deleted = 0
        rejected: dict[str, list[str]] = {}
        with self.store.transaction():
            book = self.store.get(ADDRESS_BOOK, key) or {
                "user_id": me,
                "udid": body.udid,
                "contacts": [],
            }
            contacts: list[Doc] = [] if body.force == 1 else list(book["contacts"])
            if body.force == 1:
                deleted = len(book["contacts"])
            for index, contact in enumerate(body.contacts):
                phone = (contact.phone or "").strip()
                problems = []
                if not 10 <= len(phone) <= 15:
                    problems.append("phone is invalid: 10 to 15 characters")
                name = (contact.name or "").strip()
                if contact.destroy != 1 and not 1 <= len(name) <= 255:
                    problems.append("name is invalid: 1 to 255 characters")
                if problems:
                    rejected[str(index)] = problems
                    continue
                position = next((i for i, c in enumerate(contacts) if c["phone"] == phone), None)
                if contact.destroy == 1:
                    if position is None:
                        rejected[str(index)] = ["contact not found"]
                    else:
                        contacts.pop(position)
                        deleted += 1
                elif position is None:
                    contacts.append({"name": name, "phone": phone})
                    created += 1
                elif contacts[position]["name"] != name:
                    contacts[position] = {"name": name, "phone": phone}
                    updated += 1
            book["contacts"] = contacts
            self.store.put(ADDRESS_BOOK, key, book)
        result: Doc = {"created": created, "updated": updated, "deleted": deleted}
        if rejected:
            result["rejected"] = rejected
        return models.AddressBookUploadResult.model_validate(result)

    async def get_address_book(
        self, *, auth: Credentials, udid: str | None = None
    ) -> Result[list[models.AddressBookContact]]:
        contacts = self.contacts(self.me(), udid)
        if not contacts:
            plain_error(404, EMPTY)
        return [models.AddressBookContact.model_validate(c) for c in contacts]

    async def list_registered_users(
        self, *, auth: Credentials, udid: str | None = None, compact: int | None = None
    ) -> Result[models.RegisteredUsers]:
        me = self.who().user_id
        if me is None:
            fail("forbidden", NEED_USER)
        contacts = self.contacts(me, udid)
        if not contacts:
            plain_error(404, EMPTY)
        phones = {digits(c["phone"]) for c in contacts}
        users = self.store.find(
            USER, lambda u: bool(u.get("phone")) and digits(u["phone"]) in phones
        )
        return models.RegisteredUsers.model_validate(
            {
                "items": [
                    {"user": render_user(u, compact=compact == 1)} for u in users if u["id"] != me
                ]
            }
        )
