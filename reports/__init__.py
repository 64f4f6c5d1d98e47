"""Report templates and styles (data only; loaded through edscan.resources)."""
