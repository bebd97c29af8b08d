"""AI extensions. No model runs offline: the emulator gives deterministic stand-in answers
(translation returns the text unchanged; summaries are built from the dialog's real messages).
With the option `ai=off` it answers 405 like an application whose AI features are disabled."""

from __future__ import annotations

from typing import Any

from generated.quickblox import models
from generated.quickblox.server import AiHandlers, Credentials, Result

from .base import AI_REQUEST, DIALOG, MESSAGE, Base
from .util import plain_error

Doc = dict[str, Any]


class AiOps(Base, AiHandlers):
    def feature(self, title: str, request: Doc) -> None:
        if self.config.options.get("ai", "on") == "off":
            plain_error(405, f"{title} is disabled")
        if not str(request.get("smart_chat_assistant_id", "")).strip():
            plain_error(400, "smart_chat_assistant_id is required")
        principal = self.who()
        self.store.insert(
            AI_REQUEST,
            {"feature": title, "request": request, "at": self.now(), "user_id": principal.user_id},
        )

    async def ai_answer_assist(
        self, *, auth: Credentials, body: models.AiAnswerAssistRequest
    ) -> Result[models.AiAnswer]:
        self.feature("AI Answer Assist", body.model_dump(mode="json"))
        if not body.message.strip():
            plain_error(400, "message is required")
        return models.AiAnswer(
            answer=f'Thank you for your message. Regarding "{body.message.strip()[:200]}": '
            "we will get back to you shortly."
        )

    async def ai_translate(
        self, *, auth: Credentials, body: models.AiTranslateRequest
    ) -> Result[models.AiAnswer]:
        self.feature("AI Translate", body.model_dump(mode="json"))
        if not body.text.strip():
            plain_error(400, "text is required")
        return models.AiAnswer(answer=body.text)  # offline: the text comes back untranslated

    async def ai_gateway(
        self, *, auth: Credentials, body: models.AiGatewayRequest
    ) -> Result[models.AiAnswer]:
        self.feature("AI Gateway", body.model_dump(mode="json"))
        last = body.messages[-1].content
        text = (
            last
            if isinstance(last, str)
            else " ".join(p.text or "" for p in last if p.type == "text")
        )
        if not text.strip() and isinstance(last, str):
            plain_error(400, "content must not be empty")
        images = 0 if isinstance(last, str) else sum(1 for p in last if p.type == "image_url")
        extra = f" and {images} image(s)" if images else ""
        return models.AiAnswer(answer=f"Received {len(text.split())} word(s){extra}.")

    async def ai_summarize(
        self, *, auth: Credentials, body: models.AiSummarizeRequest
    ) -> Result[models.AiSummary]:
        self.feature("AI Summarize", body.model_dump(mode="json"))
        dialog = self.store.get(DIALOG, body.dialog_id)
        me = self.who().user_id
        if dialog is None or (
            dialog.get("type") != 1
            and me not in dialog.get("occupants_ids", [])
            and not self.who().admin
        ):
            plain_error(404, "Dialog not found")
        msgs = self.store.find(MESSAGE, lambda m: m.get("chat_dialog_id") == body.dialog_id)
        msgs = sorted(msgs, key=lambda m: (m.get("date_sent") or 0, m["_id"]))[-1000:]
        if not msgs:
            return models.AiSummary(summary="Chat is empty.")
        senders = {m["sender_id"] for m in msgs if m.get("sender_id") is not None}
        last = str(msgs[-1].get("message") or "")[:200]
        return models.AiSummary(
            summary=f"{len(msgs)} message(s) from {len(senders)} participant(s). "
            f'Last message: "{last}"'
        )
