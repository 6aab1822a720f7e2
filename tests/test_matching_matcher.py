"""The agency matcher on small CSLLEA-shaped tables: kinds, county, typos, overrides, aliases."""

from __future__ import annotations

import random

import pytest

from ice_tracker.matching.aliases import Alias, Override
from ice_tracker.matching.matcher import Query, Reference, match_agencies, tokens_accounted, unused_overrides
from tests.matching_helpers import reference_frame


@pytest.fixture(scope="module")
def ref() -> Reference:
    return Reference(reference_frame([
        (1, "ORANGE COUNTY SHERIFF'S OFFICE", "FL", "ORANGE", "Sheriff", 1400000, 300000000, "FL0480000", "32801"),
        (2, "ORLANDO POLICE DEPARTMENT", "FL", "ORANGE", "Local Police"),
        (3, "ROBINSON TOWNSHIP POLICE DEPARTMENT", "PA", "ALLEGHENY", "Local Police"),
        (4, "ROBINSON TOWNSHIP POLICE DEPARTMENT", "PA", "WASHINGTON", "Local Police"),
        (5, "LAMPASAS COUNTY SHERIFF'S OFFICE", "TX", "LAMPASAS", "Sheriff"),
        (6, "LAMAR COUNTY SHERIFF'S OFFICE", "TX", "LAMAR", "Sheriff"),
        (7, "WALKER COUNTY SHERIFF'S DEPARTMENT", "GA", "WALKER", "Sheriff"),
        (8, "WALKER COUNTY POLICE DEPARTMENT", "GA", "WALKER", "County/Regional Police"),
        (9, "LAFOURCHE PARISH SHERIFF'S OFFICE", "LA", "", "Sheriff"),
        (10, "UNIVERSITY OF CENTRAL FLORIDA POLICE DEPARTMENT", "FL", "ORANGE", "4-year University/College"),
        (11, "GEORGIA STATE PATROL", "GA", "FULTON", "Primary State Police"),
        (12, "HOPEWELL CITY SHERIFF'S OFFICE", "VA", "HOPEWELL CITY", "Sheriff"),
        (13, "RICHMOND CITY SHERIFF'S OFFICE", "VA", "RICHMOND", "Sheriff"),
        (14, "RICHMOND COUNTY SHERIFF'S OFFICE", "VA", "RICHMOND", "Sheriff"),
        (15, "FLORIDA FISH & WILDLIFE CONSERVATION COMMISSION - DIVISION OF LAW ENFORCEMENT", "FL", "LEON",
         "Fish and Wildlife Conservation Laws"),
        (16, "ORANGE COUNTY SHERIFF'S OFFICE", "TX", "ORANGE", "Sheriff"),
        (17, "JACKSONVILLE SHERIFF'S OFFICE", "FL", "DUVAL", "Local Police"),
    ]))


def one(ref, query, **kwargs):
    return match_agencies([query], ref, **kwargs)[0]


@pytest.mark.parametrize("agency", [
    "Orange County Corrections Department", "Orange County Jail", "Orange County Detention Center",
    "Orange County Board of County Commissioners", "Orange County Correctional Facility",
])
def test_jails_corrections_and_commissions_never_get_the_sheriff(ref, agency):
    found = one(ref, Query("FLORIDA", agency, "Orange County", "County"))
    assert found.agency_id is None
    assert found.match_method == "none"
    assert all(c.agency_id != "1" for c in found.candidates)


@pytest.mark.parametrize(("query", "expected"), [
    (Query("GEORGIA", "Walker County Sheriff’s Office", "Walker County", "County"), "7"),  # Office vs Department
    (Query("LOUISIANA", "Lafourche County Sheriff's Office", "Lafourche County", "County"), "9"),  # Parish
    (Query("FLORIDA", "University of Central Florida Board of Trustees", "", "State Agency"), "10"),  # campus police
    (Query("FLORIDA", "Jacksonville Sheriff's Office", "Duval County", "County"), "17"),  # CSLLEA types it police
    (Query("VIRGINIA", "Richmond County Sheriff's Office", "Richmond County", "County"), "14"),  # not Richmond City
])
def test_exact_after_normalisation(ref, query, expected):
    found = one(ref, query)
    assert (found.agency_id, found.match_method, found.needs_review, found.match_score) == (expected, "exact", False, 100.0)


def test_other_kinds_are_never_candidates(ref):
    found = one(ref, Query("GEORGIA", "Walker County Sheriff's Office", "Walker County", "County"))
    assert found.runner_up is None  # WALKER COUNTY POLICE DEPARTMENT is a county police, not a sheriff


def test_county_separates_same_name_townships(ref):
    found = one(ref, Query("PENNSYLVANIA", "Robinson Township Police Department", "Alleghany County", "Municipality"))
    assert found.agency_id == "3"
    assert found.runner_up.agency_id == "4"
    no_county = one(ref, Query("PENNSYLVANIA", "Robinson Township Police Department", "", "Municipality"))
    assert no_county.agency_id is None and no_county.needs_review
    assert "share this name" in no_county.review_reason
    assert {c.agency_id for c in no_county.candidates} == {"3", "4"}


def test_typo_is_a_fuzzy_match_with_a_score(ref):
    found = one(ref, Query("TEXAS", "Lampass County Sheriff's Office", "Lampass County", "County"))
    assert found.agency_id == "5" and found.match_method == "fuzzy"
    assert 90 <= found.match_score < 100
    assert found.runner_up.agency_id == "6" and found.runner_up.score < found.match_score


@pytest.mark.parametrize(("query", "expected", "method", "reason"), [
    (Query("GEORGIA", "Georgia Department of Public Safety", "", "State Agency"), "11", "fuzzy", "state police"),
    (Query("VIRGINIA", "Hopewell County Sheriff's Office", "Hopewell County", "County"), "12", "fuzzy", "independent city"),
    (Query("FLORIDA", "Florida Fish and Wildlife Conservation Commission", "", "State Agency"), "15", "exact", "division"),
])
def test_rule_based_matches_are_flagged_for_review(ref, query, expected, method, reason):
    """DPS → the state's only state police; Virginia city sheriffs; a department matched to its CSLLEA division."""
    found = one(ref, query)
    assert (found.agency_id, found.match_method, found.needs_review) == (expected, method, True)
    assert reason in found.review_reason


def test_blocked_by_state(ref):
    found = one(ref, Query("TEXAS", "Orange County Sheriff's Office", "Orange County", "County"))
    assert found.agency_id == "16"
    assert one(ref, Query("OHIO", "Orange County Sheriff's Office", "", "County")).agency_id is None


def test_absent_police_department_is_no_match_and_reviewed(ref):
    found = one(ref, Query("FLORIDA", "Pembroke Park Police Department", "", "Municipality"))
    assert found.agency_id is None and found.match_method == "none" and found.needs_review


def test_absent_military_unit_is_no_match_without_review(ref):
    found = one(ref, Query("FLORIDA", "Florida National Guard", "", "State Agency"))
    assert found.agency_id is None and not found.needs_review


def test_overrides_first_then_aliases(ref):
    overrides = {
        ("FLORIDA", "ORANGE COUNTY SHERIFF'S OFFICE"): Override("FLORIDA", "Orange County Sheriff's Office", None, "test", 2),
        ("FLORIDA", "ORLANDO PD"): Override("FLORIDA", "Orlando PD", "2", "", 3),
        ("FLORIDA", "BAD ID"): Override("FLORIDA", "Bad Id", "999999", "", 4),
        ("FLORIDA", "GONE POLICE DEPARTMENT"): Override("FLORIDA", "Gone Police Department", "2", "", 5),
    }
    aliases = {("FLORIDA", "THE MOUSE POLICE"): Alias("FLORIDA", "The Mouse Police", "ORLANDO POLICE DEPARTMENT", "", 2),
               ("FLORIDA", "NOWHERE"): Alias("FLORIDA", "Nowhere", "NO SUCH AGENCY", "", 3)}
    queries = [Query("FLORIDA", "Orange County Sheriff's Office"), Query("FLORIDA", "Orlando PD"),
               Query("FLORIDA", "Bad Id"), Query("FLORIDA", "The Mouse Police"), Query("FLORIDA", "Nowhere")]
    sheriff, orlando, bad, mouse, nowhere = match_agencies(queries, ref, overrides, aliases)
    assert (sheriff.agency_id, sheriff.match_method) == (None, "override")
    assert (orlando.agency_id, orlando.match_method, orlando.match_score) == ("2", "override", 100.0)
    assert bad.match_method != "override"  # an id not in CSLLEA is ignored, the matcher decides
    assert (mouse.agency_id, mouse.match_method) == ("2", "alias")
    assert nowhere.match_method != "alias"
    stale = unused_overrides(overrides, queries)
    assert [o.agency for o in stale] == ["Gone Police Department"]


def test_results_do_not_depend_on_query_order(ref):
    queries = [Query("FLORIDA", "Orlando Police Department"), Query("TEXAS", "Lampass County Sheriff's Office"),
               Query("PENNSYLVANIA", "Robinson Township Police Department", "Washington County"),
               Query("GEORGIA", "Walker County Sheriff's Office"), Query("FLORIDA", "Orange County Jail")]
    first = {(m.query.agency): (m.agency_id, m.match_score, m.needs_review) for m in match_agencies(queries, ref)}
    shuffled = queries[:]
    random.Random(7).shuffle(shuffled)
    second = {(m.query.agency): (m.agency_id, m.match_score, m.needs_review) for m in match_agencies(shuffled, ref)}
    assert first == second
    assert first["Robinson Township Police Department"][0] == "4"


def test_tokens_accounted_rejects_missing_words():
    assert tokens_accounted("LAMPASS COUNTY", "LAMPASAS COUNTY")
    assert not tokens_accounted("FLORIDA A M UNIVERSITY", "UNIVERSITY FLORIDA")
    assert not tokens_accounted("", "X")
