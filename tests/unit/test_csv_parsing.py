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
