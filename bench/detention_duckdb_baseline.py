"""The strongest baseline for `detention`: the same counting rules as one DuckDB SQL script.

Reads a stints parquet, drops the two kinds of duplicates, runs open stints through the extract day,
merges each person's intervals per facility, and writes the dense facility × day midnight and
any-time counts. Used only by bench/bench_detention.py (duckdb is a dev dependency).

    python bench/detention_duckdb_baseline.py STINTS.parquet EXTRACT_DATE OUT.parquet
"""

from __future__ import annotations

import sys

import duckdb

SQL = """
CREATE TEMP TABLE raw AS SELECT * FROM read_parquet($src);
CREATE TEMP TABLE s AS
SELECT unique_identifier AS id, detention_facility_code AS fac, stay_book_in_date_time AS sbi,
       book_in_date_time AS bi, book_out_date_time AS bo, stay_book_out_date_time AS sbo
FROM (SELECT *, row_number() OVER (PARTITION BY unique_identifier, stay_book_in_date_time, book_in_date_time,
                                   book_out_date_time, stay_book_out_date_time, detention_facility_code
                                   ORDER BY initial_bond_set_amount DESC NULLS LAST) AS bond_rank FROM raw)
WHERE bond_rank = 1 AND book_in_date_time IS NOT NULL
QUALIFY id IS NULL OR row_number() OVER (PARTITION BY id, fac, CAST(bi AS DATE), sbi ORDER BY bi DESC) = 1;
CREATE TEMP TABLE iv AS
SELECT coalesce(id, 'row' || CAST(row_number() OVER () AS VARCHAR)) AS id, fac,
       CAST(bi AS DATE) AS d_in,
       CAST(coalesce(bo, CASE WHEN sbo >= bi THEN sbo END, CAST($end AS TIMESTAMP)) AS DATE) AS d_out
FROM s WHERE fac IS NOT NULL;
CREATE TEMP TABLE grid AS SELECT min(d_in) AS first_day, CAST($extract AS DATE) AS last_day FROM iv;
CREATE TEMP TABLE counts AS
WITH spans AS (
  SELECT id, fac, d_in AS s, d_out AS e_mid, d_out + 1 AS e_any FROM iv WHERE d_out >= d_in
), blocks AS (  -- merge each person's intervals at a facility (gaps and islands), per measure
  SELECT *, sum(CASE WHEN s > prev_mid THEN 1 ELSE 0 END) OVER (PARTITION BY id, fac ORDER BY s, e_mid ROWS UNBOUNDED PRECEDING) AS b_mid,
            sum(CASE WHEN s > prev_any THEN 1 ELSE 0 END) OVER (PARTITION BY id, fac ORDER BY s, e_any ROWS UNBOUNDED PRECEDING) AS b_any
  FROM (SELECT *, coalesce(max(e_mid) OVER w, DATE '1900-01-01') AS prev_mid, coalesce(max(e_any) OVER w, DATE '1900-01-01') AS prev_any
        FROM spans WINDOW w AS (PARTITION BY id, fac ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING))
), events AS (
  SELECT fac, min(s) AS day, 1 AS mid, 0 AS anyt FROM blocks GROUP BY id, fac, b_mid
  UNION ALL SELECT fac, max(e_mid), -1, 0 FROM blocks GROUP BY id, fac, b_mid
  UNION ALL SELECT fac, min(s), 0, 1 FROM blocks GROUP BY id, fac, b_any
  UNION ALL SELECT fac, max(e_any), 0, -1 FROM blocks GROUP BY id, fac, b_any
), per_day AS (
  SELECT fac, greatest(day, (SELECT first_day FROM grid)) AS day, sum(mid) AS mid, sum(anyt) AS anyt FROM events GROUP BY ALL
), cal AS (
  SELECT f.fac, CAST(d.day AS DATE) AS day FROM (SELECT DISTINCT fac FROM iv) f,
       range((SELECT first_day FROM grid), (SELECT last_day FROM grid) + 1, INTERVAL 1 DAY) d(day)
)
SELECT cal.fac AS detention_facility_code, cal.day AS date,
       CAST(sum(coalesce(mid, 0)) OVER w AS INTEGER) AS n_detained_at_midnight,
       CAST(sum(coalesce(anyt, 0)) OVER w AS INTEGER) AS n_detained
FROM cal LEFT JOIN per_day USING (fac, day)
WINDOW w AS (PARTITION BY cal.fac ORDER BY cal.day ROWS UNBOUNDED PRECEDING);
"""


def run(source: str, extract_date: str, out: str) -> None:
    con = duckdb.connect()
    from datetime import date, timedelta

    end = (date.fromisoformat(extract_date) + timedelta(days=1)).isoformat()
    for statement in filter(str.strip, SQL.split(";")):
        con.execute(statement, {k: v for k, v in {"src": source, "end": end, "extract": extract_date}.items()
                                if f"${k}" in statement})
    con.execute(f"COPY (SELECT * FROM counts ORDER BY 1, 2) TO '{out}' (FORMAT parquet)")


if __name__ == "__main__":
    run(*sys.argv[1:4])
