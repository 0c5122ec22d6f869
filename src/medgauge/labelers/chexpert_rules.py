"""A rule-based labeler of the 14 CheXpert observations in free-text chest X-ray reports.

In the spirit of the CheXpert labeler (Irvin et al., "CheXpert: A Large Chest Radiograph Dataset
with Uncertainty Labels and Expert Comparison", AAAI 2019): find *mentions* of each observation,
classify each mention as negated, uncertain or positive, and aggregate per report.  The phrase
lists and patterns below are our own (regular expressions over sentences, no parser), written
for the way chest X-ray reports are phrased; their agreement with the CheXpert labeler's own
examples and with our hand-labelled reports is measured in the tests and docs/benchmarks.md.

Labels per observation: 1 positive, 0 negative, -1 uncertain, ``None`` not mentioned.

Rules:
1. The report is lower-cased and split into sentences (". ", ";", newlines, numbered items).
2. A *mention* is a match of one of the observation's phrases.  Some phrases name only the
   structure ("heart size", "cardiomediastinal silhouette"); they count when a state follows
   within the clause (normal -> 0, enlarged/widened -> 1, otherwise ignored).
3. A mention is *uncertain* when an uncertainty cue ("may", "possible", "likely", "suggest",
   "versus", "cannot be excluded", "?", ...) precedes it in its clause or a post cue
   ("is not excluded", "is suspected", "is possible") follows it; otherwise it is *negated*
   when a negation cue ("no", "without", "negative for", "free of", "resolved", ...) precedes it
   in its clause or a post cue ("is not seen", "has resolved", "is normal") follows it.  A clause
   ends at "but", "however", "although", "though", "except", "with the exception of", "which",
   "whereas" and at a new "there is/are".  A negation cue that comes before any uncertainty
   cue wins ("no suspicious opacity" is negative); otherwise uncertainty wins, so "cannot be
   excluded" is uncertain, not negated.
4. Per observation the mentions combine as CheXpert's aggregation does: 1 wins over -1, -1
   over 0.  "heart failure"/"chf" mentioned positive or uncertain also marks Cardiomegaly
   uncertain (Irvin et al. 2019).
5. No Finding is 1 when no observation other than Support Devices, and no other abnormality in
   ``OTHER_FINDINGS`` (emphysema, scoliosis, granuloma, ...), is positive or uncertain; it is
   never 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: The 14 observations in CheXpert's column order.
OBSERVATIONS: tuple[str, ...] = (
    "No Finding", "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Lesion", "Lung Opacity",
    "Edema", "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion",
    "Pleural Other", "Fracture", "Support Devices",
)

Label = int | None

# ---------------------------------------------------------------------------------------------
# Mention phrases (regular expressions, matched on lower-cased text at word boundaries).
# ---------------------------------------------------------------------------------------------

_MENTIONS: dict[str, tuple[str, ...]] = {
    "Enlarged Cardiomediastinum": (
        r"enlarged cardiomediastin\w*", r"cardiomediastinal (?:enlargement|widening)",
        r"(?:widened|widening of the|enlarged|enlargement of the) mediastin\w*",
        r"mediastinal (?:widening|enlargement)", r"widened (?:superior )?mediastinum",
    ),
    "Cardiomegaly": (
        r"cardiomegaly", r"cardiac (?:enlargement|hypertrophy)",
        r"enlarge(?:d|ment of the) (?:heart|cardiac silhouette|cardiac shadow)",
        r"(?:heart|cardiac silhouette) (?:is |appears |remains )?(?:mildly |moderately |"
        r"markedly |severely )?enlarged",
    ),
    "Lung Lesion": (
        r"nodul(?:e|es|ar opacit\w*|ar densit\w*)", r"mass(?:es)?", r"(?:lung|pulmonary) lesions?",
        r"tumou?rs?", r"neoplasm\w*", r"carcinoma", r"cavitary lesions?", r"cavitation",
    ),
    "Lung Opacity": (
        r"opacit(?:y|ies)", r"opacification", r"infiltrat(?:e|es|ion|ive)",
        r"air[- ]?space (?:disease|process|opacit\w*|consolidation)", r"haziness|hazy",
        r"ground[- ]glass", r"reticulonodular",
    ),
    "Edema": (
        r"(?<!soft tissue )edema", r"(?:pulmonary )?vascular congestion",
        r"pulmonary congestion", r"heart failure", r"chf",
    ),
    "Consolidation": (r"consolidat(?:ion|ions|ive|ed)",),
    "Pneumonia": (r"(?:broncho)?pneumonias?", r"infectious process(?:es)?", r"infection"),
    "Atelectasis": (r"atelecta(?:sis|ses|tic)", r"(?:lung|lobar|lobe) collapse",
                    r"collapsed? (?:lung|lobe)"),
    "Pneumothorax": (r"pneumothora(?:x|ces)",),
    "Pleural Effusion": (r"(?<!pericardial )effusions?", r"hydrothora(?:x|ces)",
                         r"pleural fluid"),
    "Pleural Other": (
        r"pleural (?:thickening|scarring|plaques?|calcifications?)", r"fibrothorax",
        r"apical (?:pleural )?(?:cap|capping|thickening)", r"pleural[- ]parenchymal scarring",
    ),
    "Fracture": (r"fractur(?:e|es|ed)", r"fx"),
    "Support Devices": (
        r"(?:endotracheal|et|tracheostomy|nasogastric|ng|og|orogastric|enteric|feeding|"
        r"chest|dobhoff) tubes?", r"pacemakers?", r"pacer", r"defibrillators?",
        r"aicd", r"picc(?: lines?)?", r"(?:central (?:venous )?|jugular |subclavian )(?:line|"
        r"catheter)s?", r"catheters?", r"port-?a-?cath", r"(?:chest )?port", r"stents?",
        r"(?:pacing|pacer) (?:wires?|leads?)", r"(?:sternotomy|sternal) wires",
        r"(?:prosthetic|replaced) valves?", r"valve (?:replacement|prosthesis)",
        r"support devices?", r"swan[- ]ganz",
    ),
}

#: Structures that count as a mention only with a state after them (rule 2).
_STRUCTURES: dict[str, tuple[str, ...]] = {
    "Cardiomegaly": (r"heart size", r"(?:size of the |the )?heart", r"cardiac (?:size|silhouette|"
                     r"shadow)"),
    "Enlarged Cardiomediastinum": (
        r"cardiomediastinal (?:silhouette|contours?|shadow)s?", r"cardio-mediastinal silhouette",
        r"mediastinal (?:silhouette|contours?)s?", r"mediastinum",
        r"heart and mediastinum", r"cardiac and mediastinal contours",
    ),
}
_STATE_NORMAL = (r"(?:is |are |appears? |remains? |stable and |otherwise |grossly |at |the )*"
                 r"(?:normal|within normal limits|unremarkable|not enlarged|top normal|"
                 r"upper limits of normal|upper normal|stable|unchanged)")
_STATE_ABNORMAL = (r"(?:is |are |appears? |remains? |mildly |moderately |markedly |slightly |"
                   r"severely |now |again )*(?:enlarged|widened|increased|prominent|large)")

#: Other abnormalities that make No Finding blank when positive or uncertain (rule 5).
OTHER_FINDINGS: tuple[str, ...] = (
    r"emphysema\w*", r"copd", r"hyperinflat\w*", r"hyperexpan\w*", r"scoliosis", r"kyphosis",
    r"granulomas?", r"granulomatous", r"calcifi\w*", r"degenerat\w*", r"osteophyt\w*",
    r"spondylosis", r"hernia", r"atheroscler\w*", r"tortuous\w*|tortuosity", r"ectatic|ectasia",
    r"scarring|scars?|cicatri\w*", r"fibrosis|fibrotic", r"interstitial (?:markings|"
    r"disease|prominence)", r"bronchiectasis", r"bronchitis", r"thickening", r"eventration",
    r"elevat(?:ed|ion)", r"deformit\w*", r"osteopenia", r"metasta\w*", r"pneumomediastinum",
    r"pneumoperitoneum", r"bullae?", r"blunting", r"hematoma", r"hemorrhage", r"contusion",
    r"aneurysm\w*", r"dilat(?:ed|ation)",
)

# ---------------------------------------------------------------------------------------------
# Negation and uncertainty cues.
# ---------------------------------------------------------------------------------------------

_PRE_UNCERTAIN = re.compile(
    r"\b(?:may|might|could|possibl[ey]|probabl[ey]|likely|presumed|suspect\w*|suspicio\w*|"
    r"concern(?:ing)? for|question(?:able)?|suggest\w*|consider\w*|cannot (?:be )?exclude\w*|"
    r"can ?not (?:be )?(?:excluded|ruled out)|cannot rule out|not (?:be )?(?:excluded|ruled out)|"
    r"versus|vs|differential|indeterminate|equivocal|borderline|"
    r"represent\w*|reflect\w*|worrisome for|infectious or)\b|\?"
)
_POST_UNCERTAIN = re.compile(
    r"^[^.]{0,40}?\b(?:(?:is|are) (?:not excluded|suspected|possible|likely|questioned|"
    r"not ruled out)|cannot be (?:excluded|ruled out)|can not be (?:excluded|ruled out)|"
    r"not (?:excluded|ruled out)|versus|vs|or \w+ (?:is|are) possible)\b|^\s*\?"
)
_PRE_NEGATION = re.compile(
    r"\b(?:no|not|without|negative for|free of|clear of|absence of|absent|rather than|"
    r"resolved|resolution of|removal of|removed|nor|neither|ruled out|exclude[sd]?|"
    r"clear(?:ing)? of|no evidence of|never|interval removal of)\b"
)
_POST_NEGATION = re.compile(
    r"^[^.]{0,30}?\b(?:(?:is|are|was|were|has been|have been) (?:not (?:seen|identified|"
    r"present|visualized|demonstrated|evident|appreciated)|absent|resolved|removed|gone)|"
    r"(?:has|have) (?:resolved|cleared|been removed)|not (?:seen|identified|present|"
    r"visualized|demonstrated|evident|appreciated)|resolved|removed)\b"
)
#: Negation words that are part of an uncertainty phrase ("cannot be excluded").
_UNCERTAIN_NEGATION = re.compile(r"not (?:be )?(?:excluded|ruled out)|excluded|ruled out")
_CLAUSE_BREAK = re.compile(
    r"\b(?:but|however|although|though|except|with the exception of|which|whereas|yet|"
    r"there (?:is|are|has been|have been)|otherwise|apart from|aside from|and there)\b|"
    r"[;:]"
)
_SENTENCE_SPLIT = re.compile(r"(?:\.\s+|\.$|;|\n+|\s\d+\.\s)")


def _compile(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + r")\b")


_MENTION_RE = {obs: _compile(p) for obs, p in _MENTIONS.items()}
_STRUCTURE_RE = {
    obs: (re.compile(r"\b(?:" + "|".join(p) + r")\b\s*(?:size |contours? |silhouette )?"),)
    for obs, p in _STRUCTURES.items()
}
_NORMAL_AFTER = re.compile(_STATE_NORMAL)
_ABNORMAL_AFTER = re.compile(_STATE_ABNORMAL)
_OTHER_RE = _compile(OTHER_FINDINGS)


def sentences(report: str) -> list[str]:
    """Lower-cased sentences of a report (rule 1)."""
    text = " " + report.lower().replace("\r", "\n") + " "
    return [s.strip() for s in _SENTENCE_SPLIT.split(text) if s and s.strip()]


def _clause_before(sentence: str, start: int) -> str:
    """The text of the mention's clause before the mention."""
    before = sentence[:start]
    last = None
    for m in _CLAUSE_BREAK.finditer(before):
        last = m
    return before[last.end():] if last else before


def _clause_after(sentence: str, end: int) -> str:
    after = sentence[end:]
    m = _CLAUSE_BREAK.search(after)
    return after[:m.start()] if m else after


def classify_mention(sentence: str, start: int, end: int) -> int:
    """1, 0 or -1 for the mention ``sentence[start:end]`` (rule 3)."""
    before = _clause_before(sentence, start)
    after = _clause_after(sentence, end)
    uncertain = [m.start() for m in _PRE_UNCERTAIN.finditer(before)]
    negation = [m.start() for m in _PRE_NEGATION.finditer(before)
                if not _UNCERTAIN_NEGATION.match(before, m.start())]
    if negation and (not uncertain or negation[0] < uncertain[0]):
        return 0  # "no ... suspicious opacity", "no opacity to suggest pneumonia"
    if uncertain or _POST_UNCERTAIN.search(after):
        return -1
    if _POST_NEGATION.search(after):
        return 0
    return 1


def _structure_label(sentence: str, start: int, end: int) -> int | None:
    """A structure mention's label from the state that follows it (rule 2)."""
    after = _clause_after(sentence, end)
    window = after[:40]
    normal = _NORMAL_AFTER.match(window.lstrip()) or re.match(
        r"^(?:\s*(?:and|,)\s*[a-z ]{0,30}?)?\s*(?:is |are )?(?:normal|within normal limits|"
        r"unremarkable)", window)
    abnormal = _ABNORMAL_AFTER.match(window.lstrip())
    before = _clause_before(sentence, start)
    if re.search(r"\b(?:normal|unremarkable|stable)\s*(?:size |sized |appearing )?$", before):
        normal = normal or re.match("", "")
    if abnormal:
        label = classify_mention(sentence, start, end)
        return label
    if normal:
        if re.search(r"\b(?:upper limits? of normal|top normal|upper normal)", window):
            return -1
        return 0
    return None


@dataclass(frozen=True, slots=True)
class Mention:
    observation: str
    text: str
    sentence: str
    label: int


def mentions(report: str) -> list[Mention]:
    """Every classified mention in ``report`` (for inspection and tests)."""
    out: list[Mention] = []
    for sent in sentences(report):
        taken: list[tuple[int, int]] = []
        for obs, pattern in _MENTION_RE.items():
            for m in pattern.finditer(sent):
                out.append(Mention(obs, m.group(0), sent, classify_mention(sent, *m.span())))
                taken.append(m.span())
        for obs, (pattern,) in _STRUCTURE_RE.items():
            for m in pattern.finditer(sent):
                if any(s <= m.start() < e for s, e in taken):
                    continue
                label = _structure_label(sent, m.start(), m.end())
                if label is not None:
                    out.append(Mention(obs, m.group(0).strip(), sent, label))
        for m in _OTHER_RE.finditer(sent):
            if any(s <= m.start() < e for s, e in taken):
                continue
            out.append(Mention("other", m.group(0), sent, classify_mention(sent, *m.span())))
    return out


def _combine(labels: list[int]) -> int:
    """CheXpert's aggregation: 1 over -1 over 0 (rule 4)."""
    if 1 in labels:
        return 1
    if -1 in labels:
        return -1
    return 0


def label_report(report: str) -> dict[str, Label]:
    """The 14 labels of one report: {observation: 1 | 0 | -1 | None}."""
    found: dict[str, list[int]] = {}
    no_finding = True
    for m in mentions(report):
        if m.label in (1, -1) and m.observation != "Support Devices":
            no_finding = False
        if m.observation == "other":
            continue
        found.setdefault(m.observation, []).append(m.label)
        if m.text in ("heart failure", "chf") and m.label in (1, -1):
            found.setdefault("Cardiomegaly", []).append(-1)
    labels: dict[str, Label] = {obs: None for obs in OBSERVATIONS}
    for obs, values in found.items():
        labels[obs] = _combine(values)
    if no_finding:
        labels["No Finding"] = 1
    return labels


def label_reports(reports: Sequence[str]) -> list[dict[str, Label]]:
    """``label_report`` for each report."""
    return [label_report(r) for r in reports]


__all__ = ["OBSERVATIONS", "OTHER_FINDINGS", "Mention", "label_report", "label_reports",
           "mentions", "sentences"]
