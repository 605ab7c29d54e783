"""The forms of a case's and a task's commands: which fields each command's form shows and how the form
becomes the command's body (intake's COMMAND_SCHEMAS and TASK_COMMANDS). Which commands to show is intake's
answer (a case's `permitted_commands`, a task's `allowed_commands`); this only lays out the form for each."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from werkzeug.datastructures import MultiDict

from ..domain import messages


@dataclass(frozen=True)
class Field:
    name: str
    kind: str                  # text | textarea | date | select | unit | units | files | choice | campaign
    required: bool = False
    options: str = ""          # select: the messages table with its choices
    hint: str = ""
    text: str = ""             # the label where the field's usual one (messages.FIELDS) does not fit

    @property
    def label(self) -> str:
        return self.text or messages.FIELDS.get(self.name, self.name)

    def choices(self) -> list[tuple[str, str]]:
        return list(getattr(messages, self.options).items()) if self.options else []


_ASSIGN = (Field("lead_unit", "unit", True), Field("cooperating_units", "units"),
           Field("handling_mode", "select", True, "HANDLING_MODES"),
           Field("deadline", "date", hint="不填则按办理时限自动计算（见下方预览）"), Field("note", "textarea"))
_REOPEN = (Field("reason", "textarea", True), Field("new_deadline", "date", hint="不填则按办理时限自动计算"))
_REPORT = (Field("text", "textarea", True), Field("attachments", "files", hint="可选择多个文件，每个不超过10MB"))

FORMS: dict[str, tuple[Field, ...]] = {
    "assign": _ASSIGN,
    "reassign": (*_ASSIGN, Field("reason", "textarea", True)),
    "merge": (Field("into_case_id", "text", True, hint="并入的案件ID"), Field("reason", "textarea")),
    "accept": (),
    "return": (Field("reason", "textarea", True, hint="说明不属于本单位办理的理由"),),
    "note_progress": (Field("note", "textarea", True),),
    "request_extension": (Field("requested_deadline", "date", True), Field("reason", "textarea", True)),
    "approve_extension": (Field("new_deadline", "date", hint="不填则按申请的日期"), Field("comment", "textarea")),
    "deny_extension": (Field("comment", "textarea", True, hint="说明不同意延期的理由"),),
    "report_rectified": _REPORT,
    "report_not_substantiated": (Field("findings", "textarea", True, hint="核查经过和不属实的依据"),
                                 _REPORT[1]),
    "close": (Field("comment", "textarea"),),
    "order_rework": _REOPEN,
    "accept_dismissal": (Field("comment", "textarea"),),
    "choose_recheck": (Field("reason", "textarea", True, hint="说明为何选定此件复查（随机抽取之外）"),),
    "record_recheck": (Field("outcome", "select", True, "RECHECK_OUTCOMES"), Field("findings", "textarea", True),
                       Field("new_deadline", "date"), Field("measure", "select", options="MEASURES")),
    "record_return_visit": (Field("satisfaction", "select", True, "SATISFACTION"), Field("comment", "textarea")),
    "order_rehandling": _REOPEN,
    "set_campaign": (Field("campaign_id", "campaign", hint="不选则退出所属的专项行动"),),
    "dismiss_duplicate": (Field("candidate_case_id", "text", True, hint="建议并单的案件ID"),
                          Field("score", "hidden"), Field("reason", "textarea", hint="为何不是同一问题")),
    "correct_summary": (Field("summary", "textarea", True,
                              hint="单位、渠道和公众看到的问题摘要：不得含举报人的姓名、电话、证件号等个人信息"),),
}
# The office acts where a unit may (it stands in for a unit without a login); its page keeps those apart.
UNIT_COMMANDS = ("accept", "return", "note_progress", "request_extension", "report_rectified",
                 "report_not_substantiated")
# Offered elsewhere on the case page than among the command forms: with each duplicate suggestion.
APART = ("dismiss_duplicate",)

_EVIDENCE = Field("evidence", "files", hint="可选择多个文件，每个不超过10MB")
TASK_FORMS: dict[str, tuple[Field, ...]] = {
    "report_progress": (Field("note", "textarea", True, text="进展情况"), _EVIDENCE),
    "reach_milestone": (Field("milestone", "choice", True), Field("note", "textarea", True, text="完成情况"),
                        _EVIDENCE),
    "report_completion": (Field("note", "textarea", True, text="完成情况"), _EVIDENCE),
    "sign_off": (Field("comment", "textarea"),),
    "send_back": (Field("reason", "textarea", True, hint="说明需要补课或重办的内容"),
                  Field("new_deadline", "date", hint="不填则完成时限不变")),
    "cancel": (Field("reason", "textarea", True),),
}
TASK_UNIT_COMMANDS = ("report_progress", "reach_milestone", "report_completion")


def body(command: str, form: MultiDict, attachments: list[dict[str, str]],
         forms: Mapping[str, tuple[Field, ...]] = FORMS) -> dict[str, Any]:
    """The command's JSON body from its form: empty fields left out, lists as lists."""
    out: dict[str, Any] = {}
    for f in forms[command]:
        if f.kind == "units":
            out[f.name] = [u for u in form.getlist(f.name) if u]
        elif f.kind == "files":
            if attachments:
                out[f.name] = attachments
        elif (value := (form.get(f.name) or "").strip()):
            out[f.name] = value
    if command == "assign" and not out.get("cooperating_units"):
        out.pop("cooperating_units", None)
    if command == "set_campaign":
        out.setdefault("campaign_id", None)         # none chosen: the case leaves its campaign
    return out


def values(command: str, form: Mapping[str, Any] | None,
           forms: Mapping[str, tuple[Field, ...]] = FORMS) -> dict[str, Any]:
    """What to show again in a refused form."""
    if not form:
        return {}
    return {f.name: (form.getlist(f.name) if f.kind == "units" else form.get(f.name, ""))
            for f in forms[command] if f.kind != "files"}
