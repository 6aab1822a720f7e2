from hypothesis import given
from hypothesis import strategies as st

from ice_tracker.safepath import safe_component


def test_known_hostile_names() -> None:
    assert safe_component("../../etc/passwd", underscores=True) == "_.._etc_passwd"
    assert "/" not in safe_component("../../etc/passwd")
    assert ".." != safe_component("..")
    assert safe_component("..") == "_"
    assert safe_component("a\x00b") == "a b"
    assert safe_component("Lee County Sheriff's Office", underscores=True) == "Lee_County_Sheriff's_Office"
    assert safe_component("Cafe\u0301") == "Caf\u00e9"  # NFC
    assert safe_component("CON") == "_CON"
    long = safe_component("x" * 300 + ".pdf")
    assert len(long.encode()) <= 120 and long.endswith(".pdf")
    assert safe_component("x" * 300 + "a") != safe_component("x" * 300 + "b")
    multibyte = safe_component("0" * 11 + "\u00a1" * 60 + ".\u015e\u015e\u035f\u1e70")  # found by hypothesis
    assert len(multibyte.encode()) <= 120


@given(st.text(max_size=400))
def test_any_text_gives_one_safe_component(raw: str) -> None:
    out = safe_component(raw, underscores=True)
    assert out and out not in (".", "..")
    assert "/" not in out and "\\" not in out and "\x00" not in out
    assert not out.startswith(".")
    assert len(out.encode("utf-8")) <= 120
    assert all(ord(ch) >= 32 for ch in out)
