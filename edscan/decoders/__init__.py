"""The pieces behind ``edscan.decode``: bounded decompression, schema-less protobuf, value sniffing,
the field walker and body parsing. ``edscan.decode.decode_flow`` is the one public entry point.
"""
