from pathlib import Path

from ice_tracker.fileio import atomic_write_bytes, read_dict_csv, sha256_file, write_csv, write_json


def test_atomic_write_reports_change_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.bin"
    assert atomic_write_bytes(target, b"abc") is True
    assert atomic_write_bytes(target, b"abc") is False
    assert atomic_write_bytes(target, b"abcd") is True
    assert target.read_bytes() == b"abcd"
    assert [p.name for p in target.parent.iterdir()] == ["out.bin"]
    assert target.stat().st_mode & 0o044 == 0o044  # readable by others, not mkstemp's 0600


def test_csv_and_json_are_deterministic(tmp_path: Path) -> None:
    rows = [["b", None, 2], ["a,quoted", "x\ny", 1.5]]
    write_csv(tmp_path / "a.csv", ["k", "v", "n"], rows)
    first = (tmp_path / "a.csv").read_bytes()
    assert b"\r\n" not in first
    assert write_csv(tmp_path / "a.csv", ["k", "v", "n"], rows) is False
    assert read_dict_csv(tmp_path / "a.csv")[1]["k"] == "a,quoted"
    write_json(tmp_path / "a.json", {"z": 1, "a": [1, 2]})
    assert (tmp_path / "a.json").read_text().startswith('{\n  "a"')
    assert len(sha256_file(tmp_path / "a.json")) == 64
