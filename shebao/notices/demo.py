"""Demo notices for ``seed_demo`` (idempotent: a notice whose 发文字号 exists is left alone)."""

from __future__ import annotations

import datetime as dt

from shebao.common.actor import Actor
from shebao.notices.models import Notice, NoticeCategory, NoticeLevel, PushFrequency
from shebao.notices.services import AudienceSpec, notice_save

DEMO_NOTICES = [
    ("桂税演〔2026〕1号", "关于2026年度灵活就业人员社会保险费缴费基数的通告（演示）", NoticeLevel.CRITICAL, "policy", "everyone",
     "<p>2026年度全区灵活就业人员企业职工基本养老保险缴费基数下限、上限以自治区公布的全口径城镇单位就业人员平均工资为准。"
     "新基数公布前，按上年度缴费基数下限预缴，公布后多退少补。</p><p>请在“涉费业务 — 申报及缴纳”中查看本人可缴费的所属期。</p>"),
    ("桂税演〔2026〕2号", "城乡居民2027年度基本养老保险、基本医疗保险集中缴费期的通知（演示）", NoticeLevel.IMPORTANT, "business",
     "resident", "<p>2027年度城乡居民社会保险费集中缴费期为2026年9月1日至12月31日。选择银行批量扣款的，请在扣款前确认缴费档次。</p>"),
    ("桂税演〔2026〕3号", "“个人社保费掌上办”上线通知公告功能（演示）", NoticeLevel.NORMAL, "business", "everyone",
     "<p>现在可在“公众服务 — 通知公告”中按发布时间、发文字号、重要程度和类别查看通知，下载附件。</p>"),
]


CATEGORIES = {"policy": ("政策法规", 10), "business": ("业务通知", 20)}  # as migration 0002 adds them


def demo_notices_seed(*, now: dt.datetime) -> int:
    """Publish the demo notices that are not there yet; returns how many were added. The two
    categories are put back first if missing (a flushed test database has lost them)."""
    actor = Actor.system("seed_demo")
    for code, (name, order) in CATEGORIES.items():
        NoticeCategory.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
    added = 0
    for number, title, level, category, audience, body in DEMO_NOTICES:
        if Notice.objects.filter(document_number=number).exists():
            continue
        notice = Notice(title=title, document_number=number, level=level, category=NoticeCategory.objects.get(code=category), body=body,
                        valid_from=now - dt.timedelta(days=1), push_frequency=PushFrequency.FIRST_LOGIN)
        spec = AudienceSpec.everyone() if audience == "everyone" else AudienceSpec.group(person_type=audience)
        notice_save(notice=notice, audience=[spec], actor=actor, now=now, publish=True)
        added += 1
    return added
