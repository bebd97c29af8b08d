"""A small program using the generated Qiscus client; the tests run mypy --strict on it."""

from __future__ import annotations

import asyncio

from generated.qiscus import models
from generated.qiscus.client import ApiError, AsyncClient, Client


def rooms_of(email: str) -> list[str]:
    with Client("https://example.qiscus.com", sdk_secret="secret", app_id="example") as client:
        try:
            page = client.get_user_rooms(user_email=email, page=1)
        except ApiError as error:
            raise SystemExit(f"HTTP {error.status}") from error
        return [room.room_name for room in page.results.rooms_info]


async def say_hello(room_id: int) -> int:
    async with AsyncClient(sdk_secret="secret") as client:
        request = models.PostCommentRequest(
            sender_email="bot@example.com", room_id=room_id, message="hi"
        )
        posted = await client.post_comment(request)
        return posted.results.comment.id


if __name__ == "__main__":
    print(rooms_of("abc@example.com"), asyncio.run(say_hello(1)))
