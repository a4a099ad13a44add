#!/usr/bin/env python3
"""Mutation fuzz of `synctl validate` and `synctl generate` against the binary.

    python3 scripts/fuzz.py --synctl target/release/synctl --minutes 20

Each case takes one of the bundled specs (examples/ and tests/fleets/, with the folders their
components read), mutates its text (bytes flipped, lines dropped, duplicated or spliced from
another spec, hostile tokens inserted: `${…}`, anchors and aliases, merge keys, deep nesting,
long or control-character strings, YAML's typed scalars), and runs `validate` and `generate`
into a scratch copy under a 10 s timeout with peak memory measured. A finding is an exit code
other than 0, 1 or 2 (a panic is 101, an abort 134), a run over 10 s, or one over 2 GB; each
is saved under --out with the spec that caused it. Prints a summary; exits 1 on any finding.
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKENS = [
    "${X}", "${", "$${A}", "&a ", "*a", "<<: *a", "!!binary ", "!tag ", "? ", "- ", "[", "{",
    "]", "}", ": ", "..", "../../", "/", "~", "null", "yes", "0x1F", "1e999", "-0", "2024-01-15",
    "\t", "\u2028", "\u0085", "\x1b[2J", "\x00", "\"", "'", "#", "|", ">", "%YAML 1.1\n---\n",
    "x" * 5000, "é" * 300, "-" * 64, "a" * 64, "[" * 200, "- " * 200,
    "\n  vars: {A: b}", "\n  tenants: []", "\n    fluxSpec: {sourceRef: {name: x}}",
    "\n    namespace: flux-system", "\n    dependsOn: [x]", "\n    path: ../../etc",
]


def specs():
    out = []
    for top in ("examples", "tests/fleets"):
        for d in sorted((ROOT / top).iterdir()):
            if (d / "fleet.yaml").is_file():
                out.append(d)
    return out


def mutate(text: str, others: list, rng: random.Random) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        i = rng.randrange(len(lines)) if lines else 0
        if op == 0 and lines:
            del lines[i]
        elif op == 1 and lines:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif op == 2:
            donor = rng.choice(others).split("\n")
            lines.insert(i, donor[rng.randrange(len(donor))])
        elif op == 3 and lines:
            line = lines[i]
            j = rng.randrange(len(line) + 1)
            lines[i] = line[:j] + rng.choice(TOKENS) + line[j:]
        elif op == 4 and lines:
            line = lines[i]
            if line:
                j = rng.randrange(len(line))
                lines[i] = line[:j] + chr(rng.randrange(32, 127)) + line[j + 1:]
        elif op == 5 and lines:
            lines[i] = " " * rng.randrange(12) + lines[i].lstrip()
        elif op == 6 and lines:
            k = rng.randrange(len(lines))
            lines[i], lines[k] = lines[k], lines[i]
    return "\n".join(lines)


def run(cmd, cwd):
    """Runs cmd under time(1); returns (exit code, seconds, peak RSS in KiB)."""
    start = time.monotonic()
    try:
        p = subprocess.run(["/usr/bin/time", "-f", "rss=%M", *cmd], cwd=cwd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=10,
                           env={"PATH": os.environ["PATH"], "NO_COLOR": "1", "HOME": cwd,
                                "GIT_CONFIG_NOSYSTEM": "1"})
        code = p.returncode
        tail = p.stderr.decode(errors="replace").rsplit("rss=", 1)
        rss = int(tail[1].strip()) if len(tail) == 2 else 0
    except subprocess.TimeoutExpired:
        code, rss = "timeout", 0
    return code, time.monotonic() - start, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--synctl", default=str(ROOT / "target/release/synctl"))
    ap.add_argument("--minutes", type=float, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="/tmp/synctl-fuzz")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    bases = specs()
    texts = [(d / "fleet.yaml").read_text() for d in bases]
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + a.minutes * 60
    cases = findings = 0
    codes = {}
    slowest = 0.0
    peak = 0
    while time.monotonic() < deadline:
        k = rng.randrange(len(bases))
        spec = mutate(texts[k], texts, rng)
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp) / "repo"
            shutil.copytree(bases[k], work, symlinks=True)
            (work / "fleet.yaml").write_text(spec, errors="surrogatepass")
            for cmd in (["validate", "-f", "fleet.yaml"], ["generate", "-f", "fleet.yaml"]):
                code, secs, rss = run([a.synctl, *cmd], str(work))
                cases += 1
                codes[code] = codes.get(code, 0) + 1
                slowest = max(slowest, secs)
                peak = max(peak, rss)
                bad = code not in (0, 1, 2) or secs > 10 or rss > 2 * 1024 * 1024
                if bad:
                    findings += 1
                    (out / f"finding-{findings}.yaml").write_text(spec, errors="surrogatepass")
                    print(f"finding {findings}: {cmd[0]} exit {code} in {secs:.1f} s, "
                          f"{rss} KiB", flush=True)
    print(f"{cases} runs, {findings} findings, exit codes {codes}, slowest {slowest:.2f} s, "
          f"peak {peak / 1024:.0f} MiB")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
