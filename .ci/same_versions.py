"""Fail when the test environment differs from what a plain `pip install .` gives a user today.

Reads the report of `pip install --dry-run --ignore-installed --report FILE .` (a fresh resolution
from the package index) and compares each package in it with the one installed here, where the
suite ran. A test tool that holds a dependency back (as recurring-ical-events held python-dateutil
below 3 while users got 4) shows up here by name.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import PackageNotFoundError, version

with open(sys.argv[1], encoding="utf-8") as file:
    plain = {item["metadata"]["name"]: item["metadata"]["version"] for item in json.load(file)["install"]}
plain.pop("carecoord", None)
differ = []
for name, wanted in sorted(plain.items(), key=lambda item: item[0].lower()):
    try:
        tested = version(name)
    except PackageNotFoundError:
        tested = "not installed"
    print(f"  {name} {tested}" + ("" if tested == wanted else f"  <- a plain install gets {wanted}"))
    if tested != wanted:
        differ.append(name)
if differ:
    print(f"the tests did not run on what users install: {', '.join(differ)}", file=sys.stderr)
    sys.exit(1)
