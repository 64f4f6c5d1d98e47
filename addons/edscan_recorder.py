from edscan.recorder import Recorder

addons = [Recorder()]
