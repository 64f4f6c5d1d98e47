"""The pieces behind ``edscan.decode.flow``: bounded decompression, schema-less protobuf, value sniffing,
the field walker and body parsing. ``edscan.decode.flow.decode_flow`` is the one public entry point.
"""
