"""What ``manage.py seed_demo`` loads: the team 售后一组 and one manual per agent.

Plain data, so another chapter, agent or a team template is a few lines here; the loader
is manuals.demo.loading. The shop is a fictional appliance brand (青禾家电) selling on 天猫, 京东
and 抖音; order numbers follow each platform's usual shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from manuals.models import Member, Section

RULE = Section.Kind.RULE
RETRO = Section.Kind.RETROSPECTIVE
PROJECT = Section.Kind.PROJECT
TOOL = Section.Kind.TOOL
NOTE = Section.Kind.NOTE

TEAM_NAME = "售后一组"


@dataclass(frozen=True)
class DemoSection:
    title: str
    kind: str = NOTE
    body: str = ""
    shared: bool = False
    children: tuple[DemoSection, ...] = ()


@dataclass(frozen=True)
class DemoPerson:
    username: str
    display_name: str
    role: str = Member.Role.AGENT
    manual_title: str = ""
    chapters: tuple[DemoSection, ...] = field(default=())


def S(title: str, kind: str = NOTE, body: str = "", *children: DemoSection, shared=False):
    return DemoSection(title=title, kind=kind, body=body, shared=shared, children=children)


def p(*paragraphs: str) -> str:
    return "".join(f"<p>{text}</p>" for text in paragraphs)


def ul(*items: str) -> str:
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def ol(*items: str) -> str:
    return "<ol>" + "".join(f"<li>{item}</li>" for item in items) + "</ol>"


def table(head: tuple[str, ...], *rows: tuple[str, ...]) -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def retrospective(*, situation: str, emotion: str, did: list[str], result: str, lesson: str) -> str:
    """The team's standard shape for a case review."""
    return (
        f"<h3>情况</h3><p>{situation}</p>"
        f"<h3>客户情绪</h3><p>{emotion}</p>"
        f"<h3>我的处理</h3>{ol(*did)}"
        f"<h3>结果</h3><p>{result}</p>"
        f"<h3>经验教训</h3><p>{lesson}</p>"
    )


BUG_ESCALATION = S(
    "Bug 升级清单",
    TOOL,
    p("产品或 App 的问题，客服自己解决不了的，按下面五步走，一步都不能省。")
    + ol(
        "<strong>复现</strong>：按客户描述自己操作一遍；记下机型、固件/App 版本、手机型号、"
        "网络环境（2.4G / 5G Wi-Fi），截图或录屏。复现不了也要写清楚试过哪些步骤。",
        "<strong>提交研发</strong>：在飞书「售后-研发对接」多维表格新建一条，标题格式"
        "「型号 + 现象」，附订单号、SN 码、日志（App 里 我的 → 帮助 → 上传日志）。",
        "<strong>跟进</strong>：24 小时内没人认领就 @ 当周值班研发；每天 17:00 前更新一次"
        "进度，状态只用「待确认 / 修复中 / 待验证 / 已关闭」。",
        "<strong>回归测试</strong>：研发说修好了，自己在测试机上再走一遍原步骤，"
        "确认修复版本号（例如 v2.1.9）。",
        "<strong>回复客户</strong>：用客户听得懂的话说明原因和解决办法，"
        "告诉他怎么升级；补偿按《运费险与补偿标准》执行，最后回访一次确认已解决。",
    )
    + p("注意：同一问题一周内超过 5 单，直接拉主管进群，按批量问题处理。"),
    shared=True,
)

ALICE = DemoPerson(
    username="alice",
    display_name="王丽",
    manual_title="王丽的工作手册",
    chapters=(
        S(
            "管理制度",
            RULE,
            p("团队的规矩和平台的规则，每月 1 号对照主管发的更新核对一遍。"),
            S(
                "考勤与排班",
                RULE,
                table(
                    ("班次", "时间", "说明"),
                    ("早班", "08:30–17:30", "午休 12:00–13:00 轮流"),
                    ("晚班", "13:30–22:30", "22:00 后只接进线，不外呼"),
                    ("大促班", "09:00–24:00", "双11、618 前后三天，调休另算"),
                )
                + p("调班至少提前 2 天在飞书审批里提交，并找好替班同事。"),
                shared=True,
            ),
            S(
                "质检标准",
                RULE,
                p("质检每周抽查 30 条会话，低于 85 分要写改进计划。"),
                S(
                    "响应时效",
                    RULE,
                    ul(
                        "首次响应 ≤ 30 秒（天猫考核口径），平均响应 ≤ 45 秒",
                        "留言工单 2 小时内首次回复，24 小时内给方案",
                        "差评 / 中评 当天联系，48 小时内给结果",
                    ),
                    shared=True,
                ),
                S(
                    "服务禁用语",
                    RULE,
                    ul(
                        "「这不归我们管」→ 改说「我帮您联系负责的同事，X 点前回复您」",
                        "「你自己看说明书」→ 改说「我把步骤发给您，我们一步一步来」",
                        "「系统就是这样」→ 先道歉，再说明能做什么",
                    ),
                    shared=True,
                ),
            ),
            S(
                "退换货政策",
                RULE,
                p("以下口径以 2024 年 3 月版售后政策为准。"),
                S(
                    "七天无理由",
                    RULE,
                    p(
                        "签收 7 天内、包装配件齐全、不影响二次销售的可退；"
                        "滤芯、已拆封的清洁液不支持无理由退货，下单页已提示。"
                    ),
                    shared=True,
                ),
                S(
                    "质量问题换新",
                    RULE,
                    ul(
                        "签收 15 天内出现性能故障：直接换新，我方承担来回运费",
                        "15 天后一年内：免费维修，寄修单走顺丰到付",
                        "需客户提供故障视频；扫地机需附 App 里的错误代码截图",
                    ),
                    shared=True,
                ),
                S(
                    "运费险与补偿标准",
                    RULE,
                    table(
                        ("情形", "补偿", "审批"),
                        ("延迟发货 ≥ 48 小时", "5 元无门槛券", "客服直接发"),
                        ("发错货 / 少发配件", "补发 + 10 元红包", "客服直接发"),
                        ("质量问题二次返修", "20 元红包或延保 6 个月", "组长审批"),
                        ("超过 50 元的任何补偿", "按实际情况", "主管审批"),
                    ),
                ),
            ),
        ),
        S(
            "工作复盘",
            RETRO,
            p(
                "难处理的单子当天写，趁记得清楚。"
                "格式：情况 / 客户情绪 / 我的处理 / 结果 / 经验教训。"
            ),
            S(
                "2023 年",
                RETRO,
                "",
                S(
                    "双11 延迟发货投诉 TB20231105-8842",
                    RETRO,
                    retrospective(
                        situation="客户 11 月 5 日下单空气炸锅 AF-5L，承诺 48 小时发货，"
                        "11 月 9 日还没出库。仓库说是预售批次到货晚了两天。",
                        emotion="非常生气，说要投诉到平台、给差评，连发了十几条消息，"
                        "说「你们就是骗人」。",
                        did=[
                            "先道歉，不解释原因，先承认我们没做到承诺",
                            "查 WMS 确认第二天上午能出库，拿到仓库主管的确认截图",
                            "主动按《运费险与补偿标准》发 5 元券，并说明发出后第一时间把单号发他",
                            "第二天 10:20 出库后马上发了顺丰单号 SF1428 8830 2291",
                        ],
                        result="客户没有投诉，收货后给了 4 星，追评里说「客服态度好」。",
                        lesson="大促期间预售商品要提前看仓库到货计划；"
                        "承诺时间之前主动联系客户，比等客户来催好十倍。",
                    ),
                    shared=True,
                ),
                S(
                    "空气炸锅涂层脱落 TB20231218-3307",
                    RETRO,
                    retrospective(
                        situation="用了一个月的 AF-5L 炸篮涂层起皮，客户担心有毒，"
                        "要求退全款再赔偿。",
                        emotion="焦虑，家里有小孩，反复问「吃进去会不会有事」。",
                        did=[
                            "发了涂层材料的检测报告（SGS 编号 SHFD2310009871）安抚",
                            "查批次号 2311A，正是已知问题批次，直接按质量问题换新",
                            "额外申请了 20 元红包，组长审批通过",
                        ],
                        result="换新后客户满意，没有继续要求赔偿。",
                        lesson="已知问题批次要背熟，客户一报批次号就能马上给方案，"
                        "不要让客户觉得我们在推脱。",
                    ),
                ),
            ),
            S(
                "2024 年",
                RETRO,
                "",
                S(
                    "扫地机器人 App 无法配网（升级研发）",
                    RETRO,
                    retrospective(
                        situation="三月初连续 7 位客户反馈 X3 扫地机升级 App 2.1.8 后配网失败，"
                        "都是 iOS 17.3。订单之一 TB20240302-1176。",
                        emotion="客户一开始还算平静，等了两天没结果开始不耐烦，有一位说要退货。",
                        did=[
                            "用测试机复现：iOS 17.3 + 5G Wi-Fi 必现，2.4G 正常",
                            "按《Bug 升级清单》提交研发，附 3 份日志和录屏",
                            "给客户临时方案：路由器分开 2.4G 频段再配网",
                            "研发 3 月 8 日发 v2.1.9，我回归测试通过后逐个回访",
                        ],
                        result="7 位客户全部解决，无退货；研发把这个场景加进了发版测试。",
                        lesson="同一现象超过 3 单就该当批量问题升级，不要一单一单地处理。",
                    ),
                    shared=True,
                ),
                S(
                    "差评挽回：净水器接头漏水 TB20240611-5520",
                    RETRO,
                    retrospective(
                        situation="客户自己安装净水器 RO-600，第二天接头漏水泡了地板，"
                        "直接给了差评。",
                        emotion="愤怒，觉得产品质量差，还要求赔地板。",
                        did=[
                            "当天电话联系，先关心有没有继续漏水，指导关闭进水阀",
                            "约了第二天上门的安装师傅，免费重新安装并检查",
                            "地板损失按主管审批给了 100 元补偿",
                        ],
                        result="客户把差评改成了好评，还介绍了邻居来买。",
                        lesson="涉及财产损失一定打电话，不要只在旺旺里打字；"
                        "安装类商品下单后主动问要不要预约师傅。",
                    ),
                ),
            ),
        ),
        S(
            "项目资料",
            PROJECT,
            p("负责的产品线：扫地机器人 X3、空气炸锅 AF-5L、净水器 RO-600。"),
            S(
                "扫地机器人 X3",
                PROJECT,
                "",
                S(
                    "常见故障代码",
                    PROJECT,
                    table(
                        ("代码", "含义", "让客户先试"),
                        ("E01", "左轮卡住", "清理轮子缠绕的头发"),
                        ("E03", "悬崖传感器脏污", "用干布擦底部 4 个传感器"),
                        ("E07", "尘盒未装好", "取出尘盒重新按到「咔」一声"),
                        ("E12", "电池温度异常", "断电静置 30 分钟；仍报错走寄修"),
                    ),
                    shared=True,
                ),
                S(
                    "固件版本说明",
                    PROJECT,
                    ul(
                        "v2.1.7（2024-01）：新增禁区划分",
                        "v2.1.8（2024-02）：iOS 17.3 配网问题，已废弃",
                        "v2.1.9（2024-03-08）：修复配网；App 内升级约 6 分钟",
                    ),
                ),
            ),
            S(
                "空气炸锅 AF-5L",
                PROJECT,
                p("问题批次 2311A、2311B（炸篮涂层），批次号在机身底部铭牌第二行。"),
            ),
            S(
                "618 大促预案",
                PROJECT,
                ul(
                    "快捷短语提前更新：预售发货时间、赠品规则、保价说明",
                    "保价：6 月 1 日–20 日下单，降价差额 7 天内可申请退还",
                    "爆单时优先处理：物流异常 > 质量问题 > 咨询",
                ),
            ),
        ),
        S(
            "学习工具",
            TOOL,
            p("工具、话术和小技巧。"),
            BUG_ESCALATION,
            S(
                "常用话术",
                TOOL,
                "",
                S(
                    "安抚情绪",
                    TOOL,
                    p(
                        "「非常理解您的心情，换成是我也会着急。这件事我来跟进到底，"
                        "今天 18 点前一定给您答复。」"
                    ),
                    shared=True,
                ),
                S(
                    "催发货",
                    TOOL,
                    p(
                        "「我刚跟仓库确认过，您的订单排在明天上午第一批出库，出库后我把单号发给您。」"
                    ),
                ),
            ),
            S(
                "Excel：用 VLOOKUP 对账",
                TOOL,
                p(
                    "每周五导出补偿红包明细，用 <code>=VLOOKUP(A2, 订单表!A:F, 6, FALSE)</code> "
                    "按订单号对上实付金额，核对有没有重复补偿。"
                ),
            ),
        ),
    ),
)

BOB = DemoPerson(
    username="bob",
    display_name="李波",
    manual_title="李波的工作手册",
    chapters=(
        S(
            "管理制度",
            RULE,
            "",
            S(
                "京东平台规则",
                RULE,
                p("京东自营和 POP 店口径不同，本组只负责 POP 店（青禾家电旗舰店）。"),
                S(
                    "售后时效考核",
                    RULE,
                    ul(
                        "售后申请 24 小时内审核",
                        "客户寄回商品签收后 48 小时内完成退款或换新",
                        "咚咚消息 30 秒应答率 ≥ 95%",
                    ),
                    shared=True,
                ),
                S(
                    "价保规则",
                    RULE,
                    p("下单后 15 天内降价可申请价保，系统自动退差价；活动券、赠品不参与。"),
                    shared=True,
                ),
            ),
            S(
                "请假与交接",
                RULE,
                p("请假超过 1 天，要把手上未结的工单在飞书交接表里写清楚：订单号、进度、下一步。"),
            ),
        ),
        S(
            "工作复盘",
            RETRO,
            "",
            S(
                "投诉类型分析（2024 上半年）",
                RETRO,
                p("按工单标签统计，1–6 月共 1,284 单投诉，前三类占了 78%：")
                + table(
                    ("类型", "单量", "占比"),
                    ("物流延迟 / 破损", "537", "41.8%"),
                    ("安装与使用问题", "301", "23.4%"),
                    ("质量故障", "164", "12.8%"),
                    ("其他", "282", "22.0%"),
                )
                + p("结论：物流破损主要是净水器外箱，已推动仓库加护角（4 月起破损率降了一半）。"),
                shared=True,
            ),
            S(
                "破损件反复补发 JD284417265530",
                RETRO,
                retrospective(
                    situation="客户买的净水器 RO-600 两次收到都是外壳破裂，第三次要求补发前"
                    "先退款。",
                    emotion="很失望，说「再也不在你们家买了」，语气冷淡。",
                    did=[
                        "先退款，让客户没有后顾之忧，再问是否还愿意要新机",
                        "跟仓库要求第三次发货用木架加固，并拍照给客户看包装",
                        "联系京东物流备注「易碎品，送货上门前电话联系」",
                    ],
                    result="第三次完好签收，客户重新下单付款，并给了 5 星。",
                    lesson="同一客户第二次出问题时就要升级处理方式，不要重复同样的操作。",
                ),
                shared=True,
            ),
            S(
                "老人不会用 App 配网 JD283990172204",
                RETRO,
                retrospective(
                    situation="68 岁的客户买了扫地机，子女不在身边，App 配网怎么都不成功。",
                    emotion="着急又有点不好意思，反复说「是不是我太笨了」。",
                    did=[
                        "改成电话一步一步教，每一步等他说「好了」再下一步",
                        "发现是家里路由器只有 5G，教他在路由器管理页打开 2.4G",
                        "配好后约了三天后回访",
                    ],
                    result="配网成功，回访时已经会用预约清扫。",
                    lesson="年纪大的客户优先打电话；不要用「热点」「频段」这种词，说「家里的无线网」。",
                ),
            ),
        ),
        S(
            "项目资料",
            PROJECT,
            "",
            S(
                "净水器 RO-600",
                PROJECT,
                "",
                S(
                    "滤芯更换周期",
                    PROJECT,
                    table(
                        ("滤芯", "周期", "价格"),
                        ("PP 棉", "6 个月", "39 元"),
                        ("前置活性炭", "12 个月", "69 元"),
                        ("RO 膜", "24 个月", "299 元"),
                    ),
                    shared=True,
                ),
                S(
                    "安装师傅网点",
                    PROJECT,
                    p("上门安装走「安心装」服务商，下单后 48 小时内上门，偏远地区 72 小时。"),
                ),
            ),
            S(
                "京东 618 活动复盘数据",
                PROJECT,
                p("活动期间咨询量 9,870 次，转化率 31.2%，比去年提升 4.5 个百分点。"),
            ),
        ),
        S(
            "学习工具",
            TOOL,
            "",
            BUG_ESCALATION,
            S(
                "咚咚快捷短语",
                TOOL,
                ul(
                    "#价保：「亲，下单 15 天内降价可以申请价保，"
                    "在 我的订单 → 价格保护 里一键申请哦」",
                    "#滤芯：「RO 膜建议 24 个月更换，App 里会自动提醒您」",
                ),
                shared=True,
            ),
        ),
    ),
)

CHEN = DemoPerson(
    username="chen",
    display_name="陈晨",
    manual_title="陈晨的工作手册",
    chapters=(
        S(
            "管理制度",
            RULE,
            p("入职第一个月整理的，有不确定的地方问了娜姐。"),
            S(
                "抖音店铺规则",
                RULE,
                "",
                S(
                    "体验分",
                    RULE,
                    ul(
                        "商品体验、物流体验、服务体验三项，服务体验看 3 分钟回复率",
                        "体验分低于 4.6 会限流，每周一看后台数据",
                    ),
                    shared=True,
                ),
                S(
                    "直播间售后话术边界",
                    RULE,
                    p(
                        "直播间承诺的赠品、价格都以直播间截图为准；主播口误的由运营统一处理，"
                        "客服不要私下承诺。"
                    ),  # fmt: skip
                ),
            ),
            S(
                "新人培训要点",
                RULE,
                ul("第一周跟班听", "第二周在带教下接待", "第三周独立接待 + 每日复盘"),
            ),
        ),
        S(
            "工作复盘",
            RETRO,
            "",
            S(
                "直播间赠品漏发 DY4962108837215",
                RETRO,
                retrospective(
                    situation="客户在直播间买空气炸锅，主播说送硅胶垫，收货没有。",
                    emotion="觉得被骗了，在评论区留言「直播间说一套做一套」。",
                    did=[
                        "找运营要了直播回放，确认 20:15 主播确实承诺了赠品",
                        "当天补发硅胶垫，并私信道歉",
                        "请运营以后把赠品规则挂在商品详情页",
                    ],
                    result="客户删除了评论区留言。",
                    lesson="直播间的承诺要有记录可查；遇到赠品问题先查回放，别先跟客户争。",
                ),
                shared=True,
            ),
        ),
        S(
            "项目资料",
            PROJECT,
            "",
            S(
                "产品参数速查",
                PROJECT,
                table(
                    ("型号", "功率", "容量 / 续航"),
                    ("AF-5L 空气炸锅", "1500W", "5 L"),
                    ("X3 扫地机器人", "55W", "续航 180 min"),
                    ("RO-600 净水器", "36W", "600 加仑"),
                ),
                shared=True,
            ),
        ),
        S(
            "学习工具",
            TOOL,
            "",
            BUG_ESCALATION,
            S(
                "飞书多维表格使用",
                TOOL,
                p("筛选「我负责的」视图，按「状态 = 修复中」排序，每天下班前更新一次。"),
            ),
        ),
    ),
)

LEAD = DemoPerson(username="lena", display_name="陈娜", role=Member.Role.LEAD)
AGENTS = (ALICE, BOB, CHEN)
PEOPLE = (LEAD, *AGENTS)
