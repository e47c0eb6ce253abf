#!/usr/bin/env python3
"""Independent SAS token computation (Python stdlib only), used to produce the test vectors
tests/sas_vector_*.txt and re-run by sas.rs's tests. Usage: sas_vectors.py URI RULE KEY EXPIRY"""
import base64, hashlib, hmac, sys, urllib.parse as u

def token(uri, rule, key, se):
    sr = u.quote(uri, safe="")
    sig = base64.b64encode(hmac.new(key.encode(), f"{sr}\n{se}".encode(), hashlib.sha256).digest()).decode()
    return f"SharedAccessSignature sr={sr}&sig={u.quote(sig, safe='')}&se={se}&skn={u.quote(rule, safe='')}"

if __name__ == "__main__":
    print(token(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]))
