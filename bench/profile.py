"""Where a workload's server time goes: py-spy samples of the server under load, summarised.

``python bench/run.py --profile W3`` runs the load for ``--duration`` seconds with ``py-spy record`` attached
to the server (``pip install -e ".[bench]"`` installs py-spy; it needs ptrace rights, e.g. root). The raw
stacks are kept in bench/results/ (``flamegraph.pl`` or speedscope read them); the summary printed here
lists the functions with the most samples on the stack (inclusive) and at the top of it (self).
Profiled runs are not measurements: sampling slows the server down.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def py_spy() -> str:
    beside = Path(sys.executable).parent / "py-spy"
    path = str(beside) if beside.exists() else shutil.which("py-spy")
    if path is None:
        raise SystemExit('py-spy is not installed: pip install -e ".[bench]"')
    return path


def record(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes]:
    """Start sampling ``pid`` for ``seconds`` into ``out`` (collapsed stacks); the caller waits on it."""
    command = [py_spy(), "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "250"]
    command += ["--format", "raw", "--output", str(out), "--nonblocking"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _label(frame: str, root: Path) -> str:
    match = _FRAME.match(frame)
    if match is None:
        return frame
    file = match["file"]
    for marker in ("site-packages/", str(root) + "/"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    return f"{match['function']} ({file})"


def summarise(collapsed: Path, root: Path, top: int = 30) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_label(f, root) for f in stack.split(";")[1:]]  # the first entry names the process/thread
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        if frames:
            own[frames[-1]] += count
    if not total:
        return "no samples"
    lines = [f"{total} samples", "", "inclusive (on the stack):"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    lines += ["", "self (top of the stack):"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines)
