"""Agreement ids: trivial renames share a key, real renames are detected, look-alikes are not merged."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from ice_tracker.roster.changes import diff_all
from ice_tracker.roster.ids import assign_ids, name_key, same_kind, similarity
from ice_tracker.roster.model import Roster, Row
from ice_tracker.roster.vocab import load_vocabulary

VOCAB = load_vocabulary()
TFM, WSO = "Task Force Model", "Warrant Service Officer"


def key(name: str) -> str:
    return name_key(name, VOCAB)


def test_trivial_renames_share_a_name_key():
    assert key("Galveston County Sheriff\u2019s Office") == key("galveston county  sheriff's office ")
    assert key("Ft. Myers Police Dept.") == key("Fort Myers Police Department")
    assert key("City of St. Cloud Police Department") == key("St. Cloud Police Department")
    assert key("Arnaudville Police Department, LA") == key("Arnaudville Police Department")
    assert key("Greene Township Constables's Office") == key("Greene Township Constable Office")
    assert key("Lake County Sheriff's Office") != key("Lake City Police Department")


def test_similarity_scores_the_distinctive_words():
    generic = VOCAB.generic
    assert similarity(key("Idaho State Police"), key("Idaho State Police Department"), generic) == 100
    assert similarity(key("Indiatlantic Police Department"), key("Indialantic Police Department"), generic) >= 90
    assert similarity(key("Madison County Sheriff's Office"), key("Marion County Sheriff's Office"), generic) < 90
    assert similarity(key("Melbourne Police Department"), key("West Melbourne Police Department"), generic) < 90
    assert similarity(key("University of Florida Police Department"),
                      key("University of North Florida Police Department"), generic) < 90
    assert not same_kind(key("Sarasota County Sheriff's Office"), key("Sarasota Police Department"), VOCAB.kinds)
    assert same_kind(key("Idaho State Police"), key("Board of Trustees"), VOCAB.kinds)


def row(list_: str, agency: str, state: str = "FLORIDA", model: str = TFM, moa: str = "", signed: str = "") -> Row:
    return Row(snapshot="", file="", roster_date="", roster_date_source="filename", list=list_, row_number=0,
               state=state, state_raw=state, agency=agency, county="", county_raw="", type="", support_type=model,
               support_type_raw=model, signed=signed, signed_raw=signed, moa_url=moa, addendum_url="")


def rosters(*specs: tuple[str, list[Row]]) -> list[Roster]:
    out = []
    start = datetime(2025, 7, 1, tzinfo=timezone.utc)
    for n, (list_, rows) in enumerate(specs):
        when = start + timedelta(days=n)
        roster = Roster(f"sheets_{when:%Y%m%d_%H%M%S}", f"{list_}.xlsx", list_, "", when, when.date(), "filename", "am")
        for i, r in enumerate(rows, start=2):
            r.snapshot, r.file, r.row_number, r.list = roster.snapshot, roster.file, i, list_
        roster.rows = rows
        out.append(roster)
    return out


def ids_by_agency(all_rosters: list[Roster]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for roster in all_rosters:
        for r in roster.rows:
            found.setdefault(r.agency, set()).add(r.agreement_id)
    return found


def test_detected_renames_keep_the_id_and_look_alikes_do_not():
    link = "https://www.ice.gov/doclib/287gMOA/fwc.pdf"
    history = rosters(
        ("participating", [row("participating", "Florida Fish and Wildlife Conservation Commission", moa=link),
                           row("participating", "Boca Raton Police Department", signed="2025-03-25"),
                           row("participating", "Madison County Sheriff's Office", state="ALABAMA"),
                           row("participating", "Green Forks Police Department", state="INDIANA")]),
        ("participating", [row("participating", "Florida Department of Environmental Protection", moa=link),
                           row("participating", "Boca Raton Police Services Department", signed="2025-03-25"),
                           row("participating", "Marion County Sheriff's Office", state="ALABAMA"),
                           row("participating", "Greens Forks Police Department", state="INDIANA")]),
        ("participating", [row("participating", "Florida Department of Environmental Protection", moa=link),
                           row("participating", "Boca Raton Police Services Department", signed="2025-03-25"),
                           row("participating", "Marion County Sheriff's Office", state="ALABAMA"),
                           row("participating", "Green Forks Police Department", state="INDIANA")]),
    )
    matches = assign_ids(history, VOCAB)
    ids = ids_by_agency(history)
    # one MOA link but names too far apart (similarity 47): not a rename, only a possible one
    assert ids["Florida Fish and Wildlife Conservation Commission"] != ids["Florida Department of Environmental Protection"]
    assert ids["Boca Raton Police Department"] == ids["Boca Raton Police Services Department"]
    assert ids["Green Forks Police Department"] == ids["Greens Forks Police Department"]
    assert ids["Madison County Sheriff's Office"] != ids["Marion County Sheriff's Office"]
    assert {m.evidence for m in matches.values()} == {"possible", "signed", "name"}
    changes = diff_all(history, matches, VOCAB)
    kinds = sorted((c["change"], c["agency"]) for c in changes)
    assert kinds == [
        ("added", "Florida Department of Environmental Protection"),
        ("added", "Marion County Sheriff's Office"),
        ("removed", "Florida Fish and Wildlife Conservation Commission"),
        ("removed", "Madison County Sheriff's Office"),
        ("renamed", "Boca Raton Police Services Department"),
        ("renamed", "Green Forks Police Department"),
        ("renamed", "Greens Forks Police Department"),
    ]
    fdep = next(c for c in changes if c["agency"] == "Florida Department of Environmental Protection")
    assert fdep["possible_rename_of"] == next(iter(ids["Florida Fish and Wildlife Conservation Commission"]))
    assert fdep["old"] == "Florida Fish and Wildlife Conservation Commission" and fdep["similarity"] == "39.0"  # shorter names than on the real roster


def test_pending_to_participating_is_a_move_with_the_same_id():
    history = rosters(
        ("pending", [row("pending", "Coolspring Township Constables Office", state="PENNSYLVANIA"),
                     row("pending", "Lyon County Sheriff's Office", state="NEVADA", model=WSO)]),
        ("participating", [row("participating", "Ocala Police Department")]),
        ("pending", [row("pending", "Lyon County Sheriff's Office", state="NEVADA", model=WSO)]),
        ("participating", [row("participating", "Ocala Police Department"),
                           row("participating", "Coolspring Township Constbales Office", state="PENNSYLVANIA")]),
    )
    matches = assign_ids(history, VOCAB)
    ids = ids_by_agency(history)
    assert ids["Coolspring Township Constables Office"] == ids["Coolspring Township Constbales Office"]
    changes = {(c["list"], c["change"], c["agency"]) for c in diff_all(history, matches, VOCAB)}
    assert changes == {
        ("pending", "moved_to_participating", "Coolspring Township Constables Office"),
        ("participating", "moved_from_pending", "Coolspring Township Constbales Office"),
    }


def test_same_name_twice_in_one_roster_shares_the_id_and_ids_are_readable():
    history = rosters(("participating", [row("participating", "St. Cloud Police Department"),
                                         row("participating", "City of St. Cloud Police Department"),
                                         row("participating", "St. Cloud Police Department", model=WSO)]))
    assign_ids(history, VOCAB)
    first, second, third = (r.agreement_id for r in history[0].rows)
    assert first == second != third
    assert first.startswith("FL-TFM-") and third.startswith("FL-WSO-")
    assert date(2025, 7, 1) == history[0].roster_date
