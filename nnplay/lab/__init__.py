"""Teaching instruments: pure functions over core objects (no UI)."""
