"""Large CSV exports stream: the reader's peak memory does not grow with the file's size.

Two generated files, 20 k and 200 k lines (a few bad rows in each), are each read end to
end the way the loader reads them (batches handed on and dropped) in a fresh Python
process, which reports its peak resident memory (`ru_maxrss`): ten times the rows must not
cost more than a few megabytes more. (tracemalloc would say the same, nine times slower.)
No time is measured.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from loaders.settings import PROJECT_ROOT

HEADER = "Date;Eolienne;Energie produite (kWh);Disponibilite (%);Heures de production\n"
READER = """
import json, resource, sys
from pathlib import Path
from loaders.privacy.pseudonymise import Pseudonymiser
from loaders.settings import load_settings
from loaders.sources.production_csv import CsvStats, parsing, read_file
from loaders.sources.production_csv.specs import specs_of
specs = specs_of(load_settings())
path = Path(sys.argv[1])
sha256, encoding = parsing.inspect_file(path)
stats, rows = CsvStats(), 0
for _, _, batch in read_file(path, sha256, encoding, Pseudonymiser("streaming-test"), stats, specs):
    rows += batch.num_rows
    del batch
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": rows, "read": stats.rows_read[path.name],
                  "rejected": stats.rows_rejected[path.name], "peak_kib": peak_kib}))
"""


def write_export(path: Path, lines: int) -> int:
    """A production export of `lines` data lines, one in a thousand broken; returns how many
    are broken."""
    broken = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        handle.write(HEADER)
        for n in range(lines):
            day = 1 + n % 28
            if n % 1000 == 999:
                handle.write(f"{day:02d}/10/2025;T{n % 50:02d};n/a;100;24\n")
                broken += 1
            else:
                energy = f"{n % 9000} {n % 1000:03d},5"
                handle.write(f"{day:02d}/10/2025;T{n % 50:02d};{energy};97,5;21\n")
    return broken


def read_in_a_fresh_process(path: Path) -> dict[str, int]:
    """What the reader saw, and the process's peak resident memory in KiB."""
    completed = subprocess.run(
        [sys.executable, "-c", READER, str(path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_peak_memory_does_not_grow_with_file_size(tmp_path: Path) -> None:
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    small_broken = write_export(small, 20_000)
    large_broken = write_export(large, 200_000)

    small_run = read_in_a_fresh_process(small)
    large_run = read_in_a_fresh_process(large)

    assert large_run["read"] == large_run["rows"] == 200_000  # loaded + rejected batches
    assert large_run["rejected"] == large_broken == 200
    assert small_run["read"] == small_run["rows"] == 20_000
    assert small_run["rejected"] == small_broken
    assert large.stat().st_size > 6_000_000
    # 180 k more rows held at once would be well over 100 MB of Python objects
    growth_mib = (large_run["peak_kib"] - small_run["peak_kib"]) / 1024
    assert growth_mib < 24, (small_run, large_run)
