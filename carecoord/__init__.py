"""carecoord: a care coordinator's caseload manager for the terminal."""

__version__ = "0.1.0"
