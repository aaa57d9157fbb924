"""The OCR pipeline: a file → one validated ``Record`` per form instance in it.

    load → register (orientation, deskew, template) → crop → read (PP-OCR + digit classifier, marks)
         → normalise → validate (per field, across fields) → trust (status per field) → Record

``OcrEngine`` loads the templates and models once and is then used for many files (a worker keeps one).
Born-digital PDFs skip the image stages: their form-field values or text are read directly (``ocr.digital``).
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from loguru import logger

from kakitori.config import OcrConfig
from kakitori.errors import BusinessError, ConfigError
from kakitori.paths import DataDir
from ocr import align, digital, marks
from ocr import crop as crop_mod
from ocr.address import AddressBook
from ocr.digits import DigitClassifier, Glyph, segment
from ocr.evidence import (
    DIGIT_TYPES,
    DIGITS,
    PURE_DIGIT_TYPES,
    UNSURE,
    Evidence,
    comb_evidence,
    kana_evidence,
    name_with_gap,
    string_evidence,
    text_evidence,
)
from ocr.load import Page, count_pages, load_pages, read_bytes, sniff
from ocr.normalize import NO_NAME_GAP, Normalised, normalise, normalise_name, repair_date_by_faint_char
from ocr.recognize import CHARSETS, Reading, Recognizer, charset_for, make_recognizer
from ocr.record import FieldResult, FieldStatus, Record
from ocr.template import FieldSpec, FieldType, Template, find_templates, load_template
from ocr.trust import TrustRule, Verdict
from ocr.validate import (
    check_rule,
    check_value,
    implicit_rules,
    individual_number_ok,
    postal_address_match,
    postal_lookup,
)


class FieldReadings(NamedTuple):
    """PP-OCR's work on one field: the whole crop; a digit comb's boxes, one reading each; for a digit string
    written without boxes, its glyphs (``digits.segment``) and its written digits among them set out evenly
    and read as one line (``crop.comb_line``)."""

    whole: Reading
    boxes: list[Reading | None]
    glyphs: list[Glyph] | None = None
    glyph_line: Reading | None = None


class OcrEngine:
    """Reads scans and born-digital PDFs of the configured form templates."""

    def __init__(self, cfg: OcrConfig, data_dir: DataDir | None = None, *, recognizer: Recognizer | None = None,
                 classifier: DigitClassifier | None = None, trust: TrustRule | None = None) -> None:
        self.cfg = cfg
        self.data_dir = data_dir
        paths = find_templates(list(cfg.templates_dirs))
        if not paths:
            raise ConfigError("no form templates found", file=", ".join(str(d) for d in cfg.templates_dirs))
        self.templates: dict[str, Template] = {name: load_template(p) for name, p in paths.items()}
        self.references = {name: align.reference_for(t) for name, t in self.templates.items()}
        self.printed = {name: crop_mod.printed_mask(r.image) for name, r in self.references.items()}
        self.recognizer = recognizer or make_recognizer(cfg.recognizer, cfg.threads, cfg.paddle_model_dir)
        self.classifier = classifier or DigitClassifier.load()
        self.trust = trust or TrustRule.load()
        self.addresses = AddressBook.load()
        cv2.setNumThreads(cfg.threads)

    # -- the one entry point -------------------------------------------------------------------------------

    def read(self, path: str | Path, template: str = "auto", document_id: str | None = None) -> list[Record]:
        """One Record per form instance found in the file. BusinessError for bad input (file and page named)."""
        path = Path(path)
        doc_id = document_id or _doc_id(path)
        candidates = self._candidates(template)
        t0 = time.perf_counter()
        data = read_bytes(path)
        if sniff(data) == "pdf":
            records = self._read_digital(path, candidates, doc_id)
            if records:
                return records
        count = count_pages(path)
        pages = load_pages(path, render_dpi=self.cfg.render_dpi, max_pixels=self.cfg.max_pixels_per_page,
                           max_pages=self.cfg.max_pages)
        records = []
        load_ms = (time.perf_counter() - t0) * 1000
        for page in pages:
            record_id = doc_id if count == 1 else f"{doc_id}-p{page.number:03d}"
            records.append(self._read_page(path, page, candidates, record_id, load_ms))
            load_ms = 0.0
        if not records:
            raise BusinessError("no pages in the file", file=path.name)
        return records

    # -- stages ---------------------------------------------------------------------------------------------

    def _candidates(self, template: str) -> list[Template]:
        if template == "auto":
            return list(self.templates.values())
        if template not in self.templates:
            raise ConfigError(f"no template named '{template}' (known: {', '.join(sorted(self.templates))})")
        return [self.templates[template]]

    def _read_page(self, path: Path, page: Page, candidates: list[Template], record_id: str, load_ms: float
                   ) -> Record:
        timings = {"load": round(load_ms, 1)}
        t = time.perf_counter()
        refs = [self.references[c.name] for c in candidates]
        aligned = align.register(page.image, page.dpi, refs, min_score=self.cfg.min_registration_score,
                                 file=path.name, page=page.number)
        template = self.templates[aligned.template]
        timings["register"] = _ms(t)
        t = time.perf_counter()
        printed = self.printed[template.name]
        dpi = float(template.reference_dpi)
        crops = crop_mod.crop_fields(aligned.image, printed, template)
        threshold = crop_mod.ink_threshold(aligned.image)
        timings["crop"] = _ms(t)

        t = time.perf_counter()
        readings = self._recognise(template, crops)
        timings["recognise"] = _ms(t)

        t = time.perf_counter()
        results: dict[str, FieldResult] = {}
        crop_dir = self._crop_dir(record_id)
        doubts: dict[str, int] = {}
        for spec in template.fields:
            if spec.is_mark:
                results[spec.name] = self._mark_field(spec, aligned.image, printed, dpi, threshold, crop_dir)
            else:
                results[spec.name], doubts[spec.name] = self._text_field(spec, crops[spec.name],
                                                                         readings.get(spec.name), crop_dir)
        results = self._cross_check(template, results, doubts)
        timings["validate"] = _ms(t)
        timings["total"] = round(sum(timings.values()), 1)
        record = Record(document_id=record_id, template=template.name, fields=results, file=path.name,
                        registration_score=aligned.score, pages=1, source="ocr", timings_ms=timings)
        logger.bind(document=record_id, template=template.name, page=page.number, score=aligned.score,
                    rotation=aligned.rotation, open=sum(f.open for f in results.values())).info("form read")
        return record

    def _recognise(self, template: Template, crops: dict[str, crop_mod.FieldCrop]
                   ) -> dict[str, FieldReadings]:
        """All PP-OCR work of a page in batched calls: whole fields; a digit comb's filled boxes set in one
        line (``crop.comb_line``), handed back box by box — or, where that line's reading has not one digit
        per filled box, each box read alone in a second call; a digit string's written digits (its glyphs,
        separators left out) set out the same way, read as a third item (``evidence.string_evidence``)."""
        images: list[np.ndarray] = []
        charsets = []
        keys: list[tuple[str, list[int] | None, int, int | None]] = []   # field, boxes, its image, its glyph line
        glyphs: dict[str, list[Glyph]] = {}
        out: dict[str, FieldReadings] = {}
        for spec in template.fields:
            c = crops.get(spec.name)
            if c is None or c.empty:
                continue
            comb = bool(c.cells) and spec.type.value in PURE_DIGIT_TYPES
            boxes = [i for i, cell in enumerate(c.cells) if cell is not None] if comb else None
            at, line_at = len(images), None
            images.append(crop_mod.comb_line([c.cells[i] for i in boxes]) if boxes else c.image)
            charsets.append(CHARSETS["digits"] if comb else charset_for(spec.type.value))
            if not comb and spec.type.value in PURE_DIGIT_TYPES:
                glyphs[spec.name] = segment(c.image)
                written = [g.image for g in glyphs[spec.name] if not g.separator]
                if written:
                    line_at = len(images)
                    images.append(crop_mod.comb_line(written))
                    charsets.append(CHARSETS["digits"])
            keys.append((spec.name, boxes, at, line_at))
        readings = self.recognizer.read(images, charsets)
        unread: list[tuple[str, int]] = []
        for name, boxes, at, line_at in keys:
            reading = readings[at]
            per_box: list[Reading | None] = [None] * len(crops[name].cells)
            if boxes is None:
                out[name] = FieldReadings(reading, per_box, glyphs.get(name),
                                          readings[line_at] if line_at is not None else None)
                continue
            if boxes and len(reading.text) == len(boxes):
                for i, r in zip(boxes, reading.characters()):
                    per_box[i] = r
            else:
                unread += [(name, i) for i in boxes]
            out[name] = FieldReadings(Reading(""), per_box)
        if unread:
            cell_images = [crops[name].cells[i] for name, i in unread]
            for (name, i), reading in zip(unread, self.recognizer.read(cell_images, CHARSETS["digits"])):
                out[name].boxes[i] = reading
        return out

    def _text_field(self, spec: FieldSpec, c: crop_mod.FieldCrop,
                    reading: FieldReadings | None, crop_dir: Path | None
                    ) -> tuple[FieldResult, int]:
        """The field's result, and how many of its characters the two readers disagree on."""
        ftype = spec.type.value
        crop_path = self._save(crop_dir, spec.name, c.image)
        if c.empty or reading is None:
            verdict = self.trust.judge_text(ftype, Evidence("", 0.0), [], empty=True, required=spec.required)
            return FieldResult(spec.name, ftype, "", "", 0.0, verdict.status, verdict.reason, crop_path,
                               spec.page), 0
        whole, cells = reading.whole, reading.boxes
        if c.cells and ftype in PURE_DIGIT_TYPES:
            ev = comb_evidence(c.cells, cells, self.classifier)
            if ftype == "postal" and len(ev.text) == 7:
                ev = replace(ev, text=f"{ev.text[:3]}-{ev.text[3:]}")
        elif ftype in DIGIT_TYPES:
            ev = string_evidence(c, whole, self.classifier, pure_digits=ftype in PURE_DIGIT_TYPES,
                                 first="0" if ftype == "phone" else DIGITS, glyphs=reading.glyphs,
                                 glyph_line=reading.glyph_line)
        elif is_address(spec):
            ev = self._address_evidence(whole)
        elif ftype == "katakana":
            ev = kana_evidence(c, whole)
        else:
            ev = text_evidence(whole)
        if spec.person_name:
            norm = normalise_name(ftype, name_with_gap(ev.text, whole.positions, c.image))
        else:
            norm = normalise(ftype, ev.text)
        problems = _problems(spec, norm.value, ev.text)
        if ftype in DIGIT_TYPES and (problems or not norm.ok) and ev.fallback:
            norm, problems = _read_from_glyphs(spec, ev, norm, problems)
        if ftype == "date" and (problems or not norm.ok):
            norm, problems = _repair_date(ev, whole, norm, problems)
        if problems and ftype == "individual_number":
            ev, norm, problems = _repair_by_check_digit(ev, norm, problems)
        if problems and ftype == "individual_number":
            norm, problems = _guess_by_check_digit(ev, norm, problems)
        if not norm.ok and not problems:
            problems = [f"not a valid {ftype}"]
        verdict = self.trust.judge_text(ftype, ev, problems, empty=False, required=spec.required)
        if norm.repaired and verdict.status is FieldStatus.ACCEPTED:
            verdict = Verdict(FieldStatus.NEEDS_REVIEW, norm.repaired)
        verdict = _date_separator_verdict(ftype, ev.text, verdict)
        verdict = _name_gap_verdict(spec, norm.value, verdict)
        return FieldResult(spec.name, ftype, norm.value, ev.text, round(ev.score, 4), verdict.status,
                           verdict.reason, crop_path, spec.page), ev.doubts

    def _address_evidence(self, reading: Reading) -> Evidence:
        """An address: its known start (prefecture, city, town) checked and corrected against Japan Post's
        list; only the rest of it is left to the recogniser's confidence."""
        text = normalise("text", reading.text).value
        match = self.addresses.match(text)
        rest = reading.char_probs[match.confirmed:] if len(text) == len(reading.text) else reading.char_probs
        score = float(np.prod(rest)) * (1.0 - reading.rejected_mass)
        note = f"address start matches Japan Post ({match.corrected} corrected)" if match.confirmed else ""
        return Evidence(match.text, score, None, note)

    def _mark_field(self, spec: FieldSpec, aligned: np.ndarray, printed: np.ndarray, dpi: float,
                    threshold: int, crop_dir: Path | None) -> FieldResult:
        if spec.type is FieldType.CHECKBOX:
            m = marks.read_checkbox(aligned, printed, spec, dpi, threshold)
            verdict = self.trust.judge_mark(m.confidence, m.evidence, empty=False, required=False)
        else:
            m = marks.read_choice(aligned, printed, spec, dpi, threshold)
            verdict = self.trust.judge_mark(m.confidence, m.evidence, empty=m.value == "", required=spec.required)
            if m.value == "" and verdict.status is FieldStatus.ACCEPTED:
                verdict = Verdict(FieldStatus.EMPTY)
        k = dpi / 25.4
        x, y, w, h = spec.box_mm
        pad = marks.CIRCLE_MARGIN_MM if spec.type is FieldType.CHOICE else 1.0
        y0, x0 = max(0, round((y - pad) * k)), max(0, round((x - pad) * k))
        crop_path = self._save(crop_dir, spec.name, aligned[y0:round((y + h + pad) * k), x0:round((x + w + pad) * k)])
        return FieldResult(spec.name, spec.type.value, m.value, m.evidence, m.confidence, verdict.status,
                           verdict.reason, crop_path, spec.page)

    def _cross_check(self, template: Template, results: dict[str, FieldResult], doubts: dict[str, int] | None = None
                     ) -> dict[str, FieldResult]:
        """Cross-field rules: every field of a broken rule becomes invalid, with the rule's message. A postal
        code whose town is the one the address names is confirmed by it: one digit in doubt is forgiven."""
        if doubts is not None:
            results = self._postal_from_address(template, results, doubts)
        values = {n: f.value for n, f in results.items()}
        for rule in implicit_rules(template):
            problem = check_rule(rule, values)
            if problem is None:
                if rule.rule == "postal_address" and doubts is not None:
                    code = results[rule.fields[0]]
                    if (code.status is FieldStatus.NEEDS_REVIEW and doubts.get(code.name, UNSURE) <= 1
                            and code.confidence >= self.trust.threshold(code.type)
                            and postal_address_match(str(code.value), str(values[rule.fields[1]])) == 2):
                        results[code.name] = replace(code, status=FieldStatus.ACCEPTED, reason="")
                continue
            for name in rule.fields:
                f = results[name]
                reason = "; ".join(r for r in (f.reason, problem) if r)
                results[name] = FieldResult(**{**f.__dict__, "status": FieldStatus.INVALID, "reason": reason})
        return results

    @staticmethod
    def _postal_from_address(template: Template, results: dict[str, FieldResult], doubts: dict[str, int]
                             ) -> dict[str, FieldResult]:
        """A read postal code that does not fit the address, where exactly one code one digit away names the
        address's town: that code is the machine's best guess, for a person to confirm (never accepted: both
        readers saw the other digit). When the code as read exists and both readers agreed on it, the address
        may be the misread one (陸前高田市横田町 read as 広田町, a town one code away): it goes to a person too."""
        for rule in implicit_rules(template):
            if rule.rule != "postal_address":
                continue
            code, address = (results[n] for n in rule.fields)
            digits = str(code.value).replace("-", "")
            if not address.value or not re.fullmatch(r"\d{7}", digits) or \
                    postal_address_match(digits, str(address.value)) > 0:
                continue
            near = {f"{c[:3]}-{c[3:]}" for k in range(7) for d in "0123456789" if d != digits[k]
                    for c in [digits[:k] + d + digits[k + 1:]] if postal_address_match(c, str(address.value)) == 2}
            if len(near) == 1:
                results[code.name] = replace(code, value=near.pop(), status=FieldStatus.NEEDS_REVIEW,
                                             reason="postal code corrected by one digit to fit the address")
                if doubts.get(code.name, UNSURE) == 0 and postal_lookup(digits) is not None \
                        and address.status is FieldStatus.ACCEPTED:
                    results[address.name] = replace(address, status=FieldStatus.NEEDS_REVIEW,
                                                    reason=f"address does not fit postal code {code.value} as read")
                doubts[code.name] = UNSURE
        return results

    def _read_digital(self, path: Path, candidates: list[Template], doc_id: str) -> list[Record]:
        t = time.perf_counter()
        template = candidates[0] if len(candidates) == 1 else digital.digital_template(path, candidates)
        if template is None:
            return []
        pages = digital.read_digital(path, template)
        if not pages:
            return []
        records = []
        for p in pages:
            results = {}
            for spec in template.fields:
                raw = p.values.get(spec.name, "")
                results[spec.name] = self._typed_field(spec, raw)
            results = self._cross_check(template, results)
            rid = doc_id if len(pages) == 1 else f"{doc_id}-p{p.page:03d}"
            records.append(Record(rid, template.name, results, file=path.name, registration_score=1.0,
                                  pages=1, source="pdf-text", timings_ms={"total": _ms(t)}))
        return records

    def _typed_field(self, spec: FieldSpec, raw: str | bool) -> FieldResult:
        """A value typed into a born-digital form: no reading doubt, only validation."""
        ftype = spec.type.value
        if isinstance(raw, bool) or spec.is_mark:
            value = raw
            status = FieldStatus.EMPTY if value == "" else FieldStatus.ACCEPTED
            if value == "" and spec.required:
                return FieldResult(spec.name, ftype, "", "", 1.0, FieldStatus.INVALID, "required field is empty",
                                   None, spec.page)
            return FieldResult(spec.name, ftype, value, str(raw), 1.0, status, "", None, spec.page)
        norm = normalise_name(ftype, raw) if spec.person_name else normalise(ftype, raw)
        problems = _problems(spec, norm.value, raw)
        if not norm.ok and not problems:
            problems = [f"not a valid {ftype}"]
        if norm.value == "":
            status, reason = ((FieldStatus.INVALID, "required field is empty") if spec.required
                              else (FieldStatus.EMPTY, ""))
        elif problems:
            status, reason = FieldStatus.INVALID, "; ".join(problems)
        else:
            status, reason = FieldStatus.ACCEPTED, ""
        verdict = _name_gap_verdict(spec, norm.value, Verdict(status, reason))
        return FieldResult(spec.name, ftype, norm.value, raw, 1.0, verdict.status, verdict.reason, None, spec.page)

    # -- files ------------------------------------------------------------------------------------------------

    def _crop_dir(self, doc_id: str) -> Path | None:
        if self.data_dir is None or not self.cfg.save_crops:
            return None
        d = self.data_dir.crops(doc_id)
        d.mkdir(parents=True, exist_ok=True)
        return d

    @staticmethod
    def _save(crop_dir: Path | None, name: str, image: np.ndarray) -> str | None:
        if crop_dir is None or image.size == 0:
            return None
        path = crop_dir / f"{name}.png"
        cv2.imwrite(str(path), image)
        return str(path)


def _repair_by_check_digit(ev: Evidence, norm: Normalised, problems: list[str]
                           ) -> tuple[Evidence, Normalised, list[str]]:
    """A 12-digit number failing its check digit where the two readers disagreed on one digit: if exactly
    one of their readings of that digit makes the number check, that is the digit (the check digit is the
    deciding vote). Otherwise nothing changes."""
    fixes = []
    for pos, alt in ev.alternatives:
        candidate = ev.text[:pos] + alt + ev.text[pos + 1:]
        if individual_number_ok(candidate):
            fixes.append(candidate)
    if len(set(fixes)) != 1 or ev.doubts > 1:
        return ev, norm, problems
    fixed = fixes[0]
    note = "one digit settled by the check digit"
    return replace(ev, text=fixed, note=note, agree=False, doubts=1), Normalised(fixed, True), []


def _guess_by_check_digit(ev: Evidence, norm: Normalised, problems: list[str]) -> tuple[Normalised, list[str]]:
    """A 12-digit number failing its check digit where both readers agreed on every digit: of the numbers
    one box's second likeliest digit makes valid, the likeliest is the machine's best guess for a person to
    confirm. Otherwise nothing changes."""
    if len(ev.text) != 12 or ev.doubts >= UNSURE:
        return norm, problems
    fixes = [(p, ev.text[:k] + d + ev.text[k + 1:]) for k, d, p in ev.runners_up]
    valid = [(p, n) for p, n in fixes if individual_number_ok(n)]
    if not valid:
        return norm, problems
    return Normalised(max(valid)[1], True, "one digit guessed from the check digit"), []


def _repair_date(ev: Evidence, reading: Reading, norm: Normalised, problems: list[str]
                 ) -> tuple[Normalised, list[str]]:
    """A date read as no real date, also from the glyphs (``_read_from_glyphs``): a digit the recogniser
    nearly read put back, if that makes a real date, for a person to confirm; otherwise nothing changes."""
    fixed = repair_date_by_faint_char(ev.text, reading.between) if len(ev.text) == len(reading.text) else None
    if fixed is None or check_value("date", fixed.isoformat()):
        return norm, problems
    return Normalised(fixed.isoformat(), True, "date repaired from a faintly read digit"), []


READ_FROM_GLYPHS = "read digit by digit from the written characters (the line reading was no valid value)"


def _read_from_glyphs(spec: FieldSpec, ev: Evidence, norm: Normalised, problems: list[str]
                      ) -> tuple[Normalised, list[str]]:
    """A digit string or date read as no valid value (a digit dropped: a phone number one digit short): the
    digit classifier's reading of the written characters (``Evidence.fallback``), if that is valid. A person
    confirms it (the readers did not line up); otherwise nothing changes."""
    other = normalise(spec.type.value, ev.fallback)
    if not other.ok or _problems(spec, other.value, ev.fallback):
        return norm, problems
    return Normalised(other.value, True, READ_FROM_GLYPHS), []


def _problems(spec: FieldSpec, value: str, written: str = "") -> list[str]:
    """What is wrong with a field's normalised value (``written``: as read, separators and all); a person's
    name is checked without its one gap."""
    checked = value.replace(" ", "") if spec.person_name else value
    return check_value(spec.type.value, checked, comb=spec.comb, max_length=_max_len(spec), written=written)


# residents write a date with 年月日 or '/': a reading of digits alone has likely taken each '/' for a 1
# (2004/2/7 read as 20041217, a real date)
NO_DATE_SEPARATORS = "no 年/月/日 or '/' read between the numbers: a '/' may have been read as 1"


def _date_separator_verdict(ftype: str, raw: str, verdict: Verdict) -> Verdict:
    """A date read as digits alone goes to a person (``NO_DATE_SEPARATORS``)."""
    if ftype != "date" or verdict.status is not FieldStatus.ACCEPTED or not raw.isdigit():
        return verdict
    return Verdict(FieldStatus.NEEDS_REVIEW, NO_DATE_SEPARATORS)


def _name_gap_verdict(spec: FieldSpec, value: str, verdict: Verdict) -> Verdict:
    """A person's name whose family/given gap was not found goes to a person (key-in needs the two apart)."""
    if not spec.person_name or not value or " " in value or verdict.status is FieldStatus.INVALID:
        return verdict
    return Verdict(FieldStatus.NEEDS_REVIEW, "; ".join(r for r in (verdict.reason, NO_NAME_GAP) if r))


def is_address(spec: FieldSpec) -> bool:
    """Address fields are known by name or label (住所)."""
    return spec.type is FieldType.TEXT and (spec.name.endswith("address") or "住所" in spec.label)


def _max_len(spec: FieldSpec) -> int | None:
    # a comb's max_length counts boxes (digits), not the hyphenated value
    return None if spec.type.value in PURE_DIGIT_TYPES | {"date"} else spec.max_length


def _ms(t: float) -> float:
    return round((time.perf_counter() - t) * 1000, 1)


def _doc_id(path: Path) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", path.stem).strip("._-") or "doc"
    return stem[:100]

