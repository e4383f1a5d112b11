"""The README's own examples, run as a user would: each ``# name.py`` block written to a fresh
directory, then each command the README gives for it, at level quick (the README's commands use
the default level; quick keeps CI short and runs the same code).  The README's API example
(``test_mydrop.py``) is run by tests/test_api.py."""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_files() -> dict[str, str]:
    """``name.py`` -> source, for every Python block of the README that starts ``# name.py``."""
    blocks = re.findall(r"```python\n# ([\w.]+\.py)[^\n]*\n(.*?)```", README.read_text(), re.S)
    return {name: f"# {name}\n{body}" for name, body in blocks}


def readme_commands() -> list[str]:
    """Every command in a ``sh`` block that runs the suite on one of the README's files."""
    out = []
    for block in re.findall(r"```sh\n(.*?)```", README.read_text(), re.S):
        for line in block.splitlines():
            command = line.split("  #")[0].strip()
            if re.search(r"adapter[= ][\w]+\.py:", command):
                out.append(command)
    return out


def test_the_readme_shows_the_examples_this_file_runs():
    files = readme_files()
    assert {"mydrop.py", "torchdrop.py", "torch_adapter.py"} <= set(files)
    used = {re.search(r"(\w+\.py):", c).group(1) for c in readme_commands()}
    assert {"mydrop.py", "torchdrop.py", "torch_adapter.py"} <= used
    for name in ("torchdrop.py", "torch_adapter.py"):  # the fast way, in what users copy
        assert "torch.default_generator.manual_seed" in files[name]
        assert "torch.set_num_threads(1)" in files[name]
        assert "torch.manual_seed(seed)" not in files[name]


def _argv(command: str) -> list[str]:
    words = shlex.split(command)
    if words[0] == "dropout2d-conformance":
        return [sys.executable, "-m", "conformance", *words[1:], "--level", "quick"]
    if words[0] == "pytest":
        return [sys.executable, "-m", "pytest", *words[1:], "--dropout2d-level=quick",
                "-p", "no:cacheprovider"]
    raise AssertionError(f"unexpected README command {command!r}")


@pytest.mark.parametrize("command", readme_commands())
def test_each_readme_command_conforms_as_printed(tmp_path, command):
    name = re.search(r"(\w+\.py):", command).group(1)
    source = readme_files()[name]
    if "import torch" in source and importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed")
    (tmp_path / name).write_text(source)
    done = subprocess.run(_argv(command), cwd=tmp_path, capture_output=True, text=True,
                          timeout=900, env=dict(os.environ))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    if command.startswith("dropout2d-conformance"):
        assert "NOT CONFORMANT" not in done.stdout and "CONFORMANT" in done.stdout
        assert (tmp_path / "reports" / "conformance.html").is_file()
    else:
        assert " passed" in done.stdout and " failed" not in done.stdout
