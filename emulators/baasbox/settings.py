"""The settings sections of `/admin/configuration` with their defaults (from BaasBox 1.0's
`conf/configuration.conf`), as (section, sub-section, key, default, type, description).

The emulator departs from the shipped defaults in one place: `session_tokens.timeout` is 15 minutes
(the behaviour the 0.57-0.8 docs describe) instead of 0, so that sessions do expire; an emulator
started with `--session-ttl` uses that instead.
"""

from __future__ import annotations

SECTIONS = {
    "Application": "General settings of the application",
    "PasswordRecovery": "Settings of the password recovery by e-mail",
    "Images": "Settings of the automatic resizing of images",
    "Push": "Settings of the push notifications",
    "Social": "Settings of the social networks login",
}

_PROFILES = {"1": "first", "2": "second", "3": "third"}


def _push() -> list[tuple[str, str, str, str, str, str]]:
    rows = []
    for n, nth in _PROFILES.items():
        sub = f"Profile{n}"
        rows += [
            (
                "Push",
                sub,
                f"profile{n}.push.profile.enable",
                "false",
                "Boolean",
                "Enable this profile",
            ),
            (
                "Push",
                sub,
                f"profile{n}.push.sandbox.enable",
                "true",
                "Boolean",
                f"Contact the SANDBOX server instead of the PRODUCTION one for the {nth} app",
            ),
            (
                "Push",
                sub,
                f"profile{n}.push.apple.timeout",
                "0",
                "Integer",
                f"The timeout for push notifications on Apple devices for the {nth} app",
            ),
            (
                "Push",
                sub,
                f"profile{n}.sandbox.android.api.key",
                "",
                "String",
                f"The key to send push notifications to Android devices in SANDBOX mode for the "
                f"{nth} app",
            ),
            (
                "Push",
                sub,
                f"profile{n}.sandbox.ios.certificate",
                "",
                "ConfigurationFileContainer",
                f"The Apple certificate in SANDBOX mode for the {nth} app",
            ),
            (
                "Push",
                sub,
                f"profile{n}.sandbox.ios.certificate.password",
                "",
                "String",
                f"The password of the Apple certificate in SANDBOX mode for the {nth} app",
            ),
            (
                "Push",
                sub,
                f"profile{n}.production.android.api.key",
                "",
                "String",
                f"The key to send push notifications to Android devices in PRODUCTION mode for the "
                f"{nth} app",
            ),
            (
                "Push",
                sub,
                f"profile{n}.production.ios.certificate",
                "",
                "ConfigurationFileContainer",
                f"The Apple certificate in PRODUCTION mode for the {nth} app",
            ),
            (
                "Push",
                sub,
                f"profile{n}.production.ios.certificate.password",
                "",
                "String",
                f"The password of the Apple certificate in PRODUCTION mode for the {nth} app",
            ),
        ]
    return rows


SETTINGS: list[tuple[str, str, str, str, str, str]] = [
    ("Application", "Application", "application.name", "BaasBox", "String", "The App name"),
    (
        "Application",
        "Session",
        "session_tokens.timeout",
        "15",
        "Integer",
        "The expiration time of the session tokens (in minutes). "
        "To disable expiration set it to 0.",
    ),
    (
        "Application",
        "Network",
        "network.http.ssl",
        "false",
        "Boolean",
        "Set to TRUE if the BaasBox server is reached via SSL through a reverse proxy.",
    ),
    (
        "Application",
        "Network",
        "network.http.url",
        "localhost",
        "String",
        "The public url of the BaasBox server, without the protocol prefix and port",
    ),
    (
        "Application",
        "Network",
        "network.http.port",
        "9000",
        "Integer",
        "The public TCP port used by the App to contact BaasBox.",
    ),
    (
        "PasswordRecovery",
        "Email",
        "email.from",
        "info@example.com",
        "String",
        "The name and address to specify in the from field of the email to send.",
    ),
    (
        "PasswordRecovery",
        "Email",
        "email.subject",
        "BaasBox: reset password",
        "String",
        "The subject of the email to send.",
    ),
    (
        "PasswordRecovery",
        "Email",
        "email.template.text",
        "Hi $user_name$, we received a request to reset your password because you forgot it. "
        "Please "
        "follow this link within 15 minutes: $link$",
        "String",
        "The template (text format) of the email to send to the user when they request a "
        "password reset.",
    ),
    (
        "PasswordRecovery",
        "Email",
        "email.expiration.time",
        "15",
        "Integer",
        "Minutes before the reset code expires.",
    ),
    (
        "PasswordRecovery",
        "SMTP",
        "network.smtp.host",
        "mail.example.com",
        "String",
        "IP ADDRESS or fully qualified name of the SMTP server.",
    ),
    (
        "PasswordRecovery",
        "SMTP",
        "network.smtp.port",
        "25",
        "Integer",
        "The TCP port of the SMTP server.",
    ),
    (
        "PasswordRecovery",
        "SMTP",
        "network.smtp.ssl",
        "false",
        "Boolean",
        "Enable or disable the SSL protocol for the SMTP server.",
    ),
    (
        "PasswordRecovery",
        "SMTP",
        "network.smtp.tls",
        "false",
        "Boolean",
        "Enable or disable the TLS protocol for the SMTP server.",
    ),
    (
        "PasswordRecovery",
        "SMTP",
        "network.smtp.authentication",
        "true",
        "Boolean",
        "Set to TRUE if the SMTP server requires authentication.",
    ),
    (
        "PasswordRecovery",
        "SMTP",
        "network.smtp.user",
        "example",
        "String",
        "The username required by the SMTP server when authentication is required.",
    ),
    (
        "PasswordRecovery",
        "SMTP",
        "network.smtp.password",
        "password",
        "String",
        "The password required by the SMTP server if it requires authentication.",
    ),
    (
        "Images",
        "Images",
        "image.allows.automatic.resize",
        "true",
        "Boolean",
        "Enable or disable automatic resizing of images",
    ),
    (
        "Images",
        "Images",
        "image.allowed.automatic.resize.formats",
        "25% 50% 75% <=80px",
        "String",
        "A space-separated-values list of image size, both in px or in %.",
    ),
    *_push(),
    (
        "Social",
        "Facebook",
        "social.facebook.token",
        "",
        "String",
        "Application Token for facebook app",
    ),
    (
        "Social",
        "Facebook",
        "social.facebook.secret",
        "",
        "String",
        "Application secret for facebook app",
    ),
    (
        "Social",
        "Facebook",
        "social.facebook.enabled",
        "false",
        "Boolean",
        "Facebook link enable flag",
    ),
    ("Social", "Google", "social.google.token", "", "String", "Application Token for google app"),
    ("Social", "Google", "social.google.secret", "", "String", "Application secret for google app"),
    ("Social", "Google", "social.google.enabled", "false", "Boolean", "Google link enable flag"),
]

BY_KEY = {row[2]: row for row in SETTINGS}
SECTION_NAMES = {name.lower(): name for name in SECTIONS}


def section_name(section: str) -> str | None:
    return SECTION_NAMES.get(section.lower())
