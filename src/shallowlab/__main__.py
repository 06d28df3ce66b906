from shallowlab.cli import main

raise SystemExit(main())
