"""Following users: a follower joins the role `friends_of_<username>` (kept as the follower's
`following` list) and sees the followed user's `visibleByFriends` section."""

from __future__ import annotations

from typing import Any

from generated.baasbox.server import Credentials, FriendshipHandlers, Reply

from ..store import Doc
from .common import Base, Caller, bad, not_found, ok


class Follows(Base):
    def follow(self, follower: str, followed: str) -> Doc:
        with self.store.transaction():
            source = self.user(follower)
            if source is None:
                raise not_found(f"User {follower} does not exists")
            target = self.user(followed)
            if target is None:
                raise not_found(f"User {followed} does not exists")
            if follower == followed:
                raise bad("User cannot follow himself")
            if followed in source["following"]:
                raise bad(f"User {follower} is already a friend of {followed}")
            source["following"].append(followed)
            self.store.put("user", follower, source)
        return target

    def unfollow(self, follower: str, followed: str) -> None:
        with self.store.transaction():
            source = self.user(follower)
            if source is None:
                raise not_found(f"User {follower} does not exists")
            if self.user(followed) is None:
                raise not_found(f"User {followed} does not exists")
            if followed not in source["following"]:
                raise not_found(f"User {follower} is not a friend of {followed}")
            source["following"].remove(followed)
            self.store.put("user", follower, source)

    def followers_of(self, username: str) -> list[Doc]:
        return [u for _, u in self.store.all("user") if username in u.get("following", [])]

    def following_of(self, username: str) -> list[Doc]:
        user = self.user(username)
        if user is None:
            raise not_found(f"User {username} does not exists")
        found = (self.user(name) for name in user.get("following", []))
        return [u for u in found if u is not None]


class FriendshipOps(Follows, FriendshipHandlers):
    def user_list(self, caller: Caller, users: list[Doc], **criteria: Any) -> Any:
        views = [self.user_view(u, caller) for u in users]
        criteria.pop("fields", None)
        criteria.pop("count", None)
        result = self.run_query(views, self.criteria(**criteria))
        return ok(result.records, more=result.more)

    async def follow_user(self, *, auth: Credentials, username: str) -> Any:
        caller = self.me(auth)
        target = self.follow(caller.username or "", username)
        caller = self.me(auth)  # now a friend: sees visibleByFriends
        return Reply(201, ok(self.user_view(target, caller), 201))

    async def unfollow_user(self, *, auth: Credentials, username: str) -> Any:
        caller = self.me(auth)
        self.unfollow(caller.username or "", username)
        return ok("")

    async def list_my_followers(self, *, auth: Credentials, **criteria: Any) -> Any:
        caller = self.me(auth)
        return self.user_list(caller, self.followers_of(caller.username or ""), **criteria)

    async def list_followers(self, *, auth: Credentials, username: str, **criteria: Any) -> Any:
        caller = self.me(auth)
        if self.user(username) is None:
            raise not_found(f"User {username} does not exists")
        return self.user_list(caller, self.followers_of(username), **criteria)

    async def list_my_following(self, *, auth: Credentials, **criteria: Any) -> Any:
        caller = self.me(auth)
        return self.user_list(caller, self.following_of(caller.username or ""), **criteria)

    async def list_following(self, *, auth: Credentials, username: str, **criteria: Any) -> Any:
        caller = self.me(auth)
        return self.user_list(caller, self.following_of(username), **criteria)
