# One entry point for the common jobs. The README's commands are the same scripts.
.PHONY: setup test demo
setup:
	bash scripts/setup.sh
test: setup
	bash scripts/test.sh
demo: setup
	bash scripts/demo.sh
