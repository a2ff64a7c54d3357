"""Markdown → HTML → PDF, for the report, the annex and the import guide.

Markdown is turned into HTML by Python-Markdown (the `markdown` package, pinned in
requirements-dev.txt) and the HTML printed to PDF by headless Chromium, which the project
already installs for its browser tests: no second rendering engine and no extra system
libraries (WeasyPrint would need Pango and its fonts stack). The pages are counted and
rendered to PNG with poppler-utils.

A document may hold `<!-- insert: NAME -->` lines: the build replaces each with Markdown
generated from the live system (figures, dependencies, example queries and their results).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import markdown

from scripts.deliverable import tools

CSS = Path(__file__).with_name("print.css")
INSERT = re.compile(r"^<!--\s*insert:\s*([\w-]+)\s*-->\s*$")
EXTENSIONS = ["tables", "fenced_code", "toc", "attr_list", "md_in_html", "sane_lists"]


class DocumentError(ValueError):
    """A document cannot be produced; the message names the file and line."""


def expand(source: Path, inserts: Mapping[str, str]) -> str:
    """The Markdown of `source` with every insert line replaced by its generated block."""
    lines = []
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
        found = INSERT.match(line)
        if not found:
            lines.append(line)
            continue
        name = found.group(1)
        if name not in inserts:
            raise DocumentError(
                f"{source}:{number}: unknown insert {name!r} (known: {', '.join(sorted(inserts))})"
            )
        lines.append(inserts[name])
    return "\n".join(lines) + "\n"


def to_html(text: str, title: str) -> str:
    body = markdown.markdown(
        text,
        extensions=EXTENSIONS,
        extension_configs={"toc": {"toc_depth": "2-3", "title": ""}},
        output_format="html",
    )
    css = CSS.read_text(encoding="utf-8")
    return (
        '<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>\n{css}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def to_pdf(html_file: Path, pdf_file: Path, profile: Path) -> Path:
    """Print an HTML file to PDF with headless Chromium (A4, margins from the CSS)."""
    pdf_file.parent.mkdir(parents=True, exist_ok=True)
    pdf_file.unlink(missing_ok=True)
    completed = tools.chromium(
        profile,
        "--no-pdf-header-footer",
        "--run-all-compositor-stages-before-draw",
        "--virtual-time-budget=10000",
        f"--print-to-pdf={pdf_file}",
        html_file.resolve().as_uri(),
    )
    if not pdf_file.is_file() or pdf_file.stat().st_size == 0:
        raise tools.ToolError(
            f"Chromium did not print {html_file} to PDF: {completed.stderr.strip()[-2000:]}"
        )
    return pdf_file


def prepare(
    source: Path,
    inserts: Mapping[str, str],
    *,
    title: str,
    html_dir: Path,
    stem: str,
    figures: Mapping[str, Path] = {},  # noqa: B006 - read only
) -> tuple[str, Path]:
    """Markdown file → expanded Markdown (returned) → `<html_dir>/<stem>.html`, figures
    beside it; every image it shows must be there."""
    text = expand(source, inserts)
    html_dir.mkdir(parents=True, exist_ok=True)
    for name, path in figures.items():
        (html_dir / "figures").mkdir(exist_ok=True)
        shutil.copyfile(path, html_dir / "figures" / name)
    html_file = html_dir / f"{stem}.html"
    html_file.write_text(to_html(text, title), encoding="utf-8")
    missing = [
        image
        for image in re.findall(r'src="([^":]+)"', html_file.read_text(encoding="utf-8"))
        if not (html_dir / image).is_file()
    ]
    if missing:
        raise DocumentError(f"{source}: images not found: {', '.join(missing)}")
    return text, html_file


def print_all(jobs: list[tuple[Path, Path]]) -> list[Path]:
    """Print each (HTML, PDF) pair, the browsers side by side (each has its own profile)."""
    with ThreadPoolExecutor(max_workers=len(jobs) or 1) as pool:
        futures = [
            pool.submit(to_pdf, html, pdf, html.parent / f".chromium-{html.stem}")
            for html, pdf in jobs
        ]
        return [future.result() for future in futures]


def page_count(pdf_file: Path) -> int:
    info = tools.run([tools.find("pdfinfo"), str(pdf_file)])
    found = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
    if not found:
        raise tools.ToolError(f"pdfinfo did not give the page count of {pdf_file}")
    return int(found.group(1))


def render_pages(pdf_file: Path, out_dir: Path, *, dpi: int = 60) -> list[Path]:
    """Every page of the PDF as a PNG (`<stem>-NN.png`), to be looked at."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob(f"{pdf_file.stem}-*.png"):
        old.unlink()
    tools.run(
        [
            tools.find("pdftoppm"),
            "-png",
            "-r",
            str(dpi),
            str(pdf_file),
            str(out_dir / pdf_file.stem),
        ]
    )
    return sorted(out_dir.glob(f"{pdf_file.stem}-*.png"))


def pdf_text(pdf_file: Path) -> str:
    return tools.run([tools.find("pdftotext"), "-layout", str(pdf_file), "-"])
