"""Build the labelled set of complaint pairs the duplicate suggestions (并单建议) are measured on:
`python tests/data/make_duplicate_pairs.py > tests/data/duplicate_pairs.jsonl` (deterministic).

Each *matter* is a problem at one unit and place with its own specifics (the service asked for, how
long, how much). The first caller describes it in one way; a second caller who has the same matter
rewords it as people do — other words, another order, colloquial, details added or left out. Pairs:

- duplicate (label 1): the same matter told by two callers, received a few days apart;
- near_miss (label 0): the same unit, another matter (another service, often the same category and
  place: the hard negatives the office must never merge);
- unrelated (label 0): another unit and another matter.

The matters follow the seed categories (seed 003's eight problems, seed 002's service-hall approvals,
public services and enterprise harassment) and realistic county units and places. docs/CAMPAIGNS.md
("Duplicate suggestions") gives the figures measured on it.
"""
from __future__ import annotations

import json
import random
import sys
from datetime import datetime, timedelta

# unit -> (places (address variants as callers give them), services it handles)
UNITS = {
    "县自然资源局": ([("县政务服务中心二楼不动产登记窗口", "政务中心2楼不动产窗口"),
                  ("县自然资源局一楼办事大厅", "自然资源局大厅")],
                 ["不动产登记", "土地使用权证变更", "建设用地规划许可", "农村宅基地审批"]),
    "县市场监管局": ([("县政务服务中心一楼市场主体登记窗口", "政务大厅一楼工商窗口"),
                  ("城关市场监管所", "城关所")],
                 ["营业执照变更", "食品经营许可", "个体户注销", "特种设备检验"]),
    "县人社局": ([("县人力资源和社会保障局三楼", "人社局3楼"), ("县就业服务中心", "就业局窗口")],
              ["社保卡补办", "失业金申领", "养老保险转移", "工伤认定"]),
    "县医保局": ([("县政务服务中心医保窗口", "政务中心医保柜台"), ("县医保局一楼大厅", "医保局大厅")],
              ["异地就医备案", "门诊慢特病认定", "医保报销", "生育津贴申领"]),
    "城关镇人民政府": ([("城关镇便民服务中心", "城关镇便民大厅"), ("城关镇政府社会事务办", "镇政府社事办")],
                  ["低保申请", "建房审批", "残疾人补贴", "高龄补贴"]),
    "县住建局": ([("县住房和城乡建设局二楼", "住建局2楼"), ("县政务服务中心工程建设窗口", "政务中心工程窗口")],
              ["施工许可", "商品房预售许可", "公租房申请", "竣工验收备案"]),
    "县公安局交警大队": ([("县交警大队车管所", "车管所"), ("县交警大队事故处理中队", "交警事故中队")],
                   ["驾驶证换证", "机动车过户", "事故认定书", "违章处理"]),
    "县税务局": ([("县税务局第一税务分局办税大厅", "税务分局大厅"), ("县政务服务中心税务窗口", "政务中心税务窗口")],
              ["发票领用", "个税汇算退税", "房产交易契税", "税务注销"]),
}

# A matter's tellings: the first caller's and a second caller's, each with slots {service}, {place},
# {days}, {times}, {money}. The category is the office's (seed 003's eight problems).
MATTERS = [
    ("推诿扯皮", ["到{place}办理{service}，窗口说要先去别的部门开证明，去了那边又说归这边管，来回跑了{times}趟都没办成。",
               "反映{place}办{service}的问题：工作人员推说不归他们管，让我找其他单位，其他单位又推回来，{times}次了还没办下来。"],
     ["我办{service}被踢皮球，{place}让我去别处，别处又叫我回来，前后跑了{times}回，事情一点进展没有。",
      "{service}办不下来，两个部门互相推，{place}的人说找别人，别人说找他们，我已经跑了{times}趟了，太折腾。"]),
    ("办事效率低", ["在{place}申请{service}，材料{days}天前就交齐了，承诺时限早过了还没有结果，打电话也说在走流程。",
                "{service}超时限未办结：{days}天前在{place}递交了全部材料，至今没有审批结果，询问只说等通知。"],
     ["{days}天前我就把{service}的材料全交到{place}了，到现在都没批下来，问了几次都让等，早超过说好的时间了。",
      "投诉{service}拖太久，材料在{place}交了快{days}天，一直说在审，没个准话，明显超时了。"]),
    ("吃拿卡要", ["{place}办理{service}时，工作人员暗示要给{money}元“好处费”才能加快办理，不给就一直拖着。",
               "举报{place}办{service}的人员索要好处，开口要{money}元，说不给的话材料就一直放着不办。"],
     ["去{place}办{service}，经办人话里话外要钱，说{money}块钱就能马上办好，我没给，到现在还压着没办。",
      "{service}卡着不给办，{place}的人私下跟我说拿{money}元出来才给走流程，这是明着吃拿卡要。"]),
    ("态度冷漠", ["在{place}咨询{service}，工作人员一直低头玩手机，问了三遍才不耐烦地回一句“自己看墙上”，态度很差。",
               "{place}窗口办{service}服务态度恶劣，问问题爱理不理，还大声呵斥群众，让人很寒心。"],
     ["我去{place}问{service}怎么办，窗口的人玩手机不理人，说话很冲，叫我自己去看墙上贴的，脸色难看得很。",
      "反映{place}办{service}的工作人员态度冷漠，门难进脸难看，问个事还被凶了一顿。"]),
    ("形式主义", ["{place}办理{service}要求提供的材料重复，同一份证明要交三份原件，还要填{times}张内容一样的表。",
               "{service}材料要求繁琐：在{place}被要求同样的表格填{times}遍，证明材料重复提交，纯属走形式。"],
     ["办{service}简直是折腾人，{place}让我一样的表填了{times}次，同一个证明交好几份原件，有必要吗？",
      "{place}办{service}搞形式，内容一模一样的表要填{times}张，材料还要重复交，把简单的事情弄复杂了。"]),
    ("纪律松懈", ["工作日上午十点到{place}办{service}，窗口没人，等了一个多小时工作人员才回来，说是去吃早饭了。",
               "{place}上班时间脱岗，办{service}的窗口长时间空着没人，群众排了很久的队。"],
     ["上班时间去{place}办{service}，窗口一个人都没有，我们干等了一个多钟头，人才慢悠悠回来，说去吃早餐了。",
      "反映{place}工作人员上班时间不在岗，{service}窗口空了一个多小时，大家都在等。"]),
    ("权力运用不当", ["{place}办{service}时乱收费，收了{money}元“材料审核费”，不给开正规票据。",
                  "举报{place}在{service}中违规收费{money}元，没有收费依据，只给了一张白条。"],
     ["在{place}办{service}被收了{money}块的什么审核费，问收费依据说不出来，也不给发票，只写了个白条。",
      "{service}乱收费：{place}收我{money}元，说是审核费，要票不给，感觉不合规。"]),
    ("执行力弱", ["{place}对{service}的新政策不落实，上级说可以网上办、一次办，这里还是要求现场跑{times}次。",
               "上级推行的{service}“一次办好”在{place}没执行，群众还得反复跑，前后跑了{times}趟。"],
     ["不是说{service}可以一次办好吗，到了{place}还是让我跑了{times}趟，政策根本没落地。",
      "{place}办{service}还是老一套，说好的网上办一次办完全没执行，我来回跑了{times}次。"]),
]


def _matter(rng: random.Random, unit: str, index: int | None = None, exclude: tuple = ()) -> dict:
    places, services = UNITS[unit]
    choices = [(m, s, p) for m in range(len(MATTERS)) for s in services for p in range(len(places))
               if (m, s, p) not in exclude]
    m, service, p = choices[rng.randrange(len(choices))] if index is None else choices[index]
    return {"matter": m, "service": service, "place": p, "days": rng.choice([12, 15, 20, 25, 30, 40, 45, 60]),
            "times": rng.choice([3, 4, 5, 6, 7]), "money": rng.choice([200, 300, 500, 800, 1000, 2000])}


def _tell(unit: str, matter: dict, second: bool, rng: random.Random, variant: int | None = None) -> dict:
    category, first, seconds = MATTERS[matter["matter"]]
    texts = seconds if second else first
    places = UNITS[unit][0][matter["place"]]
    place = places[1] if second and rng.random() < 0.6 else places[0]
    text = texts[rng.randrange(len(texts)) if variant is None else variant].format(
        place=place, service=matter["service"], days=matter["days"], times=matter["times"], money=matter["money"])
    return {"description": text, "subject_unit": unit, "category": category, "address": place}


def _pair(a: dict, b: dict, label: int, kind: str, rng: random.Random) -> dict:
    first = datetime(2026, 5, 1, 9) + timedelta(days=rng.randrange(150), minutes=rng.randrange(600))
    gap = timedelta(days=rng.randrange(0, 12), hours=rng.randrange(1, 20))
    return {"kind": kind, "label": label, "a": {**a, "received_at": first.isoformat() + "+08:00"},
            "b": {**b, "received_at": (first + gap).isoformat() + "+08:00"}}


def pairs(seed: int = 20260501) -> list[dict]:
    rng = random.Random(seed)
    units = list(UNITS)
    out = []
    for i in range(130):                         # the same matter, told twice
        unit = units[i % len(units)]
        m = _matter(rng, unit)
        out.append(_pair(_tell(unit, m, False, rng), _tell(unit, m, True, rng), 1, "duplicate", rng))
    for i in range(110):                         # the same unit, another matter
        unit = units[i % len(units)]
        m = _matter(rng, unit)
        if i % 2:                                # same category and place, another service
            others = [s for s in UNITS[unit][1] if s != m["service"]]
            other = {**m, "service": rng.choice(others), "days": rng.choice([12, 20, 30]), "money": 300}
        else:                                    # another problem at the unit
            other = _matter(rng, unit, exclude=tuple((m["matter"], s, p) for s in UNITS[unit][1] for p in (0, 1)))
        out.append(_pair(_tell(unit, m, False, rng), _tell(unit, other, rng.random() < 0.5, rng), 0, "near_miss", rng))
    for i in range(80):                          # another unit, another matter
        unit, other_unit = rng.sample(units, 2)
        m, other = _matter(rng, unit), _matter(rng, other_unit)
        out.append(_pair(_tell(unit, m, False, rng), _tell(other_unit, other, True, rng), 0, "unrelated", rng))
    return out


if __name__ == "__main__":
    for pair in pairs():
        sys.stdout.write(json.dumps(pair, ensure_ascii=False) + "\n")
