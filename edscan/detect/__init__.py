"""fields -> observations: the detector, personas, the persona-less detectors, the taxonomy.

The taxonomy's data ships here as ``taxonomy.json`` (read through ``edscan.resources``).
"""
