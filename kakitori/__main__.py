from kakitori.cli import run

raise SystemExit(run())
