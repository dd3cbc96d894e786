"""One package per vendor (docs/design.md, "Where things live")."""
