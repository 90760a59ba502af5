"""The operation manual (issue 12): one section per function of the service, of the service's
own release, searchable, as a PDF with the version and date on every page and a watermark naming
the downloader, verifiable on upload; every screenshot it shows is one the browser suite takes."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import resolve

from shebao.accounts.models import Account
from shebao.manual.content import SHOTS, chinese_number, load_manual, manual_search
from shebao.manual.models import ManualDownload
from shebao.web.views import _modules

ROOT = Path(__file__).resolve().parents[2]


def _functions(citizen) -> set[str]:
    """The URL names of every function the home page offers (visitor or signed-in person)."""
    names = set()
    for module in _modules(citizen).values():
        for item in module["items"]:
            if item.get("url"):
                match = resolve(item["url"].split("?")[0])
                names.add(f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name)
    return names


@pytest.mark.django_db
def test_every_function_of_the_service_has_a_manual_section(demo_people):
    covered = {name for section in load_manual().sections for name in section.functions}
    citizen = Account.objects.filter(person_type="flexible").first()
    offered = _functions(None) | _functions(citizen)
    assert offered - covered == set()  # a function without a section fails here
    assert covered - offered - {"manual"} == set()  # and a section naming no function of the service


def test_the_manual_is_of_the_services_release_and_says_which_release_changed_what():
    manual = load_manual()
    assert manual.version == settings.SERVICE_VERSION
    versions = [r.version for r in manual.releases]
    assert versions[-1] == manual.version and len(set(versions)) == len(versions)
    assert all(s.changed_in in versions for s in manual.sections)
    latest = next(r for r in manual.releases if r.version == manual.version)
    assert "社保费退费申请" in latest.sections  # this release's change (the double-payment refund)


def test_every_screenshot_the_manual_shows_exists_and_is_taken_by_the_browser_suite():
    shots = {key for section in load_manual().sections for key in section.shots}
    assert shots, "the manual shows screenshots"
    browser_source = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests" / "browser").glob("test_*.py"))
    taken = set(re.findall(r'manual=[^,)\n]*?"([\w-]+)"', browser_source))
    assert shots - taken == set()
    assert [key for key in sorted(shots) if not (SHOTS / f"{key}.png").is_file()] == []


def test_sections_are_numbered_in_chinese():
    assert [chinese_number(n) for n in (1, 9, 10, 11, 19, 20, 23)] == ["一", "九", "十", "十一", "十九", "二十", "二十三"]


def test_search_finds_sections_literally_and_caps_the_query():
    titles = [hit.section.title for hit in manual_search("退费")]
    assert "社保费退费申请" in titles and "登录" not in titles
    assert manual_search("") == [] and manual_search("   ") == []
    assert manual_search(".*") == [] and manual_search("%") == []  # no pattern syntax
    assert manual_search("验证码" + "x" * 100) == []  # capped at 40 characters, then nothing matches
    hit = manual_search("核定退费单")[0]
    assert "核定退费单" in hit.snippet and len(hit.snippet) <= 24 + 5 + 40 + 2


@pytest.mark.django_db
def test_the_page_shows_the_sections_search_results_and_history(client):
    page = client.get("/manual").content.decode()
    manual = load_manual()
    for section in manual.sections:
        assert f'id="{section.id}"' in page and section.heading in page
    assert f"版本 {manual.version}" in page and "修订记录" in page and "手册验真" in page
    found = client.get("/manual", {"q": "虚拟户"}).content.decode()
    assert "“虚拟户”的搜索结果" in found and 'href="#virtual-query"' in found
    none = client.get("/manual", {"q": "火星"}).content.decode()
    assert "手册中没有找到“火星”" in none
    assert "<script>" not in client.get("/manual", {"q": "<script>"}).content.decode().split("<main")[-1]


def _pdf_pages(content: bytes, tmp_path: Path) -> list[str]:
    target = tmp_path / "manual.pdf"
    target.write_bytes(content)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-layout", str(target), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout
    return [re.sub(r"\s+", "", page) for page in text.split("\f") if page.strip()]


@pytest.mark.django_db
def test_the_pdf_has_version_date_and_code_on_every_page_and_a_watermark_naming_the_downloader(client, demo_people, clock, tmp_path):
    account = Account.objects.filter(person_type="flexible").first()
    client.force_login(account)
    response = client.get("/manual.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"] and response["Cache-Control"] == "no-store"
    record = ManualDownload.objects.get()
    masked = record.downloader
    assert masked != account.name and masked[0] == account.name[0]
    pages = _pdf_pages(response.content, tmp_path)
    manual = load_manual()
    assert len(pages) >= 3
    for page in pages:
        assert f"操作手册版本{manual.version}（{manual.released_on:%Y-%m-%d}）" in page
        assert f"验证码{record.verify_code}" in page
    whole = "".join(pages)
    assert f"下载人：{masked}" in whole and account.name not in whole
    for section in manual.sections:
        assert re.sub(r"\s+", "", section.heading) in whole
    assert "修订记录" in whole
    # the watermark is a painted path (not text): the page is visibly marked; its words are in the
    # document's own record of the download
    assert re.search(rb"/Keywords \(SBMANUAL-" + record.verify_code.encode() + rb"\)", response.content)


@pytest.mark.django_db
def test_an_uploaded_manual_is_genuine_only_byte_for_byte(client, clock):
    content = client.get("/manual.pdf").content
    assert ManualDownload.objects.get().downloader == "访客"
    genuine = client.post("/manual/verify", {"file": _upload(content)})
    assert genuine.status_code == 200 and "验证通过" in genuine.content.decode()
    changed = content + b"\n% one line added after download\n"
    tampered = client.post("/manual/verify", {"file": _upload(changed)})
    assert tampered.status_code == 400 and "下载后已被修改" in tampered.content.decode()
    other = client.post("/manual/verify", {"file": _upload(b"%PDF-1.4\n%%EOF\n")})
    assert other.status_code == 400 and "不是本服务生成" in other.content.decode()
    text = client.post("/manual/verify", {"file": _upload(b"hello")})
    assert text.status_code == 400 and "不是PDF文件" in text.content.decode()
    missing = client.post("/manual/verify", {})
    assert missing.status_code == 400 and "请选择要验证的PDF文件" in missing.content.decode()
    assert ManualDownload.objects.count() == 1  # checking stores nothing


def _upload(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("manual.pdf", content, content_type="application/pdf")
