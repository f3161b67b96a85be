from palaute.cli import main

raise SystemExit(main())
