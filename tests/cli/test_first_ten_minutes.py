"""The first ten minutes of a new user, run as they would run them: the CLI in a subprocess, its
exit code and the text they read (issue 22).  One test (or a few) per row of the issue."""

from __future__ import annotations

import importlib.util
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conformance import battery
from conformance.contract import IMPLEMENTATION_DEFINED, IMPLEMENTATION_DEFINED_CHECKS, REQUIREMENTS

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_MD = ROOT / "CONTRACT.md"
SIGNATURE = "f(x, p, training=True, inplace=False)"
HAS_TORCH = importlib.util.find_spec("torch") is not None

FILES = {
    "sig.py": """
        import numpy as np

        def dropout2d(x):
            return x
        """,
    "needs_rng.py": """
        def dropout2d(x, p, rng, training=True):
            return x
        """,
    "raises.py": """
        def dropout2d(x, p, training=True):
            raise RuntimeError("kernel exploded")
        """,
    "unvalidated.py": """
        import numpy as np

        def dropout2d(x, p, training=True):
            if not training or p == 0:
                return x
            keep = np.random.default_rng().random(x.shape[:2] + (1, 1)) >= p
            return x * (keep.astype(x.dtype) * x.dtype.type(1 / (1 - p)))
        """,
    "adapters.py": """
        import numpy as np

        from conformance import Adapter, Capabilities

        class NoDropout(Adapter):
            name = "no-dropout"

        class NoSeed(Adapter):
            name = "no-seed"
            capabilities = Capabilities(seed=True)

            def dropout2d(self, x, p, training=True, inplace=False):
                return x
        """,
    "mydrop.py": """
        import numpy as np

        def dropout2d(x, p, training=True, seed=None):
            if not 0 <= p <= 1:
                raise ValueError(f"bad p {p}")
            if not training or p == 0:
                return x
            keep = np.random.default_rng(seed).random(x.shape[:2] + (1, 1)) >= p
            return x * (keep.astype(x.dtype) * x.dtype.type(1 / (1 - p))) if p < 1 else x * 0

        def helper(values):
            return values
        """,
    "tensors.py": """
        import torch

        def dropout2d(x, p, training=True):
            return torch.nn.functional.dropout2d(torch.from_numpy(x), p, training)
        """,
}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


def cli(cwd: Path, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **env})


def report(cwd: Path, out: str = "reports") -> dict:
    return json.loads((cwd / out / "conformance.json").read_text())


def checks_of(cwd: Path) -> dict[str, dict]:
    (entry,) = report(cwd)["adapters"]
    return {c["id"]: c for c in entry["checks"]}


# --- 1. an adapter that cannot be called as the interface says is a usage error -------------


@pytest.mark.parametrize(("spec", "needle"), [
    ("sig.py:dropout2d", "dropout2d(x) cannot be called as the suite calls it"),
    ("needs_rng.py:dropout2d", "missing a required argument: 'rng'"),
    ("adapters.py:NoDropout", "NoDropout does not implement dropout2d()"),
    ("adapters.py:NoSeed", "does not implement seed() although capabilities.seed=True"),
])
def test_a_wrong_signature_is_a_usage_error_naming_the_expected_one(home, spec, needle):
    start = time.monotonic()
    done = cli(home, "run", "--adapter", spec, "--level", "quick")
    assert done.returncode == 2, done.stderr
    assert needle in done.stderr
    assert SIGNATURE in done.stderr or "dropout2d(self, x, p, training=True" in done.stderr \
        or "seed(self, seed: int)" in done.stderr
    assert not (home / "reports" / "conformance.json").exists()  # no check ran
    assert time.monotonic() - start < 60


def test_the_python_api_in_process_says_the_same(home):
    code = ("import sys, conformance\nsys.path.insert(0, '.')\nfrom sig import dropout2d\n"
            "try:\n    conformance.check(dropout2d, level='quick')\n"
            "except ValueError as exc:\n    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=home, capture_output=True,
                          text=True, timeout=120)
    assert "cannot be called as the suite calls it" in done.stdout and SIGNATURE in done.stdout


def test_raising_on_every_call_does_not_pass_invalid_p_or_three_d_input(home):
    done = cli(home, "run", "--adapter", "raises.py:dropout2d", "--level", "quick",
               "--check", "invalid-p", "--check", "three-d-input", "--check", "p-zero")
    assert done.returncode == 1
    seen = checks_of(home)
    for cid in ("invalid-p", "three-d-input"):
        assert seen[cid]["verdict"] == "error"
        assert "a valid call" in seen[cid]["message"] and "kernel exploded" in seen[cid]["message"]
        assert f"ERROR {cid}:" in done.stdout


# --- 2. console messages: whole in a log, wrapped without cutting words by `power` ------------


def test_a_failure_message_is_printed_whole_in_a_log(home):
    done = cli(home, "run", "--adapter", "unvalidated.py:dropout2d", "--level", "quick",
               "--check", "invalid-p")
    assert done.returncode == 1
    message = checks_of(home)["invalid-p"]["message"]
    assert len(message) > 200 and "the rate is used unvalidated" in message
    assert f"FAIL  invalid-p: {message}" in done.stdout  # one line, not cut at 120 columns


def test_power_fits_the_terminal_and_cuts_no_word(home):
    from conformance.adapters import load_adapter
    from conformance.power import plan

    done = cli(home, "power", "--level", "quick", COLUMNS="80")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    flat = " ".join(done.stdout.split())
    for row in plan("quick", adapter=load_adapter("reference")):  # what `power` plans
        for s in row["subtest_rows"]:
            assert " ".join(s["setting"].split()) in flat, s["setting"]  # whole words, in order


# --- 3. progress: an opening line, counters, a plain form off a terminal ----------------------


def test_a_run_of_several_adapters_opens_with_the_plan_and_counts_in_a_log(home):
    n = len(battery.DETERMINISTIC)
    done = cli(home, "run", "--adapter", "reference", "--adapter", "mydrop.py:dropout2d",
               "--level", "quick", *[f"--check={c}" for c in battery.DETERMINISTIC], "-j", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == (f"{n} checks on 2 adapters (reference, mydrop.py:dropout2d), "
                        "level quick, seed 0, all at once")
    assert "loaded reference" in done.stderr and "loaded dropout2d" in done.stderr
    for name in ("reference", "dropout2d"):
        counters = re.findall(rf"^{name}\s+\[\s*(\d+)/{n}\]", done.stderr, re.M)
        assert [int(c) for c in counters] == list(range(1, n + 1)), name
        assert re.search(rf"^{name}: {n} checks in [\d.]+ s: pass", done.stderr, re.M)
    assert "\x1b" not in done.stderr and "\r" not in done.stderr


def test_on_a_terminal_each_adapter_gets_a_live_line(home):
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance", "run", "--adapter", "reference", "--adapter",
         "mydrop.py:dropout2d", "--level", "quick", "--check", "channel-structure",
         "--check", "scale-exact", "-j", "2"],
        cwd=home, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower,
        env={**os.environ, "COLUMNS": "100"})
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=120) == 0
    os.close(leader)
    text = seen.decode(errors="replace")
    assert "\x1b[J" in text  # the live lines are redrawn
    assert re.search(r"reference  \[[12]/2\]", text) and re.search(r"dropout2d  \[[12]/2\]", text)
    assert "reference: 2 checks in" in text and "dropout2d: 2 checks in" in text


def test_a_plain_run_says_which_installed_adapters_it_leaves_out_and_why(home):
    """The opening line comes before any worker starts: read it, then stop the run (Ctrl-C)."""
    from conformance.adapters.registry import left_out_by_default

    left = left_out_by_default()
    if not left:
        pytest.skip("no installed adapter is left out of a plain run here")
    proc = subprocess.Popen([sys.executable, "-m", "conformance", "run", "--level", "quick",
                             "--check", "p-zero", "--out", str(home / "out")], cwd=home,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first, second = proc.stderr.readline(), proc.stderr.readline()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=120)
    assert "adapters (reference" in first and "level quick, seed 0" in first
    for name, why in left:
        assert f"{name}: {why}" in second and "--adapter" in second
    listing = cli(home, "list").stdout
    for name, why in left:
        row = next(line for line in listing.splitlines() if line.startswith(name + " "))
        assert "installed" in row and "not in a plain run" in row and why in row


# --- 4. the seed's width: decided in the contract, reported by the check -----------------------


def test_the_contract_and_its_table_say_the_seed_width_is_implementation_defined():
    text = CONTRACT_MD.read_text()
    assert "seed's width" in REQUIREMENTS["R10"].text and REQUIREMENTS["R10"].text in text
    assert "truncated silently" in IMPLEMENTATION_DEFINED["seed-width"]
    row = next(line for line in text.splitlines() if line.startswith("| seed width |"))
    assert "truncated silently" in row and "`determinism`" in row
    assert IMPLEMENTATION_DEFINED_CHECKS["seed-width"] == ("determinism",)
    assert set(IMPLEMENTATION_DEFINED_CHECKS) == set(IMPLEMENTATION_DEFINED)


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_torch_truncating_its_seed_passes_with_the_width_as_a_finding(home):
    done = cli(home, "run", "--adapter", "torch", "--check", "determinism")
    assert done.returncode == 0, done.stdout
    check = checks_of(home)["determinism"]
    assert check["findings"]["seed_width"].startswith("32 bits; wider seeds are silently "
                                                      "truncated")
    assert "seed width: 32 bits" in check["message"]


# --- 5. what is accepted is said: a torch tensor for NumPy; torch-compile left out ------------


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_a_torch_tensor_returned_for_numpy_is_accepted_and_reported(home):
    done = cli(home, "run", "--adapter", "tensors.py:dropout2d", "--level", "quick",
               "--check", "shape-dtype", "--check", "p-zero")
    assert done.returncode == 0, done.stdout
    finding = checks_of(home)["shape-dtype"]["findings"]["output_type"]
    assert finding.startswith("torch.Tensor, not a NumPy array") and "accepted" in finding
    html = (home / "reports" / "conformance.html").read_text()
    assert "output type" in html and "torch.Tensor, not a NumPy array" in html


# --- 6. messages that could fix the mistake -----------------------------------------------------


@pytest.mark.parametrize(("spec", "needle"), [
    ("torhc", "Did you mean 'torch'?"),
    ("flax-lnen", "Did you mean 'flax-linen'"),
    ("mydrop.py", "Did you mean 'mydrop.py:dropout2d'? (it also defines helper)"),
    ("mydrop.py:dropout", "Did you mean 'mydrop.py:dropout2d'?"),
    ("nosuch.py", "There is no file 'nosuch.py'"),
])
def test_a_mistyped_spec_gets_a_suggestion(home, spec, needle):
    done = cli(home, "run", "--adapter", spec)
    assert done.returncode == 2
    assert needle in done.stderr
    assert "'mydrop.py:np'" not in done.stderr and "'mydrop.py:helper'" not in done.stderr


def test_a_framework_that_is_not_installed_names_its_extra(home):
    from conformance.adapters.registry import BUILTIN, EXTRAS

    missing = [name for name, (_, needs) in BUILTIN.items()
               if needs and importlib.util.find_spec(needs) is None]
    if not missing:
        pytest.skip("every framework is installed here")
    name = missing[0]
    done = cli(home, "run", "--adapter", name)
    assert done.returncode == 2
    assert f"pip install -e '.[{EXTRAS[BUILTIN[name][1]]}]'" in done.stderr


def test_every_extra_named_exists_in_pyproject():
    import tomllib

    from conformance.adapters.registry import BUILTIN, EXTRAS

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert set(EXTRAS.values()) <= set(extras), set(EXTRAS.values()) - set(extras)
    assert {needs for _, needs in BUILTIN.values() if needs} <= set(EXTRAS)


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_torch_at_cuda_without_a_gpu_says_no_cuda_device_is_available(home):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    done = cli(home, "run", "--adapter", "torch@cuda")
    assert done.returncode == 2
    assert "torch@cuda: no CUDA device is available" in done.stderr
    assert "AssertionError" not in done.stderr


# --- 10. the project's own tests print no warning from torch -----------------------------------


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_the_torch_compile_test_prints_no_deprecation_warning():
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/adapters/test_frameworks.py::test_torch_compile"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout
    assert "warning" not in done.stdout.lower(), done.stdout
