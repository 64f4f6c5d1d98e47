from edscan.capture.recorder import Recorder

addons = [Recorder()]
