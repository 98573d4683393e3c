"""Schemathesis hooks for the local API.

`cargo lambda watch`, the local stand-in for API Gateway, answers 500 itself (before any
function runs) to a body labelled as text or JSON that is not UTF-8, and to header values
that are not ASCII. API Gateway does not hand such bytes to a function as they are, so these
cases would test the emulator, not the API; the handler tests feed such bytes to every
function directly (tests/brokerage/garbage.rs). Everything else is generated as usual."""
import schemathesis


def _utf8(body):
    if isinstance(body, (bytes, bytearray)):
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


def _ascii_headers(headers):
    for value in (headers or {}).values():
        if isinstance(value, str) and not value.isascii():
            return False
    return True


@schemathesis.hook
def filter_body(ctx, body):
    return _utf8(body)


@schemathesis.hook
def filter_headers(ctx, headers):
    return _ascii_headers(headers)


@schemathesis.hook
def filter_case(ctx, case):
    return _utf8(case.body) and _ascii_headers(case.headers)
