from datetime import UTC, date, datetime

import pytest

from loaders.sources.production_csv import parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 345,6", 12345.6),
        ("12\u202f345,6", 12345.6),
        ("12.345,6", 12345.6),
        ("12,345.6", 12345.6),
        ("12345.6", 12345.6),
        ("97,5", 97.5),
        ("-3,25", -3.25),
        ("", None),
        ("  ", None),
    ],
)
def test_numbers_in_french_and_english_notation(text: str, expected: float | None) -> None:
    assert parsing.parse_number(text, "Energie") == expected


def test_a_non_number_names_its_column_and_value() -> None:
    with pytest.raises(parsing.FieldError, match=r"Energie produite \(kWh\): not a number: 'n/a'"):
        parsing.parse_number("n/a", "Energie produite (kWh)")


def test_french_and_iso_dates() -> None:
    assert parsing.parse_date("05/10/2025", "Date") == date(2025, 10, 5)
    assert parsing.parse_date("2025-10-05", "Date") == date(2025, 10, 5)
    with pytest.raises(parsing.FieldError, match="31/09/2025"):
        parsing.parse_date("31/09/2025", "Date")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_local_paris_time_becomes_utc() -> None:
    assert parsing.parse_local_datetime("15/10/2025 14:00", "Début") == utc(2025, 10, 15, 12, 0)
    assert parsing.parse_local_datetime("15/01/2025 14:00", "Début") == utc(2025, 1, 15, 13, 0)
    assert parsing.parse_local_datetime("2025-10-15T14:00", "Début") == utc(2025, 10, 15, 12, 0)
    assert parsing.parse_local_datetime("", "Fin") is None


def test_repeated_autumn_hour_is_read_as_its_first_occurrence() -> None:
    # 26/10/2025 02:30 happens twice in Paris; we take summer time (UTC+2).
    assert parsing.parse_local_datetime("26/10/2025 02:30", "Début") == utc(2025, 10, 26, 0, 30)
    assert parsing.parse_local_datetime("26/10/2025 03:30", "Début") == utc(2025, 10, 26, 2, 30)


def test_missing_spring_hour_is_read_with_the_offset_before_the_change() -> None:
    # 30/03/2025 02:30 never happens in Paris; read as 02:30 CET = 01:30 UTC.
    assert parsing.parse_local_datetime("30/03/2025 02:30", "Début") == utc(2025, 3, 30, 1, 30)


def test_header_keys_ignore_accents_case_and_punctuation() -> None:
    assert parsing.header_key("\ufeffDébut") == parsing.header_key("debut")
    assert parsing.header_key("N° intervention") == "nintervention"
    assert parsing.header_key("Energie produite (kWh)") == "energieproduitekwh"


def test_encoding_detection(tmp_path) -> None:  # noqa: ANN001
    utf8 = tmp_path / "a.csv"
    utf8.write_bytes("\ufeffDébut;Fin\n".encode())
    latin = tmp_path / "b.csv"
    latin.write_bytes("Début;Fin\n".encode("cp1252"))
    assert parsing.detect_encoding(str(utf8)) == "utf-8-sig"
    assert parsing.detect_encoding(str(latin)) == "cp1252"
    assert parsing.detect_separator("a;b;c") == ";"
    assert parsing.detect_separator("a,b,c") == ","


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.234.567", 1234567.0), ("1,234,567", 1234567.0), ("1 234 567,25", 1234567.25)],
)
def test_repeated_marks_are_thousands_separators(text: str, expected: float) -> None:
    assert parsing.parse_number(text, "Energie") == expected


@pytest.mark.parametrize("text", ["1.23.4", "1,2,3", "nan", "inf", "12 345,6 kWh"])
def test_ambiguous_or_non_finite_numbers_are_refused(text: str) -> None:
    with pytest.raises(parsing.FieldError, match="not a number"):
        parsing.parse_number(text, "Energie")


def test_other_date_spellings() -> None:
    assert parsing.parse_date("5.10.2025", "Date") == date(2025, 10, 5)
    assert parsing.parse_date("05-10-2025", "Date") == date(2025, 10, 5)
    for text in ("05/10-2025", "2025/10/05", "29/02/2025", ""):
        with pytest.raises(parsing.FieldError, match="not a date"):
            parsing.parse_date(text, "Date")
    with pytest.raises(parsing.FieldError, match="not a date and time"):
        parsing.parse_local_datetime("15/10/2025 25:00", "Début")


def test_a_written_offset_is_that_instant() -> None:
    assert parsing.parse_local_datetime("2025-10-26T02:30:00+01:00", "Début") == utc(
        2025, 10, 26, 1, 30
    )
    assert parsing.parse_local_datetime("2025-10-26 00:30Z", "Début") == utc(2025, 10, 26, 0, 30)


def test_the_repeated_hour_is_recognised_and_the_missing_one_is_not_repeated() -> None:
    assert parsing.is_repeated_local_time("26/10/2025 02:10")
    assert not parsing.is_repeated_local_time("26/10/2025 03:10")
    assert not parsing.is_repeated_local_time("30/03/2025 02:30")  # never happens
    assert parsing.parse_local_datetime("26/10/2025 02:10", "Fin", fold=1) == utc(
        2025, 10, 26, 1, 10
    )


def test_an_interval_end_before_its_start_in_the_repeated_hour_is_the_second_one() -> None:
    from loaders.settings import load_settings
    from loaders.sources.production_csv import _parse_row
    from loaders.sources.production_csv.specs import specs_of

    MAINTENANCE_LOG = next(s for s in specs_of(load_settings()) if s.table == "maintenance_log")
    header = [column.header for column in MAINTENANCE_LOG.columns]
    positions = {column.target: index for index, column in enumerate(MAINTENANCE_LOG.columns)}
    fields = [
        "M-1",
        "T1",
        "26/10/2025 02:50",
        "26/10/2025 02:10",
        "Corrective",
        "rotor",
        "",
        "",
        "",
    ]
    row, problems = _parse_row(MAINTENANCE_LOG, positions, fields, len(header))
    assert problems == []
    assert row["started_at"] == utc(2025, 10, 26, 0, 50)  # 02:50 CEST, the first 02:50
    assert row["ended_at"] == utc(2025, 10, 26, 1, 10)  # 02:10 CET, the second 02:10


def test_a_word_where_a_date_or_number_belongs_is_a_token_and_is_not_quoted() -> None:
    """A name written in the wrong column of a row of the header's shape: the column is
    known and not personal, yet the cell is tokenised in the rejected line and left out of
    the reason (which reaches a quality mart and the quality page); a mistyped value is
    still quoted, for the source owner to find it."""
    from loaders.privacy.pseudonymise import Pseudonymiser
    from loaders.settings import load_settings
    from loaders.sources.production_csv import _parse_row, _rejected_line
    from loaders.sources.production_csv.specs import specs_of

    spec = next(s for s in specs_of(load_settings()) if s.table == "maintenance_log")
    positions = {column.target: index for index, column in enumerate(spec.columns)}
    key = Pseudonymiser("unit-test-key-" + "0" * 32)
    named = ["M-1", "T1", "Éloïse Quintard", "", "Corrective", "rotor", "Pale", "", ""]
    _, problems = _parse_row(spec, positions, named, len(named))
    assert problems == [
        "Début: not a date and time: a text, not quoted (it may name someone; the rejected "
        "line holds its token)"
    ]
    line = _rejected_line(spec, positions, named, len(named), key, ";")
    assert line == f"M-1;T1;{key.token('Éloïse Quintard')};;Corrective;rotor;Pale;;"
    mistyped = ["M-2", "T1", "32/10/2025 08:00", "n/a", "Corrective", "rotor", "Pale", "", ""]
    _, problems = _parse_row(spec, positions, mistyped, len(mistyped))
    assert "'32/10/2025 08:00'" in problems[0] and "'n/a'" in problems[1]
    assert _rejected_line(spec, positions, mistyped, len(mistyped), key, ";") == ";".join(mistyped)


def test_file_inspection_hashes_and_finds_the_encoding(tmp_path) -> None:  # noqa: ANN001
    import hashlib

    plain = tmp_path / "plain.csv"
    plain.write_bytes("Début;Fin\n".encode())
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"D\xe9but;Fin\x81\n")  # 0x81 is undefined in Windows-1252
    assert parsing.inspect_file(plain) == (
        hashlib.sha256(plain.read_bytes()).hexdigest(),
        "utf-8-sig",
    )
    assert parsing.inspect_file(latin)[1] == "latin-1"
    # a UTF-8 character cut by the 1 MiB read boundary is still UTF-8
    split = tmp_path / "split.csv"
    split.write_bytes(b"a" * ((1 << 20) - 1) + "é\n".encode())
    assert parsing.inspect_file(split)[1] == "utf-8-sig"
