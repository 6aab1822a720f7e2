"""Roster agencies matched to the 2018 Census of State and Local Law Enforcement Agencies (CSLLEA).

Entry point: `ice_tracker.matching.pipeline.run_matching(data_dir, csllea=None, cache_dir=None)`.
Modules: `csllea` (find, fetch, read the reference), `normalise` (names, states, kinds), `aliases`
(hand overrides and aliases under overrides/), `matcher` (scoring and decisions), `outputs` (the
published CSV files).
"""
