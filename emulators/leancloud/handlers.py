"""The LeanCloud emulator: every operation of the spec, one mixin per area."""

from __future__ import annotations

from .rtm import RtmMixin
from .services import ServicesMixin
from .social import SocialMixin
from .storage import StorageMixin
from .users import UsersMixin


class LeanCloudEmulator(StorageMixin, UsersMixin, SocialMixin, RtmMixin, ServicesMixin):
    """LeanCloud REST API 1.1 and the IM server API 1.2 on the shared document store."""


__all__ = ["LeanCloudEmulator"]
