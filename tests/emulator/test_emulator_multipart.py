"""The stdlib ``multipart/form-data`` parser, and recorded requests that never print uploads."""

from __future__ import annotations

import hashlib

import httpx2
import pytest

from alloy.testing.emulator import RecordedRequest
from alloy.testing.emulator._multipart import FormPart
from alloy.testing.emulator._multipart import MultipartError
from alloy.testing.emulator._multipart import parse_form
from alloy.testing.emulator._record import form_of
from alloy.testing.emulator._record import request_from_json
from alloy.testing.emulator._record import request_to_json

# Bytes that a line-based parser would damage: CRLFs, a bare CR and LF, a NUL, a fake
# boundary, and invalid UTF-8.
AWKWARD = b"\r\n--not-the-boundary\r\n\rline\nend\x00\xff\xfe\r\n"


def _encode(files: dict[str, tuple[str, bytes, str]], data: dict[str, str]) -> tuple[bytes, str]:
    """A body exactly as httpx (under every SDK) encodes it."""
    request = httpx2.Request("POST", "http://emulator/", data=data, files=files)
    return request.read(), request.headers["content-type"]


def test_parts_come_back_byte_for_byte() -> None:
    body, content_type = _encode(
        {"file": ('ré sumé "v2".pdf', AWKWARD, "application/pdf")},
        {"purpose": "user_data", "expires_after[seconds]": "3600"},
    )
    purpose, seconds, upload = parse_form(body, content_type)
    assert (purpose.name, purpose.filename, purpose.text) == ("purpose", None, "user_data")
    assert (seconds.name, seconds.text) == ("expires_after[seconds]", "3600")
    assert upload.name == "file"
    assert upload.filename == 'ré sumé "v2".pdf'  # httpx escapes the quotes as %22
    assert upload.content_type == "application/pdf"
    assert upload.data == AWKWARD
    assert upload.sha256 == hashlib.sha256(AWKWARD).hexdigest()


def test_empty_file_and_preamble() -> None:
    body, content_type = _encode({"file": ("empty.txt", b"", "text/plain")}, {})
    (part,) = parse_form(b"preamble\r\n" + body, content_type)
    assert part.data == b""
    assert part.size == 0


@pytest.mark.parametrize(
    ("body", "content_type", "problem"),
    [
        (b"--b\r\n", "multipart/form-data", "boundary parameter"),
        (b"nothing here", "multipart/form-data; boundary=b", "does not start"),
        (
            b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\nv",
            "multipart/form-data; boundary=b",
            "closing",
        ),
        (
            b"--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--",
            "multipart/form-data; boundary=b",
            "form-data",
        ),
        (
            b"--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n--b--",
            "multipart/form-data; boundary=b",
            "no name",
        ),
        (b"--b junk\r\n\r\n--b--", "multipart/form-data; boundary=b", "boundary line"),
    ],
)
def test_malformed_bodies_are_errors(body: bytes, content_type: str, problem: str) -> None:
    with pytest.raises(MultipartError, match=problem):
        parse_form(body, content_type)


def test_form_parts_never_print_file_bytes() -> None:
    secret = b"TOP-SECRET-PAYLOAD " * 20
    body, content_type = _encode(
        {"file": ("a.bin", secret, "application/octet-stream")}, {"purpose": "batch"}
    )
    purpose, upload = parse_form(body, content_type)
    assert repr(purpose) == "FormPart(name='purpose', value='batch')"
    assert "TOP-SECRET" not in repr(upload)
    assert f"size={len(secret)}" in repr(upload)
    assert hashlib.sha256(secret).hexdigest() in repr(upload)
    # A field without a filename but too long (or not text) is summarised too.
    big = FormPart(name="blob", filename=None, content_type=None, data=b"x" * 500)
    assert "xxxx" not in repr(big)


def test_recorded_request_repr_summarises_the_body_and_the_form() -> None:
    secret = b'{"secret": "TOP-SECRET-PAYLOAD"}'
    body, content_type = _encode({"file": ("data.json", secret, "application/json")}, {})
    headers = {"content-type": content_type}
    record = RecordedRequest(
        provider="openai-files",
        scenario="s",
        method="POST",
        path="/openai/v1/files",
        query="",
        headers=headers,
        body=body,
        json=None,
        stream=False,
        attempt=0,
        arrived_at=0.0,
        form=form_of(headers, body),
    )
    shown = repr(record)
    assert "TOP-SECRET" not in shown
    assert f"<{len(body)} bytes sha256={hashlib.sha256(body).hexdigest()}>" in shown
    assert record.form_field("file") is not None
    assert record.form_field("file").data == secret  # type: ignore[union-attr]
    assert record.form_field("nothing") is None

    # Through the control plane: a body that is not UTF-8 keeps its bytes, and the form is
    # parsed again on arrival.
    binary, binary_type = _encode({"file": ("a.bin", AWKWARD, "application/octet-stream")}, {})
    record.body, record.headers = binary, {"content-type": binary_type}
    encoded = request_to_json(record)
    assert "body" not in encoded and "body_base64" in encoded
    decoded = request_from_json(encoded)
    assert decoded.body == binary
    assert decoded.form_field("file").data == AWKWARD  # type: ignore[union-attr]
    assert "\\xff" not in repr(decoded)


def test_a_malformed_form_records_no_parts() -> None:
    assert form_of({"content-type": "multipart/form-data; boundary=b"}, b"junk") == ()
    assert form_of({"content-type": "application/json"}, b"{}") == ()
