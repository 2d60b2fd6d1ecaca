"""One self-contained HTML report: the answer first, then the evidence, inputs and provenance.

Everything (styles, charts as inline SVG) is inside the one file: it opens offline and fetches
nothing. `build_report` computes; `render` fills the Jinja2 template; `write_report` does both.
"""

from parley.present.report.build import ReportData, build_report, render, write_report

__all__ = ["ReportData", "build_report", "render", "write_report"]
