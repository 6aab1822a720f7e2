"""Roster history: every archived 287(g) workbook as one tidy table, stable agreement ids, changes.

Entry point for the daily job: `ice_tracker.roster.history.build_history(data_dir, out_dir, cache_dir)`.
"""
