"""Teaching instruments: UI-free functions over torch and NumPy objects."""
