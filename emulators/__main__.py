"""`python -m emulators <vendor> [--host H] [--port N] [--db PATH|URL] [--print-config]`."""

from __future__ import annotations

import argparse
import json
import os
import sys

from .config import CREDENTIALS, VENDORS, load

DEFAULT_PORTS = {
    "quickblox": 8181,
    "qiscus": 8182,
    "leancloud": 8183,
    "connectycube": 8184,
    "baasbox": 9000,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulators", description=__doc__)
    parser.add_argument("vendor", choices=VENDORS)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, help="default: one per vendor (BaasBox: 9000)")
    parser.add_argument(
        "--db",
        default="emulator-{vendor}.sqlite3",
        help="SQLite file, :memory:, or a postgresql:// URL (default: %(default)s)",
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--session-ttl",
        type=float,
        default=0.0,
        help="session lifetime in seconds (default: the vendor's own)",
    )
    parser.add_argument("--tls-cert", help="serve https with this certificate (PEM)")
    parser.add_argument("--tls-key", help="and this private key (PEM)")
    parser.add_argument(
        "--print-config", action="store_true", help="print the settings as JSON and exit"
    )
    for name in sorted({n for names in CREDENTIALS.values() for n in names}):
        parser.add_argument(
            f"--{name.replace('_', '-')}", dest=f"cred_{name}", help="a credential to accept"
        )
    args = parser.parse_args(argv)

    overrides = {
        k.removeprefix("cred_"): v for k, v in vars(args).items() if k.startswith("cred_") and v
    }
    db = args.db.format(vendor=args.vendor)
    config = load(args.vendor, overrides, db=db, session_ttl=args.session_ttl)
    port = args.port or DEFAULT_PORTS[args.vendor]
    scheme = "https" if args.tls_cert else "http"
    described = {
        "vendor": args.vendor,
        "base_url": f"{scheme}://{args.host}:{port}",
        "db": db,
        "credentials": config.credentials,
    }
    if args.print_config:
        print(json.dumps(described, indent=2))
        return 0
    print(f"{args.vendor} emulator on {described['base_url']} (db: {db})", flush=True)
    for name, value in config.credentials.items():
        print(f"  {name}: {value}", flush=True)

    import uvicorn

    os.environ["BAAS_EMULATOR_VENDOR"] = args.vendor
    os.environ["BAAS_EMULATOR_SETTINGS"] = json.dumps(
        {"credentials": config.credentials, "db": db, "session_ttl": args.session_ttl}
    )
    uvicorn.run(
        "emulators.asgi:app",
        factory=True,
        host=args.host,
        port=port,
        workers=args.workers,
        ssl_certfile=args.tls_cert,
        ssl_keyfile=args.tls_key,
        log_level="warning",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
