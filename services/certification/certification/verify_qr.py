"""Offline check of a certificate's QR code against the platform's public key.

    uv run python -m certification.verify_qr <token-or-verify-URL> --public-key key.pem

Prints what the QR code asserts (masked name and ID number, position, certificate number, institution,
issue date) and 签名有效, or an error in Chinese with a non-zero exit status: 1 when the token is not valid,
2 for a usage error (no token in the argument, unreadable or wrong public key). The token says nothing about
the certificate's current state (有效/已注销 …): that is only known online, on the verification page.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import NoReturn, TextIO
from urllib.parse import parse_qsl, unquote, urlsplit

from .adapters.signing import InvalidToken, VerificationClaims, load_public_key, verify_token

# A token: base64url payload "." base64url of a 64-byte Ed25519 signature (86 characters, no padding).
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}$")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"参数错误：{message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m certification.verify_qr",
        description="离线查验证书二维码：用平台公布的公钥验证二维码中的签名",
    )
    parser.add_argument("token", help="二维码内容：查验码，或包含查验码的查验网址")
    parser.add_argument("--public-key", required=True, help="平台证书签名公钥文件（PEM 格式）")
    return parser


def extract_token(text: str) -> str | None:
    """The token in a bare token or a verification URL (query parameter, fragment or path segment)."""
    text = text.strip()
    if TOKEN_PATTERN.match(text):
        return text
    parts = urlsplit(text)
    candidates = [value for _, value in parse_qsl(parts.query, keep_blank_values=True)]
    candidates += [value for _, value in parse_qsl(parts.fragment, keep_blank_values=True)]
    candidates.append(parts.fragment)
    candidates += reversed(parts.path.split("/"))
    for candidate in candidates:
        candidate = unquote(candidate).strip()
        if TOKEN_PATTERN.match(candidate):
            return candidate
    return None


def describe(claims: VerificationClaims) -> list[str]:
    position = f"{claims.position}（{claims.specialisation}）" if claims.specialisation else claims.position
    issued = claims.issued_on
    return [
        f"证书编号：{claims.number}",
        f"姓名：{claims.name_masked}",
        f"身份证号：{claims.id_masked}",
        f"岗位（专业）：{position}",
        f"培训机构：{claims.institution}",
        f"发证日期：{issued.year}年{issued.month:02d}月{issued.day:02d}日",
    ]


def main(argv: list[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    token = extract_token(args.token)
    if token is None:
        print("查验失败：参数中没有找到查验码（应为二维码内容或查验网址）", file=err)
        return 2
    try:
        with open(args.public_key, encoding="ascii") as handle:
            public_key_pem = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"查验失败：无法读取公钥文件 {args.public_key}（{type(exc).__name__}）", file=err)
        return 2
    try:
        load_public_key(public_key_pem)
    except ValueError as exc:
        print(f"查验失败：{exc}", file=err)
        return 2
    try:
        claims = verify_token(token, public_key_pem)
    except InvalidToken as exc:
        print(f"{exc.message}\n签名无效", file=err)
        return 1
    for line in describe(claims):
        print(line, file=out)
    print("签名有效", file=out)
    print("（签名只证明以上信息由平台签发；证书当前状态以平台查验页面为准）", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
