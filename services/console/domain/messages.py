"""Every word the console shows, in one zh-CN table, so wording stays the same on every page. Labels the
catalogue already has (channels, modes, steps …) are taken from it, not written twice. Pure.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from zfcommon.campaigns import STATES as PHASE_STATES
from zfcommon.caseview import STATUS_LABELS
from zfcommon.events.catalogue import (APPRAISAL_GRADES, CHANNELS, DUE_RULES, ENFORCEMENT_KINDS, ESCALATION_STEPS,
                                       HANDLING_MODES,
                                       INSPECTION_MODES, LADDERS, MEASURES, POINT_KINDS, REDACTION_KINDS,
                                       REVIEW_DECISIONS, SATISFACTION, SPOT_CHECK_FINDINGS, STOP_REASONS, UNIT_KINDS)
from zfcommon.events.plans import (FIVE_HAVE_NAMES, LOOKBACK_KINDS, LOOKBACK_OUTCOMES, TASK_COMMANDS, TASK_FIELDS,
                                   TASK_STATUSES)

ROLES = {"office": "正风办", "unit": "责任单位", "auditor": "审计监察", "channel": "渠道", "public": "公众"}
PRIORITIES = {"normal": "一般", "urgent": "紧急", "critical": "特急"}
LIGHTS = {"red": "红灯", "yellow": "黄灯"}
RECHECK_OUTCOMES = {"upheld": "维持查否", "overturned": "查实（推翻查否）"}

# The commands on a case (docs/STATE-MACHINE.md) as the buttons and headings that offer them.
COMMANDS = {
    "assign": "交办", "reassign": "改派", "merge": "并单", "accept": "签收", "return": "退回",
    "note_progress": "报送进展", "request_extension": "申请延期", "approve_extension": "同意延期",
    "deny_extension": "不同意延期", "report_rectified": "报送整改报告", "report_not_substantiated": "报送查否报告",
    "close": "销号", "order_rework": "退回重办", "accept_dismissal": "同意查否", "record_recheck": "登记复查结果",
    "choose_recheck": "选定复查", "record_return_visit": "登记回访", "order_rehandling": "责令重办",
    "correct_summary": "更正摘要", "set_campaign": "设定专项行动", "dismiss_duplicate": "排除并单建议",
}

EVENT_TYPES = {
    "case.received": "受理", "case.assigned": "交办", "case.reassigned": "改派", "case.accepted": "签收",
    "case.returned": "退回", "case.progress_noted": "报送进展", "case.extension_requested": "申请延期",
    "case.extension_approved": "同意延期", "case.extension_denied": "不同意延期",
    "case.rectification_reported": "报送整改报告", "case.dismissal_reported": "报送查否报告", "case.closed": "销号",
    "case.rework_ordered": "退回重办", "case.dismissal_accepted": "同意查否", "case.recheck_upheld": "复查维持查否",
    "case.recheck_overturned": "复查查实", "case.return_visit_recorded": "回访", "case.rehandling_ordered": "责令重办",
    "case.recheck_chosen": "选定复查", "case.summary_corrected": "更正摘要", "case.numbered": "补编案件编号",
    "complainant.revealed": "查看举报人信息", "case.campaign_set": "设定专项行动",
    "case.duplicate_dismissed": "排除并单建议", "campaign.launched": "发起专项行动", "campaign.revised": "调整专项行动方案", "task.issued": "下达任务",
    "task.progress_reported": "报告任务进展", "task.milestone_reached": "完成任务节点",
    "task.completion_reported": "报告任务完成", "task.signed_off": "任务销号", "task.sent_back": "任务退回重办",
    "task.cancelled": "撤销任务", "project.type_set": "设置项目类型", "project.registered": "登记重点项目",
    "project.stage_entered": "进入审批阶段", "project.stage_completed": "完成审批阶段",
    "project.stage_case_opened": "阶段超期转为案件", "lookback.drawn": "回头看抽取",
    "lookback.finding_recorded": "登记回头看结果", "case.merged": "并单", "case.duplicate_absorbed": "并入重复件", "case.complainant_erased": "删除举报人信息",
    "accountability.recorded": "问责", "directory.unit_registered": "登记单位", "directory.unit_updated": "更新单位",
    "directory.unit_robots_set": "设置单位群机器人",
    "directory.category_added": "新增问题类别", "directory.category_removed": "停用问题类别",
    "directory.limits_set": "设置办理时限", "directory.calendar_year_set": "录入年度节假日安排",
    "client.registered": "开通接口客户端", "client.key_rotated": "轮换接口密钥", "client.revoked": "吊销接口客户端",
    "inspection.planned": "计划明察暗访", "inspection.finding_recorded": "登记检查发现",
    "inspection.completed": "完成明察暗访", "inspection.cancelled": "取消明察暗访",
    "monitoring_point.registered": "设立效能监测点", "monitoring_point.submission_recorded": "监测点报送",
    "monitoring_point.deactivated": "停用效能监测点", "escalation.step_issued": "督办升级",
    "escalation.stopped": "督办停止", "escalation.config_set": "设置督办阈值", "bulletin.rules_set": "设置通报规则",
    "bulletin.drafted": "起草月通报", "bulletin.reviewed": "审核月通报", "bulletin.published": "发布月通报",
    "interim.drafted": "起草阶段性通报", "interim.reviewed": "审核阶段性通报", "interim.published": "发布阶段性通报",
    "disclosure.drafted": "起草季度公布", "disclosure.published": "发布季度公布", "exposure.selected": "选定曝光案例",
    "exposure.redacted": "脱敏曝光文本", "exposure.approved": "审核曝光", "exposure.published": "发布曝光",
    "exposure.withdrawn": "撤回曝光", "report.weekly_filed": "报送周报告", "report.weekly_missed": "周报告未报",
    "report.escalated": "周报告督办", "report.config_set": "设置周报规则", "report.spot_check_drawn": "抽取零报告抽查",
    "report.spot_check_recorded": "登记抽查结果", "report.quarterly_filed": "报送季度工作情况",
    "report.quarterly_missed": "季度工作情况未报", "appraisal.opened": "发起民主评议",
    "appraisal.ballot_recorded": "录入评议票", "appraisal.drafted": "形成评议结果", "appraisal.reviewed": "审核评议结果",
    "appraisal.published": "发布评议结果", "enforcement.recorded": "登记执法监督", "enforcement.rated": "短信评价执法监督",
    "enforcement.roster_published": "公示执法监督人员",
}

# The campaign machinery (docs/CAMPAIGNS.md): a key project's stages, and a campaign's figures.
STAGE_STATES = {"not_entered": "未进入", "entered": "审批中", "completed": "已办结"}
STAGE_COMMANDS = {"enter_stage": "进入阶段", "complete_stage": "办结阶段"}
CAMPAIGN_FIGURES = {
    "cases_received": "受理线索", "cases_open": "在办线索", "cases_closed": "已办结线索", "cases_overdue": "超期线索",
    "tasks": "任务", "tasks_open": "推进中任务", "tasks_overdue": "超期任务", "tasks_signed_off": "已销号任务",
    "tasks_signed_off_on_time": "按时销号任务", "tasks_cancelled": "已撤销任务", "milestones_overdue": "超期节点",
    "lookback_drawn": "回头看抽取", "lookback_held": "回头看巩固", "lookback_rebounds": "回头看反弹",
}

# A notice's ways out and how each went (notify's docs/NOTICES.md).
NOTICE_CHANNELS = {"email": "邮件", "sms": "短信", "wecom": "企业微信", "dingtalk": "钉钉"}
NOTICE_STATUSES = {"queued": "待发送", "sent": "已发送", "failed": "发送失败", "not_configured": "渠道未配置",
                   "skipped": "未发送", "unknown": "发送结果待核实"}
PUBLICATION_STATES = {"opened": "收集评议票中", "drafted": "已起草", "changes_requested": "退回修改", "approved": "已审核", "published": "已发布"}

ACTIVITY = {
    "account.created": "开通账号", "account.updated": "修改账号", "account.disabled": "停用账号",
    "account.enabled": "启用账号", "account.password_reset": "重置密码", "account.password_changed": "修改密码",
    "login.locked": "连续输错密码，账号锁定",
    "setting.yellow_days_set": "设置黄灯提前工作日",
}

FIELDS = {
    "channel": "来源渠道", "category": "问题类别", "description": "问题描述", "subject_unit": "被反映单位",
    "priority": "紧急程度", "location": "地点", "address": "地点", "complainant": "举报人",
    "name": "姓名", "phone": "联系电话", "email": "电子邮箱", "confidential": "要求保密",
    "lead_unit": "牵头单位", "cooperating_units": "配合单位", "handling_mode": "处置方式", "deadline": "整改时限",
    "note": "备注", "reason": "理由", "into_case_id": "并入案件", "requested_deadline": "申请延至",
    "new_deadline": "新的时限", "comment": "意见", "text": "报告内容", "attachments": "附件", "evidence": "佐证材料",
    "findings": "核查情况", "summary": "问题摘要", "campaign_id": "专项行动", "candidate_case_id": "建议并单的案件",
    "score": "相似度", "outcome": "复查结论", "measure": "问责方式", "satisfaction": "满意度",
    "login": "登录名", "display_name": "姓名", "role": "角色", "unit": "所属单位", "current": "当前密码",
    "new": "新密码", "repeat": "确认新密码", "password": "密码", "yellow_days": "黄灯提前工作日",
    "If-Match": "案件版本", "cursor": "分页位置", "file": "文件",
    # campaigns, tasks, key projects, look-backs
    "title": "名称", "lead_office": "牵头机关", "starts_on": "开始日期", "ends_on": "结束日期", "phases": "活动阶段",
    "categories": "问题类别", "phase": "所属阶段", "number": "序号", "target": "工作目标", "responsible_leader": "责任领导",
    "measures": "推进措施", "monitor": "监察评估", "milestones": "节点", "milestone": "节点", "owner": "业主单位",
    "project_type": "项目类型", "stage_units": "审批责任单位", "limits": "阶段时限", "case_grace_days": "超期转案件宽限工作日",
    "case_category": "转为案件的问题类别", "stage": "审批阶段", "stages": "审批阶段", "on": "日期", "key": "阶段代码",
    "limit_days": "时限（工作日）", "ratio": "抽取比例", "closed_from": "销号日期起", "closed_to": "销号日期止",
    "kinds": "抽取范围", "id": "抽取事项", "campaign": "专项行动",
    # enforcement and supervision rated by SMS (短信评议)
    "kind": "类别", "section": "业务科室", "matter": "执法监督事项", "party": "执法监督对象", "performed_on": "执法监督日期",
    "officers": "执法监督人员", "badge_no": "执法证号", "period": "评议期",
}

# Problems from the services: zh-CN text by the problem's `code` (when it has one), else by HTTP status.
PROBLEM_CODES: dict[str, str] = {}
PROBLEM_STATUS = {
    400: "请求有误，请检查填写的内容", 401: "登录已失效，请重新登录", 403: "您无权查看或办理此事项",
    404: "没有找到要查看的内容，可能已被删除或您无权查看", 409: "当前状态下不能这样办理，请刷新页面后再试",
    413: "文件过大", 415: "文件格式不受支持", 422: "填写的内容有误，请按提示修改",
    429: "操作过于频繁，请稍后再试", 503: "服务暂时不可用，请稍后再试",
}
# The English field messages marshmallow and the services still give, as people read them.
FIELD_MESSAGES = (
    (re.compile(r"Missing data for required field|Field may not be null|required", re.I), "此项必填"),
    (re.compile(r"Not a valid date|not a date|Not a valid datetime", re.I), "日期格式不正确"),
    (re.compile(r"Not a valid (integer|number)", re.I), "须填写数字"),
    (re.compile(r"Must be one of|not one of|Unknown", re.I), "不是可选的值"),
    (re.compile(r"Length must|Shorter than|Longer than|at most|at least", re.I), "长度不符合要求"),
    (re.compile(r"must be after today", re.I), "须晚于今天"),
    (re.compile(r"not (an )?active unit|unknown unit|not in the directory|no unit", re.I), "单位不在单位名录中或已停用"),
    (re.compile(r"calendar", re.I), "该日期所在年份的节假日安排尚未录入，请先录入或直接填写日期"),
)
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")


ENGLISH_PHRASE = re.compile(r"[A-Za-z]+(?:[ ,:;'-]+[A-Za-z]+){2,}")     # three English words in a row
# An identifier quoted in a detail (task-9d5f4a5c-a9e3-495e-affa-e00b42837049, ZF-2026-000123,
# client-cfa70d06e493): a run with a digit in it. English words have none; a UUID's letters read
# as words ("e-affa-e") and made a Chinese detail look English, at random.
IDENTIFIER = re.compile(r"[A-Za-z0-9_-]*[0-9][A-Za-z0-9_-]*")


def is_chinese(text: str) -> bool:
    """Text people can read as Chinese: mostly Chinese characters and no English phrase, not an English
    sentence quoting Chinese names ("the header row is not the ledger layout: missing columns: 问题来源").
    Identifiers it quotes are not read as words."""
    words = IDENTIFIER.sub(" ", text)
    cjk = len(CJK.findall(words))
    return cjk > 0 and cjk * 2 >= len(LATIN.findall(words)) and not ENGLISH_PHRASE.search(words)


def label(table: Mapping[str, str], value: Any) -> str:
    if value is None or value == "":
        return "—"
    return table.get(value, str(value))


def activity_label(kind: str, action: str) -> str:
    return ACTIVITY.get(f"{kind}.{action}", f"{kind}.{action}")


def event_label(event_type: str) -> str:
    """cn.zhengfeng.case.assigned.v1 -> 交办; an unknown type is shown as it is written."""
    core = event_type.removeprefix("cn.zhengfeng.").rsplit(".v", 1)[0]
    return EVENT_TYPES.get(core, event_type)


def field_message(message: Any) -> str:
    text = str(message)
    if is_chinese(text):
        return text
    for pattern, zh in FIELD_MESSAGES:
        if pattern.search(text):
            return zh
    return "填写有误"


def problem_text(status: int, body: Mapping[str, Any] | None) -> str:
    """What a person reads for a service's problem: its zh-CN detail, else the text for its code, else for
    its status — never English; a 409 says which state the case is in and what can be done now."""
    body = body or {}
    if status == 409 and body.get("state") in STATUS_LABELS:
        allowed = [COMMANDS.get(c.replace("-", "_"), c) for c in body.get("allowed") or []]
        now = "、".join(allowed) if allowed else "暂无可办理的操作"
        why = body.get("detail") if is_chinese(str(body.get("detail") or "")) else ""
        return (f"案件当前状态为“{STATUS_LABELS[body['state']]}”，不能这样办理。" + (f"{why}。" if why else "")
                + f"现在可以：{now}")
    detail = str(body.get("detail") or "")
    if is_chinese(detail):
        return detail
    if body.get("code") in PROBLEM_CODES:
        return PROBLEM_CODES[body["code"]]
    return PROBLEM_STATUS.get(status, "操作未能完成，请稍后再试；如仍有问题请联系系统管理员")


__all__ = ["CHANNELS", "DUE_RULES", "ESCALATION_STEPS", "HANDLING_MODES", "INSPECTION_MODES", "LADDERS", "MEASURES",
           "POINT_KINDS", "REDACTION_KINDS", "REVIEW_DECISIONS", "APPRAISAL_GRADES", "ENFORCEMENT_KINDS", "SATISFACTION", "SPOT_CHECK_FINDINGS",
           "STATUS_LABELS", "STOP_REASONS", "UNIT_KINDS", "ROLES", "PRIORITIES", "LIGHTS", "RECHECK_OUTCOMES", "COMMANDS",
           "FIELDS", "PHASE_STATES", "FIVE_HAVE_NAMES", "LOOKBACK_KINDS", "LOOKBACK_OUTCOMES", "TASK_COMMANDS",
           "TASK_FIELDS", "TASK_STATUSES", "STAGE_STATES", "STAGE_COMMANDS", "CAMPAIGN_FIGURES",
           "ACTIVITY", "PUBLICATION_STATES", "NOTICE_CHANNELS", "NOTICE_STATUSES", "label", "activity_label", "event_label", "field_message", "problem_text"]
