"""The team template every new team starts with, written by us (in Chinese).

Four chapters a customer-service manual grows around, each with starter sections an agent
fills in rather than a blank page: a retrospective form, a bug-escalation checklist, a
daily record and a glossary among them.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from manuals import tree
from manuals.bulk import NewSection, insert_sections
from manuals.models import Manual, Member, Section, Team

RULE = Section.Kind.RULE
RETRO = Section.Kind.RETROSPECTIVE
PROJECT = Section.Kind.PROJECT
TOOL = Section.Kind.TOOL
NOTE = Section.Kind.NOTE

DEFAULT_TEMPLATE_TITLE = "团队手册模板"

# (depth, title, kind, body) in outline order; depth 1 is a chapter.
DEFAULT_OUTLINE: list[tuple[int, str, str, str]] = [
    (1, "管理制度", RULE,
     "<p>团队的规则和流程放在这一章：先写“是什么”，再写“怎么做”和“找谁”。"
     "制度更新时在标题后注明日期，旧版本可以在“历史版本”里找回。</p>"),
    (2, "考勤与排班", RULE,
     "<ul><li>上班时间：</li><li>交接班时间与交接内容：</li><li>请假、调班找谁、提前多久：</li>"
     "<li>迟到/缺勤的处理：</li></ul>"),
    (2, "服务规范与质检标准", RULE,
     "<p>质检抽查的项目和扣分点，逐条记下，附上自己被扣分的例子更好记。</p>"
     "<table><thead><tr><th>项目</th><th>要求</th><th>常见扣分原因</th></tr></thead>"
     "<tbody><tr><td>首次响应</td><td></td><td></td></tr><tr><td>礼貌用语</td><td></td><td></td></tr>"
     "<tr><td>问题解决</td><td></td><td></td></tr><tr><td>工单记录</td><td></td><td></td></tr>"
     "</tbody></table>"),
    (2, "问题升级清单（Bug 上报）", RULE,
     "<p>遇到疑似系统问题（Bug）时，按顺序做完每一步，做完一步打一个勾。</p>"
     "<ol><li><strong>复现</strong>：按客户描述自己操作一遍；记下账号、时间、设备/浏览器、"
     "操作步骤、截图或录屏。复现不了也要记下尝试过的步骤。</li>"
     "<li><strong>上报研发</strong>：按团队模板提交工单（标题写清现象，正文写复现步骤、"
     "影响范围、紧急程度），记下工单号。</li>"
     "<li><strong>跟进</strong>：约定回复时间；到点没有进展主动追问，必要时找主管升级。</li>"
     "<li><strong>回归验证</strong>：研发说修好后，自己按原步骤再测一遍，确认真的好了。</li>"
     "<li><strong>答复客户</strong>：告诉客户结果和原因（用客户听得懂的话），确认对方满意后"
     "关闭工单，并在“工作复盘”里记一笔。</li></ol>"
     "<p class=\"note\">工单号：　　　上报时间：　　　约定回复：　　　关闭时间：</p>"),
    (2, "投诉处理与升级规则", RULE,
     "<ul><li>什么情况必须转主管：</li><li>可以当场承诺的补偿范围：</li>"
     "<li>不能承诺的事项：</li><li>升级后客户仍不满意怎么办：</li></ul>"),
    (1, "工作复盘", RETRO,
     "<p>处理完一个难忘的案例，趁记忆新鲜写一篇复盘。复制下面的“复盘表”，按五个部分填写；"
     "写得好的案例主管会收进团队的优秀案例。</p>"),
    (2, "复盘表（复制后填写）", RETRO,
     "<h3>一、情况</h3><p>时间、渠道（电话/在线/邮件）、客户类型、问题是什么、涉及的订单或产品。</p>"
     "<h3>二、客户情绪</h3><p>客户一开始的情绪（平静/着急/生气/失望），情绪变化的转折点，"
     "客户最在意的是什么。</p>"
     "<h3>三、我是怎么做的</h3><p>按时间顺序写下我说了什么、做了什么，用了哪些话术和工具，"
     "找了谁帮忙。</p>"
     "<h3>四、结果</h3><p>问题是否解决、客户是否满意、有没有补偿、用了多长时间。</p>"
     "<h3>五、经验教训</h3><p>下次遇到同类问题我会怎么做；哪句话有用、哪一步可以更快；"
     "要不要更新“管理制度”里的某条规则。</p>"),
    (2, "复盘示例：物流延误的退款纠纷", RETRO,
     "<h3>一、情况</h3><p>客户订单因物流延误 5 天未到，要求全额退款并投诉。</p>"
     "<h3>二、客户情绪</h3><p>开始非常生气，连续发了多条消息；听到我已经联系物流后缓和。</p>"
     "<h3>三、我是怎么做的</h3><p>先道歉并复述问题，确认订单号；当场联系物流查询，"
     "十分钟内给出预计到达时间；按规则提供了运费补偿券。</p>"
     "<h3>四、结果</h3><p>客户接受补偿，撤回投诉，两天后确认收货。</p>"
     "<h3>五、经验教训</h3><p>先处理情绪再处理问题；给客户一个具体的时间比说“尽快”有用。</p>"),
    (1, "项目资料", PROJECT,
     "<p>负责的产品、活动和项目的资料：常见问题、规则细节、联系人。每个项目一节。</p>"),
    (2, "产品常见问题", PROJECT,
     "<table><thead><tr><th>问题</th><th>答复要点</th><th>注意事项</th></tr></thead>"
     "<tbody><tr><td></td><td></td><td></td></tr></tbody></table>"),
    (2, "联系人与对接渠道", PROJECT,
     "<ul><li>研发值班：</li><li>物流/仓库：</li><li>财务退款：</li><li>主管：</li></ul>"),
    (1, "学习工具", TOOL,
     "<p>提高效率的工具、话术和学习笔记，以及每天的工作记录。</p>"),
    (2, "每日工作记录", TOOL,
     "<p>每天下班前花五分钟记一笔：坚持记录是把经验变成手册的第一步。</p>"
     "<h3>日期：</h3><ul><li>今天处理的工单/会话数量：</li><li>遇到的难题：</li>"
     "<li>学到的新东西：</li><li>需要跟进的事项（工单号、约定时间）：</li>"
     "<li>值得写成复盘的案例：</li></ul>"),
    (2, "常用话术", TOOL,
     "<ul><li>开场：您好，我是××，很高兴为您服务。</li>"
     "<li>安抚：非常理解您的心情，给您添麻烦了，我马上帮您处理。</li>"
     "<li>需要时间：我需要向相关同事确认，××分钟内给您回复，可以吗？</li>"
     "<li>结束：请问还有其他可以帮您的吗？感谢您的耐心。</li></ul>"),
    (2, "术语表", TOOL,
     "<p>团队里常用的词和缩写，新同事最需要这一页。</p>"
     "<table><thead><tr><th>术语</th><th>含义</th><th>例子</th></tr></thead><tbody>"
     "<tr><td>工单</td><td>客户问题的处理记录，每个问题一张</td><td></td></tr>"
     "<tr><td>升级</td><td>把问题交给主管或其他部门处理</td><td></td></tr>"
     "<tr><td>复盘</td><td>处理完案例后回顾过程、总结经验</td><td></td></tr>"
     "<tr><td>质检</td><td>对服务过程的抽查与评分</td><td></td></tr>"
     "<tr><td>首响</td><td>首次响应时间</td><td></td></tr>"
     "<tr><td>SLA</td><td>约定的服务时限</td><td></td></tr>"
     "</tbody></table>"),
]  # fmt: skip


# Personal pages stay private in an agent's copy; the rest is shared with the team.
PRIVATE_TITLES = {"每日工作记录"}


def default_outline() -> list[NewSection]:
    shared, private = Section.Visibility.SHARED, Section.Visibility.PRIVATE
    return [
        NewSection(
            depth=depth,
            title=title,
            kind=kind,
            body=body,
            visibility=private if title in PRIVATE_TITLES else shared,
        )
        for depth, title, kind, body in DEFAULT_OUTLINE
    ]


def fill_with_default_outline(*, manual: Manual, user=None, visibility: str | None = None) -> None:
    """Append the default chapters to an (empty) manual in one bulk write."""
    outline = default_outline()
    if visibility is not None:
        for item in outline:
            item.visibility = visibility
    insert_sections(
        manual=manual, parent=None, sections=outline, user=user, revision_note=_("默认模板内容")
    )
    tree.notify_changed(manual.pk, None)


def team_lead(team: Team):
    member = Member.objects.filter(team=team, role=Member.Role.LEAD).select_related("user").first()
    return member.user if member else None


def ensure_default_template(*, team: Team) -> Manual | None:
    """The team's template to start from; a team that never had one gets ours.

    The default template belongs to the team's lead (who curates it). A team with no lead
    yet, or whose lead retired every template, gets none (``None``): new hires then start
    from our default content without a template link.
    """
    existing = team_templates(team=team).first()
    if existing is not None:
        return existing
    if Manual.objects.filter(team=team, is_template=True).exists():
        return None  # the lead retired every template: not ours to bring one back
    lead = team_lead(team)
    if lead is None:
        return None
    with transaction.atomic():
        # Two first visits at once must not make two default templates.
        Team.objects.select_for_update(no_key=True).get(pk=team.pk)
        existing = team_templates(team=team).first()
        if existing is not None:
            return existing
        template = tree.create_manual(
            owner=lead, title=DEFAULT_TEMPLATE_TITLE, team=team, is_template=True
        )
        fill_with_default_outline(manual=template, user=lead)
    return template


def team_templates(*, team: Team):
    return Manual.objects.filter(team=team, is_template=True, archived_at__isnull=True).order_by(
        "created_at", "pk"
    )
