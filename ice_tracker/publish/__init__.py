"""Publish: trend plots, a data dictionary, a change feed and a static dashboard from the derived data.

Everything here reads the CSVs the other steps write and renders files whose bytes depend only on
those inputs, so the daily job commits nothing when nothing changed. Each part appears only when
its inputs exist. Entry point: `ice_tracker.publish.run.run_publish(data_dir)`.
"""
