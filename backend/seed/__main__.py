from backend.seed.comando import main

raise SystemExit(main())
