"""Name, state and kind normalisation used by the agency matcher."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ice_tracker.matching.normalise import (
    clean_county,
    clean_name,
    core_name,
    normalise_state,
    reference_kind,
    roster_key,
    roster_kind,
    state_postal,
)


@pytest.mark.parametrize(("raw", "expected"), [
    ("UTAHJ", "UTAH"), ("AlABAMA", "ALABAMA"), (" north carolina ", "NORTH CAROLINA"), ("fl", "FLORIDA"),
    ("WEST VIRGINIA", "WEST VIRGINIA"), ("", None), ("ATLANTIS", None),
])
def test_normalise_state(raw, expected):
    assert normalise_state(raw) == expected


def test_state_postal():
    assert state_postal("UTAHJ") == "UT"
    assert state_postal("NORTH DAKOTA") == "ND"
    assert state_postal("nowhere") is None


@pytest.mark.parametrize(("roster", "csllea"), [
    ("Walker County Sheriff’s Office", "WALKER COUNTY SHERIFF'S DEPARTMENT"),
    ("Ft. Myers Police Department", "FORT MYERS POLICE DEPARTMENT"),
    ("St. Johns County Sheriff's Office", "SAINT JOHNS COUNTY SHERIFF'S OFFICE"),
    ("Lafourche County Sheriff's Office", "LAFOURCHE PARISH SHERIFF'S OFFICE"),
    ("Arnaudville Police Department, LA", "ARNAUDVILLE POLICE DEPARTMENT"),
    ("City of Zephyrhills Police Department", "ZEPHYRHILLS POLICE DEPARTMENT"),
    ("Ocean Ridge Police Department", "OCEAN RIDGE PUBLIC SAFETY DEPARTMENT"),
    ("Highspire Police Department", "HIGHSPIRE BOROUGH POLICE DEPARTMENT"),
    ("Cascade County Sheriff's Office", "CASCADE COUNTY SHERIFF/CORONER'S OFFICE"),
    ("University of Central Florida Board of Trustees", "UNIVERSITY OF CENTRAL FLORIDA POLICE DEPARTMENT"),
])
def test_same_core_name(roster, csllea):
    assert core_name(clean_name(roster)) == core_name(clean_name(csllea))


@pytest.mark.parametrize(("left", "right"), [
    ("Melbourne Police Department", "MELBOURNE VILLAGE POLICE DEPARTMENT"),
    ("Robinson Township Police Department", "ROBINSON POLICE DEPARTMENT"),
    ("Panama City Police Department", "PANAMA POLICE DEPARTMENT"),
])
def test_different_core_names_stay_different(left, right):
    assert core_name(clean_name(left)) != core_name(clean_name(right))


@pytest.mark.parametrize(("name", "roster_type", "kind"), [
    ("Orange County Corrections Department", "County", "corrections"),
    ("Virginia DOC Law Enforcement Services", "State Agency", "corrections"),
    ("Jackson County Correctional Facility", "County", "corrections"),
    ("Bullitt County Detention Center", "County", "jail"),
    ("Southwest Virginia Regional Jail Authority", "State Agency", "jail"),
    ("Okmulgee County Criminal Justice Authority", "County", "jail"),
    ("Escambia County Board of County Commissioners", "County", "commission"),
    ("Texas National Guard", "State Agency", "military"),
    ("Luzerne County District Attorney's Office", "County", "prosecutor"),
    ("Derry Township Constable's Office", "Municipality", "constable"),
    ("Florida A&M University Board of Trustees", "State Agency", "campus"),
    ("Georgia Department of Public Safety", "State Agency", "state_police"),
    ("Louisiana Office of the State Fire Marshal", "State Agency", "other"),
    ("Indian Creek Village Department of Public Safety", "Municipality", "police"),
    ("Power County Sheriff’s Office", "County", "sheriff"),
    ("Florida Department of Law Enforcement", "State Agency", "other"),
])
def test_roster_kind(name, roster_type, kind):
    assert roster_kind(clean_name(name), roster_type) == kind


def test_reference_kind_uses_name_for_sheriff_and_jails():
    assert reference_kind(clean_name("JACKSONVILLE SHERIFF'S OFFICE"), 3) == "sheriff"  # typed local police
    assert reference_kind(clean_name("OKMULGEE COUNTY CRIMINAL JUSTICE AUTHORITY"), 699) == "jail"
    assert reference_kind(clean_name("GEORGIA STATE PATROL"), 5) == "state_police"
    assert reference_kind(clean_name("TRIBAL POLICE"), 91) == "tribal"


def test_clean_county_drops_junk_and_suffixes():
    assert clean_county("#N/A") == ""
    assert clean_county("Saint Landry Parish") == clean_county("ST. LANDRY") == "ST LANDRY"
    assert clean_county("Miami-Dade County") == "MIAMI DADE"


def test_roster_key_ignores_case_space_and_apostrophe_style():
    assert roster_key("utahj", "Weber  County Sheriff’s Office") == ("UTAH", "WEBER COUNTY SHERIFF'S OFFICE")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcSTPD.'’&- ,éCOUNTYSHERIF")), max_size=40))
def test_clean_name_is_idempotent(text):
    once = clean_name(text)
    assert clean_name(once) == once
    assert core_name(clean_name(core_name(once))) == core_name(once)
