"""The other side of identity-core's JOSE interop tests, using jwcrypto.

Usage:
  jwcrypto_interop.py verify JWK_FILE TOKEN_FILE
      verifies the token's signature with the public JWK (claims are the Rust side's
      to judge, at the test's fixed time); prints {"claims", "header", "thumbprint"}
      and exits 0, or prints the exception's class and message and exits 1.
  jwcrypto_interop.py sign KTY NOW
      makes a fresh key (KTY "EC" for P-256, "OKP" for Ed25519, "RSA" for RSA-2048
      with RS256), signs a JWT issued at NOW (seconds since the epoch) and prints
      {"token", "jwk", "thumbprint", "claims"}.
"""

import json
import sys

from jwcrypto import jwk, jwt


def verify(jwk_path, token_path):
    with open(jwk_path) as f:
        key = jwk.JWK.from_json(f.read())
    with open(token_path) as f:
        token = f.read().strip()
    alg = {"EC": "ES256", "OKP": "EdDSA", "RSA": "RS256"}[key["kty"]]
    try:
        checked = jwt.JWT(jwt=token, key=key, algs=[alg], check_claims=False)
    except Exception as e:  # noqa: BLE001 - report any failure to the Rust side
        print(f"{type(e).__name__}: {e}")
        sys.exit(1)
    print(json.dumps({
        "claims": json.loads(checked.claims),
        "header": json.loads(checked.header),
        "thumbprint": key.thumbprint(),
    }))


def sign(kty, now):
    if kty == "EC":
        key, alg = jwk.JWK.generate(kty="EC", crv="P-256"), "ES256"
    elif kty == "RSA":
        key, alg = jwk.JWK.generate(kty="RSA", size=2048), "RS256"
    else:
        key, alg = jwk.JWK.generate(kty="OKP", crv="Ed25519"), "EdDSA"
    claims = {"iss": "https://python.example", "sub": "079203001234", "aud": "rust",
              "iat": now, "exp": now + 300, "name": "Nguyễn Văn An"}
    token = jwt.JWT(header={"alg": alg, "kid": key.thumbprint(), "typ": "JWT"}, claims=claims)
    token.make_signed_token(key)
    print(json.dumps({
        "token": token.serialize(),
        "jwk": json.loads(key.export_public()),
        "thumbprint": key.thumbprint(),
        "claims": claims,
    }))


if __name__ == "__main__":
    if sys.argv[1] == "verify":
        verify(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "sign":
        sign(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
