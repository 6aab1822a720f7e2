"""One sub-package per upstream source (ICE 287(g), Deportation Data Project)."""
