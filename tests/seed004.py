"""Seed 004 (区委项目建设工作方案, /work/shared/seeds/004_…): the campaign and its 12 tasks with the lead
and cooperating units the plan names, as an office would type them into its task table (任务清单).
All 12 belong to the second phase (分项推进、全面实施阶段, 3/1–10/31); played in 2026, the deadline is the
phase's last working day, Friday 30 October."""
from __future__ import annotations

import io

from openpyxl import Workbook

CAMPAIGN = {"name": "机关效能—项目建设年", "lead_office": "区“机关效能—项目建设年”活动领导小组办公室",
            "starts_on": "2026-02-09", "ends_on": "2026-12-30", "categories": ["办事效率低", "执行力弱"],
            "phases": [{"name": "学习教育、深化认识阶段", "starts_on": "2026-02-09", "ends_on": "2026-02-28"},
                       {"name": "分项推进、全面实施阶段", "starts_on": "2026-03-01", "ends_on": "2026-10-31"},
                       {"name": "总结考核、完善提高阶段", "starts_on": "2026-11-01", "ends_on": "2026-12-30"}]}
MONITOR = "区纪委（监察局）"
DEADLINE = "2026-10-30"
# (序号, 任务, 工作目标, 牵头单位, 责任（配合）单位) as the plan's 五、工作重点 gives them
TASKS = [
    ("1", "推进项目建设", "抓好“八个一批”，以项目促投资增后劲", "区政府办",
     "区发改委、区招商局、区建设局、区经贸委、区中小企业局、区委农工部"),
    ("2", "健全重点项目保障机制", "完善“六个一”工作机制和项目保障机制", "区委办", "区政府办、区建设局、区发改委、区财政局"),
    ("3", "建立重大产业项目绿色通道", "一事一议、特事特办，给予更灵活的优惠政策", "区发改委", "区经贸委、区委农工部、区中小企业局"),
    ("4", "加大行政审批改革力度", "承接下放事项，进一步清理精简审批项目", "区政府法制办", "区政府办"),
    ("5", "规范行政行为", "落实“三步式”执法程序，规范自由裁量权", "区政府法制办", "区纪委（监察局）"),
    ("6", "进一步改进机关作风", "做到“四个减少、三个防止”，解决慢作为、不作为", "区直机关工委",
     "区委办、区政府办、区纪委（监察局）、区委组织部"),
    ("7", "深入推进政务公开", "制定《全区建设项目信息公开暂行办法》", "区政府办", "区纪委（监察局）、区发改委、区政府法制办"),
    ("8", "提升行政服务中心建设水平", "完成“两集中”改革、并联审批和电子监察系统建设", "区政府办", "区纪委（监察局）、区行政服务中心"),
    ("9", "加强招投标交易中心建设", "解决围标串标、挂靠投标、买标卖标问题", "区发改委", "区建设局、区纪委（监察局）"),
    ("10", "建立健全效能制度体系", "建立“三重一大”保廉体系和三项效能制度", "区纪委（监察局）",
     "区检察院、区发改委、区财政局、区审计局、区建设局、区政府法制办"),
    ("11", "加大对重点项目和行政执法部门的效能监察力度", "出台效能监察试行办法，监测点增加20%", "区纪委（监察局）",
     "区建设局、区招投标交易中心、区财政局、区审计局"),
    ("12", "提高党员干部能力素质", "建立教育培训、监督考评、行政创新、机关文化四大体系", "区委组织部",
     "区委宣传部、区直机关工委、区人事劳动和社会保障局"),
]
UNITS = sorted({u for t in TASKS for u in (t[3], *t[4].split("、"))})
HEADER = ["序号", "任务", "工作目标", "牵头单位", "责任单位", "责任领导", "推进措施", "监察评估", "完成时限", "节点", "所属阶段"]


def rows(**changes: dict) -> list[list[str]]:
    """The table's rows; `changes` maps a 序号 to cells to replace (header name -> value)."""
    out = []
    for number, title, target, lead, cooperating in TASKS:
        row = dict(zip(HEADER, [number, title, target, lead, cooperating, "分管副区长", f"按方案第五部分第{number}项推进",
                                MONITOR, DEADLINE, f"阶段性进展报送 2026-06-30", "第二阶段"]))
        row.update(changes.get(number, {}))
        out.append([row[h] for h in HEADER])
    return out


def workbook(table: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "任务清单"
    sheet.append(["区“机关效能—项目建设年”活动重点工作任务分解表"])
    sheet.append(HEADER)
    for row in table:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
