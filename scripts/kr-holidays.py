"""Regenerates crates/nunchi-core/data/kr_holidays.txt, the Korean public holidays that
business-hours SLAs skip, from the `holidays` package (PyPI; lunar holidays and
substitute days included). Usage: python3 scripts/kr-holidays.py FIRST_YEAR LAST_YEAR
Days declared later (election days, temporary holidays) are added per policy in nunchi,
or by running this again with a newer `holidays`."""
import os
import sys

import holidays

first, last = int(sys.argv[1]), int(sys.argv[2])
out = os.path.join(os.path.dirname(__file__), "..", "crates", "nunchi-core", "data", "kr_holidays.txt")
with open(out, "w", encoding="utf-8") as f:
    f.write(f"# Korean public holidays {first}-{last}, from holidays {holidays.__version__} (scripts/kr-holidays.py).\n")
    for day, name in sorted(holidays.KR(years=range(first, last + 1)).items()):
        f.write(f"{day.isoformat()} {name}\n")
