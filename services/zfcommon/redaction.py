"""Finding and removing personal data in text that is published, or read by anyone but the office
(举报人保护, DOMAIN.md point 7). Pure.

`scan` finds what looks like personal data; `redact` replaces it, together with what the office
marked and the complainant's own identity (when notify could learn it from intake), by a mask that
says what was removed. Masks contain no digits and no name, so redacting again changes nothing and
scanning a redacted text finds nothing: a publish re-check that finds something means personal data
is really there.

What the patterns find: Chinese mobile numbers (also with +86 and spaces or hyphens between the
digits), landline numbers with an area code, ID card numbers (18 digits whose ISO 7064 MOD 11-2
check digit is right), any other run of 15 to 19 digits (an ID with a typo, a bank card), e-mail
addresses, WeChat/QQ accounts after their label, room and flat numbers, and names after the words a
complaint introduces its author with (来电人, 举报人, 投诉人, 本人, 市民 ...). Full-width digits and
letters are read as their ASCII forms. A bare name without such a word cannot be told from other
words by a pattern: the complainant's own name is matched exactly from intake's record, and the
office reads the preview and marks anything else. The complainant's name is matched in parts too:
a compound surname (欧阳) or a given name of two or more characters (明远) wherever it stands, a
one-character surname before a form of address (欧阳先生, 李女士, 王某); their ID number however it is
spaced, as their phone number.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from zfcommon.events.catalogue import REDACTION_KINDS

# Kinds of personal data with the mask that replaces each; their Chinese names are the catalogue's.
MASKS = {
    "mobile": "〔电话已隐去〕", "landline": "〔电话已隐去〕", "id_card": "〔身份证号已隐去〕",
    "long_number": "〔号码已隐去〕", "email": "〔邮箱已隐去〕", "im_account": "〔账号已隐去〕",
    "dwelling": "〔门牌已隐去〕", "name": "某某", "complainant_name": "某某",
    "complainant_phone": "〔电话已隐去〕", "complainant_email": "〔邮箱已隐去〕", "complainant_id": "〔身份证号已隐去〕",
    "complainant_address": "〔地址已隐去〕", "marked": "〔已隐去〕", "address_detail": "〔详细地址已隐去〕",
}
LABELS = REDACTION_KINDS
# Masks over office marks win over pattern masks where they overlap; the complainant's identity first.
_PRIORITY = {"complainant_name": 0, "complainant_phone": 0, "complainant_email": 0, "complainant_address": 0,
             "complainant_id": 0, "marked": 1, "address_detail": 1}

# One character for one: positions stay the same, so spans found on the folded text fit the original.
_FOLD = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)},
                       **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
                       **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
                       "＠": "@", "．": ".", "－": "-", "—": "-", "–": "-", "\u3000": " ", "＋": "+",
                       "（": "(", "）": ")", "＿": "_", "：": ":"})
_SEP = r"[ \-]?"          # what people put between digit groups: 138 0739 1234, 138-0739-1234
_HAN = "\u3400-\u4dbf\u4e00-\u9fff"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("mobile", re.compile(rf"(?<![0-9])(?:\+?86{_SEP})?1[3-9](?:{_SEP}[0-9]){{9}}(?![0-9])")),
    ("landline", re.compile(rf"(?<![0-9])(?:\(0[0-9]{{2,3}}\)|0[0-9]{{2,3}}){_SEP}[2-9][0-9]{{6,7}}(?![0-9])")),
    ("long_number", re.compile(rf"(?<![0-9A-Za-z])[0-9](?:{_SEP}[0-9]){{13,17}}(?:{_SEP}[0-9Xx])(?![0-9A-Za-z])")),
    ("im_account", re.compile(r"(?:微信号?|QQ号?|qq号?|WeChat|wechat)\s*[:是为]?\s*(?P<value>[A-Za-z0-9_\-]{5,20})")),
    # Tried only where a run of digits starts: every match starts there anyway (leftmost, and [0-9]+
    # takes any count), and trying inside a run made a long one quadratic (4,000 digits: 0.5 s).
    ("dwelling", re.compile(r"(?<![0-9])(?:[0-9]+\s*(?:号楼|栋|幢|座)\s*)?(?:[0-9]+\s*单元\s*)?[0-9]+\s*(?:室|号房)")),
]
# The words a complaint names its author after. After a strong one a name follows unless a verb does
# (投诉人反映); after a weak one only what starts with a common surname and ends soon is taken for a
# name (本人李某, 市民王女士; not 本人多次, 市民服务中心). 被举报人/被投诉人 name the accused, not the author.
_STRONG = ("来电人", "来电者", "举报人", "投诉人", "反映人", "信访人", "来信人", "来访人", "求助人", "诉求人",
           "联系人", "当事人", "申请人", "姓名", "本人叫", "我叫")
_WEAK = ("本人", "市民", "群众", "居民", "村民")
_NAME = re.compile(rf"(?<!被)(?P<label>{'|'.join(_STRONG + _WEAK)})\s*[:是为]?\s*(?P<value>[{_HAN}]{{1,6}})")
_SURNAMES = set("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
                "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱"
                "严覃武戴莫孔向汤欧阳司上诸葛")
# What may follow a name (the name ends there), or begin words after a label that are no name.
_STOPS = ("反映", "来电", "来信", "来访", "投诉", "举报", "诉称", "称", "说", "讲", "表示", "希望", "要求", "认为",
          "于", "在", "向", "到", "因", "为", "的", "是", "曾", "多次", "已", "家", "住", "现", "从", "对", "被",
          "将", "也", "都", "和", "与", "及", "等", "系", "今", "昨", "去", "电话", "手机", "联系", "身份",
          "所", "不", "没", "未", "一", "两", "几", "多", "近", "每", "经", "前", "后", "又", "还", "就",
          "再", "并", "而", "但", "或", "以", "如", "即", "由", "把", "给", "让", "叫", "使", "跟", "替", "拨",
          "致", "通", "提", "请", "问", "打", "个", "人", "们", "某", "本", "自", "该", "此", "其")
# A stop at the start means no name follows, unless it is also a surname (投诉人于某, 举报人向女士).
_START_STOPS = tuple(w for w in _STOPS if w not in _SURNAMES) + ("某",)
# Two-character surnames: the name's first two characters, matched on their own wherever they stand.
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "司徒", "夏侯", "尉迟", "公孙",
                      "长孙", "宇文", "轩辕", "端木", "独孤", "南宫", "西门", "呼延", "百里", "申屠", "太史", "闻人",
                      "澹台", "公冶", "宗政", "濮阳", "淳于", "单于", "仲孙", "钟离", "万俟", "司空", "第五")
# Forms of address after a surname that point at the person (李先生, 王女士, 张某).
_ADDRESS_FORMS = ("先生", "女士", "小姐", "老师", "师傅", "同志", "大爷", "大妈", "大姐", "大哥", "阿姨", "老人",
                  "老伯", "某", "姓")
_STREET = re.compile(r"(?:大道|路|街|巷|道|弄|胡同|村|社区)")
# Where someone lives, after the words that introduce a home: kept to street level.
_HOME = re.compile(r"(?:家住|住在|住址|家庭住址|居住在|居住于|现住)\s*[:是为]?\s*"
                   r"(?P<value>(?!某)[^\s，。；、,.;:!?！？()〔〕]{2,60})")
_DIGIT = re.compile(r"[0-9]")
# A case's, task's or file's id written into a text (并入案件 19970cdb-a8c3-4eb1-b19a-a18342147367): the
# digits in its groups are no phone or card number, and masking them would break the reference.
_UUID = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
                   r"(?![0-9A-Za-z])")


@dataclass(frozen=True)
class Finding:
    """Personal data found at text[start:end] (of one field of a publication)."""
    kind: str
    start: int
    end: int
    value: str
    field: str = "text"

    @property
    def masked(self) -> str:
        """The value as a message may show it: enough to find it, not enough to read it."""
        return masked(self.value)


@dataclass(frozen=True)
class Identity:
    """What intake knows of a complainant (its sealed contact record). Used to redact and check only;
    never stored, never put on an event."""
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    id_number: str | None = None

    @classmethod
    def of(cls, contact: Mapping[str, object] | None) -> "Identity":
        contact = contact or {}
        return cls(**{k: (str(contact[k]).strip() or None) if contact.get(k) else None
                      for k in ("name", "phone", "email", "address", "id_number")})


@dataclass(frozen=True)
class Marks:
    """What the office marked for removal: phrases anywhere, spans of the text (code points, end
    excluded), and addresses to cut back to street level."""
    phrases: tuple[str, ...] = ()
    spans: tuple[tuple[int, int], ...] = ()
    addresses: tuple[str, ...] = ()


def masked(value: str) -> str:
    """13807391234 -> 138＊＊＊＊＊＊34, 李小明 -> 李＊＊: enough to find it in the text, not to read it."""
    if len(value) >= 7:
        return value[:3] + "＊" * (len(value) - 5) + value[-2:]
    return value[:1] + "＊" * (len(value) - 1)


def id_card_valid(number: str) -> bool:
    """ISO 7064 MOD 11-2, as GB 11643-1999 defines the 18th character of a citizen ID number."""
    if not re.fullmatch(r"[0-9]{17}[0-9Xx]", number):
        return False
    weights = [pow(2, 17 - i, 11) for i in range(17)]
    check = (12 - sum(int(d) * w for d, w in zip(number, weights)) % 11) % 11
    return number[17].upper() == ("X" if check == 10 else str(check))


def _digits(text: str) -> str:
    return "".join(_DIGIT.findall(text))


def _name_end(text: str, start: int, run: str, weak: bool) -> int | None:
    """Where the name that begins `run` (at text[start:]) ends, or None when the words are no name."""
    if len(run) < 2 or run.startswith(_START_STOPS) or weak and run[0] not in _SURNAMES:
        return None
    for n in range(2, min(len(run), 4) + 1):
        rest = text[start + n:]
        if not rest or not re.match(f"[{_HAN}]", rest) or rest.startswith(_STOPS):
            return start + n
    # Nothing tells where it ends: after a strong label take the longest usual name; a weak label
    # was no label at all.
    return None if weak else start + min(len(run), 3)


def _pattern_findings(text: str, field: str) -> list[Finding]:
    folded = text.translate(_FOLD)
    found: list[Finding] = []
    ids = [m.span() for m in _UUID.finditer(folded)] if "-" in folded else []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(folded):
            start, end = m.span("value") if "value" in pattern.groupindex else m.span()
            if any(a <= start and end <= b for a, b in ids):
                continue
            valid_id = kind == "long_number" and id_card_valid(re.sub(r"[ \-]", "", m.group()))
            found.append(Finding("id_card" if valid_id else kind, start, end, text[start:end], field))
    for m in _HOME.finditer(folded):
        if (detail := _street_level(text, *m.span("value"), field)).end > detail.start:
            found.append(detail)
    for m in _NAME.finditer(folded):
        start = m.start("value")
        end = _name_end(folded, start, m.group("value"), m.group("label") in _WEAK)
        if end is not None:
            found.append(Finding("name", start, end, text[start:end], field))
    return found


def _flexible(value: str, between: str) -> str:
    return between.join(re.escape(c) for c in value)


People = Identity | Iterable[Identity] | None


def _people(who: People) -> list[Identity]:
    return [] if who is None else [who] if isinstance(who, Identity) else list(who)


def _name_patterns(name: str, words: list[str]) -> tuple[list[tuple[str, str]], str | None]:
    """The name (`words`: as written, with its spaces), and the parts of it that point at the person
    on their own, each (pattern, the value it was made from). A Chinese name: a compound surname or a
    given name of two characters or more anywhere, a one-character surname only before a form of
    address (returned apart: it is found by _BEFORE_ADDRESS_FORM, compiled once). Any other name: each
    of its words of three letters or more."""
    parts = [(_flexible(name, r"\s*"), name)]
    if not re.fullmatch(f"[{_HAN}]+", name):
        return parts + [(rf"\b{re.escape(w)}\b", w) for w in words if len(w) >= 3 and len(words) > 1], None
    surname = next((s for s in _COMPOUND_SURNAMES if name.startswith(s) and len(name) > len(s)), name[:1])
    given = name[len(surname):]
    alone = None
    if len(surname) >= 2:
        parts.append((_flexible(surname, r"\s*"), surname))
    elif given:
        alone = surname
    if len(given) >= 2 and set(given) != {"某"}:
        parts.append((_flexible(given, r"\s*"), given))
    return parts, alone


# A Chinese character before a form of address: a one-character surname standing for the person is
# one of these matches whose character is that surname.
_BEFORE_ADDRESS_FORM = re.compile(rf"[{_HAN}](?=\s*(?:{'|'.join(_ADDRESS_FORMS)}))")


def _case(value: str) -> int:
    """The flags of a pattern made from `value`: ignoring case only when it has letters that have a case."""
    return re.IGNORECASE if value.lower() != value.upper() else 0


_SPACES = re.compile(r"\s+")


def _identity_findings(text: str, who: Identity, field: str) -> list[Finding]:
    """Where the complainant's name, number, id, email or address stand in `text`, however spaced.

    A complainant's patterns are new at each receipt, so each would be compiled (0.1–0.3 ms each,
    several per receipt; the regular expressions' cache only helps when the same person writes
    again). Most texts do not contain them, so a pattern made from a value without cased letters is
    compiled only when the value can be in the text: when it is part of the text with its spaces taken
    out (`\\s*` between characters), or of the text's digits (a number: digits with separators, or
    none, between them). Each is a condition every match meets, so nothing is missed."""
    folded = text.translate(_FOLD)
    views: dict[str, str] = {}

    def may_hold(needle: str, view: str) -> bool:
        if _case(needle):
            return True
        if view not in views:
            views[view] = _digits(folded) if view == "digits" else _SPACES.sub("", folded)
        return needle in views[view]

    patterns: list[tuple[str, str, str, str]] = []    # kind, pattern, the value it was made from, its view
    surname = None
    # Every value folded as the text is (full-width digits and letters to ASCII), so a value written
    # one way is found in a text written the other.
    if who.name and (name := re.sub(r"\s+", "", written := who.name.translate(_FOLD))) and set(name) != {"某"}:
        parts, surname = _name_patterns(name, written.split())
        patterns += [("complainant_name", p, v, "spaceless") for p, v in parts]
    if who.phone and len(digits := _digits(who.phone.translate(_FOLD))) >= 5:
        # The number however it is written: with or without +86, spaces or hyphens between digits.
        local = digits[2:] if digits.startswith("86") and len(digits) == 13 else digits
        patterns.append(("complainant_phone", rf"(?<![0-9])(?:\+?86{_SEP})?{_flexible(local, _SEP)}(?![0-9])",
                         local, "digits"))
    if who.id_number and len(number := re.sub(r"[^0-9Xx]", "", who.id_number.translate(_FOLD))) >= 6:
        patterns.append(("complainant_id", rf"(?<![0-9A-Za-z]){_flexible(number, _SEP)}(?![0-9A-Za-z])",
                         number, "digits"))
    if who.email:
        email = who.email.translate(_FOLD)
        patterns.append(("complainant_email", re.escape(email), email, "spaceless"))
    if who.address and (address := re.sub(r"\s+", "", who.address.translate(_FOLD))):
        patterns.append(("complainant_address", _flexible(address, r"\s*"), address, "spaceless"))
    found = [Finding(kind, m.start(), m.end(), text[m.start():m.end()], field)
             for kind, pattern, value, view in patterns if may_hold(value, view)
             for m in re.finditer(pattern, folded, _case(value)) if m.end() > m.start()]
    if surname:
        found += [Finding("complainant_name", m.start(), m.end(), text[m.start():m.end()], field)
                  for m in _BEFORE_ADDRESS_FORM.finditer(folded) if m.group() == surname]
    return found


def scan(text: str, who: People = None, field: str = "text") -> list[Finding]:
    """Everything in `text` that looks like personal data, or is a complainant's (`who`: one identity
    or several, a case's and its merged duplicates'), in text order (overlapping findings merged)."""
    return _merged(_pattern_findings(text, field) + [f for person in _people(who)
                                                      for f in _identity_findings(text, person, field)])


def _merged(found: Iterable[Finding]) -> list[Finding]:
    out: list[Finding] = []
    for f in sorted(found, key=lambda f: (f.start, _PRIORITY.get(f.kind, 9), -f.end)):
        if out and f.start < out[-1].end:
            last = out[-1]
            if f.end > last.end:
                kind = last.kind if _PRIORITY.get(last.kind, 9) <= _PRIORITY.get(f.kind, 9) else f.kind
                out[-1] = Finding(kind, last.start, f.end, last.value + f.value[last.end - f.start:], last.field)
            continue
        out.append(f)
    return out


def _street_level(text: str, start: int, end: int, field: str) -> Finding:
    """The part of an address below street level (house number, building, flat); the whole address
    when no street, road, lane, village or community names its street level."""
    streets = list(_STREET.finditer(text, start, end))
    cut = streets[-1].end() if streets else start
    return Finding("address_detail", cut, end, text[cut:end], field)


def street_level(address: str | None) -> str | None:
    """An address as the public may read it: through the last street, road, lane, village or community
    (the exposures' rule); with none of those, up to its first house, building or flat number. None
    when nothing is left."""
    if not address:
        return None
    cut = _street_level(address, 0, len(address), "address").start or (
        m.start() if (m := _DIGIT.search(address.translate(_FOLD))) else len(address))
    return address[:cut].rstrip(" ,，、-") or None


class MarkNotFound(ValueError):
    """A phrase or address the office marked is nowhere in the text: a typo, or the wrong text."""

    def __init__(self, what: str, index: int, value: str):
        super().__init__(f"{what}[{index}] 不在文本中：“{value}”")
        self.what, self.index = what, index


def _mark_findings(fields: Mapping[str, str], marks: Marks) -> dict[str, list[Finding]]:
    found: dict[str, list[Finding]] = {name: [] for name in fields}
    for what, values in (("remove", marks.phrases), ("addresses", marks.addresses)):
        for i, value in enumerate(values):
            hits = [(name, m.start(), m.end()) for name, text in fields.items()
                    for m in re.finditer(re.escape(value), text)] if value else []
            if not hits:
                raise MarkNotFound(what, i, value)
            for name, start, end in hits:
                found[name].append(Finding("marked", start, end, value, name) if what == "remove"
                                   else _street_level(fields[name], start, end, name))
    text = fields.get("text", "")
    for i, (start, end) in enumerate(marks.spans):
        if not 0 <= start < end <= len(text):
            raise MarkNotFound("spans", i, f"{start}-{end}（全文共 {len(text)} 个字符）")
        found["text"].append(Finding("marked", start, end, text[start:end], "text"))
    return found


def _apply(text: str, findings: Sequence[Finding]) -> str:
    for f in sorted(findings, key=lambda f: f.start, reverse=True):
        text = text[:f.start] + MASKS[f.kind] + text[f.end:]
    return text


@dataclass(frozen=True)
class Redacted:
    fields: dict[str, str]
    removed: list[dict[str, object]]        # [{field, kind, count}], never the removed text itself


def redact(fields: Mapping[str, str | None], who: People = None, marks: Marks = Marks()) -> Redacted:
    """Each field with the office's marks, the complainant's identity and everything `scan` finds
    replaced by masks. Runs until nothing is found (a removal can never join two pieces into new
    personal data), so redact(redact(x)) == redact(x) and scan(redact(x)) == []."""
    present, who = {k: v for k, v in fields.items() if v}, _people(who)
    counts: dict[tuple[str, str], int] = {}
    first = _mark_findings(present, marks)
    out = dict(present)
    for _ in range(5):
        changed = False
        for name, text in out.items():
            found = _merged([*first.get(name, []), *scan(text, who, name)])
            for f in found:
                counts[(name, f.kind)] = counts.get((name, f.kind), 0) + 1
            if found:
                out[name], changed = _apply(text, found), True
        first = {}
        if not changed:
            break
    return Redacted({k: out.get(k) if fields[k] else fields[k] for k in fields},
                    [{"field": f, "kind": k, "count": n} for (f, k), n in sorted(counts.items())])


def remaining(fields: Mapping[str, str | None], who: People = None) -> list[Finding]:
    """Personal data still in the fields of a publication (the check before publishing)."""
    return [f for name, text in fields.items() if text for f in scan(text, who, name)]
