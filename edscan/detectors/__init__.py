"""The detectors behind ``edscan.detect.Detector``: persona variants and matching, patterns."""
