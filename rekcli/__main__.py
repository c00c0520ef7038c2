from rekcli.cli.main import main

raise SystemExit(main())
