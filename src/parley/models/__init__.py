"""Negotiation models; see `registry` for the names the CLI, web app and library accept."""
