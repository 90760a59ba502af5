"""Attachments: the type by content, the size cap, a safe file name (issue 12 "disguised attachments")."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from shebao.notices.attachments import ALLOWED_TEXT, attachment_check, safe_file_name
from tests.notices.factories import HTML, OLE2, PDF, PNG, ooxml, plain_zip


@pytest.mark.parametrize(("name", "data", "content_type"), [
    ("通知.pdf", PDF, "application/pdf"),
    ("图.PNG", PNG, "image/png"),
    ("表.xls", OLE2, "application/vnd.ms-excel"),
    ("文.docx", ooxml("word/document.xml"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("表.xlsx", ooxml("xl/workbook.xml"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("演示.pptx", ooxml("ppt/presentation.xml"), "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
])  # fmt: skip
def test_allowed_types_pass_with_the_type_their_content_says(name, data, content_type):
    checked = attachment_check(file_name=name, data=data)
    assert (checked.file_name, checked.content_type, checked.data) == (name, content_type, data)


@pytest.mark.parametrize(("name", "data"), [
    ("通知.pdf", HTML),
    ("图.png", PDF),
    ("文.docx", plain_zip()),
    ("文.docx", ooxml("xl/workbook.xml")),
    ("表.xls", PDF),
])  # fmt: skip
def test_disguised_files_are_refused(name, data):
    with pytest.raises(ValidationError) as refused:
        attachment_check(file_name=name, data=data)
    assert refused.value.messages == [f"附件“{name}”的内容与文件类型不符，只能上传{ALLOWED_TEXT}"]


@pytest.mark.parametrize("name", ["脚本.html", "程序.exe", "无扩展名", "压缩.zip", "图.svg"])
def test_other_types_are_refused_by_name(name):
    with pytest.raises(ValidationError) as refused:
        attachment_check(file_name=name, data=PDF)
    assert refused.value.messages == [f"附件“{name}”的类型不允许，只能上传{ALLOWED_TEXT}"]


def test_oversize_and_empty_files_are_refused(settings):
    settings.NOTICE_ATTACHMENT_MAX_BYTES = 1024 * 1024
    with pytest.raises(ValidationError) as refused:
        attachment_check(file_name="大.pdf", data=PDF + b"0" * (1024 * 1024))
    assert refused.value.messages == ["附件“大.pdf”超过大小上限 1 MB"]
    with pytest.raises(ValidationError) as empty:
        attachment_check(file_name="空.pdf", data=b"")
    assert empty.value.messages == ["附件“空.pdf”是空文件"]


@pytest.mark.parametrize(("given", "safe"), [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Users\\a\\通知.pdf", "通知.pdf"),
    ('a"; filename=evil.exe\r\n.pdf', "a_ filename=evil.exe_.pdf"),
    ("..", "附件"),
    ("长" * 120 + ".pdf", "长" * 96 + ".pdf"),
])  # fmt: skip
def test_safe_file_names(given, safe):
    assert safe_file_name(given) == safe
