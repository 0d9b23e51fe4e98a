from genlab.cli.main import main

raise SystemExit(main())
