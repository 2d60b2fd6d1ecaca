"""`python -m parley` runs the command line."""

from parley.cli import entry

entry()
