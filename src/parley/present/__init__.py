"""Presentation: the plain-language answer, Jupyter display, landing-point tables and the HTML
report. It imports the analyses below it; nothing below imports it (docs/architecture.md)."""
