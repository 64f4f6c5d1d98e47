from edscan.cli import main

main()
