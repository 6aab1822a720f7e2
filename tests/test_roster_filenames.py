"""Roster dates from every file-name variant ICE has used (DOMAIN.md §1), and the fallbacks."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from ice_tracker.roster.filenames import parse_name, roster_date, snapshot_time


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("name", "fetched", "expected", "part", "kind"),
    [
        ("participatingAgencies05162025am.xlsx", "2025-05-19T02:49:22", "2025-05-16", "am", "participating"),
        ("participatingAgencies09292025mid.xlsx", "2025-09-29T15:00:00", "2025-09-29", "mid", "participating"),
        ("participatingAgencies10292025pmB.xlsx", "2025-10-30T15:00:00", "2025-10-29", "pm", "participating"),
        ("participatingAgencies12042025pm2.xlsx", "2025-12-05T15:00:00", "2025-12-04", "pm", "participating"),
        ("participatingAgencies11122025.xlsx", "2025-11-12T15:00:00", "2025-11-12", "", "participating"),
        ("pendingAgencies07112025am_b.xlsx", "2025-07-11T15:18:20", "2025-07-11", "am", "pending"),
        ("participatingAgencies04212026am 12.15.07 AM.xlsx", "2026-04-21T15:00:00", "2026-04-21", "am", "participating"),
        ("ParticipatingAgencies08282026pm.xlsx", "2026-08-29T15:00:00", "2026-08-28", "pm", "participating"),
        ("287gParticipatingAgencies091526pm.xlsx", "2026-09-16T15:00:00", "2026-09-15", "pm", "participating"),
        ("ParticipatingAgency091826am.xlsx", "2026-09-18T15:00:00", "2026-09-18", "am", "participating"),
        ("PendingAgencies02102026.xlsx", "2026-02-10T15:00:00", "2026-02-10", "", "pending"),
    ],
)
def test_every_name_variant_gives_the_date_in_the_name(name, fetched, expected, part, kind):
    found = roster_date(name, at(fetched))
    assert (found.value, found.source, found.rule, found.part_of_day) == (date.fromisoformat(expected), "filename", "", part)
    assert parse_name(name).list == kind


def test_nine_digit_typo_is_repaired_when_one_date_fits():
    found = roster_date("participatingAgencies090022025am.xlsx", at("2025-09-03T15:00:00"))
    assert (found.value, found.source, found.rule) == (date(2025, 9, 2), "filename", "filename_date_repaired")


@pytest.mark.parametrize(
    ("name", "fetched"),
    [
        ("participatingAgencies07033025pm.xlsx", "2025-07-04T15:16:59"),  # year 3025
        ("participatingAgencies01152025am.xlsx", "2026-01-16T15:00:00"),  # a January-2026 list labelled 2025
    ],
)
def test_implausible_name_dates_fall_back_to_the_fetch_date(name, fetched):
    found = roster_date(name, at(fetched))
    assert found.source == "fetched"
    assert found.value == at(fetched).date()
    assert found.rule == "filename_date_implausible"


def test_impossible_name_date_falls_back_to_the_fetch_date():
    found = roster_date("participatingAgencies13452025am.xlsx", at("2025-07-04T15:00:00"))
    assert (found.value, found.source, found.rule) == (date(2025, 7, 4), "fetched", "filename_date_invalid")


def test_name_without_date_uses_fetch_date_and_says_why():
    found = roster_date("participating.xlsx", at("2026-05-01T10:00:00"))
    assert (found.value, found.source, found.rule) == (date(2026, 5, 1), "fetched", "filename_no_date")
    assert parse_name("View participating agencies.xlsx").list == "participating"
    assert parse_name("download.xlsx").list == ""


def test_without_fetch_time_the_name_is_trusted_and_nothing_is_invented():
    assert roster_date("pendingAgencies05152025am.xlsx", None).value == date(2025, 5, 15)
    assert roster_date("download.xlsx", None).value is None


def test_snapshot_folder_time_is_utc():
    assert snapshot_time("sheets_20250519_024922") == datetime(2025, 5, 19, 2, 49, 22, tzinfo=timezone.utc)
    assert snapshot_time("sheets_2025") is None


def test_all_fixture_names_parse_from_the_name(shared_fixtures):
    names = sorted(shared_fixtures.glob("ice287g/sheets/*/*.xlsx"))
    assert len(names) == 64
    for path in names:
        found = roster_date(path.name, snapshot_time(path.parent.name))
        assert found.source == "filename", path
        assert found.value <= snapshot_time(path.parent.name).date()
