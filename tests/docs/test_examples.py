"""The guides' shell examples, run as a reader would run them, against a real demo daemon.

One ``archroom demo`` (2,000 boxes, the default) runs for the module with a private broker and
a fixed state directory. Each guide's ```` ```sh ```` blocks run in order in one bash session
(``set -euo pipefail``; variables a block sets are kept for the next ones, as in a terminal),
from a scratch working directory. What the test changes, and nothing else:

- the lines that set ``API=`` and ``STATE=`` to the reader's values are left out: the test sets
  them from the demo's printed ``api:`` line (plus ``/api/v1``) and its state directory;
- each guide's session starts with ``TOKEN``, ``STAFF``, ``FACILITIES``, ``APPROVER`` (created with
  ``archroom token create``) and ``ADMIN`` (the demo's printed token), as docs/api.md sets them;
- ``-c /etc/archroom/archroom.toml`` becomes the demo's own configuration file;
- ``curl`` is called with ``--fail-with-body -sS`` (so a 4xx or 5xx fails the block), and a
  streaming ``curl -N`` is cut after a few seconds.

Every request must answer 2xx. A ```` ```json ```` block right after a shell block is the
documented shape of that block's last answer: each key it shows must be in the answer, at the
same place (``...`` and ``{...}`` stand for "more"; a list documented with an element is only
compared when the answer's list is not empty).

Not run, and why (``NOT_RUN`` below; the test fails on a shell block that is neither run nor
listed, so a new example cannot be skipped silently):

- docs/operator-guide.md, installing with sudo and systemd, and docs/monitoring.md, installing
  the Grafana provisioning with sudo: they change the host;
- docs/security.md, the certificates (``openssl``): ``tests/security/test_tls.py`` runs that
  block and serves the API and the broker with what it makes; the audit check over HTTPS needs
  that set-up on a server named archive-room-101 (port 8443);
- docs/climate.md, commissioning a sensor with ``archroom sensor``: it needs the sensor's own
  line with the daemon stopped; ``tests/sensors/test_commission.py`` runs the same commands
  against the climate simulator;
- docs/device-fidelity.md, running the independent peers by hand: ``tests/conformance`` runs
  them; docs/monitoring.md, promtool on the rules: ``tests/test_prometheus.py`` runs it;
- README.md's ``make demo`` and ``make test``: the demo itself and the whole suite;
- the other guides have no shell blocks: theirs are configuration (TOML, YAML), diagrams and
  answers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.services import Mosquitto, free_port

pytestmark = pytest.mark.slow

DOCS = Path(__file__).resolve().parents[2] / "docs"
RUN = ("api.md", "reconciliation.md", "security.md", "operator-guide.md", "staff-guide.md")
NOT_RUN = {
    ("operator-guide.md", "sudo "): "installs on the host with sudo and systemd",
    ("monitoring.md", "sudo "): "installs Grafana provisioning on the host with sudo",
    ("security.md", "openssl "): "run by tests/security/test_tls.py",
    ("security.md", "--cacert"): "needs the TLS set-up (archive-room-101:8443)",
    ("device-fidelity.md", "archroom simulate"): "starts simulators and independent peers by "
    "hand; tests/conformance runs the same peers against the same simulators",
    ("monitoring.md", "promtool test rules"): "tests/test_prometheus.py runs promtool on the rules",
    ("climate.md", "archroom sensor"): "commissions a sensor on a real RS485 line with the "
    "daemon stopped; tests/sensors/test_commission.py runs these commands against the simulator",
}
START_S = 120.0  # seeding 2,000 boxes and starting every simulator
BLOCK_S = 60.0


@dataclass(frozen=True)
class Example:
    doc: str
    line: int
    code: str
    shape: str | None  # the ```json block that follows, if any

    @property
    def where(self) -> str:
        return f"docs/{self.doc}:{self.line}"


def examples(doc: str) -> list[Example]:
    """The ```sh blocks of a guide, each with the ```json block right after it (if any)."""
    lines = (DOCS / doc).read_text().splitlines()
    blocks: list[tuple[str, int, str]] = []
    i = 0
    while i < len(lines):
        fence = re.fullmatch(r"```(\w*)", lines[i].strip())
        if fence is None:
            i += 1
            continue
        end = next(k for k in range(i + 1, len(lines)) if lines[k].strip() == "```")
        blocks.append((fence.group(1), i + 1, "\n".join(lines[i + 1 : end])))
        i = end + 1
    found = []
    for k, (lang, line, code) in enumerate(blocks):
        if lang != "sh":
            continue
        following = blocks[k + 1] if k + 1 < len(blocks) else None
        shape = None
        if following is not None and following[0] == "json":
            between = lines[line + code.count("\n") + 1 : following[1] - 1]
            if all(not b.strip() or b.strip() == "```" for b in between):
                shape = following[2]
        found.append(Example(doc, line, code, shape))
    return found


def not_run_reason(example: Example) -> str | None:
    for (doc, marker), reason in NOT_RUN.items():
        if example.doc == doc and marker in example.code:
            return reason
    return None


def documented_shape(text: str) -> object:
    """The documented JSON, with ``{...}``, ``, ...`` and ``...`` read as "more"."""
    text = re.sub(r"\{\s*\.\.\.\s*\}", "{}", text)
    text = re.sub(r",\s*\.\.\.(?=\s*[\]}])", "", text)
    return json.loads(text)


def shape_errors(documented: object, answer: object, path: str = "$") -> list[str]:
    if isinstance(documented, dict):
        if answer is None:
            return []  # e.g. "loan": {...} documented, null while not on loan
        if not isinstance(answer, dict):
            return [f"{path}: documented an object, got {type(answer).__name__}"]
        errors = [f"{path}.{k}: missing" for k in documented if k not in answer]
        for k, v in documented.items():
            if k in answer:
                errors += shape_errors(v, answer[k], f"{path}.{k}")
        return errors
    if isinstance(documented, list):
        if not isinstance(answer, list):
            return [f"{path}: documented a list, got {type(answer).__name__}"]
        if documented and answer:
            return shape_errors(documented[0], answer[0], f"{path}[0]")
    return []


def last_json(output: str) -> object:
    for line in reversed(output.splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    raise AssertionError(f"no JSON answer in:\n{output}")


# -- the demo and the shell -----------------------------------------------------------------

CURL_SHIM = """#!/bin/sh
for a in "$@"; do [ "$a" = "-N" ] && stream=1; done
if [ -n "$stream" ]; then
    {curl} --fail-with-body -sS --max-time 3 "$@"; rc=$?
    [ $rc -eq 28 ] && exit 0
    exit $rc
fi
exec {curl} --fail-with-body -sS -w '\\n' "$@"
"""


@dataclass
class Demo:
    api: str
    state: Path
    bin: Path
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    real_curl = shutil.which("curl")
    if None in (real_curl, shutil.which("jq")):
        pytest.skip("the guides' examples need curl and jq")
    assert real_curl is not None
    root = tmp_path_factory.mktemp("docs-demo")
    shim = root / "bin"
    shim.mkdir()
    (shim / "curl").write_text(CURL_SHIM.format(curl=real_curl))
    (shim / "curl").chmod(0o755)
    archroom = Path(sys.executable).parent / "archroom"
    (shim / "archroom").symlink_to(archroom)
    broker = Mosquitto(root / "mosquitto")
    broker.start()
    port = free_port()
    state = root / "state"
    log = root / "demo.out"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "daemon", "demo", "--duration", "900"),
                *("--port", str(port), "--mqtt", broker.url, "--state-dir", str(state)),
            ],
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
    try:
        printed = _printed(proc, log, START_S)
        tokens = {"ADMIN": printed["token"]}
        for variable, role in (
            ("TOKEN", "catalogue"),
            ("STAFF", "staff"),
            ("FACILITIES", "facilities"),
            ("APPROVER", "approver"),
        ):
            tokens[variable] = subprocess.run(
                [
                    *(str(archroom), "token", "create", "--role", role),
                    *("--name", f"docs-{role}", "--state-dir", str(state)),
                ],
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            ).stdout.strip()
        yield Demo(api=printed["api"] + "/api/v1", state=state, bin=shim, tokens=tokens)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        broker.close()


def _printed(proc: subprocess.Popen[bytes], log: Path, within_s: float) -> dict[str, str]:
    """The demo's ``key: value`` lines, once it has printed its token."""
    deadline = time.monotonic() + within_s
    while True:
        printed = dict(
            line.partition(": ")[::2] for line in log.read_text().splitlines() if ": " in line
        )
        if "token" in printed:
            return {k: v.strip() for k, v in printed.items()}
        assert proc.poll() is None, f"the demo stopped:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"the demo did not start:\n{log.read_text()}"
        time.sleep(0.2)


class Session:
    """One bash session per guide: the variables a block sets are there for the next blocks."""

    def __init__(self, demo: Demo, cwd: Path) -> None:
        self.demo = demo
        self.cwd = cwd
        self.env = {
            "PATH": f"{demo.bin}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(cwd),
            "LANG": "C.UTF-8",
            "API": demo.api,
            "STATE": str(demo.state),
            **demo.tokens,
        }

    def run(self, example: Example) -> str:
        code = "\n".join(
            line for line in example.code.splitlines() if not re.match(r"\s*(API|STATE)=", line)
        ).replace("-c /etc/archroom/archroom.toml", f"-c {self.demo.state}/archroom.toml")
        env_file = self.cwd / ".env"
        script = f"set -euo pipefail -a\n{code}\nenv -0 > {env_file}\n"
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=BLOCK_S,
            check=False,
        )
        assert done.returncode == 0, (
            f"{example.where} failed ({done.returncode}):\n{code}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
        self.env = dict(
            item.split("=", 1) for item in env_file.read_text().split("\0") if "=" in item
        )
        return done.stdout


def run_guide(doc: str, demo: Demo, cwd: Path) -> list[Example]:
    session = Session(demo, cwd)
    ran = []
    for example in examples(doc):
        if not_run_reason(example) is not None:
            continue
        output = session.run(example)
        if example.shape is not None:
            documented = documented_shape(example.shape)
            errors = shape_errors(documented, last_json(output))
            assert not errors, f"{example.where}: the answer differs from the doc: {errors}"
        ran.append(example)
    return ran


# -- the tests ------------------------------------------------------------------------------


@pytest.mark.parametrize("doc", RUN)
def test_guide_examples_answer_as_documented(doc: str, demo: Demo, tmp_path: Path) -> None:
    ran = run_guide(doc, demo, tmp_path)
    assert ran, f"docs/{doc} has no example that ran"


def test_every_shell_example_is_run_or_listed_with_a_reason() -> None:
    for path in sorted(DOCS.glob("*.md")):
        for example in examples(path.name):
            if path.name in RUN or not_run_reason(example) is not None:
                continue
            raise AssertionError(f"{example.where} is neither run nor listed in NOT_RUN")


def test_documented_answers_parse_as_json() -> None:
    for doc in RUN:
        for example in examples(doc):
            if example.shape is not None:
                documented_shape(example.shape)  # raises on a shape that cannot be checked
