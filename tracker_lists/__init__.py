"""Bundled tracker lists written by this project (data only; loaded through edscan.resources)."""
