"""Check the zip against the client's list: every item there, nothing that must not be,
no personal data in clear, and a project report of 8 to 14 pages, rendered to PNG pages
so that a person can look at them.

`python -m scripts.deliverable check [ZIP] [--pages DIR]`: exit 0 when all is well,
1 with the list of problems otherwise.
"""

from __future__ import annotations

import fnmatch
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from scripts.deliverable import documents, layout

# Bounded repeats (RFC 5321 lengths): with `+`, a long run without an `@` made the search
# quadratic (minutes on the dump once the fact carried every statistic of every signal).
EMAIL = re.compile(
    rb"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}"
)
# Data items scanned for personal data. The code folder is not: the demo park's simulator
# holds its fictional people by design, and they must be found in no *data*.
SCANNED_SUFFIXES = (".sql", ".md", ".html", ".json", ".csv")
PDFS = (layout.REPORT, layout.ANNEX, layout.IMPORT_GUIDE)


@dataclass
class Outcome:
    present: dict[str, list[str]] = field(default_factory=dict)  # item -> files found
    problems: list[str] = field(default_factory=list)
    report_pages: int | None = None
    page_images: list[Path] = field(default_factory=list)
    measurement_rows: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def demo_personal_data() -> tuple[str, ...]:
    """The demo park's people (names, e-mails): they must be nowhere in the data."""
    from loaders.demo_park.simulator import PERSONAL_EMAILS, PERSONAL_NAMES

    return (*PERSONAL_NAMES, *PERSONAL_EMAILS)


def _inside(names: Iterable[str], outcome: Outcome) -> list[str]:
    prefix = f"{layout.ROOT}/"
    inside = []
    for name in names:
        if name.endswith("/"):
            continue
        if not name.startswith(prefix):
            outcome.problems.append(f"{name}: outside the folder {layout.ROOT}/")
            continue
        inside.append(name[len(prefix) :])
    return inside


def _forbidden(name: str) -> bool:
    path = PurePosixPath(name)
    return (
        any(part in layout.FORBIDDEN_PARTS for part in path.parts)
        or name.endswith(layout.FORBIDDEN_SUFFIXES)
        or name.startswith(layout.FORBIDDEN_PREFIXES)
    )


def _count_copy_rows(archive: zipfile.ZipFile, member: str, table: str) -> int | None:
    """Rows of `table` in a plain pg_dump (the lines of its COPY block)."""
    start = f"COPY {table} ".encode()
    rows = None
    with archive.open(member) as dump:
        for line in dump:
            if rows is None:
                if line.startswith(start):
                    rows = 0
            elif line.startswith(b"\\."):
                return rows
            else:
                rows += 1
    return rows


def _personal_data(archive: zipfile.ZipFile, names: list[str], values: Iterable[str]) -> list[str]:
    needles = [value.encode("utf-8") for value in values if value]
    found = []
    for name in names:
        if name.startswith(f"{layout.CODE}/") or not name.endswith(SCANNED_SUFFIXES):
            continue
        with archive.open(f"{layout.ROOT}/{name}") as handle:
            carry = b""
            for chunk in iter(lambda handle=handle: handle.read(1 << 20), b""):
                text = carry + chunk
                hits = [n.decode() for n in needles if n in text]
                mail = EMAIL.search(text)
                if mail:
                    hits.append(mail.group().decode("utf-8", "replace"))
                if hits:
                    found.append(f"{name}: personal data in clear: {', '.join(sorted(set(hits)))}")
                    break
                carry = text[-200:]
    return found


def check(
    zip_file: Path,
    pages_dir: Path,
    *,
    personal_data: Iterable[str] | None = None,
) -> Outcome:
    outcome = Outcome()
    if not zip_file.is_file():
        outcome.problems.append(f"{zip_file}: no such file (run the build first)")
        return outcome
    with zipfile.ZipFile(zip_file) as archive:
        names = _inside(archive.namelist(), outcome)
        for item in layout.REQUIRED:
            matched: list[str] = []
            for pattern in item.patterns:
                hits = [name for name in names if fnmatch.fnmatchcase(name, pattern)]
                if not hits:
                    outcome.problems.append(f"missing: {item.name} ({pattern})")
                matched += hits
            outcome.present[item.name] = matched
        outcome.problems += [f"{name}: must not be delivered" for name in names if _forbidden(name)]
        values = demo_personal_data() if personal_data is None else tuple(personal_data)
        outcome.problems += _personal_data(archive, names, values)
        if layout.DUMP in names:
            outcome.measurement_rows = _count_copy_rows(
                archive, f"{layout.ROOT}/{layout.DUMP}", "raw.scada_measurements"
            )
            if not outcome.measurement_rows:
                outcome.problems.append(f"{layout.DUMP}: no rows of raw.scada_measurements")
        pages_dir.mkdir(parents=True, exist_ok=True)
        for stem in PDFS:
            member = f"{stem}.pdf"
            if member not in names:
                continue
            pdf = pages_dir / PurePosixPath(member).name
            pdf.write_bytes(archive.read(f"{layout.ROOT}/{member}"))
            images = documents.render_pages(pdf, pages_dir)
            outcome.page_images += images
            if stem == layout.REPORT:
                outcome.report_pages = documents.page_count(pdf)
                if outcome.report_pages not in layout.REPORT_PAGES:
                    outcome.problems.append(
                        f"{member}: {outcome.report_pages} pages, expected "
                        f"{layout.REPORT_PAGES.start} to {layout.REPORT_PAGES.stop - 1}"
                    )
                if len(images) != outcome.report_pages:
                    outcome.problems.append(
                        f"{member}: {len(images)} pages rendered of {outcome.report_pages}"
                    )
    return outcome


def describe(outcome: Outcome, zip_file: Path, pages_dir: Path) -> str:
    lines = [f"Deliverable {zip_file}"]
    for item, files in outcome.present.items():
        mark = (
            "ok "
            if files and not any(p.startswith(f"missing: {item} ") for p in outcome.problems)
            else "MISSING"
        )
        shown = ", ".join(files[:3]) + (f" … (+{len(files) - 3})" if len(files) > 3 else "")
        lines.append(f"  [{mark}] {item}: {shown}")
    if outcome.measurement_rows is not None:
        lines.append(f"  dump: {outcome.measurement_rows} rows of raw.scada_measurements")
    if outcome.report_pages is not None:
        lines.append(f"  report: {outcome.report_pages} pages")
    if outcome.page_images:
        lines.append(f"  pages rendered to look at: {pages_dir}/ ({len(outcome.page_images)} PNG)")
    if outcome.problems:
        lines.append("PROBLEMS:")
        lines += [f"  - {problem}" for problem in outcome.problems]
    else:
        lines.append("All items present.")
    return "\n".join(lines)
