"""The six built-in pick strategies, one module each."""
