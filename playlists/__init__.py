"""The listener side of tastemaker: candidates, assembly, reasons, exports, review."""
