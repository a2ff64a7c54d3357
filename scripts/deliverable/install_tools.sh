#!/usr/bin/env bash
# The Debian packages the deliverable needs (diagrams, PDFs, dumps), installed only when
# missing: Graphviz (dot), poppler-utils (pdfinfo, pdftoppm, pdftotext), the PostgreSQL
# client (pg_dump, psql), Chromium (screenshot, HTML -> PDF) and the DejaVu fonts.
set -euo pipefail

missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
command -v pg_dump >/dev/null 2>&1 || missing+=(postgresql-client)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
    || missing+=(chromium)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "missing: ${missing[*]} (install them with your system's package manager)" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "[deliverable] installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
