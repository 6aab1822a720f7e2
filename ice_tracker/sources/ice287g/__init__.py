"""ICE's 287(g) page, its participating/pending workbooks and the agreement PDFs they link to."""

SOURCE_NAME = "ICE 287(g) program"
PAGE_URL = "https://www.ice.gov/identify-and-arrest/287g"
