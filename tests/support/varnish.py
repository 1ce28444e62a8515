"""Varnish (Debian's ``varnish`` and ``varnish-modules``) as a child process on a loopback port, with the VCL of
``docs/varnish.vcl`` pointed at a server process. Never a system Varnish service: its own working directory
(``-n``), no privilege separation (``-j none``), stopped after the test."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.support.servers import ROOT, LoopbackProcess, free_port

VCL = ROOT / "docs" / "varnish.vcl"


def varnishd() -> str | None:
    """Where ``varnishd`` is, if installed (it lives in ``/usr/sbin``, outside some users' PATH)."""
    return shutil.which("varnishd") or shutil.which("varnishd", path="/usr/sbin:/usr/local/sbin")


class VarnishProcess(LoopbackProcess):
    """``varnishd -F`` caching ``backend_port``'s answers, its log in ``folder``; ``also_listen`` is one more
    address to listen on (same port) and ``purgers`` one more network (``a.b.c.d/n``) allowed to purge."""

    def __init__(
        self,
        backend_port: int,
        folder: Path,
        port: int | None = None,
        *,
        also_listen: str | None = None,
        purgers: str | None = None,
        ready_path: str = "/healthz",
    ) -> None:
        binary = varnishd()
        assert binary is not None
        self.ready_path = ready_path
        port = port or free_port()
        text = re.sub(r'\.port = "\d+";', f'.port = "{backend_port}";', VCL.read_text(), count=1)
        if purgers is not None:
            network, bits = purgers.split("/")
            text = text.replace("acl purgers {\n", f'acl purgers {{\n    "{network}"/{bits};\n', 1)
        vcl = folder / "varnish.vcl"
        vcl.write_text(text)
        listen = ["-a", f"127.0.0.1:{port}", *(["-a", f"{also_listen}:{port}"] if also_listen else [])]
        command = [
            binary,
            "-F",
            "-j",
            "none",
            "-n",
            str(folder / "varnish"),
            *listen,
            "-T",
            f"127.0.0.1:{free_port()}",
            "-f",
            str(vcl),
            "-s",
            "malloc,32m",
        ]
        super().__init__(command, {}, port, folder / "varnish.log")
