from edscan.capture.recorder import Recorder
from edscan.live.addon import LiveAlerts

addons = [Recorder(), LiveAlerts()]
