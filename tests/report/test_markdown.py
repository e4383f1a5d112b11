"""The Markdown matrix written by `report --markdown`."""

from __future__ import annotations

from conformance.adapters import CallableAdapter, load_adapter
from conformance.report import build_report
from conformance.report.markdown import render_markdown
from conformance.runner import RunConfig, Runner


def test_markdown_matrix_has_a_row_per_check_and_a_column_per_adapter():
    def accepts_any_p(x, p, training=True):
        return x if not training or p <= 0 else x * 0

    runner = Runner(RunConfig(checks=("invalid-p", "eval-identity")))
    results = [runner.run_adapter(load_adapter("reference")),
               runner.run_adapter(CallableAdapter(accepts_any_p))]
    text = render_markdown(build_report(results, RunConfig().as_dict()))
    assert "| `invalid-p` | pass | **FAIL** |" in text
    assert "| `eval-identity` | pass | pass |" in text
    assert "| **conformant** | yes | **no** |" in text
    assert "eval_return" in text
