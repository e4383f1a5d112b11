"""The Markdown matrix written by `report --markdown`."""

from __future__ import annotations

from conformance.adapters import CallableAdapter, load_adapter
from conformance.report.markdown import render_markdown


def test_markdown_matrix_has_a_row_per_check_and_a_column_per_adapter(run_report):
    def accepts_any_p(x, p, training=True):
        return x if not training or p <= 0 else x * 0

    report = run_report([load_adapter("reference"), CallableAdapter(accepts_any_p)],
                        checks=("invalid-p", "eval-identity"))
    text = render_markdown(report)
    assert "| `invalid-p` | pass | **FAIL** |" in text
    assert "| `eval-identity` | pass | pass |" in text
    assert "| **conformant** | yes | **no** |" in text
    assert "eval_return" in text
