#!/usr/bin/env python3
"""AWS emulator for the sandbox and end-to-end tests: moto in server mode
(in-process) behind our WSGI middleware, which answers the CloudFormation
StackSet API itself, emulates the Datadog template's custom resource,
auto-deployment and operation timing, and serves an admin API.

    python emulators/aws/launcher.py --listen 127.0.0.1:0 --state-dir DIR \\
        --datadog-url URL [--seed FILE] [--instance-seconds 1.0] [--instance-jitter-seconds 0] \\
        [--trusted-access enabled|disabled] [--template FILE] \\
        [--suspended-instances omit|skipped] [--verbose]

stdout carries exactly one line, ``listening on http://127.0.0.1:PORT``,
once DIR/aws.env is written and the server accepts connections. Everything
else goes to stderr. SIGTERM / SIGINT stop it cleanly (exit 0).
See README.md.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import secrets
import signal
import string
import sys
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

# stdout is the readiness handshake: keep everything else (moto prints a few
# things) off it.
_REAL_STDOUT = sys.stdout
sys.stdout = sys.stderr

log = logging.getLogger("aws-emulator")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="launcher.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:0", help="loopback IP:PORT to bind (default 127.0.0.1:0)")
    ap.add_argument("--state-dir", required=True, type=Path, help="directory for aws.env")
    ap.add_argument("--datadog-url", required=True, help="base URL of the Datadog (fake) API the custom resource calls")
    ap.add_argument("--seed", type=Path, default=None, help="organization spec (JSON/YAML); default seed-default.json")
    ap.add_argument("--instance-seconds", type=float, default=1.0, help="time each stack instance takes (default 1.0; 0 allowed)")
    ap.add_argument("--instance-jitter-seconds", type=float, default=0.0,
                    help="each instance takes up to this much longer, drawn uniformly (default 0)")
    ap.add_argument("--trusted-access", choices=("enabled", "disabled"), default=None,
                    help="StackSets trusted access with Organizations (default: the seed's, else enabled)")
    ap.add_argument("--template", type=Path, default=None,
                    help="template served as the Datadog template (default: the shared reference copy, else test-template.yaml)")
    ap.add_argument("--suspended-instances", choices=("omit", "skipped"), default="omit",
                    help="suspended accounts in targeted OUs: no instance (omit, default) or a SKIPPED_SUSPENDED_ACCOUNT instance")
    ap.add_argument("--verbose", action="store_true", help="log every HTTP request to stderr")
    args = ap.parse_args(argv)
    if args.instance_seconds < 0:
        ap.error("--instance-seconds must be >= 0")
    if args.instance_jitter_seconds < 0:
        ap.error("--instance-jitter-seconds must be >= 0")
    return args


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep:
        raise ValueError(f"--listen must be IP:PORT, got {value!r}")
    host = host.strip("[]")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"--listen host must be a loopback IP address, got {host!r}") from None
    if not ip.is_loopback:
        raise ValueError(f"--listen must be a loopback address (127.0.0.1), got {host}")
    port_n = int(port)
    if not 0 <= port_n <= 65535:
        raise ValueError(f"bad port {port}")
    return host, port_n


def random_credentials() -> tuple[str, str]:
    alnum = string.ascii_uppercase + string.digits
    key_id = "AKIA" + "".join(secrets.choice(alnum) for _ in range(16))
    secret_chars = string.ascii_letters + string.digits + "+/"
    secret = "".join(secrets.choice(secret_chars) for _ in range(40))
    return key_id, secret


def _single_quoted(value: str) -> str:
    """POSIX single quotes (a quote inside becomes '\\'')."""
    return "'" + value.replace("'", "'\\''") + "'"


def write_env(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".env.tmp")
    lines = [f"export {k}={_single_quoted(v)}" for k, v in values.items()]
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("# AWS emulator environment (generated; sourceable)\n")
        fh.write("\n".join(lines) + "\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO if args.verbose else logging.WARNING,
        format="aws-emulator: %(levelname)s %(name)s: %(message)s",
    )
    try:
        host, port = parse_listen(args.listen)
    except ValueError as exc:
        print(f"aws-emulator: {exc}", file=sys.stderr)
        return 2

    import seed as seed_mod

    try:
        spec = seed_mod.load(args.seed)
    except (OSError, seed_mod.SeedError) as exc:
        print(f"aws-emulator: seed: {exc}", file=sys.stderr)
        return 2
    management_id = seed_mod.management_account_id(spec)
    # Every request is made as the management account (the access key is ours).
    os.environ["MOTO_ACCOUNT_ID"] = management_id
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "false")

    from werkzeug.serving import make_server

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    from admin import AdminApp
    from calllog import CallLog
    from context import Context
    from datadog_cr import DatadogCustomResource
    from faults import Faults
    from middleware import EmulatorApp
    from operations import Runner
    from org import Org
    from stacks import Stacks
    from stacksets import StackSets
    from templates import TEMPLATE_URL, TemplateStore

    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.ERROR)

    ctx = Context()
    ctx.settings.instance_seconds = args.instance_seconds
    ctx.settings.instance_jitter_seconds = args.instance_jitter_seconds
    ctx.settings.suspended_instances = args.suspended_instances
    ctx.org = Org(management_id)
    trusted = None if args.trusted_access is None else args.trusted_access == "enabled"
    try:
        seed_mod.apply(spec, ctx.org, trusted)
    except (ValueError, KeyError) as exc:
        print(f"aws-emulator: seed: {exc}", file=sys.stderr)
        return 2
    ctx.templates = TemplateStore(management_id)
    if args.template is not None and not args.template.is_file():
        print(f"aws-emulator: --template {args.template}: no such file", file=sys.stderr)
        return 2
    source = ctx.templates.publish(args.template)
    ctx.datadog = DatadogCustomResource(args.datadog_url)
    ctx.faults = Faults()
    ctx.calls = CallLog()
    ctx.runner = Runner(ctx)
    ctx.stacksets = StackSets(ctx)
    ctx.stacks = Stacks(ctx)

    base = {"url": ""}
    moto_app = DomainDispatcherApplication(create_backend_app)
    app = EmulatorApp(ctx, moto_app, AdminApp(ctx, lambda: base["url"]))
    try:
        server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    except OSError as exc:
        print(f"aws-emulator: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    url = f"http://{host}:{server.server_port}"
    base["url"] = url

    key_id, secret = random_credentials()
    env = {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.update(ctx.org.env_exports())
    env["SANDBOX_AWS_ADMIN_URL"] = url + "/_emulator"
    env["SANDBOX_AWS_TEMPLATE_URL"] = TEMPLATE_URL
    write_env(args.state_dir / "aws.env", env)
    print(f"aws-emulator: template {source}; management account {management_id}", file=sys.stderr)

    stop = threading.Event()

    def on_signal(signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="http", daemon=True)
    thread.start()
    _REAL_STDOUT.write(f"listening on {url}\n")
    _REAL_STDOUT.flush()

    while not stop.wait(0.5):
        pass
    ctx.runner.stop()
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
